/**
 * Verifies a SPIFFE JWT-SVID presented as a bearer token (opt-in per route; prefer WIT + proof).
 *
 * Spec: SPIFFE JWT-SVID (standards/JWT-SVID.md, Stable) §2 (JOSE header), §3 (claims), §7 and Appendix A
 * (validation); SPIFFE Workload API §6 (validate with the bundle of the subject's trust domain).
 *
 * Validates, in this order (first failure returned; see JWT_SVID_ERRORS):
 *   1. size ≤ MAX_JWT_SVID_BYTES, before any parsing
 *   2. compact JWS shape (§2: "JWS Compact Serialization"), JSON object header and claims
 *   3. the header has only `alg`, `kid`, `typ` (§2: any other header "MUST NOT be included"; so no `crit`)
 *   4. `typ`, when present, is `JWT` or `JOSE` (§2.3)
 *   5. `alg` is one of RS/ES/PS 256/384/512 (§2.1) and allowed by the policy (default `['ES256']`)
 *   6. `kid`, when present, is a string of at most MAX_KID_LENGTH (§2.2)
 *   7. `sub` is a canonical `spiffe://` workload identifier, not a bare trust domain (§3.1)
 *   8. the key comes from `ctx.keys(trustDomain of sub, kid)`: the trust domain's bundle (never the token)
 *   9. the JWS signature verifies with that key and exactly `alg`
 *  10. registered claims have their RFC 7519 types (`iss` string, `iat`/`nbf` NumericDate)
 *  11. `iss` is in `policy.issuers` when an allowlist is configured
 *  12. `aud` is present, non-empty, and contains one of the configured audiences (§3.2)
 *  13. `exp` is present and a NumericDate (§3.3); 14. it has not passed (with skew)
 *  15. `iat` / `nbf`, when present, are not in the future (with skew)
 *  16. lifetime ≤ `maxLifetimeSeconds`: exp − (iat or nbf) when present, and exp − now (plus skew)
 *
 * Does NOT validate:
 *  - how it was carried (`Authorization: Bearer`) or whether this route accepts bearer credentials at all.
 *  - which JWKs in a bundle are for JWT-SVIDs (`use: "jwt-svid"`): the key source's job.
 *  - replay: a JWT-SVID is a bearer token and may be presented many times until `exp`; keep lifetimes short.
 *  - revocation or authorization of the subject; caching (callers may cache by `tokenHash` until `expiresAt`).
 *
 * Errors: the caller answers 401 with an RFC 6750 `Bearer` challenge (`error="invalid_token"`). Details never
 * contain the token, key material or signatures.
 */
import { allowedAlgorithms, describe, SPIFFE_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { parseCompactJwt, verifyWithTrustAnchor } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { parseWorkloadId, type WorkloadId } from '../identity/workload-id.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_JWT_SVID_MAX_LIFETIME_SECONDS, MAX_JWT_SVID_BYTES, MAX_KID_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { JwtSvidErrorCode } from './errors.ts';
import { isNumericDate, type WitKeySource } from './wit.ts';
import type { SignedTokenPolicy } from './policy.ts';

/** `algorithms`: a subset of the SPIFFE algorithms; lifetime default DEFAULT_JWT_SVID_MAX_LIFETIME_SECONDS. */
export type JwtSvidPolicy = SignedTokenPolicy;

export interface JwtSvidContext {
  /** The trust domain's JWT-SVID bundle keys (same contract as for WITs). */
  keys: WitKeySource;
  /** The value(s) this validator identifies with; one must be an element of `aud` (§3.2). */
  audience: string | readonly string[];
  policy?: JwtSvidPolicy;
  /** Epoch milliseconds. */
  now: () => number;
  keyCache?: KeyImportCache;
}

export interface VerifiedJwtSvid {
  subject: WorkloadId;
  /** Every `aud` value, in token order. */
  audience: string[];
  issuer?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  keyId?: string;
  /** base64url(SHA-256(token)), for caches and audit. */
  tokenHash: string;
}

const HEADER_PARAMETERS = new Set(['alg', 'kid', 'typ']);

export async function verifyJwtSvid(token: string, ctx: JwtSvidContext): Promise<Result<VerifiedJwtSvid, JwtSvidErrorCode>> {
  const policy = ctx.policy ?? {};
  const algorithms = allowedAlgorithms(policy.algorithms ?? ['ES256'], SPIFFE_JWS_ALGORITHMS);
  const skew = policy.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = policy.maxLifetimeSeconds ?? DEFAULT_JWT_SVID_MAX_LIFETIME_SECONDS;
  const cache = ctx.keyCache ?? sharedKeyImportCache();

  // 1. size
  if (typeof token === 'string' && token.length > MAX_JWT_SVID_BYTES) return fail('ERR_JWT_SVID_TOO_LARGE', `token is ${token.length} bytes, limit ${MAX_JWT_SVID_BYTES}`);
  // 2. shape
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) return fail('ERR_JWT_SVID_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. header parameters
  const extra = Object.keys(header).filter((name) => !HEADER_PARAMETERS.has(name));
  if (extra.length > 0) return fail('ERR_JWT_SVID_HEADER_INVALID', `header carries ${extra.length} parameter(s) other than alg, kid, typ${extra.includes('crit') ? ', including crit' : ''}`);
  // 4. typ
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') return fail('ERR_JWT_SVID_TYP_INVALID', `typ is ${describe(header.typ)}, expected "JWT" or "JOSE"`);
  // 5. alg
  const alg = header.alg;
  if (typeof alg !== 'string' || !algorithms.has(alg)) return fail('ERR_JWT_SVID_ALG_NOT_ALLOWED', `alg ${describe(alg)} is not allowed`);
  // 6. kid
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return fail('ERR_JWT_SVID_KID_INVALID', `kid is ${describe(kid)}, expected a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  // 7. sub
  if (typeof claims.sub !== 'string') return fail('ERR_JWT_SVID_SUB_INVALID', `sub is ${describe(claims.sub)}, expected a SPIFFE ID`);
  const id = parseWorkloadId(claims.sub);
  if (!id.ok) return fail('ERR_JWT_SVID_SUB_INVALID', `sub is not a canonical workload identifier: ${id.code} (${id.detail})`);
  const subject = id.value;
  if (subject.scheme !== 'spiffe') return fail('ERR_JWT_SVID_SUB_INVALID', 'sub is not a spiffe:// identifier');
  if (subject.path === '') return fail('ERR_JWT_SVID_SUB_INVALID', 'sub is a trust domain identifier, not a workload');
  // 8. key, 9. signature
  const anchored = await verifyWithTrustAnchor(parsed.value, () => ctx.keys(subject.trustDomain, kid as string | undefined, subject), { trustDomain: subject.trustDomain, kid }, alg, cache);
  if (!anchored.ok) return fail(`ERR_JWT_SVID_${anchored.failure}`, anchored.detail);
  // 10. claim types
  if (claims.iss !== undefined && typeof claims.iss !== 'string') return fail('ERR_JWT_SVID_CLAIM_INVALID', `iss is ${describe(claims.iss)}, expected a string`);
  for (const name of ['iat', 'nbf'] as const) {
    if (claims[name] !== undefined && !isNumericDate(claims[name])) return fail('ERR_JWT_SVID_CLAIM_INVALID', `${name} is ${describe(claims[name])}, expected a NumericDate`);
  }
  const iss = claims.iss as string | undefined;
  const iat = claims.iat as number | undefined;
  const nbf = claims.nbf as number | undefined;
  // 11. iss
  if (policy.issuers !== undefined && (iss === undefined || !policy.issuers.includes(iss))) {
    return fail('ERR_JWT_SVID_ISSUER_NOT_ALLOWED', iss === undefined ? 'iss is absent and an issuer allowlist is configured' : `iss ${describe(iss)} is not an allowed issuer`);
  }
  // 12. aud
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((value) => typeof value === 'string')) {
    return fail('ERR_JWT_SVID_AUD_MISMATCH', claims.aud === undefined ? 'aud is absent' : `aud is ${describe(claims.aud)}, expected one or more strings`);
  }
  const accepted = typeof ctx.audience === 'string' ? [ctx.audience] : ctx.audience;
  if (!aud.some((value) => accepted.includes(value))) return fail('ERR_JWT_SVID_AUD_MISMATCH', `none of the ${aud.length} aud value(s) is this validator`);
  // 13–16. time
  const exp = claims.exp;
  if (!isNumericDate(exp)) return fail('ERR_JWT_SVID_EXP_INVALID', `exp is ${describe(exp)}, expected a NumericDate`);
  const now = ctx.now() / 1000;
  if (now >= exp + skew) return fail('ERR_JWT_SVID_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  for (const [name, value] of [['iat', iat], ['nbf', nbf]] as const) {
    if (value !== undefined && value > now + skew) return fail('ERR_JWT_SVID_NOT_YET_VALID', `${name} is ${Math.ceil(value - now)}s in the future`);
  }
  const start = iat ?? nbf;
  if (start !== undefined && exp - start > maxLifetime) return fail('ERR_JWT_SVID_LIFETIME_TOO_LONG', `issued for ${Math.round(exp - start)}s, limit ${maxLifetime}s`);
  if (exp - now > maxLifetime + skew) return fail('ERR_JWT_SVID_LIFETIME_TOO_LONG', `valid for ${Math.round(exp - now)}s more, limit ${maxLifetime}s`);

  const verified: VerifiedJwtSvid = { subject, audience: aud as string[], expiresAt: exp * 1000, tokenHash: await sha256b64url(token) };
  if (iss !== undefined) verified.issuer = iss;
  if (kid !== undefined) verified.keyId = kid as string;
  return ok(verified);
}
