/**
 * Random identifiers from the Web Crypto CSPRNG (`crypto.getRandomValues`, available on every runtime).
 * draft-ietf-wimse-wpt-02 §2 (`jti`): "128 bits of pseudorandom data", base64url-encoded, gives a negligible
 * chance that two proofs share a value. Used for WPT and WIT `jti`s.
 */
import { base64urlEncode } from './base64url.ts';

/** `bytes` random bytes as unpadded base64url (16 bytes, 128 bits, give 22 characters). */
export function randomId(bytes = 16): string {
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 64) throw new RangeError('randomId: bytes must be an integer from 16 to 64');
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(bytes)));
}
