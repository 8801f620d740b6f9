/**
 * Integrity fields of RFC 9530: `Content-Digest` (over the content, §2) and `Repr-Digest` (over the selected
 * representation, §3), each a Structured Fields Dictionary of algorithm → Byte Sequence (§2, §4). Algorithms:
 * `sha-256` and `sha-512` (§5, "Active"); deprecated and unknown keys are ignored (§6.1: a recipient MAY ignore
 * algorithms it does not support).
 *
 * `checkDigestField` recomputes every supported digest over the bytes actually received and compares: all must
 * match, at least one must be present. `digestField` produces a value for a message this gateway signs.
 *
 * Does NOT: read a body (callers pass the bytes they received, bounded by their own limit), decode content
 * codings (for `Content-Digest` the bytes are the content as sent, §2; a gateway compares what it forwards), or
 * decide whether the field is required (the WIMSE profile does: a message with a body MUST carry it).
 */
import { base64Encode } from './sf-base64.ts';
import { fail, ok, type Result } from '../result.ts';
import { parseDictionary } from './sf-parse.ts';

export type DigestAlgorithm = 'sha-256' | 'sha-512';
const HASH: Record<DigestAlgorithm, string> = { 'sha-256': 'SHA-256', 'sha-512': 'SHA-512' };

export type DigestErrorCode = 'ERR_DIGEST_MALFORMED' | 'ERR_DIGEST_UNSUPPORTED' | 'ERR_DIGEST_MISMATCH';

/** Checks a `Content-Digest` / `Repr-Digest` value against `body`; returns the algorithms that matched. */
export async function checkDigestField(value: string, body: Uint8Array<ArrayBuffer>): Promise<Result<DigestAlgorithm[], DigestErrorCode>> {
  const parsed = parseDictionary(value, { rejectDuplicateKeys: true });
  if (!parsed.ok) return fail('ERR_DIGEST_MALFORMED', `not a Structured Fields Dictionary: ${parsed.detail}`);
  const checked: DigestAlgorithm[] = [];
  for (const [key, member] of parsed.value) {
    if (key !== 'sha-256' && key !== 'sha-512') continue;
    if (member.kind !== 'item' || member.value.type !== 'byteSequence') return fail('ERR_DIGEST_MALFORMED', `${key} is not a Byte Sequence`);
    const expected = member.value.value;
    const actual = new Uint8Array(await crypto.subtle.digest(HASH[key], body));
    if (!sameBytes(expected, actual)) return fail('ERR_DIGEST_MISMATCH', `${key} does not match the ${body.byteLength} bytes received`);
    checked.push(key);
  }
  if (checked.length === 0) return fail('ERR_DIGEST_UNSUPPORTED', 'no sha-256 or sha-512 member');
  return ok(checked);
}

/** A `Content-Digest` value for `body`: `sha-256=:<base64>:`. */
export async function digestField(body: Uint8Array<ArrayBuffer>, algorithm: DigestAlgorithm = 'sha-256'): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(HASH[algorithm], body));
  return `${algorithm}=:${base64Encode(digest)}:`;
}

/** Digests are not secret (anyone holding the body computes them): a plain comparison is enough. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
