/**
 * Whether `now` lies within a certificate's validity period, widened on both sides by the clock skew.
 *
 * Specs: RFC 5280 §4.1.2.5 (the period is inclusive of notBefore and notAfter), §6.1.3 (a)(2) (every certificate of the
 * path is checked at the current time).
 *
 * Does NOT: decode times (certificate.ts did, into epoch milliseconds), bound a lifetime (X509-SVID sets none; SPIRE
 * keeps them short), or check revocation (no CRL or OCSP: X509-SVID relies on short lifetimes).
 */
import { fail, ok, type Result } from '../result.ts';
import type { X509Cert } from './certificate.ts';

export function checkValidity(cert: X509Cert, now: number, skewMs: number): Result<true, 'ERR_X509_NOT_YET_VALID' | 'ERR_X509_EXPIRED'> {
  if (now + skewMs < cert.notBefore) return fail('ERR_X509_NOT_YET_VALID', `notBefore is ${Math.ceil((cert.notBefore - now) / 1000)} s in the future`);
  if (now - skewMs > cert.notAfter) return fail('ERR_X509_EXPIRED', `notAfter passed ${Math.floor((now - cert.notAfter) / 1000)} s ago`);
  return ok(true);
}
