/**
 * Verifies a WIMSE Workload Proof Token (WPT): proof that the caller holds the private key of a verified WIT.
 *
 * Spec: draft-ietf-wimse-wpt-02 §2 (claims and the validation list), §2.1 (errors), §3 (replay, audience
 * validation); draft-ietf-wimse-wpt-01 §2 for the legacy carriage (`carriage: 'header'`, the
 * `Workload-Proof-Token` field) and its `ath` claim. The default carriage is -02's `Authorization: WPT`.
 *
 * Precondition: `ctx.wit` came from verifyWit() (wpt-02: "the recipient MUST first validate the WIT"), and
 * `ctx.witToken` is the exact `Workload-Identity-Token` value it was verified from.
 *
 * Validates, in this order (first failure returned; see WPT_ERRORS):
 *   0. `witToken` hashes to `wit.tokenHash`, and the WIT has not expired since it was verified (with skew)
 *   1. size ≤ MAX_WPT_BYTES, before any parsing
 *   2. a single well-formed compact JWT (three base64url segments, JSON object header and claims)  (step 2)
 *   3. header `typ` is `wpt+jwt` (or `application/wpt+jwt`, any case)                              (step 5)
 *   4. header `alg` is string-equal to the WIT's `cnf.jwk.alg`                                     (step 3)
 *   5. no `crit` header
 *   6. the signature verifies with the WIT's `cnf.jwk` (imported once, through the key cache)        (step 4)
 *   7. `aud` is one of the configured audiences of this route (a string, or an array of exactly one)  (step 6)
 *   8. `exp` is present and a NumericDate; 9. it has not passed (with skew)                           (step 7)
 *  10. `exp` is not unreasonably far ahead: exp − now ≤ maxLifetimeSeconds + skew, and exp − iat ≤ max (step 7)
 *  11. `iat` / `nbf`, when present, are NumericDates and not in the future (with skew)
 *  12. `wth` equals base64url(SHA-256(WIT))                                                          (step 8)
 *  13. -01 only: `ath` equals the hash of the presented access token; required when one is presented,
 *      refused when none is (a proof bound to a token the request does not carry)                   (-01 §2)
 *  14. `tth` equals the hash of the presented Txn-Token; required when one is presented, refused when
 *      none is                                                                                       (step 10)
 *  15. `oth`: every entry names a context token this route understands and the request carries, with a
 *      matching hash (unknown entries reject); every presented context token is covered             (steps 11, 12)
 *  16. `jti` is a non-empty string of at most MAX_JTI_LENGTH
 *  17. `jti` is unused: `replay.checkAndSet((hash(WIT subject), jti), until exp + skew, hash(WIT subject))`,
 *      charged to the subject's quota. Last, so a proof that fails any other check never burns a `jti` (step 9)
 * Hashes are base64url(SHA-256(ASCII of the token as sent)); `oth` values hash the header field value with
 * leading and trailing spaces removed, and `oth` keys are lowercase header names (wpt-02 §2).
 *
 * Does NOT validate:
 *  - the WIT itself (verify/wit.ts) or the HTTP carriage: exactly one `Authorization: WPT` field (-02) or one
 *    `Workload-Proof-Token` field (-01), and that -02 requests carry no Bearer/Basic credentials (§2.2), are
 *    the caller's checks. In -02 mode `accessToken` and any `ath` claim are ignored.
 *  - that the audience matches the request: the caller passes the route's configured public URL(s) (without
 *    query or fragment). Never derive it from `Host` or `X-Forwarded-Host` (§3 audience validation).
 *  - which headers carry context tokens: the caller passes them as `otherTokens` (lowercase name → value);
 *    tokens it does not pass must not be used for authorization (§2 step 12).
 *  - the Txn-Token or other context tokens themselves (their own verifiers), or the request body.
 *
 * Errors: with -02 carriage a WPT failure SHOULD be answered 401 with `WWW-Authenticate: WPT` (wpt-02 §2.1;
 * wptChallenge(), wptFailureStatus()); with -01 carriage, 400 (wpt-01 §2.1, 401 NOT RECOMMENDED). WIT
 * failures are 400 problem+json per workload-creds-02 §5.2. Never log the WPT itself (wpt-02 §3.1.5); details
 * here carry no token, key or signature.
 */
import { describe } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, signatureProblem, typMatches } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import type { WorkloadId } from '../identity/workload-id.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_WPT_MAX_LIFETIME_SECONDS, MAX_JTI_LENGTH, MAX_OTH_ENTRIES, MAX_WPT_BYTES } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { ReplayStore } from '../state/ports.ts';
import type { WptErrorCode } from './errors.ts';
import { errorName, isNumericDate, isObject, type VerifiedWit } from './wit.ts';

export interface WptPolicy {
  /** Default DEFAULT_WPT_MAX_LIFETIME_SECONDS. */
  maxLifetimeSeconds?: number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}

export interface WptContext {
  /** The WIT presented with this proof, already verified. */
  wit: VerifiedWit;
  /** The exact `Workload-Identity-Token` field value, for `wth`. */
  witToken: string;
  /**
   * base64url(SHA-256(witToken)) when the caller has just computed it from `witToken` itself (the gateway
   * looks its WIT cache up by that hash): saves a second digest per request. Never pass `wit.tokenHash`.
   */
  witTokenHash?: string;
  /** The route's configured public URL (or aliases), without query or fragment; never taken from `Host`. */
  audience: string | readonly string[];
  /** `'authorization'`: wpt-02 `Authorization: WPT` (default). `'header'`: wpt-01 `Workload-Proof-Token`. */
  carriage?: 'authorization' | 'header';
  /** -01 only: the OAuth access token presented with the request (`Authorization: Bearer`), for `ath`. */
  accessToken?: string;
  /** The `Txn-Token` field value, when the request carries one, for `tth`. */
  txnToken?: string;
  /** Other context tokens this route understands and the request carries: lowercase header name → value. */
  otherTokens?: Readonly<Record<string, string>>;
  replay: ReplayStore;
  policy?: WptPolicy;
  /** Epoch milliseconds. */
  now: () => number;
  keyCache?: KeyImportCache;
}

export interface VerifiedWpt {
  /** The authenticated workload: the WIT's subject, now with proof of possession. */
  subject: WorkloadId;
  /** The WIT's tokenHash (= `wth`). */
  witHash: string;
  jti: string;
  /** The audience value the proof was made for. */
  audience: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  carriage: 'authorization' | 'header';
  /** Which presented context tokens the proof binds (only these may inform authorization). */
  bound: { accessToken: boolean; txnToken: boolean; otherTokens: string[] };
}

/** jti characters that may enter a replay key unhashed (base64url plus `.` and `~`); never `#` or `:`. */
const SAFE_JTI = /^[A-Za-z0-9._~-]+$/;

export async function verifyWpt(token: string, ctx: WptContext): Promise<Result<VerifiedWpt, WptErrorCode>> {
  const carriage = ctx.carriage ?? 'authorization';
  const skew = ctx.policy?.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = ctx.policy?.maxLifetimeSeconds ?? DEFAULT_WPT_MAX_LIFETIME_SECONDS;
  const cache = ctx.keyCache ?? sharedKeyImportCache();
  const { wit } = ctx;
  const nowMs = ctx.now();
  const now = nowMs / 1000;

  // 0. the WIT this proof is checked against
  const witHash = ctx.witTokenHash ?? (await sha256b64url(ctx.witToken));
  if (witHash !== wit.tokenHash) return fail('ERR_WPT_WIT_MISMATCH', 'witToken is not the token the verified WIT came from');
  if (nowMs >= wit.expiresAt + skew * 1000) return fail('ERR_WPT_WIT_EXPIRED', `the WIT expired ${Math.floor((nowMs - wit.expiresAt) / 1000)}s ago`);
  // 1. size
  if (typeof token === 'string' && token.length > MAX_WPT_BYTES) return fail('ERR_WPT_TOO_LARGE', `token is ${token.length} bytes, limit ${MAX_WPT_BYTES}`);
  // 2. shape
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) return fail('ERR_WPT_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. typ
  if (!typMatches(header.typ, 'wpt+jwt')) return fail('ERR_WPT_TYP_INVALID', `typ is ${describe(header.typ)}, expected "wpt+jwt"`);
  // 4. alg string-equal to cnf.jwk.alg
  if (header.alg !== wit.confirmationAlgorithm) {
    return fail('ERR_WPT_ALG_MISMATCH', `alg ${describe(header.alg)} differs from the WIT's cnf.jwk.alg ${describe(wit.confirmationAlgorithm)}`);
  }
  const alg = wit.confirmationAlgorithm;
  // 5. crit
  const crit = critProblem(header);
  if (crit) return fail('ERR_WPT_CRIT_UNSUPPORTED', crit);
  // 6. signature with the WIT's confirmation key
  let key: CryptoKey;
  try {
    key = (await cache.importPublic(wit.confirmationKey, alg)).key;
  } catch {
    return fail('ERR_WPT_SIGNATURE_INVALID', `the WIT's confirmation key does not import for ${alg}`);
  }
  const badSignature = await signatureProblem(parsed.value, key, alg);
  if (badSignature) return fail('ERR_WPT_SIGNATURE_INVALID', badSignature);
  // 7. aud
  const audiences = typeof ctx.audience === 'string' ? [ctx.audience] : ctx.audience;
  const aud = Array.isArray(claims.aud) && claims.aud.length === 1 ? claims.aud[0] : claims.aud;
  if (typeof aud !== 'string' || !audiences.includes(aud)) {
    return fail('ERR_WPT_AUD_MISMATCH', claims.aud === undefined ? 'aud is absent' : typeof aud === 'string' ? 'aud is not this route\'s audience' : `aud is ${describe(claims.aud)}, expected one URI`);
  }
  // 8–11. time
  const exp = claims.exp;
  if (!isNumericDate(exp)) return fail('ERR_WPT_EXP_INVALID', `exp is ${describe(exp)}, expected a NumericDate`);
  if (now >= exp + skew) return fail('ERR_WPT_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  for (const name of ['iat', 'nbf'] as const) {
    if (claims[name] !== undefined && !isNumericDate(claims[name])) return fail('ERR_WPT_CLAIM_INVALID', `${name} is ${describe(claims[name])}, expected a NumericDate`);
  }
  const iat = claims.iat as number | undefined;
  if (exp - now > maxLifetime + skew) return fail('ERR_WPT_LIFETIME_TOO_LONG', `valid for ${Math.round(exp - now)}s more, limit ${maxLifetime}s`);
  if (iat !== undefined && exp - iat > maxLifetime) return fail('ERR_WPT_LIFETIME_TOO_LONG', `issued for ${Math.round(exp - iat)}s, limit ${maxLifetime}s`);
  for (const name of ['iat', 'nbf'] as const) {
    const value = claims[name] as number | undefined;
    if (value !== undefined && value > now + skew) return fail('ERR_WPT_NOT_YET_VALID', `${name} is ${Math.ceil(value - now)}s in the future`);
  }
  // 12. wth
  if (claims.wth !== witHash) return fail('ERR_WPT_WTH_MISMATCH', claims.wth === undefined ? 'wth is absent' : 'wth is not the hash of the presented WIT');
  // 13. ath (-01 only)
  const bindsAccessToken = carriage === 'header' && ctx.accessToken !== undefined;
  if (carriage === 'header') {
    const problem = await hashBinding('ath', claims.ath, ctx.accessToken, 'an access token');
    if (problem) return fail('ERR_WPT_ATH_MISMATCH', problem);
  }
  // 14. tth
  const tthProblem = await hashBinding('tth', claims.tth, ctx.txnToken, 'a Txn-Token');
  if (tthProblem) return fail('ERR_WPT_TTH_MISMATCH', tthProblem);
  // 15. oth
  const presented = new Map<string, string>();
  for (const [name, value] of Object.entries(ctx.otherTokens ?? {})) presented.set(name.toLowerCase(), value.replace(/^[ \t]+|[ \t]+$/g, ''));
  const oth = claims.oth;
  if (oth !== undefined) {
    if (!isObject(oth)) return fail('ERR_WPT_OTH_UNKNOWN_ENTRY', `oth is ${describe(oth)}, expected an object`);
    const entries = Object.entries(oth);
    if (entries.length > MAX_OTH_ENTRIES) return fail('ERR_WPT_OTH_UNKNOWN_ENTRY', `oth has ${entries.length} entries, limit ${MAX_OTH_ENTRIES}`);
    for (const [name, hash] of entries) {
      const value = presented.get(name);
      if (value === undefined || typeof hash !== 'string') {
        return fail('ERR_WPT_OTH_UNKNOWN_ENTRY', `oth entry ${describe(name)} ${typeof hash !== 'string' ? 'is not a hash string' : 'names no token this route understands in this request'}`);
      }
      if (hash !== (await sha256b64url(value))) return fail('ERR_WPT_OTH_MISMATCH', `oth entry ${describe(name)} is not the hash of the presented token`);
    }
  }
  for (const name of presented.keys()) {
    if (!isObject(oth) || !Object.hasOwn(oth, name)) return fail('ERR_WPT_OTH_MISMATCH', `the ${describe(name)} token is presented but oth does not cover it`);
  }
  // 16. jti
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    return fail('ERR_WPT_JTI_INVALID', `jti is ${describe(jti)}, expected a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // 17. replay, last
  // Keyed by (subject, jti) and partitioned by subject, so a workload minting proofs uses up its own quota, not
  // everyone's (state/ports.ts). The subject enters as its hash (a subject may be longer than a state key); a jti
  // of URL-safe characters (what minters produce: wpt-02 suggests 128 random bits, base64url) enters as is, any
  // other jti as `#` + its hash, so the common proof costs no digest here and the two forms never collide.
  const replayKey = `wpt-jti:${wit.subjectHash}:${SAFE_JTI.test(jti) ? jti : `#${await sha256b64url(jti)}`}`;
  const replayPartition = `wpt-sub:${wit.subjectHash}`;
  const ttlMs = Math.max(1, Math.ceil((exp + skew) * 1000 - nowMs));
  let fresh: boolean;
  try {
    fresh = await ctx.replay.checkAndSet(replayKey, ttlMs, replayPartition);
  } catch (error) {
    return fail('ERR_WPT_REPLAY_STORE_FAILED', `replay store failed (${errorName(error)})`);
  }
  if (!fresh) return fail('ERR_WPT_REPLAYED', `jti already used by ${wit.subject.uri}`);

  return ok({
    subject: wit.subject,
    witHash,
    jti,
    audience: aud,
    expiresAt: exp * 1000,
    carriage,
    bound: { accessToken: bindsAccessToken, txnToken: ctx.txnToken !== undefined, otherTokens: [...presented.keys()] },
  });
}

/**
 * `tth` / `ath` rule: with the token presented the claim must be its hash; without it the claim must be absent
 * (a proof made for a request that carried a token the recipient does not see). `undefined` when satisfied.
 */
async function hashBinding(claim: string, value: unknown, token: string | undefined, what: string): Promise<string | undefined> {
  if (token === undefined) return value === undefined ? undefined : `${claim} is present but the request carries no ${what.replace(/^an? /, '')}`;
  if (value === undefined) return `${claim} is absent but the request carries ${what}`;
  if (value !== (await sha256b64url(token))) return `${claim} is not the hash of the presented ${what.replace(/^an? /, '')}`;
  return undefined;
}
