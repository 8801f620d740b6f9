/**
 * SHA-256 over Web Crypto, and the one token hash the WIMSE drafts use everywhere (`wth`, `tth`, `oth`, `ath`,
 * and our own cache and audit keys): base64url(SHA-256(ASCII bytes of the token string as sent)).
 * draft-ietf-wimse-wpt-02 §2 ("the base64url encoding ... of the SHA-256 hash of the bytes of the ASCII
 * representation"), RFC 9449 §4.1 (`ath`).
 */
import { base64urlEncode } from './base64url.ts';

/** SHA-256 of bytes, or of a string's UTF-8 bytes (identical to ASCII for compact JWS). */
export async function sha256(input: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** base64url(SHA-256(input)): the hash to compare with `wth`/`tth`/`oth`/`ath`, and to log instead of a token. */
export async function sha256b64url(input: Uint8Array | string): Promise<string> {
  return base64urlEncode(await sha256(input));
}
