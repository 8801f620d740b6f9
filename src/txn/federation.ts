/**
 * Verifies a JWT authorization grant from a federated trust domain, presented to the built-in Transaction Token
 * Service (`transactionTokens.service.federation`): as `assertion` of the RFC 7523 §2.1 jwt-bearer grant, or as the
 * `subject_token` (type urn:ietf:params:oauth:token-type:jwt) of a token exchange (draft-ni-cross-domain-txn-token
 * mode B). Pure: the issuer's keys and the replay store come in as ports; no clock but `ctx.now`.
 *
 * Spec: RFC 7523 §3 (claims: iss simple string comparison; sub MUST; aud MUST contain the AS; exp MUST, reject when
 * passed, skew allowed; nbf, iat, jti MAY) and §3.1 (invalid_grant); draft-ietf-oauth-identity-chaining-17 §2.4 (aud
 * identifies the receiving server; deny when the subject cannot be identified) and §5 (replay: short-lived, single
 * use); RFC 8725 §3.1 (asymmetric algorithms only), §3.8 (issuer), §3.9 (audience).
 *
 * Checks, in this order (the first failure is returned with its code; every one is invalid_grant at the TTS except
 * the two *_FAILED codes, which are 503):
 *   1. size ≤ MAX_GRANT_BYTES, before any parsing                                       ERR_GRANT_TOO_LARGE
 *   2. compact JWS: three base64url segments, header and claims JSON objects (a JWE has five)  ERR_GRANT_MALFORMED
 *   3. `alg` an asymmetric JWS algorithm (never `none`, never HS*)                        ERR_GRANT_ALG_NOT_ALLOWED
 *   4. no `crit` header                                                                   ERR_GRANT_CRIT_UNSUPPORTED
 *   5. `kid`, when present, a string of 1..MAX_KID_LENGTH                                 ERR_GRANT_KID_INVALID
 *   6. `iss` a string exactly equal to a configured federation issuer (own-property lookup, no normalisation)
 *                                                                                         ERR_GRANT_ISSUER_NOT_ALLOWED
 *   7. `alg` among that issuer's `algorithms`                                             ERR_GRANT_ALG_NOT_ALLOWED
 *   8. the key from that issuer's configured keys only (`ctx.keys(iss, kid)`); jku/x5u/jwk/x5c are never read
 *                                                                        ERR_GRANT_KEY_NOT_FOUND / _KEY_SOURCE_FAILED
 *   9. the signature, with exactly `alg`                                                 ERR_GRANT_SIGNATURE_INVALID
 *  10. `aud` (string or array of strings) contains `ctx.audience`                         ERR_GRANT_AUD_MISMATCH
 *  11. `exp` a NumericDate, 12. not passed (with skew)                          ERR_GRANT_EXP_INVALID / ERR_GRANT_EXPIRED
 *  13. `iat`, `nbf`, when present, NumericDates not in the future (with skew)  ERR_GRANT_IAT_INVALID / _NBF_INVALID / _NOT_YET_VALID
 *  14. lifetime ≤ the issuer's maxLifetimeSeconds: exp − iat, or exp − now without iat   ERR_GRANT_LIFETIME_TOO_LONG
 *  15. `sub` a non-empty string (identity-chaining §2.4: the subject must be identified)  ERR_GRANT_SUB_INVALID
 *  16. `client_id`, when present, a non-empty string                                     ERR_GRANT_CLIENT_ID_INVALID
 *  17. `scope`, when present, RFC 6749 §3.3 scope-tokens                                 ERR_GRANT_SCOPE_INVALID
 *  18. `jti`: required unless the issuer's `requireJti` is false; when present a string of 1..MAX_JTI_LENGTH
 *                                                                                         ERR_GRANT_JTI_INVALID
 *  19. single use, last: replay.checkAndSet((hash(iss), jti), until exp + skew, hash(iss))
 *                                                                           ERR_GRANT_REPLAYED / _REPLAY_STORE_FAILED
 * Decision on `jti`: RFC 7523 makes it optional and replay tracking optional (§3, §6); identity-chaining §5 names
 * single use as the mitigation for grant replay. A grant is presented here without proof of possession and, on the
 * jwt-bearer path, possibly without client authentication, so `jti` is required by default and every presented
 * `jti` is used once; `requireJti: false` per federation accepts grants without one (e.g. the draft's own example),
 * which are then bounded only by their lifetime.
 * No `typ` check: identity-chaining -17 defines no explicit type for the grant (a foreign AS's grant may carry any
 * or none); the audience binds it to this service. Unknown claims are ignored (claims transcription picks `sub`).
 * Details never contain the grant, key material or signatures.
 */
import type { JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, signatureProblem, verificationKey } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_GRANT_MAX_LIFETIME_SECONDS, MAX_GRANT_BYTES, MAX_JTI_LENGTH, MAX_KID_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { ReplayStore } from '../state/ports.ts';

export type GrantErrorCode =
  | 'ERR_GRANT_TOO_LARGE'
  | 'ERR_GRANT_MALFORMED'
  | 'ERR_GRANT_ALG_NOT_ALLOWED'
  | 'ERR_GRANT_CRIT_UNSUPPORTED'
  | 'ERR_GRANT_KID_INVALID'
  | 'ERR_GRANT_ISSUER_NOT_ALLOWED'
  | 'ERR_GRANT_KEY_SOURCE_FAILED'
  | 'ERR_GRANT_KEY_NOT_FOUND'
  | 'ERR_GRANT_SIGNATURE_INVALID'
  | 'ERR_GRANT_AUD_MISMATCH'
  | 'ERR_GRANT_EXP_INVALID'
  | 'ERR_GRANT_EXPIRED'
  | 'ERR_GRANT_IAT_INVALID'
  | 'ERR_GRANT_NBF_INVALID'
  | 'ERR_GRANT_NOT_YET_VALID'
  | 'ERR_GRANT_LIFETIME_TOO_LONG'
  | 'ERR_GRANT_SUB_INVALID'
  | 'ERR_GRANT_CLIENT_ID_INVALID'
  | 'ERR_GRANT_SCOPE_INVALID'
  | 'ERR_GRANT_JTI_INVALID'
  | 'ERR_GRANT_REPLAYED'
  | 'ERR_GRANT_REPLAY_STORE_FAILED';

/** Codes that mean "this service cannot decide now" (503), not "this grant is bad". */
export const GRANT_INFRASTRUCTURE_CODES: ReadonlySet<GrantErrorCode> = new Set(['ERR_GRANT_KEY_SOURCE_FAILED', 'ERR_GRANT_REPLAY_STORE_FAILED']);

/** The policy of one federated issuer (a `federation` entry). */
export interface GrantIssuerPolicy {
  /** Default ['ES256', 'RS256'] (RFC 7523 §5: RS256 mandatory to implement); symmetric entries are ignored. */
  algorithms?: readonly string[];
  /** Default DEFAULT_GRANT_MAX_LIFETIME_SECONDS. */
  maxLifetimeSeconds?: number;
  /** Default true. */
  requireJti?: boolean;
}

export interface GrantContext {
  /** Federated issuers by exact `iss`. */
  issuers: Readonly<Record<string, GrantIssuerPolicy>>;
  /** The issuer's configured key for `kid` (or its one key without `kid`); throws when the source is unavailable. */
  keys: (issuer: string, kid: string | undefined) => Promise<JWK | CryptoKey | undefined>;
  /** The identifier the grant's `aud` must contain (grantAudience). */
  audience: string;
  replay: ReplayStore;
  /** Epoch milliseconds. */
  now: () => number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
  keyCache?: KeyImportCache;
}

export interface VerifiedGrant {
  issuer: string;
  subject: string;
  clientId?: string;
  /** The `scope` claim's tokens; undefined when the grant has no `scope` (nothing can be derived from it). */
  scopes?: string[];
  audience: string[];
  /** Epoch milliseconds. */
  expiresAt: number;
  issuedAt?: number;
  jti?: string;
  /** base64url(SHA-256(grant)): for audit, never the grant. */
  tokenHash: string;
}

const DEFAULT_ALGORITHMS = ['ES256', 'RS256'] as const;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const SAFE_JTI = /^[A-Za-z0-9_-]{1,128}$/;

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);

export async function verifyAuthorizationGrant(jwt: string, ctx: GrantContext): Promise<Result<VerifiedGrant, GrantErrorCode>> {
  const skew = ctx.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  // 1. size
  if (typeof jwt === 'string' && jwt.length > MAX_GRANT_BYTES) return fail('ERR_GRANT_TOO_LARGE', `grant is ${jwt.length} bytes, limit ${MAX_GRANT_BYTES}`);
  // 2. shape
  const parsed = parseCompactJwt(jwt);
  if (!parsed.ok) return fail('ERR_GRANT_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. alg: asymmetric
  const alg = header.alg;
  if (typeof alg !== 'string' || !isAsymmetricJwsAlgorithm(alg)) return fail('ERR_GRANT_ALG_NOT_ALLOWED', `alg ${describe(alg)} is not an asymmetric signature algorithm`);
  // 4. crit
  const crit = critProblem(header);
  if (crit) return fail('ERR_GRANT_CRIT_UNSUPPORTED', crit);
  // 5. kid
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return fail('ERR_GRANT_KID_INVALID', `kid is ${describe(kid)}, expected a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  // 6. iss: a configured federation issuer, simple string comparison (RFC 7523 §3 item 1)
  const iss = claims.iss;
  if (typeof iss !== 'string' || !Object.hasOwn(ctx.issuers, iss)) {
    return fail('ERR_GRANT_ISSUER_NOT_ALLOWED', typeof iss === 'string' ? `iss ${describe(iss)} is not a federated issuer` : `iss is ${describe(iss)}, expected a federated issuer`);
  }
  const policy = ctx.issuers[iss]!;
  // 7. alg: this issuer's
  if (!allowedAlgorithms(policy.algorithms ?? DEFAULT_ALGORITHMS).has(alg)) return fail('ERR_GRANT_ALG_NOT_ALLOWED', `alg ${alg} is not allowed for issuer ${describe(iss)}`);
  // 8. key from the issuer's configured keys
  let anchor: JWK | CryptoKey | undefined;
  try {
    anchor = await ctx.keys(iss, kid as string | undefined);
  } catch (error) {
    return fail('ERR_GRANT_KEY_SOURCE_FAILED', `key source failed for issuer ${describe(iss)} (${errorName(error)})`);
  }
  if (anchor === undefined || anchor === null) return fail('ERR_GRANT_KEY_NOT_FOUND', `no key for issuer ${describe(iss)}${kid === undefined ? ' without kid' : ` with kid ${describe(kid)}`}`);
  // 9. signature
  const key = await verificationKey(anchor, alg, ctx.keyCache ?? sharedKeyImportCache());
  if (!key.ok) return fail('ERR_GRANT_SIGNATURE_INVALID', key.detail);
  const badSignature = await signatureProblem(parsed.value, key.value, alg);
  if (badSignature) return fail('ERR_GRANT_SIGNATURE_INVALID', badSignature);
  // 10. aud contains this service (RFC 7523 §3 item 3: "MUST reject any JWT that does not contain its own identity")
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((value) => typeof value === 'string')) {
    return fail('ERR_GRANT_AUD_MISMATCH', claims.aud === undefined ? 'aud is absent' : `aud is ${describe(claims.aud)}, expected one or more strings`);
  }
  if (!aud.includes(ctx.audience)) return fail('ERR_GRANT_AUD_MISMATCH', `none of the ${aud.length} aud value(s) is this service`);
  // 11–12. exp
  const exp = claims.exp;
  if (!isNumericDate(exp)) return fail('ERR_GRANT_EXP_INVALID', exp === undefined ? 'exp is absent' : `exp is ${describe(exp)}, expected a NumericDate`);
  const nowMs = ctx.now();
  const now = nowMs / 1000;
  if (now >= exp + skew) return fail('ERR_GRANT_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  // 13. iat, nbf (optional)
  const iat = claims.iat;
  if (iat !== undefined && !isNumericDate(iat)) return fail('ERR_GRANT_IAT_INVALID', `iat is ${describe(iat)}, expected a NumericDate`);
  if (iat !== undefined && iat > now + skew) return fail('ERR_GRANT_NOT_YET_VALID', `iat is ${Math.ceil(iat - now)}s in the future`);
  const nbf = claims.nbf;
  if (nbf !== undefined && !isNumericDate(nbf)) return fail('ERR_GRANT_NBF_INVALID', `nbf is ${describe(nbf)}, expected a NumericDate`);
  if (nbf !== undefined && nbf > now + skew) return fail('ERR_GRANT_NOT_YET_VALID', `nbf is ${Math.ceil(nbf - now)}s in the future`);
  // 14. lifetime
  const maxLifetime = policy.maxLifetimeSeconds ?? DEFAULT_GRANT_MAX_LIFETIME_SECONDS;
  const lifetime = exp - (iat ?? now);
  if (lifetime > maxLifetime) return fail('ERR_GRANT_LIFETIME_TOO_LONG', `valid for ${Math.round(lifetime)}s, limit ${maxLifetime}s`);
  // 15. sub
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) return fail('ERR_GRANT_SUB_INVALID', `sub is ${describe(sub)}, expected a non-empty string`);
  // 16. client_id
  const clientId = claims.client_id;
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length === 0)) return fail('ERR_GRANT_CLIENT_ID_INVALID', `client_id is ${describe(clientId)}, expected a non-empty string`);
  // 17. scope
  const scope = claims.scope;
  if (scope !== undefined && (typeof scope !== 'string' || !SCOPE.test(scope))) {
    return fail('ERR_GRANT_SCOPE_INVALID', typeof scope === 'string' ? 'scope is not space-delimited scope-tokens (RFC 6749 §3.3)' : `scope is ${describe(scope)}, expected a string`);
  }
  // 18. jti
  const jti = claims.jti;
  if (jti === undefined ? policy.requireJti !== false : typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    return fail('ERR_GRANT_JTI_INVALID', jti === undefined ? 'jti is absent, and this issuer\'s grants must carry one' : `jti is ${describe(jti)}, expected a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // 19. single use, last (only a grant that passed every other check spends a marker)
  if (typeof jti === 'string') {
    // jti is unique per issuer (RFC 7519 §4.1.7): keyed and partitioned by the issuer's hash, so one federation
    // minting fresh jtis fills its own share of a bounded store. An unusual jti enters as `#` + its hash.
    const issHash = await sha256b64url(iss);
    const replayKey = `grant-jti:${issHash}:${SAFE_JTI.test(jti) ? jti : `#${await sha256b64url(jti)}`}`;
    const ttlMs = Math.max(1, Math.ceil((exp + skew) * 1000 - nowMs));
    let fresh: boolean;
    try {
      fresh = await ctx.replay.checkAndSet(replayKey, ttlMs, `grant-iss:${issHash}`);
    } catch (error) {
      return fail('ERR_GRANT_REPLAY_STORE_FAILED', `replay store failed (${errorName(error)})`);
    }
    if (!fresh) return fail('ERR_GRANT_REPLAYED', `jti already used with issuer ${describe(iss)}`);
  }

  const verified: VerifiedGrant = { issuer: iss, subject: sub, audience: aud as string[], expiresAt: exp * 1000, tokenHash: await sha256b64url(jwt) };
  if (clientId !== undefined) verified.clientId = clientId as string;
  if (scope !== undefined) verified.scopes = [...new Set((scope as string).split(' '))];
  if (iat !== undefined) verified.issuedAt = iat * 1000;
  if (typeof jti === 'string') verified.jti = jti;
  return ok(verified);
}

/** identity-chaining §2.5 claims transcription of the subject: the configured prefix + the grant's `sub`. */
export function transcribeSubject(sub: string, subject: { prefix?: string } | undefined): string {
  return `${subject?.prefix ?? ''}${sub}`;
}
