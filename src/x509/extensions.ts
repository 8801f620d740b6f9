/**
 * Refuses a certificate that carries an extension whose meaning this verifier would ignore although the issuer made
 * it binding: a critical extension outside the processed set, or name constraints at all.
 *
 * Specs: RFC 5280 §4.2 ("A certificate-using system MUST reject the certificate if it encounters a critical extension
 * it does not recognize"), §6.1.4 (o); §4.2.1.10 (name constraints: conforming CAs MUST mark them critical);
 * X509-SVID §4.2 (URI name constraints MAY be used; "Libraries which don't support them will reject such certificates").
 *
 * Processed, so accepted critical or not: basicConstraints, keyUsage, subjectAltName, extKeyUsage (leaf.ts,
 * signing-cert.ts). Accepted critical or not because they only help to find an issuer and restrict nothing:
 * subjectKeyIdentifier, authorityKeyIdentifier. Name constraints are refused even when not critical: they narrow what
 * an issuer may sign, and silently ignoring a narrowing would accept more than the issuer allowed.
 *
 * Does NOT: read certificate policies, policy constraints or inhibitAnyPolicy (so refuses them when critical), or any
 * non-critical extension's content. Applied to every certificate of the path, the trust anchor included.
 */
import { fail, ok, type Result } from '../result.ts';
import { OID, type X509Cert } from './certificate.ts';

const UNDERSTOOD = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.subjectAltName,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
]);

export function checkExtensions(cert: X509Cert): Result<true, 'ERR_X509_CRITICAL_EXTENSION'> {
  if (cert.extensions.has(OID.nameConstraints)) return fail('ERR_X509_CRITICAL_EXTENSION', 'name constraints are not supported');
  for (const [oid, extension] of cert.extensions) {
    if (extension.critical && !UNDERSTOOD.has(oid)) return fail('ERR_X509_CRITICAL_EXTENSION', `unsupported critical extension ${oid}`);
  }
  return ok(true);
}
