/**
 * Certificates as callers hand them over (an array of DER byte strings, or PEM text) to a bounded list of DER byte
 * strings, in the given order.
 *
 * Checks, before any parsing: at most `maxCount` certificates (`too-many`); at least one; every one a Uint8Array
 * (for arrays) of 1..MAX_X509_CERTIFICATE_BYTES bytes; PEM text per pem.ts (`malformed`).
 *
 * Copies every certificate, so a caller's later change to its buffers cannot reach a verification in flight.
 * Does NOT parse or judge the certificates.
 */
import { MAX_X509_CERTIFICATE_BYTES } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { decodePemCertificates } from './pem.ts';

/** DER certificates in order, or PEM text holding them in order. */
export type CertificatesInput = readonly Uint8Array[] | string;

export function certificateList(input: CertificatesInput, maxCount: number): Result<Uint8Array[], 'too-many' | 'malformed'> {
  let list: Uint8Array[];
  if (typeof input === 'string') {
    const decoded = decodePemCertificates(input, maxCount);
    if (!decoded.ok) return decoded;
    list = decoded.value;
  } else if (Array.isArray(input)) {
    if (input.length > maxCount) return fail('too-many', `${input.length} certificates, limit ${maxCount}`);
    list = [...(input as readonly unknown[])] as Uint8Array[];
  } else {
    return fail('malformed', 'certificates are neither an array of DER byte strings nor PEM text');
  }
  if (list.length === 0) return fail('malformed', 'no certificate');
  for (const [i, der] of list.entries()) {
    if (!(der instanceof Uint8Array)) return fail('malformed', `certificate ${i} is not a Uint8Array`);
    if (der.length === 0) return fail('malformed', `certificate ${i} is empty`);
    if (der.length > MAX_X509_CERTIFICATE_BYTES) return fail('malformed', `certificate ${i} is ${der.length} bytes, limit ${MAX_X509_CERTIFICATE_BYTES}`);
  }
  return ok(list.map((der) => der.slice()));
}
