/**
 * Verifies a DPoP proof (RFC 9449): proof that the sender of a request holds the private key whose public half
 * the proof carries in its `jwk` header, made for this method and target URI, recently, and only once.
 *
 * Spec: RFC 9449 §4.2 (proof syntax), §4.3 (checking DPoP proofs), §6.1 (`cnf.jkt`), §7 (`ath` at a protected
 * resource), §8 / §9 (server-provided nonces), §11.1 (replay).
 *
 * Validates, in this order (first failure returned; see DPOP_ERRORS):
 *   1. size ≤ MAX_DPOP_PROOF_BYTES, before any parsing
 *   2. a single well-formed compact JWS (three base64url segments, JSON object header and claims)   (step 2)
 *   3. header `typ` is exactly `dpop+jwt`                                                             (step 4)
 *   4. header `alg` is an asymmetric signature algorithm this project verifies, and in the policy      (step 5)
 *   5. header `jwk` is an object; 6. it has no private members; 7. it fits `alg` (key type, curve, and
 *      `jwk.alg` when present) and imports (public members only, through the key cache)               (steps 5–7)
 *   8. no `crit` header
 *   9. the signature verifies with that `jwk`                                                         (step 6)
 *  10. `jti` is a non-empty string of at most MAX_JTI_LENGTH                                          (step 3)
 *  11. `htm` equals `ctx.method` (case-sensitive: RFC 9110 §9.1)                                      (step 8)
 *  12. `htu` equals `ctx.url`, both without query and fragment, after normalizeHtu()                 (step 9)
 *  13. `iat` is a NumericDate, at most `maxAgeSeconds + skew` old and at most `skew` in the future    (step 11)
 *  14. when `ctx.nonce` is given: `nonce` is present (else ERR_DPOP_NONCE_REQUIRED) and equals one of
 *      them (else ERR_DPOP_NONCE_INVALID)                                                             (step 10)
 *  15. when `ctx.accessToken` is given: `ath` equals base64url(SHA-256(ASCII of the token)) (or the caller's
 *      `accessTokenHash` of it); absent is
 *      refused. Without an access token `ath` is not looked at (the token endpoint, §5)              (step 12)
 *  16. when `ctx.expectedJkt` is given: the RFC 7638 SHA-256 thumbprint of `jwk` equals it           (step 12)
 *  17. `jti` is unused: `replay.checkAndSet(('dpop', jkt, jti or its hash), until iat + maxAge + skew, jkt)`,
 *      charged to the key's quota. Last, so a proof that fails any other check never burns a `jti`  (§11.1)
 *
 * Does NOT do:
 *  - header extraction: the caller checks there is exactly one `DPoP` field (step 1) and passes its value.
 *  - access-token validation: the caller verifies the token (signature, expiry, audience, scope) and passes
 *    it as `accessToken` with its `cnf.jkt` as `expectedJkt`; it also refuses a DPoP-bound token sent as Bearer.
 *  - nonce issuance or rotation: the caller passes the nonce(s) it currently accepts and, on the two nonce
 *    codes, answers `use_dpop_nonce` with a fresh `DPoP-Nonce` (§8, §9).
 *  - the target URI: the caller passes the route's configured public URL; never derive it from `Host` or
 *    `X-Forwarded-Host`.
 *  - wire responses (`WWW-Authenticate: DPoP …`, status codes).
 * Details carry no proof, token, key or signature.
 */
import type { JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm, keyMismatch, privateMembers } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, signatureProblem } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_DPOP_MAX_AGE_SECONDS, MAX_DPOP_PROOF_BYTES, MAX_JTI_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { ReplayStore } from '../state/ports.ts';
import type { DpopErrorCode } from './errors.ts';
import { errorName, isNumericDate, isObject } from './wit.ts';

export { DPOP_ERRORS, type DpopErrorCode } from './errors.ts';

/** Algorithms accepted when the policy names none (RFC 9449 §4.3 step 5: "acceptable per local policy"). */
export const DEFAULT_DPOP_ALGORITHMS: readonly string[] = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];

export interface DpopPolicy {
  /** Default DEFAULT_DPOP_ALGORITHMS. Symmetric, `none` and unknown entries are ignored. */
  algorithms?: readonly string[];
  /** Seconds after `iat` a proof is accepted (plus skew). Default DEFAULT_DPOP_MAX_AGE_SECONDS. */
  maxAgeSeconds?: number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}

export interface DpopContext {
  /** The request method, as received (e.g. `GET`). */
  method: string;
  /** The request's target URI as configured / public (query and fragment ignored); never taken from `Host`. */
  url: string;
  /** The access token presented with the request (`Authorization: DPoP …`), for `ath`. */
  accessToken?: string;
  /** base64url(SHA-256(accessToken)) when the caller has it already (a verified token's `tokenHash`): saves a digest. */
  accessTokenHash?: string;
  /** The access token's `cnf.jkt`, to bind the proof key to the token. */
  expectedJkt?: string;
  /** The nonce(s) the server currently accepts, when it requires one. */
  nonce?: string | readonly string[];
  replay: ReplayStore;
  policy?: DpopPolicy;
  /** Epoch milliseconds. */
  now: () => number;
  keyCache?: KeyImportCache;
}

export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key (what `cnf.jkt` binds). */
  jkt: string;
  jti: string;
  /** Epoch seconds, as in the proof. */
  iat: number;
  htm: string;
  /** The `htu` claim after normalizeHtu() (equal to the normalised `ctx.url`). */
  htu: string;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** A jti that may enter a replay key unhashed: base64url-ish, at most 64 characters (never `:`). */
const SHORT_JTI = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Normalises an http(s) URI for the `htu` comparison (RFC 9449 §4.3 step 9; RFC 3986 §6.2.2, §6.2.3): scheme and
 * host lowercased, default port dropped, empty path → `/`, dot segments removed, percent-encodings of unreserved
 * characters decoded and the rest uppercased; query and fragment dropped. `undefined` when it is not an absolute
 * http(s) URI.
 */
export function normalizeHtu(uri: string): string | undefined {
  // RFC 3986 syntax first: WHATWG URL would also take `https:host`, `https:///host` and backslashes for slashes.
  if (typeof uri !== 'string' || !/^https?:\/\/[^/?#]/i.test(uri) || /[\s\u0000-\u001f\u007f\\]/.test(uri)) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') return undefined;
  const path = (url.pathname === '' ? '/' : url.pathname).replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  const userinfo = url.username !== '' || url.password !== '' ? `${url.username}${url.password === '' ? '' : `:${url.password}`}@` : '';
  return `${url.protocol}//${userinfo}${url.host}${path}`;
}

export async function verifyDpopProof(proof: string, ctx: DpopContext): Promise<Result<VerifiedDpopProof, DpopErrorCode>> {
  const skew = ctx.policy?.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxAge = ctx.policy?.maxAgeSeconds ?? DEFAULT_DPOP_MAX_AGE_SECONDS;
  const algorithms = allowedAlgorithms(ctx.policy?.algorithms ?? DEFAULT_DPOP_ALGORITHMS);
  const cache = ctx.keyCache ?? sharedKeyImportCache();
  const nowMs = ctx.now();
  const now = nowMs / 1000;

  // 1. size
  if (typeof proof === 'string' && proof.length > MAX_DPOP_PROOF_BYTES) return fail('ERR_DPOP_TOO_LARGE', `proof is ${proof.length} bytes, limit ${MAX_DPOP_PROOF_BYTES}`);
  // 2. shape
  const parsed = parseCompactJwt(proof);
  if (!parsed.ok) return fail('ERR_DPOP_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. typ
  if (header.typ !== 'dpop+jwt') return fail('ERR_DPOP_TYP_INVALID', `typ is ${describe(header.typ)}, expected "dpop+jwt"`);
  // 4. alg
  const alg = header.alg;
  if (!isAsymmetricJwsAlgorithm(alg) || !algorithms.has(alg)) return fail('ERR_DPOP_ALG_NOT_ALLOWED', `alg ${describe(alg)} is not allowed`);
  // 5–7. jwk
  const jwk = header.jwk;
  if (!isObject(jwk)) return fail('ERR_DPOP_JWK_MISSING', `jwk is ${describe(jwk)}, expected an object`);
  const privates = privateMembers(jwk);
  if (privates.length > 0) return fail('ERR_DPOP_JWK_PRIVATE', `jwk carries private member(s) ${privates.join(', ')}`);
  if (jwk.alg !== undefined && jwk.alg !== alg) return fail('ERR_DPOP_JWK_INVALID', `jwk.alg ${describe(jwk.alg)} differs from alg ${alg}`);
  const mismatch = keyMismatch(jwk as JWK, alg);
  if (mismatch) return fail('ERR_DPOP_JWK_INVALID', mismatch);
  let key: CryptoKey;
  let jkt: string;
  try {
    ({ key, thumbprint: jkt } = await cache.importPublic(jwk as JWK, alg));
  } catch {
    return fail('ERR_DPOP_JWK_INVALID', `jwk does not import for ${alg}`);
  }
  // 8. crit
  const crit = critProblem(header);
  if (crit) return fail('ERR_DPOP_CRIT_UNSUPPORTED', crit);
  // 9. signature
  const badSignature = await signatureProblem(parsed.value, key, alg);
  if (badSignature) return fail('ERR_DPOP_SIGNATURE_INVALID', badSignature);
  // 10. jti
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    return fail('ERR_DPOP_JTI_INVALID', `jti is ${describe(jti)}, expected a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // 11. htm
  const htm = claims.htm;
  if (typeof htm !== 'string' || htm !== ctx.method) return fail('ERR_DPOP_HTM_MISMATCH', `htm is ${describe(htm)}, request method is ${describe(ctx.method)}`);
  // 12. htu
  const htu = typeof claims.htu === 'string' ? normalizeHtu(claims.htu) : undefined;
  if (htu === undefined) return fail('ERR_DPOP_HTU_MISMATCH', `htu is ${describe(claims.htu)}, expected an absolute http(s) URI`);
  const target = normalizeHtu(ctx.url);
  if (target === undefined) return fail('ERR_DPOP_HTU_MISMATCH', 'the configured target URI is not an absolute http(s) URI');
  if (htu !== target) return fail('ERR_DPOP_HTU_MISMATCH', 'htu is not the target URI of this request');
  // 13. iat
  const iat = claims.iat;
  if (!isNumericDate(iat)) return fail('ERR_DPOP_IAT_INVALID', `iat is ${describe(iat)}, expected a NumericDate`);
  if (iat > now + skew) return fail('ERR_DPOP_IAT_OUT_OF_WINDOW', `iat is ${Math.ceil(iat - now)}s in the future, skew ${skew}s`);
  if (now - iat > maxAge + skew) return fail('ERR_DPOP_IAT_OUT_OF_WINDOW', `proof is ${Math.floor(now - iat)}s old, limit ${maxAge + skew}s`);
  // 14. nonce
  if (ctx.nonce !== undefined) {
    const accepted = typeof ctx.nonce === 'string' ? [ctx.nonce] : ctx.nonce;
    if (claims.nonce === undefined) return fail('ERR_DPOP_NONCE_REQUIRED', 'the server requires a nonce and the proof carries none');
    if (typeof claims.nonce !== 'string' || !accepted.includes(claims.nonce)) return fail('ERR_DPOP_NONCE_INVALID', 'nonce is not one the server currently accepts');
  }
  // 15. ath
  if (ctx.accessToken !== undefined) {
    if (claims.ath === undefined) return fail('ERR_DPOP_ATH_MISMATCH', 'ath is absent but the request carries an access token');
    if (claims.ath !== (ctx.accessTokenHash ?? (await sha256b64url(ctx.accessToken)))) return fail('ERR_DPOP_ATH_MISMATCH', 'ath is not the hash of the presented access token');
  }
  // 16. key binding
  if (ctx.expectedJkt !== undefined && jkt !== ctx.expectedJkt) return fail('ERR_DPOP_KEY_MISMATCH', 'the proof key is not the key the access token is bound to');
  // 17. replay, last
  // Keyed by (key, jti) and partitioned by key, so a client minting proofs uses up its own quota (state/ports.ts).
  // §11.1: reject overlong jti values or store only a hash. A short base64url jti (what clients send: 96+ random
  // bits, or a UUID without its dashes) enters as it is, anything else as its hash; the prefixes keep the two
  // apart. The thumbprint is fixed-length base64url.
  const replayKey = `dpop-jti:${jkt}:${SHORT_JTI.test(jti) ? `r.${jti}` : `h.${await sha256b64url(jti)}`}`;
  const ttlMs = Math.max(1, Math.ceil((iat + maxAge + skew) * 1000 - nowMs));
  let fresh: boolean;
  try {
    fresh = await ctx.replay.checkAndSet(replayKey, ttlMs, `dpop-jkt:${jkt}`);
  } catch (error) {
    return fail('ERR_DPOP_REPLAY_STORE_FAILED', `replay store failed (${errorName(error)})`);
  }
  if (!fresh) return fail('ERR_DPOP_REPLAYED', 'jti already used with this key');

  return ok({ jkt, jti, iat, htm, htu });
}
