/**
 * The `@query-param` value (RFC 9421 §2.2.8): the query is parsed as application/x-www-form-urlencoded (WHATWG
 * URL §5.1, `URLSearchParams`: `+` is a space, percent-escapes are decoded as UTF-8), then each name and value is
 * re-encoded: UTF-8, every octet other than ASCII alphanumerics, `*`, `-`, `.` and `_` written as `%XX`.
 *
 * Spaces become `%20`, not `+`: the RFC's own example (`bar=with+plus+whitespace` → `with%20plus%20whitespace`)
 * fixes that choice, although the WHATWG form serializer it cites would write `+`. Hex digits are uppercase
 * (the WHATWG percent-encode), as in the example `fa%C3%A7ade%22%3A%20`.
 *
 * Refuses a name that occurs more than once (§2.2.8: "MUST NOT be included"). Does NOT read form parameters
 * from the message content (§7.5.8): only the query of the target URI.
 */
import { fail, ok, type Result } from '../result.ts';
import type { HttpSigErrorCode } from './errors.ts';

function unreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2a || byte === 0x2d || byte === 0x2e || byte === 0x5f
  );
}

/** Percent-encodes a decoded name or value as §2.2.8 step 2 requires. */
export function encodeQueryParamText(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    out += unreserved(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The encoded value of the query parameter whose encoded name is `name`, from `search` (`?a=b&c=d` or `a=b`). */
export function queryParamValue(search: string, name: string): Result<string, HttpSigErrorCode> {
  const matches: string[] = [];
  for (const [n, v] of new URLSearchParams(search)) {
    if (encodeQueryParamText(n) === name) matches.push(encodeQueryParamText(v));
  }
  if (matches.length === 0) return fail('ERR_SIG_COMPONENT_MISSING', `query parameter ${JSON.stringify(name)} is absent`);
  if (matches.length > 1) return fail('ERR_SIG_COMPONENT_INVALID', `query parameter ${JSON.stringify(name)} occurs more than once (§2.2.8)`);
  return ok(matches[0]!);
}
