/**
 * Verifies an OAuth 2.0 JWT access token (RFC 9068) presented to this gateway as a resource server.
 *
 * Spec: RFC 9068 §2 (format: §2.1 header, §2.2 claims), §4 (validation); RFC 8707 §2 (`aud` names the resource);
 * RFC 8725 (JWT BCP: §3.1 algorithms, §3.8 issuer, §3.9 audience, §3.11 explicit typing); RFC 6749 §3.3 (scope
 * syntax); RFC 6750 §3.1 (error codes).
 *
 * Validates, in this order (the first failure is returned, each with its own code; see ACCESS_TOKEN_ERRORS):
 *   1. size ≤ MAX_ACCESS_TOKEN_BYTES, before any parsing
 *   2. compact JWS shape: three non-empty base64url segments; header and claims are JSON objects (§2.1: signed;
 *      an encrypted JWE has five segments and is refused here)
 *   3. header `typ` is `at+jwt` or `application/at+jwt`, any case (§4: reject any other value, absent included)
 *   4. header `alg` is an asymmetric signature algorithm allowed by the policy (default RS256 and ES256; §2.1:
 *      RS256 MUST be supported); never `none` (§4), never `HS*` (RFC 8725 §3.1)
 *   5. no `crit` header (no extension is understood)
 *   6. `kid`, when present, is a string of at most MAX_KID_LENGTH
 *   7. `iss` is a string exactly equal to one of `policy.issuers` (§4; checked before any key lookup, because the
 *      issuer selects the key source)
 *   8. the verification key comes from `ctx.keys(iss, kid)`: that issuer's configured keys (§4: "the keys provided
 *      by the authorization server"), never `jku`, `x5u`, `jwk` or `x5c` from the token, which are ignored
 *   9. the JWS signature verifies with that key and exactly the header `alg`
 *  10. `aud` (string or array of strings) contains `policy.audience`, this route's resource (§4; RFC 8707 §2)
 *  11. `exp` is present and a NumericDate (§2.2); 12. it has not passed (with `clockSkewSeconds`; §4)
 *  13. `iat` is present and a NumericDate (§2.2: REQUIRED); 14. it is not in the future (with skew)
 *  15. `nbf`, when present, is a NumericDate; 16. not in the future (with skew)
 *  17. lifetime ≤ `maxLifetimeSeconds`: exp − iat (iat is required and not in the future, so this also bounds
 *      exp − now to the maximum plus skew)
 *  18. `sub`, 19. `client_id`, 20. `jti` are non-empty strings (§2.2: REQUIRED; `jti` ≤ MAX_JTI_LENGTH)
 *  21. `scope`, when present, is a space-delimited string of scope-tokens (§2.2.3; RFC 6749 §3.3)
 *  22. every scope in `policy.requiredScopes` is granted (a distinct code: 403 `insufficient_scope`)
 *  23. `auth_time` (NumericDate), `acr` (string), `amr` (array of strings), when present, have their types (§2.2.1)
 *  24. `cnf`, when present, is an object, and `cnf.jkt`, when present, is a SHA-256 JWK thumbprint (RFC 9449 §6.1)
 * Unknown claims (`groups`, `roles`, `entitlements`, identity claims) are ignored.
 *
 * Does NOT do:
 *  - DPoP (RFC 9449): a token with `cnf.jkt` is sender-constrained, and the caller MUST verify a DPoP proof made
 *    with that key before accepting it; `cnfJkt` is returned for that. Nor mTLS binding (`cnf.x5t#S256`).
 *  - introspection (RFC 7662) of opaque tokens, or JWE decryption (§4 step 2): only signed JWTs are accepted.
 *  - key discovery: fetching RFC 8414 metadata and `jwks_uri` is the key source's job; an issuer or `kid` it does
 *    not know yields ERR_ACCESS_TOKEN_KEY_NOT_FOUND.
 *  - revocation, `jti` replay checks (a bearer token is presented many times until `exp`), or authorization
 *    beyond `requiredScopes` (`acr` / `auth_time` step-up per RFC 9470 is the caller's policy).
 *  - caching: callers may cache a VerifiedAccessToken under `tokenHash` until `expiresAt` (DESIGN principle 6).
 *
 * Errors: the caller answers 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 9068 §4; RFC 6750
 * §3.1), except ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE: 403 `error="insufficient_scope"`. Details never contain the
 * token, key material or signatures.
 */
import type { JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, signatureProblem, typMatches, verificationKey } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { DEFAULT_ACCESS_TOKEN_MAX_LIFETIME_SECONDS, DEFAULT_CLOCK_SKEW_SECONDS, MAX_ACCESS_TOKEN_BYTES, MAX_JTI_LENGTH, MAX_KID_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { AccessTokenErrorCode } from './errors.ts';
import type { SignedTokenPolicy } from './policy.ts';
import { isNumericDate, isObject } from './wit.ts';

/**
 * The configured key source of an allowed issuer: returns the public key for `kid` (or the one unambiguous key
 * when `kid` is undefined) of that issuer, or `undefined`. Only ever called with an issuer from `policy.issuers`.
 */
export type AccessTokenKeySource = (issuer: string, kid: string | undefined) => Promise<JWK | CryptoKey | undefined>;

export interface AccessTokenPolicy extends Omit<SignedTokenPolicy, 'issuers'> {
  /** Required allow-list: `iss` must equal one of these exactly (§4). An empty list refuses every token. */
  issuers: readonly string[];
  /** This route's resource indicator (RFC 8707): `aud` must contain it. */
  audience: string;
  /** Default `['RS256', 'ES256']` (§2.1: RS256 MUST be supported); symmetric and unknown entries are ignored. */
  algorithms?: readonly string[];
  /** Default DEFAULT_ACCESS_TOKEN_MAX_LIFETIME_SECONDS. */
  maxLifetimeSeconds?: number;
  /** Scopes that must all be in `scope`; a missing one yields ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE. */
  requiredScopes?: readonly string[];
}

export interface AccessTokenContext {
  keys: AccessTokenKeySource;
  policy: AccessTokenPolicy;
  /** Epoch milliseconds. */
  now: () => number;
  /** Where imported keys are cached; default the isolate-wide cache. */
  keyCache?: KeyImportCache;
  /** base64url(SHA-256(token)) when the caller computed it already (it is returned as `tokenHash`): saves a digest. */
  tokenHash?: string;
}

/** What a valid access token establishes. JSON-serialisable, so it can be cached. */
export interface VerifiedAccessToken {
  issuer: string;
  subject: string;
  clientId: string;
  /** The granted scopes in token order (empty when `scope` is absent). */
  scopes: string[];
  /** Every `aud` value, in token order. */
  audience: string[];
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Epoch milliseconds. */
  issuedAt: number;
  jti: string;
  /** Epoch milliseconds of the end-user authentication (`auth_time`). */
  authTime?: number;
  acr?: string;
  amr?: string[];
  /** base64url(SHA-256(token)): the key for caches and audit, never the token. */
  tokenHash: string;
  /** `cnf.jkt`: the token is DPoP-bound to this JWK thumbprint (RFC 9449 §6.1); the caller must check a proof. */
  cnfJkt?: string;
}

const DEFAULT_ALGORITHMS = ['RS256', 'ES256'] as const;
/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ); scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
/** base64url of a SHA-256 digest, unpadded: 43 characters (RFC 9449 §6.1, RFC 7638). */
const JKT = /^[A-Za-z0-9_-]{43}$/;

export async function verifyAccessToken(token: string, ctx: AccessTokenContext): Promise<Result<VerifiedAccessToken, AccessTokenErrorCode>> {
  const policy = ctx.policy;
  const algorithms = allowedAlgorithms(policy.algorithms ?? DEFAULT_ALGORITHMS);
  const skew = policy.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = policy.maxLifetimeSeconds ?? DEFAULT_ACCESS_TOKEN_MAX_LIFETIME_SECONDS;
  const cache = ctx.keyCache ?? sharedKeyImportCache();

  // 1. size
  if (typeof token === 'string' && token.length > MAX_ACCESS_TOKEN_BYTES) {
    return fail('ERR_ACCESS_TOKEN_TOO_LARGE', `token is ${token.length} bytes, limit ${MAX_ACCESS_TOKEN_BYTES}`);
  }
  // 2. shape
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) return fail('ERR_ACCESS_TOKEN_MALFORMED', parsed.detail);
  const { header, claims } = parsed.value;
  // 3. typ
  if (!typMatches(header.typ, 'at+jwt')) return fail('ERR_ACCESS_TOKEN_TYP_INVALID', `typ is ${describe(header.typ)}, expected "at+jwt"`);
  // 4. alg
  const alg = header.alg;
  if (typeof alg !== 'string' || !isAsymmetricJwsAlgorithm(alg) || !algorithms.has(alg)) {
    return fail('ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED', `alg ${describe(alg)} is not allowed`);
  }
  // 5. crit
  const crit = critProblem(header);
  if (crit) return fail('ERR_ACCESS_TOKEN_CRIT_UNSUPPORTED', crit);
  // 6. kid
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return fail('ERR_ACCESS_TOKEN_KID_INVALID', `kid is ${describe(kid)}, expected a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  // 7. iss: exact match against the allow-list, before the key lookup it selects
  const iss = claims.iss;
  if (typeof iss !== 'string' || !policy.issuers.includes(iss)) {
    return fail('ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED', typeof iss === 'string' ? `iss ${describe(iss)} is not an allowed issuer` : `iss is ${describe(iss)}, expected an allowed issuer`);
  }
  // 8. key from the issuer's source (jku / x5u / jwk / x5c headers are never read)
  let anchor: JWK | CryptoKey | undefined;
  try {
    anchor = await ctx.keys(iss, kid as string | undefined);
  } catch (error) {
    // The error's class only: a key source's message may quote a URL or a response body.
    return fail('ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED', `key source failed for issuer ${describe(iss)} (${error instanceof Error ? error.name : typeof error})`);
  }
  if (anchor === undefined || anchor === null) {
    return fail('ERR_ACCESS_TOKEN_KEY_NOT_FOUND', `no key for issuer ${describe(iss)}${kid === undefined ? ' without kid' : ` with kid ${describe(kid)}`}`);
  }
  // 9. signature
  const key = await verificationKey(anchor, alg, cache);
  if (!key.ok) return fail('ERR_ACCESS_TOKEN_SIGNATURE_INVALID', key.detail);
  const badSignature = await signatureProblem(parsed.value, key.value, alg);
  if (badSignature) return fail('ERR_ACCESS_TOKEN_SIGNATURE_INVALID', badSignature);
  // 10. aud contains this resource
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((value) => typeof value === 'string')) {
    return fail('ERR_ACCESS_TOKEN_AUD_MISMATCH', claims.aud === undefined ? 'aud is absent' : `aud is ${describe(claims.aud)}, expected one or more strings`);
  }
  if (!aud.includes(policy.audience)) return fail('ERR_ACCESS_TOKEN_AUD_MISMATCH', `none of the ${aud.length} aud value(s) is this resource`);
  // 11–12. exp
  const exp = claims.exp;
  if (!isNumericDate(exp)) return fail('ERR_ACCESS_TOKEN_EXP_INVALID', `exp is ${describe(exp)}, expected a NumericDate`);
  const now = ctx.now() / 1000;
  if (now >= exp + skew) return fail('ERR_ACCESS_TOKEN_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  // 13–14. iat
  const iat = claims.iat;
  if (!isNumericDate(iat)) return fail('ERR_ACCESS_TOKEN_IAT_INVALID', `iat is ${describe(iat)}, expected a NumericDate`);
  if (iat > now + skew) return fail('ERR_ACCESS_TOKEN_NOT_YET_VALID', `iat is ${Math.ceil(iat - now)}s in the future`);
  // 15–16. nbf
  const nbf = claims.nbf;
  if (nbf !== undefined && !isNumericDate(nbf)) return fail('ERR_ACCESS_TOKEN_NBF_INVALID', `nbf is ${describe(nbf)}, expected a NumericDate`);
  if (nbf !== undefined && nbf > now + skew) return fail('ERR_ACCESS_TOKEN_NOT_YET_VALID', `nbf is ${Math.ceil(nbf - now)}s in the future`);
  // 17. lifetime (with iat ≤ now + skew, exp − iat ≤ max also bounds exp − now)
  if (exp - iat > maxLifetime) return fail('ERR_ACCESS_TOKEN_LIFETIME_TOO_LONG', `issued for ${Math.round(exp - iat)}s, limit ${maxLifetime}s`);
  // 18–20. sub, client_id, jti
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) return fail('ERR_ACCESS_TOKEN_SUB_INVALID', `sub is ${describe(sub)}, expected a non-empty string`);
  const clientId = claims.client_id;
  if (typeof clientId !== 'string' || clientId.length === 0) {
    return fail('ERR_ACCESS_TOKEN_CLIENT_ID_INVALID', `client_id is ${describe(clientId)}, expected a non-empty string`);
  }
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    return fail('ERR_ACCESS_TOKEN_JTI_INVALID', `jti is ${describe(jti)}, expected a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // 21. scope syntax
  const scope = claims.scope;
  if (scope !== undefined && (typeof scope !== 'string' || !SCOPE.test(scope))) {
    return fail('ERR_ACCESS_TOKEN_SCOPE_INVALID', typeof scope === 'string' ? 'scope is not space-delimited scope-tokens (RFC 6749 §3.3)' : `scope is ${describe(scope)}, expected a string`);
  }
  const scopes = scope === undefined ? [] : scope.split(' ');
  // 22. required scopes
  const missing = (policy.requiredScopes ?? []).filter((required) => !scopes.includes(required));
  if (missing.length > 0) return fail('ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', `${missing.length} required scope(s) not granted: ${missing.map(describe).join(', ')}`);
  // 23. authentication claims
  const { auth_time: authTime, acr, amr } = claims;
  if (authTime !== undefined && !isNumericDate(authTime)) return fail('ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID', `auth_time is ${describe(authTime)}, expected a NumericDate`);
  if (acr !== undefined && typeof acr !== 'string') return fail('ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID', `acr is ${describe(acr)}, expected a string`);
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((value) => typeof value === 'string'))) {
    return fail('ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID', `amr is ${describe(amr)}, expected an array of strings`);
  }
  // 24. cnf.jkt
  const cnf = claims.cnf;
  if (cnf !== undefined && !isObject(cnf)) return fail('ERR_ACCESS_TOKEN_CNF_INVALID', `cnf is ${describe(cnf)}, expected an object`);
  const jkt = cnf?.jkt;
  if (jkt !== undefined && !(typeof jkt === 'string' && JKT.test(jkt))) {
    return fail('ERR_ACCESS_TOKEN_CNF_INVALID', `cnf.jkt is ${describe(jkt)}, expected a base64url SHA-256 thumbprint`);
  }

  const verified: VerifiedAccessToken = {
    issuer: iss,
    subject: sub,
    clientId,
    scopes,
    audience: aud as string[],
    expiresAt: exp * 1000,
    issuedAt: iat * 1000,
    jti,
    tokenHash: ctx.tokenHash ?? (await sha256b64url(token)),
  };
  if (authTime !== undefined) verified.authTime = (authTime as number) * 1000;
  if (acr !== undefined) verified.acr = acr as string;
  if (amr !== undefined) verified.amr = [...(amr as string[])];
  if (jkt !== undefined) verified.cnfJkt = jkt as string;
  return ok(verified);
}
