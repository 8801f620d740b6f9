/**
 * Stable error codes of the X509-SVID verifier (verify-svid.ts) and of the RFC 9440 header parsers
 * (client-cert-header.ts), each with what it guards and where the rule comes from.
 *
 * Specs: SPIFFE X509-SVID (standards/X509-SVID.md) §2–§5; RFC 5280 §4.1, §4.2, §6.1; RFC 9440 §2; RFC 8941 §3.3.5, §4.2.
 *
 * Codes are part of the public API: never rename one; add new ones instead. The audit trail gets code and detail;
 * a wire response is derived from the code alone (details never carry certificate bytes, names or keys).
 */

/** verifyX509Svid, in check order (the first failure is returned). */
export const X509_ERRORS = {
  ERR_X509_CONTEXT_INVALID: 'caller wiring: trustDomain is not a SPIFFE trust domain name, or maxChainLength / clockSkewSeconds is out of range',
  ERR_X509_BUNDLE_INVALID: 'the trust bundle is empty, has more than MAX_X509_BUNDLE_CERTIFICATES, or holds a certificate that does not parse (X509-SVID §6.2)',
  ERR_X509_CHAIN_TOO_LONG: 'more certificates presented than maxChainLength; refused before parsing',
  ERR_X509_MALFORMED: 'no certificate, or one that is too large, bad PEM, not strict DER, not X.509 v3, with a duplicate or unparsable extension, or with differing inner and outer signature algorithms (RFC 5280 §4.1, §4.2)',
  ERR_X509_SAN_INVALID: 'leaf: not exactly one URI SAN, or it is not a canonical spiffe:// ID with a non-root path, or the SAN is not critical with an empty subject (X509-SVID §2, §3.1, §5.2; RFC 5280 §4.1.2.6)',
  ERR_X509_TRUST_DOMAIN_MISMATCH: 'the trust domain of the leaf SPIFFE ID is not the trust domain of the bundle (X509-SVID §5.1; SPIFFE Workload API)',
  ERR_X509_CA_INVALID: 'leaf with cA=true, or a signing certificate without basicConstraints cA=true, without keyUsage keyCertSign, or past its pathLenConstraint (X509-SVID §3.2, §4.1, §5.2; RFC 5280 §6.1.4)',
  ERR_X509_KEY_USAGE_INVALID: 'leaf keyUsage absent, not critical, without digitalSignature, or with keyCertSign/cRLSign; or an extKeyUsage without id-kp-clientAuth (X509-SVID §4.3, §4.4, §5.2)',
  ERR_X509_CHAIN_INVALID: 'the presented certificates, up to the first copy of a bundle certificate (what follows it is ignored), are not one ordered path: an issuer name is not the next subject (RFC 5280 §6.1.3 (a)(4))',
  ERR_X509_UNTRUSTED: 'no bundle certificate is named (subject) as the issuer of the top of the chain (X509-SVID §5.1; RFC 5280 §6.1); a same-named one with another key is ERR_X509_SIGNATURE_INVALID',
  ERR_X509_CRITICAL_EXTENSION: 'a certificate in the path has a critical extension this verifier does not process, or name constraints (never processed, so refused even when not critical) (RFC 5280 §4.2, §6.1.4 (o))',
  ERR_X509_NOT_YET_VALID: 'now (plus the clock skew) is before notBefore of a certificate in the path (RFC 5280 §4.1.2.5, §6.1.3 (a)(2))',
  ERR_X509_EXPIRED: 'now (minus the clock skew) is after notAfter of a certificate in the path (RFC 5280 §4.1.2.5, §6.1.3 (a)(2))',
  ERR_X509_ALGORITHM_UNSUPPORTED: 'a signature algorithm other than ECDSA P-256/P-384 with SHA-256/384, RSA PKCS#1 v1.5 or PSS with SHA-256/384/512, Ed25519; or an issuer key outside that set (RSA under 2048 or over 8192 bits)',
  ERR_X509_SIGNATURE_INVALID: 'a signature does not verify with its issuer key, or the issuer key does not fit the signature algorithm (RFC 5280 §6.1.3 (a)(1))',
} as const;

export type X509ErrorCode = keyof typeof X509_ERRORS;

/** parseClientCertHeader / parseClientCertChainHeader (RFC 9440 §2). */
export const CLIENT_CERT_HEADER_ERRORS = {
  ERR_CLIENT_CERT_HEADER_TOO_LARGE: 'field value longer than MAX_CLIENT_CERT_FIELD_CHARS (or the chain limit), or a certificate over MAX_X509_CERTIFICATE_BYTES; refused before decoding',
  ERR_CLIENT_CERT_HEADER_MALFORMED: 'not an RFC 8941 Byte Sequence (Client-Cert) or List of Byte Sequences (Client-Cert-Chain): bad delimiters or base64, parameters, inner lists, an empty certificate, or several Client-Cert lines (RFC 9440 §2.1–§2.3; RFC 8941 §3.3.5, §4.2)',
  ERR_CLIENT_CERT_CHAIN_TOO_LONG: 'Client-Cert-Chain has more than MAX_X509_CHAIN_LENGTH − 1 certificates',
} as const;

export type ClientCertHeaderErrorCode = keyof typeof CLIENT_CERT_HEADER_ERRORS;
