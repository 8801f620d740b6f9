/**
 * Verifies an OAuth Transaction Token (Txn-Token) received by a workload inside the trust domain.
 *
 * Spec: draft-ietf-oauth-transaction-tokens-09/-10: "Txn-Token Format" (JWT header: `typ` MUST be `txntoken+jwt`,
 * `kid` for rotation; body claims `iat`, `aud`, `exp`, `txn`, `sub`, `scope`, `req_wl` REQUIRED, `tctx`, `rctx`
 * RECOMMENDED objects, `iss` OPTIONAL), "Txn-Token Lifetime", the receiving workload's validation ("Validate the
 * Txn-Token JWS signature", "Verify the `aud` claim identifies the Trust Domain of the workload", "Verify the
 * Txn-Token is not expired"), Security Considerations (replay: a `txn` seen before "would be declined"); RFC 8417
 * §2.2 (`txn`); RFC 8693 §4.2 and RFC 6749 §3.3 (`scope`); RFC 8725 (§3.1 algorithms, §3.9 audience, §3.11 typing).
 *
 * Validates, in this order (the first failure is returned, each with its own code; see TXN_TOKEN_ERRORS):
 *   1. size ≤ MAX_TXN_TOKEN_BYTES, before any parsing
 *   2. compact JWS shape: three non-empty base64url segments; header and claims JSON objects (a JWE is refused)
 *   3. header `typ` is `txntoken+jwt` or `application/txntoken+jwt`, any case (media types are case-insensitive;
 *      absent, or an older draft's `txn_token`, is refused)
 *   4. header `alg` is an asymmetric signature algorithm in `algorithms` (default ES256); never `none` or `HS*`
 *   5. no `crit` header; 6. `kid`, when present, a string of 1 to MAX_KID_LENGTH characters
 *   7–8. the key comes from `ctx.keys(kid)`: the TTS keys from configuration, never `jku`, `x5u`, `jwk` or `x5c`
 *      from the token (ignored). A throwing source is ERR_TXN_TOKEN_KEY_SOURCE_FAILED (fail closed), none found
 *      ERR_TXN_TOKEN_KEY_NOT_FOUND
 *   9. the signature verifies with that key and exactly the header `alg`
 *  10. `aud` (string or array of strings) contains `audience`, this workload's trust domain
 *  11. `exp` present, a NumericDate; 12. not passed (with `clockSkewSeconds`)
 *  13. `iat` present, a NumericDate; 14. not in the future (with skew)
 *  15. lifetime exp − iat ≤ `maxLifetimeSeconds` (default MAX_TXN_TOKEN_LIFETIME_SECONDS)
 *  16. `txn` a non-empty string of at most MAX_JTI_LENGTH; 17. `sub` a non-empty string
 *  18. `scope` a string of ONE OR MORE space-separated scope-tokens. Decision: the empty string is refused. `scope`
 *      is REQUIRED and RFC 8693 §4.2 points to RFC 6749 §3.3, whose grammar has at least one scope-token; the
 *      draft's request parameter says the value "MUST represent the specific purpose or intent of the transaction",
 *      and the TTS "MUST NOT treat an unknown scope as unconstrained" — an empty scope names no purpose.
 *  19. `req_wl` a non-empty string (-09 made it a string again, no array)
 *  20. `tctx` and `rctx`, when present, JSON objects; 21. `iss`, when present, a non-empty string
 *  22. replay, only with `ctx.replay`: `txn` recorded until exp + skew; seen before → ERR_TXN_TOKEN_REPLAYED, store
 *      failure → ERR_TXN_TOKEN_REPLAY_STORE_FAILED (fail closed). OFF by default, on purpose: a Txn-Token is propagated
 *      unmodified down the call chain, and one workload may legitimately receive the same token several times in
 *      one transaction (fan-out, retries). Turn it on only for a receiver that expects exactly one call per
 *      transaction. Markers are keyed by a hash of `aud` and `txn`, never by the token.
 * Unknown claims are ignored; `tctx` and `rctx` members are returned as they are, for the caller's authorization.
 *
 * Does NOT: authenticate the caller (draft: "A workload MUST NOT use a transaction token to authenticate itself"),
 * treat the token as an OAuth access token, check `iss` against a list (the keys decide who signed; `iss` is
 * OPTIONAL), decide what `scope`/`tctx` permit, fetch keys (the caller's key source does: downstream/), or cache
 * results. Details never contain the token, key material or signatures; `tokenHash` is what may be logged.
 */
import type { JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, signatureProblem, typMatches, verificationKey } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, MAX_JTI_LENGTH, MAX_KID_LENGTH, MAX_TXN_TOKEN_BYTES, MAX_TXN_TOKEN_LIFETIME_SECONDS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { ReplayStore } from '../state/ports.ts';
import type { TxnTokenErrorCode } from './errors.ts';
import { isNumericDate, isObject } from './wit.ts';

/** The configured TTS keys: the public key for `kid` (or the only key when undefined), or `undefined`. May throw. */
export type TxnTokenKeySource = (kid: string | undefined) => Promise<JWK | CryptoKey | undefined>;

export interface TxnTokenContext {
  keys: TxnTokenKeySource;
  /** This workload's trust domain: `aud` must contain it exactly. */
  audience: string;
  /** Default `['ES256']`; symmetric and unknown entries are ignored. */
  algorithms?: readonly string[];
  /** Epoch milliseconds. */
  now: () => number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
  /** Default MAX_TXN_TOKEN_LIFETIME_SECONDS. */
  maxLifetimeSeconds?: number;
  /** Refuse a `txn` seen before (see step 22: only for receivers that expect one token per transaction). */
  replay?: ReplayStore;
  /** Where imported keys are cached; default the isolate-wide cache. */
  keyCache?: KeyImportCache;
}

/** What a valid Txn-Token establishes. JSON-serialisable. */
export interface VerifiedTxnToken {
  txn: string;
  sub: string;
  /** The scope-tokens, in token order (one or more). */
  scope: string[];
  /** `req_wl`: the workload that requested the token. */
  reqWl: string;
  /** Every `aud` value, in token order (contains the configured audience). */
  aud: string[];
  /** Epoch milliseconds. */
  iat: number;
  /** Epoch milliseconds. */
  exp: number;
  tctx?: Record<string, unknown>;
  rctx?: Record<string, unknown>;
  iss?: string;
  /** base64url(SHA-256(token)): for caches and logs, never the token (Security Considerations). */
  tokenHash: string;
}

const DEFAULT_ALGORITHMS = ['ES256'] as const;
/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ); scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export async function verifyTxnToken(token: string, ctx: TxnTokenContext): Promise<Result<VerifiedTxnToken, TxnTokenErrorCode>> {
  const algorithms = allowedAlgorithms(ctx.algorithms ?? DEFAULT_ALGORITHMS);
  const skew = ctx.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = ctx.maxLifetimeSeconds ?? MAX_TXN_TOKEN_LIFETIME_SECONDS;

  // 1. size
  if (typeof token === 'string' && token.length > MAX_TXN_TOKEN_BYTES) {
    return fail('ERR_TXN_TOKEN_TOO_LARGE', `token is ${token.length} bytes, limit ${MAX_TXN_TOKEN_BYTES}`);
  }
  // 2. shape
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) return fail('ERR_TXN_TOKEN_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. typ
  if (!typMatches(header.typ, 'txntoken+jwt')) return fail('ERR_TXN_TOKEN_TYP_INVALID', `typ is ${describe(header.typ)}, expected "txntoken+jwt"`);
  // 4. alg
  const alg = header.alg;
  if (typeof alg !== 'string' || !isAsymmetricJwsAlgorithm(alg) || !algorithms.has(alg)) {
    return fail('ERR_TXN_TOKEN_ALG_NOT_ALLOWED', `alg ${describe(alg)} is not allowed`);
  }
  // 5. crit
  const crit = critProblem(header);
  if (crit) return fail('ERR_TXN_TOKEN_CRIT_UNSUPPORTED', crit);
  // 6. kid
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return fail('ERR_TXN_TOKEN_KID_INVALID', `kid is ${describe(kid)}, expected a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  // 7–8. key from the configured source (jku / x5u / jwk / x5c headers are never read)
  let anchor: JWK | CryptoKey | undefined;
  try {
    anchor = await ctx.keys(kid as string | undefined);
  } catch (error) {
    // The error's class only: a key source's message may quote a URL or a response body.
    return fail('ERR_TXN_TOKEN_KEY_SOURCE_FAILED', `key source failed (${error instanceof Error ? error.name : typeof error})`);
  }
  if (anchor === undefined || anchor === null) {
    return fail('ERR_TXN_TOKEN_KEY_NOT_FOUND', kid === undefined ? 'no single key for a token without kid' : `no key with kid ${describe(kid)}`);
  }
  // 9. signature
  const key = await verificationKey(anchor, alg, ctx.keyCache ?? sharedKeyImportCache());
  if (!key.ok) return fail('ERR_TXN_TOKEN_SIGNATURE_INVALID', key.detail);
  const badSignature = await signatureProblem(parsed.value, key.value, alg);
  if (badSignature) return fail('ERR_TXN_TOKEN_SIGNATURE_INVALID', badSignature);
  // 10. aud names this trust domain
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((value) => typeof value === 'string')) {
    return fail('ERR_TXN_TOKEN_AUD_MISMATCH', claims.aud === undefined ? 'aud is absent' : `aud is ${describe(claims.aud)}, expected one or more strings`);
  }
  if (!aud.includes(ctx.audience)) return fail('ERR_TXN_TOKEN_AUD_MISMATCH', `none of the ${aud.length} aud value(s) is this trust domain`);
  // 11–12. exp
  const exp = claims.exp;
  if (!isNumericDate(exp)) return fail('ERR_TXN_TOKEN_EXP_INVALID', `exp is ${describe(exp)}, expected a NumericDate`);
  const now = ctx.now() / 1000;
  if (now >= exp + skew) return fail('ERR_TXN_TOKEN_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  // 13–14. iat
  const iat = claims.iat;
  if (!isNumericDate(iat)) return fail('ERR_TXN_TOKEN_IAT_INVALID', `iat is ${describe(iat)}, expected a NumericDate`);
  if (iat > now + skew) return fail('ERR_TXN_TOKEN_NOT_YET_VALID', `iat is ${Math.ceil(iat - now)}s in the future`);
  // 15. lifetime (iat is not in the future, so this also bounds exp − now to the maximum plus skew)
  if (exp - iat > maxLifetime) return fail('ERR_TXN_TOKEN_LIFETIME_TOO_LONG', `issued for ${Math.round(exp - iat)}s, limit ${maxLifetime}s`);
  // 16. txn
  const txn = claims.txn;
  if (typeof txn !== 'string' || txn.length === 0 || txn.length > MAX_JTI_LENGTH) {
    return fail('ERR_TXN_TOKEN_TXN_INVALID', `txn is ${describe(txn)}, expected a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // 17. sub
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) return fail('ERR_TXN_TOKEN_SUB_INVALID', `sub is ${describe(sub)}, expected a non-empty string`);
  // 18. scope
  const scope = claims.scope;
  if (typeof scope !== 'string' || !SCOPE.test(scope)) {
    return fail('ERR_TXN_TOKEN_SCOPE_INVALID', typeof scope === 'string' ? 'scope is not one or more space-delimited scope-tokens (RFC 6749 §3.3)' : `scope is ${describe(scope)}, expected a string`);
  }
  // 19. req_wl
  const reqWl = claims.req_wl;
  if (typeof reqWl !== 'string' || reqWl.length === 0) return fail('ERR_TXN_TOKEN_REQ_WL_INVALID', `req_wl is ${describe(reqWl)}, expected a non-empty string`);
  // 20. tctx, rctx
  const { tctx, rctx } = claims;
  if (tctx !== undefined && !isObject(tctx)) return fail('ERR_TXN_TOKEN_CONTEXT_INVALID', `tctx is ${describe(tctx)}, expected a JSON object`);
  if (rctx !== undefined && !isObject(rctx)) return fail('ERR_TXN_TOKEN_CONTEXT_INVALID', `rctx is ${describe(rctx)}, expected a JSON object`);
  // 21. iss
  const iss = claims.iss;
  if (iss !== undefined && (typeof iss !== 'string' || iss.length === 0)) return fail('ERR_TXN_TOKEN_ISS_INVALID', `iss is ${describe(iss)}, expected a non-empty string`);
  // 22. replay (opt-in), last: only a token valid in every other respect spends a marker
  if (ctx.replay) {
    const ttlMs = Math.max(1, Math.ceil((exp + skew) * 1000 - ctx.now()));
    let first: boolean;
    try {
      first = await ctx.replay.checkAndSet(`txn-token:${await sha256b64url(JSON.stringify([ctx.audience, txn]))}`, ttlMs);
    } catch (error) {
      return fail('ERR_TXN_TOKEN_REPLAY_STORE_FAILED', `replay store failed (${error instanceof Error ? error.name : typeof error})`);
    }
    if (!first) return fail('ERR_TXN_TOKEN_REPLAYED', 'this txn was already received');
  }

  const verified: VerifiedTxnToken = {
    txn,
    sub,
    scope: scope.split(' '),
    reqWl,
    aud: aud as string[],
    iat: iat * 1000,
    exp: exp * 1000,
    tokenHash: await sha256b64url(token),
  };
  if (tctx !== undefined) verified.tctx = tctx as Record<string, unknown>;
  if (rctx !== undefined) verified.rctx = rctx as Record<string, unknown>;
  if (iss !== undefined) verified.iss = iss as string;
  return ok(verified);
}
