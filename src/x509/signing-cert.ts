/**
 * Whether a certificate may sign the certificate below it in the path: an intermediate, or the trust anchor that was
 * found to have signed the top of the chain.
 *
 * Specs: X509-SVID §3.2 (a signing certificate sets keyCertSign and cA=true), §4.1 (signing certificates MUST set cA,
 * MAY set pathLenConstraint), §4.3 (keyUsage MUST be set); RFC 5280 §4.2.1.9, §6.1.4 (k) (basicConstraints cA=true),
 * (l)/(m) (pathLenConstraint counts the non-self-issued intermediates below), (n) (keyCertSign).
 *
 * Checks: basicConstraints present with cA=true; keyUsage present with keyCertSign; `intermediatesBelow` ≤
 * pathLenConstraint when one is set. The trust anchor is held to the same rules (stricter than RFC 5280 §6.1.1 (d),
 * which uses only its name and key, and like the common TLS verifiers): a SPIFFE bundle carries CA certificates.
 *
 * Does NOT require keyUsage to be critical on a CA (X509-SVID §4.3 asks it of SVIDs, and a signing certificate only
 * SHOULD be an SVID; many private roots mark it non-critical), check a signing certificate's own SPIFFE ID (§3.2: if
 * present it has no path), or look at extKeyUsage of CAs (§4.4: processing varies between libraries).
 */
import { fail, ok, type Result } from '../result.ts';
import type { X509Cert } from './certificate.ts';

export function checkSigningCert(cert: X509Cert, role: string, intermediatesBelow: number): Result<true, 'ERR_X509_CA_INVALID'> {
  const bc = cert.basicConstraints;
  if (!bc) return fail('ERR_X509_CA_INVALID', `${role} has no basicConstraints`);
  if (!bc.cA) return fail('ERR_X509_CA_INVALID', `${role} has basicConstraints cA=false`);
  if (!cert.keyUsage) return fail('ERR_X509_CA_INVALID', `${role} has no keyUsage`);
  if (!cert.keyUsage.keyCertSign) return fail('ERR_X509_CA_INVALID', `${role} keyUsage lacks keyCertSign`);
  if (bc.pathLenConstraint !== undefined && intermediatesBelow > bc.pathLenConstraint) {
    return fail('ERR_X509_CA_INVALID', `${role} pathLenConstraint ${bc.pathLenConstraint} but ${intermediatesBelow} intermediates below it`);
  }
  return ok(true);
}
