/**
 * Verifies a WIMSE Workload Identity Token (WIT).
 *
 * Spec: draft-ietf-wimse-workload-creds-02 §3 (trust anchors), §4 (one identifier), §5.1 (WIT format),
 * §5.1.1 (HTTP carriage ABNF), §5.1.3 and §9.1 (issuer allowlist), §9.2.1 (limited lifetime); identifiers per
 * draft-ietf-wimse-identifier-03 via src/identity/workload-id.ts. With `policy.profile: 'wit-svid'`, also the
 * SPIFFE WIT-SVID profile (spiffe/spiffe standards/WIT-SVID.md, Incubating): `kid` required (§2.1), RS/ES/PS
 * algorithms only, no EdDSA (§2.3, §3.2), `spiffe` subjects only (§3.1), no `aud` (§3.8).
 *
 * Validates, in this order (the first failure is returned, each with its own code; see WIT_ERRORS):
 *   1. size ≤ MAX_WIT_BYTES, before any parsing
 *   2. compact JWS shape: three non-empty base64url segments; header and claims are JSON objects
 *   3. header `typ` is `wit+jwt` (or `application/wit+jwt`, any case; RFC 7515 §4.1.9)
 *   4. header `alg` is an asymmetric signature algorithm allowed by the policy (never `none`, never `HS*`)
 *   5. no `crit` header (no extension is understood)
 *   6. `kid`, when present, is a string of at most MAX_KID_LENGTH; required by the WIT-SVID profile
 *   7. `sub` is a canonical workload identifier (parseWorkloadId) naming a workload, not a bare trust domain;
 *      checked before any key lookup (identifier-03 §7.1)
 *   8. the verification key comes from `ctx.keys(trustDomain of sub, kid)`: the trust domain's out-of-band key
 *      source, never a URL or key carried in the token (§3)
 *   9. the JWS signature verifies with that key and exactly the header `alg`
 *  10. registered claims have their RFC 7519 types (`iss` string, `jti` string, `iat`/`nbf` NumericDate);
 *      WIT-SVID: no `aud`; otherwise an `aud`, when present, must name one of `policy.audiences` (RFC 7519 §4.1.3)
 *  11. `iss` is in `policy.issuers` when an allowlist is configured (then `iss` is required)
 *  12. `exp` is present and a NumericDate
 *  13. `exp` has not passed (with `clockSkewSeconds`)
 *  14. `iat` and `nbf`, when present, are not in the future (with skew); WIT-SVID: `nbf` only (§3.6)
 *  15. lifetime ≤ `maxLifetimeSeconds`: exp − (iat or nbf) when present (WIT-SVID: exp − nbf, §3.5), and
 *      exp − now (plus skew)
 *  16. `cnf.jwk` is present and an object
 *  17. `cnf.jwk` has no private or symmetric members (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`, `priv`)
 *  18. `cnf.jwk.alg` is present, an asymmetric signature algorithm, and allowed by the policy
 *  19. `cnf.jwk` key type and curve fit that `alg`, `use` (if any) is `sig`, `key_ops` (if any) include
 *      `verify`, RSA keys are ≥ 2048 bits, and the key imports (it is then in the import cache for the WPT)
 * Unknown claims are ignored (§5.1.2). `jti` is optional (§5.1) and returned for audit only.
 *
 * Does NOT validate:
 *  - proof of possession. A VerifiedWit is not authentication: the caller MUST verify a WPT (verify/wpt.ts) or
 *    an HTTP message signature made with `confirmationKey` before trusting `subject` (§5.1: never a bearer token).
 *  - the HTTP carriage: exactly one `Workload-Identity-Token` field is the caller's check.
 *  - which trust domains are trusted, which keys belong to them, or key `use` values in a SPIFFE bundle: that is
 *    the key source's job; a trust domain it does not know yields ERR_WIT_KEY_NOT_FOUND.
 *  - revocation, authorization of the subject, or `jti` uniqueness (WIT-SVID §3.3: the WIT's `jti` MUST NOT be
 *    used for replay protection; one WIT may be shared by several instances).
 *  - caching: callers may cache a VerifiedWit under `tokenHash` until `expiresAt` (DESIGN principle 6).
 *
 * Errors: a rejected WIT is answered with 400 and an RFC 9457 problem+json body (workload-creds-02 §5.2; 401 is
 * NOT RECOMMENDED there), see WIT_FAILURE_STATUS. Details never contain the token, key material or signatures.
 */
import type { JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm, keyMismatch, privateMembers, publicJwk, SPIFFE_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, typMatches, verifyWithTrustAnchor } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { parseWorkloadId, type WorkloadId } from '../identity/workload-id.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_WIT_MAX_LIFETIME_SECONDS, MAX_KID_LENGTH, MAX_WIT_BYTES } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { WitErrorCode } from './errors.ts';
import type { SignedTokenPolicy } from './policy.ts';

/**
 * The trust domain's configured key source (§3): returns the public key for `kid` (or the one unambiguous key
 * when `kid` is undefined) for that trust domain, or `undefined`. `subject` is passed so a source can tell
 * `spiffe://td` from `wimse://td`. Never resolve keys from anything in the token other than these arguments.
 */
export type WitKeySource = (trustDomain: string, kid: string | undefined, subject: WorkloadId) => Promise<JWK | CryptoKey | undefined>;

/** Defaults: algorithms `['ES256']` (§5.1: ES256 MUST be supported), lifetime DEFAULT_WIT_MAX_LIFETIME_SECONDS; `issuers` per §9.1. */
export interface WitPolicy extends SignedTokenPolicy {
  /** Algorithms accepted for `cnf.jwk.alg`, i.e. for the workload's proofs. Default: `algorithms`. */
  confirmationAlgorithms?: readonly string[];
  /** `'wit-svid'` adds the SPIFFE WIT-SVID rules (RS/ES/PS only, `kid` required, spiffe `sub`, no `aud`). */
  profile?: 'wimse' | 'wit-svid';
  /**
   * Values that identify this recipient. workload-creds-02 defines no `aud` for a WIT, but an issuer that adds
   * one restricts the token (RFC 7519 §4.1.3: a recipient not named in `aud` MUST reject it): a WIT with `aud`
   * is accepted only when `aud` names one of these. Default none, so any WIT with `aud` is refused.
   */
  audiences?: readonly string[];
}

export interface WitContext {
  keys: WitKeySource;
  policy?: WitPolicy;
  /** Epoch milliseconds. */
  now: () => number;
  /** Where imported keys are cached; default the isolate-wide cache. */
  keyCache?: KeyImportCache;
}

/** What a valid WIT establishes, pending proof of possession. JSON-serialisable, so it can be cached. */
export interface VerifiedWit {
  subject: WorkloadId;
  issuer?: string;
  /** The WIT's `jti`, when it has one: for audit and revocation lists, not for replay checks. */
  jti?: string;
  /** Epoch milliseconds. */
  issuedAt?: number;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** `kid` of the trust-anchor key that signed the WIT, when the header named one. */
  keyId?: string;
  /** The workload's public key from `cnf.jwk`: public members, `alg`, and `kid` when present. */
  confirmationKey: JWK;
  /** `cnf.jwk.alg`: the only algorithm a proof made with this WIT may use. */
  confirmationAlgorithm: string;
  /** RFC 7638 SHA-256 thumbprint of `confirmationKey`. */
  confirmationThumbprint: string;
  /** base64url(SHA-256(token)): equals a WPT's expected `wth`; the key for caches and audit, never the token. */
  tokenHash: string;
  /** base64url(SHA-256(subject.uri)): a fixed-length name for per-subject state (replay partitions, keys). */
  subjectHash: string;
}

const DEFAULT_ALGORITHMS = ['ES256'] as const;

export async function verifyWit(token: string, ctx: WitContext): Promise<Result<VerifiedWit, WitErrorCode>> {
  const policy = ctx.policy ?? {};
  const witSvid = policy.profile === 'wit-svid';
  const within = witSvid ? SPIFFE_JWS_ALGORITHMS : undefined;
  const algorithms = allowedAlgorithms(policy.algorithms ?? DEFAULT_ALGORITHMS, within);
  const confirmationAlgorithms = allowedAlgorithms(policy.confirmationAlgorithms ?? policy.algorithms ?? DEFAULT_ALGORITHMS, within);
  const skew = policy.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = policy.maxLifetimeSeconds ?? DEFAULT_WIT_MAX_LIFETIME_SECONDS;
  const cache = ctx.keyCache ?? sharedKeyImportCache();

  // 1. size
  if (typeof token === 'string' && token.length > MAX_WIT_BYTES) return fail('ERR_WIT_TOO_LARGE', `token is ${token.length} bytes, limit ${MAX_WIT_BYTES}`);
  // 2. shape
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) return fail('ERR_WIT_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. typ
  if (!typMatches(header.typ, 'wit+jwt')) return fail('ERR_WIT_TYP_INVALID', `typ is ${describe(header.typ)}, expected "wit+jwt"`);
  // 4. alg
  const alg = header.alg;
  if (typeof alg !== 'string' || !isAsymmetricJwsAlgorithm(alg) || !algorithms.has(alg)) {
    return fail('ERR_WIT_ALG_NOT_ALLOWED', `alg ${describe(alg)} is not allowed${witSvid ? ' for a WIT-SVID' : ''}`);
  }
  // 5. crit
  const crit = critProblem(header);
  if (crit) return fail('ERR_WIT_CRIT_UNSUPPORTED', crit);
  // 6. kid
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return fail('ERR_WIT_KID_INVALID', `kid is ${describe(kid)}, expected a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  if (kid === undefined && witSvid) return fail('ERR_WIT_KID_INVALID', 'a WIT-SVID must name its signing key with kid');
  // 7. sub
  if (typeof claims.sub !== 'string') return fail('ERR_WIT_SUB_INVALID', `sub is ${describe(claims.sub)}, expected a workload identifier`);
  const id = parseWorkloadId(claims.sub);
  if (!id.ok) return fail('ERR_WIT_SUB_INVALID', `sub is not a canonical workload identifier: ${id.code} (${id.detail})`);
  const subject = id.value;
  if (subject.path === '') return fail('ERR_WIT_SUB_INVALID', 'sub is a trust domain identifier, not a workload');
  if (witSvid && subject.scheme !== 'spiffe') return fail('ERR_WIT_SUB_INVALID', 'a WIT-SVID subject must be a spiffe:// identifier');
  // 8. key from the trust domain of sub, 9. signature
  const anchored = await verifyWithTrustAnchor(parsed.value, () => ctx.keys(subject.trustDomain, kid as string | undefined, subject), { trustDomain: subject.trustDomain, kid }, alg, cache);
  if (!anchored.ok) return fail(`ERR_WIT_${anchored.failure}`, anchored.detail);
  // 10. registered claim types
  for (const name of ['iss', 'jti'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') return fail('ERR_WIT_CLAIM_INVALID', `${name} is ${describe(claims[name])}, expected a string`);
  }
  for (const name of ['iat', 'nbf'] as const) {
    if (claims[name] !== undefined && !isNumericDate(claims[name])) return fail('ERR_WIT_CLAIM_INVALID', `${name} is ${describe(claims[name])}, expected a NumericDate`);
  }
  if (witSvid && claims.aud !== undefined) return fail('ERR_WIT_CLAIM_INVALID', 'aud MUST NOT be included in a WIT-SVID');
  if (claims.aud !== undefined) {
    const named = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!named.some((a) => typeof a === 'string' && (policy.audiences ?? []).includes(a))) {
      return fail('ERR_WIT_CLAIM_INVALID', 'aud is present and does not name this gateway (RFC 7519 §4.1.3)');
    }
  }
  const iss = claims.iss as string | undefined;
  const iat = claims.iat as number | undefined;
  const nbf = claims.nbf as number | undefined;
  // 11. iss
  if (policy.issuers !== undefined && (iss === undefined || !policy.issuers.includes(iss))) {
    return fail('ERR_WIT_ISSUER_NOT_ALLOWED', iss === undefined ? 'iss is absent and an issuer allowlist is configured' : `iss ${describe(iss)} is not an allowed issuer`);
  }
  // 12–15. time
  const exp = claims.exp;
  if (!isNumericDate(exp)) return fail('ERR_WIT_EXP_INVALID', `exp is ${describe(exp)}, expected a NumericDate`);
  const now = ctx.now() / 1000;
  if (now >= exp + skew) return fail('ERR_WIT_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  // WIT-SVID §3.6: iat "MUST NOT be used for limiting the earliest validity"; §3.5: lifetime is exp − nbf.
  const notBefore = witSvid ? ([['nbf', nbf]] as const) : ([['iat', iat], ['nbf', nbf]] as const);
  for (const [name, value] of notBefore) {
    if (value !== undefined && value > now + skew) return fail('ERR_WIT_NOT_YET_VALID', `${name} is ${Math.ceil(value - now)}s in the future`);
  }
  const start = witSvid ? nbf : (iat ?? nbf);
  if (start !== undefined && exp - start > maxLifetime) {
    return fail('ERR_WIT_LIFETIME_TOO_LONG', `issued for ${Math.round(exp - start)}s, limit ${maxLifetime}s`);
  }
  if (exp - now > maxLifetime + skew) return fail('ERR_WIT_LIFETIME_TOO_LONG', `valid for ${Math.round(exp - now)}s more, limit ${maxLifetime}s`);
  // 16. cnf.jwk present
  const cnf = claims.cnf;
  if (!isObject(cnf) || !isObject(cnf.jwk)) return fail('ERR_WIT_CNF_MISSING', isObject(cnf) ? 'cnf has no jwk object' : `cnf is ${describe(cnf)}, expected an object`);
  const jwk = cnf.jwk as JWK & Record<string, unknown>;
  // 17. public only
  const secret = privateMembers(jwk);
  if (secret.length > 0) return fail('ERR_WIT_CNF_PRIVATE_KEY', `cnf.jwk carries private or symmetric members: ${secret.join(', ')}`);
  // 18. cnf.jwk.alg
  const cnfAlg = jwk.alg;
  if (typeof cnfAlg !== 'string' || !isAsymmetricJwsAlgorithm(cnfAlg) || !confirmationAlgorithms.has(cnfAlg)) {
    return fail('ERR_WIT_CNF_ALG_INVALID', cnfAlg === undefined ? 'cnf.jwk.alg is absent' : `cnf.jwk.alg ${describe(cnfAlg)} is not allowed${witSvid ? ' for a WIT-SVID' : ''}`);
  }
  // 19. key fits alg and imports
  if (jwk.use !== undefined && jwk.use !== 'sig') return fail('ERR_WIT_CNF_KEY_INVALID', `cnf.jwk.use is ${describe(jwk.use)}, expected "sig"`);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return fail('ERR_WIT_CNF_KEY_INVALID', 'cnf.jwk.key_ops does not allow verify');
  }
  const mismatch = keyMismatch(jwk, cnfAlg);
  if (mismatch) return fail('ERR_WIT_CNF_KEY_INVALID', `cnf.jwk: ${mismatch}`);
  let thumbprint: string;
  try {
    const imported = await cache.importPublic(jwk, cnfAlg);
    const bits = (imported.key.algorithm as { modulusLength?: number }).modulusLength;
    if (bits !== undefined && bits < 2048) return fail('ERR_WIT_CNF_KEY_INVALID', `cnf.jwk is a ${bits}-bit RSA key, minimum 2048`);
    thumbprint = imported.thumbprint;
  } catch {
    return fail('ERR_WIT_CNF_KEY_INVALID', `cnf.jwk does not import as a public key for ${cnfAlg}`);
  }

  const confirmationKey: JWK = { ...publicJwk(jwk), alg: cnfAlg };
  if (typeof jwk.kid === 'string') confirmationKey.kid = jwk.kid;
  const [tokenHash, subjectHash] = await Promise.all([sha256b64url(token), sha256b64url(subject.uri)]);
  const verified: VerifiedWit = {
    subject,
    expiresAt: exp * 1000,
    confirmationKey,
    confirmationAlgorithm: cnfAlg,
    confirmationThumbprint: thumbprint,
    tokenHash,
    subjectHash,
  };
  if (iss !== undefined) verified.issuer = iss;
  if (typeof claims.jti === 'string') verified.jti = claims.jti;
  if (iat !== undefined) verified.issuedAt = iat * 1000;
  if (kid !== undefined) verified.keyId = kid as string;
  return ok(verified);
}

export function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The class of a thrown value, for details: never its message, which may quote input. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
