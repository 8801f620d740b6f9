/**
 * X509-SVID verification (SPIFFE X509-SVID over RFC 5280) and RFC 9440 client-certificate field parsing: pure
 * functions, Web Crypto only, for mTLS identities (used by the gateway's `auth.mtls`, gateway/authenticate.ts).
 */
export { verifyX509Svid, leafTrustDomain, type X509SvidContext, type VerifiedX509Svid } from './verify-svid.ts';
export { parseX509Bundle, type X509Bundle } from './bundle.ts';
export { parseClientCertHeader, parseClientCertChainHeader } from './client-cert-header.ts';
export type { CertificatesInput } from './input.ts';
export { X509_ERRORS, CLIENT_CERT_HEADER_ERRORS, type X509ErrorCode, type ClientCertHeaderErrorCode } from './errors.ts';
