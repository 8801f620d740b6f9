/**
 * Standard base64 (RFC 4648 §4) for Structured Field Byte Sequences, Web APIs only (`atob`/`btoa`).
 *
 * Encoding always pads with `=` (RFC 8941 §4.1.8). Decoding follows RFC 8941 §4.2.7: only the base64 alphabet
 * and trailing `=` are accepted (§3.1, §3.3 of RFC 4648 are not relaxed: no whitespace, no line feeds, no `=`
 * inside), missing padding is synthesised and non-zero pad bits are tolerated (both SHOULD NOT fail).
 *
 * Does NOT accept base64url (`-`, `_`); that is src/crypto/base64url.ts.
 */

const ENCODED = /^[A-Za-z0-9+/]*={0,2}$/;

export function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Decodes Byte Sequence content (between the colons); `undefined` when it is not base64. */
export function base64Decode(content: string): Uint8Array<ArrayBuffer> | undefined {
  if (!ENCODED.test(content)) return undefined;
  const padded = content.includes('=');
  if (padded && content.length % 4 !== 0) return undefined;
  if (!padded && content.length % 4 === 1) return undefined;
  const synthesised = padded ? content : content + '='.repeat((4 - (content.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(synthesised);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
