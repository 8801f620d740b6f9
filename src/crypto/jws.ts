/**
 * Compact JWS helpers shared by the JWT verifiers in src/verify: a strict structural parse (RFC 7515 §7.1,
 * and the WIT/WPT ABNF `JWT = base64url "." base64url "." base64url` of draft-ietf-wimse-workload-creds-02
 * §5.1.1), media-type comparison for `typ`, and signature verification with Web Crypto over the bytes the
 * parse already decoded (one parse per token: jose's compactVerify would parse and decode it again).
 *
 * The parse does not trust anything: it only says whether the token has the right shape and hands back the
 * decoded header and claims for the caller's checks. Details describe the problem, never echo the input.
 */
import type { JWK } from 'jose';
import { describe, isAsymmetricJwsAlgorithm, keyFits, keyMismatch, verifyParams } from './algorithms.ts';
import { base64urlDecode } from './base64url.ts';
import type { KeyImportCache } from './key-cache.ts';

export interface ParsedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** ASCII of `header.payload`, what the signature covers (RFC 7515 §5.2 step 8). */
  signingInput: Uint8Array;
  signature: Uint8Array;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; detail: string };

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeJsonObject(segment: string, name: string): Parsed<Record<string, unknown>> {
  const bytes = base64urlDecode(segment);
  if (!bytes) return { ok: false, detail: `${name} is not base64url` };
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return { ok: false, detail: `${name} is not UTF-8 JSON` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, detail: `${name} is not a JSON object` };
  return { ok: true, value: value as Record<string, unknown> };
}

/** Parses a compact JWS whose payload is a JWT claims set. Three non-empty base64url segments, JSON objects. */
export function parseCompactJwt(token: unknown): Parsed<ParsedJwt> {
  if (typeof token !== 'string') return { ok: false, detail: 'token is not a string' };
  const segments = token.split('.');
  if (segments.length !== 3) return { ok: false, detail: `compact JWS has ${segments.length} segments, not 3` };
  const names = ['header', 'payload', 'signature'];
  for (const [i, segment] of segments.entries()) {
    if (!SEGMENT.test(segment)) return { ok: false, detail: `${names[i]} segment is ${segment === '' ? 'empty' : 'not base64url'}` };
  }
  const header = decodeJsonObject(segments[0]!, 'header');
  if (!header.ok) return header;
  const claims = decodeJsonObject(segments[1]!, 'payload');
  if (!claims.ok) return claims;
  const signature = base64urlDecode(segments[2]!);
  if (!signature) return { ok: false, detail: 'signature is not base64url' };
  const signingInput = new TextEncoder().encode(`${segments[0]}.${segments[1]}`);
  return { ok: true, value: { header: header.value, claims: claims.value, signingInput, signature } };
}

/**
 * Whether a `typ` header value names `expected` (a media subtype such as `wit+jwt`). RFC 7515 §4.1.9: media
 * type names are case-insensitive and a value without `/` means `application/<value>`. So `wit+jwt`,
 * `WIT+JWT` and `application/wit+jwt` all match; `wit+jwt; q=1` or `text/wit+jwt` do not.
 */
export function typMatches(typ: unknown, expected: string): boolean {
  if (typeof typ !== 'string') return false;
  const full = (typ.includes('/') ? typ : `application/${typ}`).toLowerCase();
  return full === `application/${expected.toLowerCase()}`;
}

/** Header names jose (or we) understand in `crit`: none. Any `crit` is refused (RFC 7515 §4.1.11). */
export function critProblem(header: Record<string, unknown>): string | undefined {
  if (header.crit === undefined) return undefined;
  if (!Array.isArray(header.crit) || header.crit.length === 0) return 'crit is not a non-empty array';
  return `crit names ${header.crit.length} extension(s), none of which is understood`;
}

/**
 * Turns a configured trust-anchor key into a CryptoKey for `alg`, or says why it cannot be used. A JWK is
 * imported through `cache` (public members only); its `alg`, when present, must equal `alg` (RFC 7517 §4.4).
 * A CryptoKey is used as given; signatureProblem refuses it unless it fits `alg` (keyFits).
 */
export async function verificationKey(source: JWK | CryptoKey, alg: string, cache: KeyImportCache): Promise<Parsed<CryptoKey>> {
  if (isCryptoKey(source)) return { ok: true, value: source };
  if (typeof source !== 'object' || source === null) return { ok: false, detail: 'key source returned neither a JWK nor a CryptoKey' };
  if (source.alg !== undefined && source.alg !== alg) return { ok: false, detail: `trust anchor key is for ${describe(source.alg)}, token uses ${alg}` };
  const mismatch = keyMismatch(source, alg);
  if (mismatch) return { ok: false, detail: `trust anchor key unusable: ${mismatch}` };
  try {
    return { ok: true, value: (await cache.importPublic(source, alg)).key };
  } catch {
    return { ok: false, detail: `trust anchor key could not be imported for ${alg}` };
  }
}

/**
 * Finds the trust anchor key for a token's `kid` in the trust domain of its subject (through the caller's key
 * source: configuration, never a URL from the token) and verifies the signature with it. Shared by the WIT and
 * JWT-SVID verifiers, which map the three failures to their own codes.
 */
export async function verifyWithTrustAnchor(
  token: ParsedJwt,
  source: () => Promise<JWK | CryptoKey | undefined>,
  where: { trustDomain: string; kid: unknown },
  alg: string,
  cache: KeyImportCache,
): Promise<{ ok: true } | { ok: false; failure: 'KEY_SOURCE_FAILED' | 'KEY_NOT_FOUND' | 'SIGNATURE_INVALID'; detail: string }> {
  let anchor: JWK | CryptoKey | undefined;
  try {
    anchor = await source();
  } catch (error) {
    // The error's name only: a key source's message may quote a URL or a response body.
    return { ok: false, failure: 'KEY_SOURCE_FAILED', detail: `key source failed for trust domain ${where.trustDomain} (${error instanceof Error ? error.name : typeof error})` };
  }
  if (anchor === undefined || anchor === null) {
    const which = where.kid === undefined ? ' without kid' : ` with kid ${describe(where.kid)}`;
    return { ok: false, failure: 'KEY_NOT_FOUND', detail: `no key for trust domain ${where.trustDomain}${which}` };
  }
  const key = await verificationKey(anchor, alg, cache);
  if (!key.ok) return { ok: false, failure: 'SIGNATURE_INVALID', detail: key.detail };
  const badSignature = await signatureProblem(token, key.value, alg);
  return badSignature ? { ok: false, failure: 'SIGNATURE_INVALID', detail: badSignature } : { ok: true };
}

export function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey;
}

/**
 * Verifies the signature of a parsed token with `key` for exactly `alg` (the caller has already checked `alg`
 * against its policy). `undefined` on success. A key of another type or curve makes Web Crypto throw or
 * answer false: either way the token is refused.
 */
export async function signatureProblem(token: ParsedJwt, key: CryptoKey, alg: string): Promise<string | undefined> {
  if (!isAsymmetricJwsAlgorithm(alg)) return `${describe(alg)} is not a signature algorithm`;
  if (!keyFits(key, alg)) return `key does not fit ${alg}`;
  try {
    const valid = await crypto.subtle.verify(verifyParams(alg), key, token.signature as Uint8Array<ArrayBuffer>, token.signingInput as Uint8Array<ArrayBuffer>);
    return valid ? undefined : 'signature does not verify';
  } catch {
    return `key does not fit ${alg}`;
  }
}
