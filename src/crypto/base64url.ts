/**
 * base64url without padding (RFC 7515 §2, RFC 4648 §5), strict on input: only the URL-safe alphabet, no `=`,
 * no whitespace, and no length that cannot come from whole bytes. Web APIs only (`atob`/`btoa`).
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * True when `input` is a well-formed unpadded base64url string (possibly empty) in its one canonical spelling:
 * the unused low bits of the last character must be zero (RFC 4648 §3.5). Otherwise one signed token would
 * have several spellings, each with its own hash (caches, revocation by token hash).
 */
export function isBase64url(input: string): boolean {
  if (!ALPHABET.test(input)) return false;
  const rest = input.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = DIGITS.indexOf(input[input.length - 1]!);
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

/** Encodes bytes (or a string's UTF-8 bytes) as unpadded base64url. */
export function base64urlEncode(input: Uint8Array | string): string {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  let binary = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes unpadded base64url; `undefined` when the input is not well-formed. */
export function base64urlDecode(input: string): Uint8Array | undefined {
  if (!isBase64url(input)) return undefined;
  const binary = atob(input.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
