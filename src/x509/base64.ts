/**
 * Standard base64 (RFC 4648 §4, the `+/` alphabet) to bytes, for PEM bodies (RFC 7468) and RFC 8941 Byte Sequences.
 *
 * Checks: only the alphabet, `=` only as the final one or two characters of a length that is a multiple of 4, no
 * whitespace (callers remove PEM line breaks first), no impossible length (one character past a 4-group).
 * `padding: 'optional'` also accepts an unpadded ending, as RFC 8941 §4.2.7 asks ("SHOULD NOT fail when '=' padding
 * is not present"). Non-zero pad bits (RFC 4648 §3.5) are accepted in both modes, as RFC 8941 §4.2.7 also asks: they
 * are dropped by decoding, so the bytes, and everything computed from them, are the same.
 *
 * Does NOT: accept the URL-safe alphabet (src/crypto/base64url.ts is the one for JOSE) or say anything about the bytes.
 */

const BODY = /^[A-Za-z0-9+/]*$/;

export function decodeBase64(text: string, padding: 'required' | 'optional'): Uint8Array | undefined {
  const firstPad = text.indexOf('=');
  const body = firstPad < 0 ? text : text.slice(0, firstPad);
  const pad = firstPad < 0 ? '' : text.slice(firstPad);
  if (!BODY.test(body) || (pad !== '' && pad !== '=' && pad !== '==')) return undefined;
  if (pad !== '' && text.length % 4 !== 0) return undefined;
  if (pad === '' && body.length % 4 !== 0 && padding === 'required') return undefined;
  if (body.length % 4 === 1) return undefined;
  const binary = atob(body);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
