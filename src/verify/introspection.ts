/**
 * Validates an authorization server's answer about an opaque access token: the RFC 7662 JSON answer, or the RFC 9701
 * signed JWT answer. Pure: no I/O (gateway/introspect.ts sends the request, bounds it and caches the answer).
 *
 * Spec: RFC 7662 §2.2 (answer members), §4 (the RS must still check what it relies on); RFC 9701 §5 (JWT answer:
 * `typ` token-introspection+jwt, `iss`, `aud`, `iat`, `token_introspection`), §8 (explicit typing); RFC 8707 §2 and
 * RFC 9068 §4 (`aud` names this resource); RFC 6749 §3.3 (scope syntax); RFC 9449 §6.2 (`cnf.jkt` and `token_type`
 * DPoP in introspection answers), §7.1/§7.2 (a DPoP-bound token is presented with the DPoP scheme, and only then);
 * RFC 9470 §6.2 (`acr`, `auth_time` in introspection answers); RFC 8725 §3.1 (algorithms).
 *
 * verifyIntrospectionJson checks, in this order (the first failure is returned; codes in INTROSPECTION_ERRORS and
 * ACCESS_TOKEN_ERRORS):
 *   1. the answer is a JSON object (ERR_INTROSPECTION_RESPONSE_INVALID)
 *   2. `active`: `true` passes; `false` or absent is ERR_ACCESS_TOKEN_INACTIVE (RFC 7662 §2.2: the RS must treat the
 *      token as unusable); any other value is a malformed answer (ERR_INTROSPECTION_RESPONSE_INVALID)
 *   3. `iss`, when present, equals the configured issuer exactly (ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED)
 *   4. `aud` is REQUIRED here (RFC 7662 makes it optional: fail closed, a token for no named resource is not a token
 *      for this one) and, string or array of strings, contains `audience` (ERR_ACCESS_TOKEN_AUD_MISMATCH)
 *   5. `exp`, when present, is a NumericDate (…_EXP_INVALID) and 6. has not passed, with skew (…_EXPIRED)
 *   7. `iat`, when present, is a NumericDate (…_IAT_INVALID), not in the future (…_NOT_YET_VALID)
 *   8. `nbf`, when present, is a NumericDate (…_NBF_INVALID), not in the future (…_NOT_YET_VALID)
 *   9. `sub`, 10. `client_id`, 11. `jti` (≤ MAX_JTI_LENGTH), when present, are non-empty strings
 *  12. `scope`, when present, is space-delimited scope-tokens (…_SCOPE_INVALID)
 *  13. `auth_time` (NumericDate), `acr` (string), `amr` (array of strings), when present (…_AUTH_CLAIM_INVALID)
 *  14. `cnf`, when present, is an object; `cnf.jkt`, when present, a SHA-256 thumbprint (…_CNF_INVALID)
 *  15. presentation (ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH): with DPoP, `token_type` (when present) is `DPoP` (any
 *      case) and `cnf.jkt` is present; as Bearer, `token_type` is not `DPoP` and there is no `cnf.jkt` (a DPoP-bound
 *      token presented as a bearer token is refused, RFC 9449 §7.2). A non-string `token_type` is malformed.
 * verifyIntrospectionJwt first checks the envelope (openIntrospectionJwt, each failure
 * ERR_INTROSPECTION_RESPONSE_INVALID unless noted): size ≤ MAX_INTROSPECTION_RESPONSE_BYTES; a compact JWS (a
 * five-segment JWE is refused); `typ` token-introspection+jwt (or application/…, any case); `alg` asymmetric and
 * allowed; no `crit`; `kid` a short string when present; the key from `keys(kid)` (a throwing source is
 * ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED: 503); the signature; `iss` equal to the issuer; `aud` containing the gateway's
 * `clientId`; `iat` a NumericDate not in the future; `exp`, when present, a NumericDate not passed; and
 * `token_introspection` an object. Then the member checks above on `token_introspection`.
 *
 * What the result means (VerifiedAccessToken, decisions where RFC 7662 makes members optional):
 *  - issuer: the configured issuer (the server that answered), whether or not `iss` was present.
 *  - subject: `sub`, else `client_id` (RFC 9068 §2.2: without a resource owner the subject is the client), else ''
 *    (the answer names neither: nothing to authorise by name; a policy keyed on subjects matches nothing).
 *  - clientId: `client_id`, else ''. jti: `jti`, else ''. scopes: `scope` split, else [].
 *  - issuedAt: `iat` × 1000, else the time of the check.
 *  - expiresAt: `exp` × 1000 when present (expKnown true); else the time of the check (expKnown false): the answer
 *    vouches for the token only now, and how long to rely on it is the caller's choice (its cache window).
 *  - tokenHash: base64url(SHA-256(token)); the token itself is never returned or put in a detail.
 *
 * Does NOT: check a DPoP proof against `cnfJkt` (the caller does, RFC 9449 §4.3), mTLS binding (`cnf.x5t#S256`),
 * required scopes (the route's policy), the token's own format (it is opaque), revocation beyond `active`, or decrypt
 * an encrypted (JWE) RFC 9701 answer.
 */
import type { JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { critProblem, parseCompactJwt, signatureProblem, typMatches, verificationKey } from '../crypto/jws.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, MAX_INTROSPECTION_RESPONSE_BYTES, MAX_JTI_LENGTH, MAX_KID_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { VerifiedAccessToken } from './access-token.ts';
import type { AccessTokenErrorCode, IntrospectionErrorCode } from './errors.ts';
import { isNumericDate, isObject } from './wit.ts';

export interface IntrospectionContext {
  /** The configured issuer the answer came from. */
  issuer: string;
  /** This route's resource indicator (RFC 8707): `aud` must contain it. */
  audience: string;
  /** The introspected token: only hashed (tokenHash). */
  token: string;
  /** Whether the request presented the token with the DPoP scheme (RFC 9449 §7.1); default false (Bearer). */
  dpop?: boolean;
  /** Epoch milliseconds. */
  now: () => number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}

export interface IntrospectionJwtContext extends IntrospectionContext {
  /** The issuer's signing key for `kid` (or its only key); `undefined` when none; may throw (source unavailable). */
  keys: (kid: string | undefined) => Promise<JWK | undefined>;
  /** Algorithms allowed for the answer's signature; symmetric and unknown entries are ignored. */
  algorithms: readonly string[];
  /** The gateway's client_id at this issuer: the answer's `aud` must contain it (RFC 9701 §5). */
  clientId: string;
  /** Where imported keys are cached; default the isolate-wide cache. */
  keyCache?: KeyImportCache;
}

/** A VerifiedAccessToken from an introspection answer, and whether `expiresAt` is the answer's `exp`. */
export interface IntrospectedAccessToken extends VerifiedAccessToken {
  /** false: the answer had no `exp`, and `expiresAt` is the time of the check. */
  expKnown: boolean;
}

export type IntrospectionCode = AccessTokenErrorCode | IntrospectionErrorCode;

/** The members this module reads: callers that keep an answer (a cache) need keep only these. */
export const INTROSPECTION_MEMBERS = ['active', 'iss', 'aud', 'exp', 'iat', 'nbf', 'sub', 'client_id', 'jti', 'scope', 'token_type', 'auth_time', 'acr', 'amr', 'cnf'] as const;

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ); scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
/** base64url of a SHA-256 digest, unpadded: 43 characters (RFC 9449 §6.1, RFC 7638). */
const JKT = /^[A-Za-z0-9_-]{43}$/;

export async function verifyIntrospectionJson(body: unknown, ctx: IntrospectionContext): Promise<Result<IntrospectedAccessToken, IntrospectionCode>> {
  const skew = ctx.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  // 1. shape
  if (!isObject(body)) return fail('ERR_INTROSPECTION_RESPONSE_INVALID', `the answer is ${describe(body)}, expected a JSON object`);
  // 2. active
  const active = body.active;
  if (active === false || active === undefined) return fail('ERR_ACCESS_TOKEN_INACTIVE', active === false ? 'the authorization server answered active false' : 'the answer has no active member');
  if (active !== true) return fail('ERR_INTROSPECTION_RESPONSE_INVALID', `active is ${describe(active)}, expected a boolean`);
  // 3. iss
  if (body.iss !== undefined && body.iss !== ctx.issuer) return fail('ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED', `iss ${describe(body.iss)} is not the issuer that answered`);
  // 4. aud: required, contains this resource
  const aud = typeof body.aud === 'string' ? [body.aud] : body.aud;
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every((value) => typeof value === 'string')) {
    return fail('ERR_ACCESS_TOKEN_AUD_MISMATCH', body.aud === undefined ? 'aud is absent: the answer names no resource' : `aud is ${describe(body.aud)}, expected one or more strings`);
  }
  if (!aud.includes(ctx.audience)) return fail('ERR_ACCESS_TOKEN_AUD_MISMATCH', `none of the ${aud.length} aud value(s) is this resource`);
  const now = ctx.now() / 1000;
  // 5–6. exp
  const exp = body.exp;
  if (exp !== undefined && !isNumericDate(exp)) return fail('ERR_ACCESS_TOKEN_EXP_INVALID', `exp is ${describe(exp)}, expected a NumericDate`);
  if (exp !== undefined && now >= exp + skew) return fail('ERR_ACCESS_TOKEN_EXPIRED', `expired ${Math.floor(now - exp)}s ago`);
  // 7. iat
  const iat = body.iat;
  if (iat !== undefined && !isNumericDate(iat)) return fail('ERR_ACCESS_TOKEN_IAT_INVALID', `iat is ${describe(iat)}, expected a NumericDate`);
  if (iat !== undefined && iat > now + skew) return fail('ERR_ACCESS_TOKEN_NOT_YET_VALID', `iat is ${Math.ceil(iat - now)}s in the future`);
  // 8. nbf
  const nbf = body.nbf;
  if (nbf !== undefined && !isNumericDate(nbf)) return fail('ERR_ACCESS_TOKEN_NBF_INVALID', `nbf is ${describe(nbf)}, expected a NumericDate`);
  if (nbf !== undefined && nbf > now + skew) return fail('ERR_ACCESS_TOKEN_NOT_YET_VALID', `nbf is ${Math.ceil(nbf - now)}s in the future`);
  // 9–11. sub, client_id, jti
  const { sub, client_id: clientId, jti } = body;
  if (sub !== undefined && !(typeof sub === 'string' && sub.length > 0)) return fail('ERR_ACCESS_TOKEN_SUB_INVALID', `sub is ${describe(sub)}, expected a non-empty string`);
  if (clientId !== undefined && !(typeof clientId === 'string' && clientId.length > 0)) {
    return fail('ERR_ACCESS_TOKEN_CLIENT_ID_INVALID', `client_id is ${describe(clientId)}, expected a non-empty string`);
  }
  if (jti !== undefined && !(typeof jti === 'string' && jti.length > 0 && jti.length <= MAX_JTI_LENGTH)) {
    return fail('ERR_ACCESS_TOKEN_JTI_INVALID', `jti is ${describe(jti)}, expected a string of 1 to ${MAX_JTI_LENGTH} characters`);
  }
  // 12. scope
  const scope = body.scope;
  if (scope !== undefined && (typeof scope !== 'string' || !SCOPE.test(scope))) {
    return fail('ERR_ACCESS_TOKEN_SCOPE_INVALID', typeof scope === 'string' ? 'scope is not space-delimited scope-tokens (RFC 6749 §3.3)' : `scope is ${describe(scope)}, expected a string`);
  }
  // 13. authentication claims (RFC 9470 §6.2)
  const { auth_time: authTime, acr, amr } = body;
  if (authTime !== undefined && !isNumericDate(authTime)) return fail('ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID', `auth_time is ${describe(authTime)}, expected a NumericDate`);
  if (acr !== undefined && typeof acr !== 'string') return fail('ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID', `acr is ${describe(acr)}, expected a string`);
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((value) => typeof value === 'string'))) {
    return fail('ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID', `amr is ${describe(amr)}, expected an array of strings`);
  }
  // 14. cnf.jkt
  const cnf = body.cnf;
  if (cnf !== undefined && !isObject(cnf)) return fail('ERR_ACCESS_TOKEN_CNF_INVALID', `cnf is ${describe(cnf)}, expected an object`);
  const jkt = cnf?.jkt;
  if (jkt !== undefined && !(typeof jkt === 'string' && JKT.test(jkt))) {
    return fail('ERR_ACCESS_TOKEN_CNF_INVALID', `cnf.jkt is ${describe(jkt)}, expected a base64url SHA-256 thumbprint`);
  }
  // 15. token_type against the presentation scheme
  const tokenType = body.token_type;
  if (tokenType !== undefined && typeof tokenType !== 'string') return fail('ERR_INTROSPECTION_RESPONSE_INVALID', `token_type is ${describe(tokenType)}, expected a string`);
  const typeIsDpop = typeof tokenType === 'string' && tokenType.toLowerCase() === 'dpop';
  if (ctx.dpop === true) {
    if (tokenType !== undefined && !typeIsDpop) return fail('ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', `presented with DPoP, but token_type is ${describe(tokenType)}`);
    if (jkt === undefined) return fail('ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', 'presented with DPoP, but the answer binds no key (cnf.jkt absent)');
  } else {
    if (typeIsDpop) return fail('ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', 'a DPoP token presented as a Bearer token (RFC 9449 §7.2)');
    if (jkt !== undefined) return fail('ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', 'a token bound to a DPoP key (cnf.jkt) presented as a Bearer token (RFC 9449 §7.2)');
  }

  const checkedAt = ctx.now();
  const verified: IntrospectedAccessToken = {
    issuer: ctx.issuer,
    subject: (sub as string | undefined) ?? (clientId as string | undefined) ?? '',
    clientId: (clientId as string | undefined) ?? '',
    scopes: scope === undefined ? [] : scope.split(' '),
    audience: [...(aud as string[])],
    expiresAt: exp === undefined ? checkedAt : exp * 1000,
    issuedAt: iat === undefined ? checkedAt : iat * 1000,
    jti: (jti as string | undefined) ?? '',
    tokenHash: await sha256b64url(ctx.token),
    expKnown: exp !== undefined,
  };
  if (authTime !== undefined) verified.authTime = (authTime as number) * 1000;
  if (acr !== undefined) verified.acr = acr as string;
  if (amr !== undefined) verified.amr = [...(amr as string[])];
  if (jkt !== undefined) verified.cnfJkt = jkt as string;
  return ok(verified);
}

/**
 * Checks an RFC 9701 JWT answer's envelope and signature and returns its `token_introspection` object, still to be
 * checked by verifyIntrospectionJson (callers that cache keep this object and re-check it on every use).
 */
export async function openIntrospectionJwt(jwt: string, ctx: Omit<IntrospectionJwtContext, 'audience' | 'token' | 'dpop'>): Promise<Result<Record<string, unknown>, IntrospectionCode>> {
  const skew = ctx.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const invalid = (detail: string) => fail('ERR_INTROSPECTION_RESPONSE_INVALID', `JWT answer: ${detail}`);
  if (typeof jwt === 'string' && jwt.length > MAX_INTROSPECTION_RESPONSE_BYTES) return invalid(`is ${jwt.length} bytes, limit ${MAX_INTROSPECTION_RESPONSE_BYTES}`);
  const parsed = parseCompactJwt(jwt);
  if (!parsed.ok) return invalid(parsed.detail);
  const { header, claims } = parsed.value;
  // RFC 9701 §5, §8: explicit typing, so no other JWT of this AS can pass as an answer.
  if (!typMatches(header.typ, 'token-introspection+jwt')) return invalid(`typ is ${describe(header.typ)}, expected "token-introspection+jwt"`);
  const alg = header.alg;
  if (typeof alg !== 'string' || !isAsymmetricJwsAlgorithm(alg) || !allowedAlgorithms(ctx.algorithms).has(alg)) return invalid(`alg ${describe(alg)} is not allowed`);
  const crit = critProblem(header);
  if (crit) return invalid(crit);
  const kid = header.kid;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return invalid(`kid is ${describe(kid)}, expected a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  let anchor: JWK | undefined;
  try {
    anchor = await ctx.keys(kid as string | undefined);
  } catch (error) {
    return fail('ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED', `key source failed for issuer ${describe(ctx.issuer)} (${error instanceof Error ? error.name : typeof error})`);
  }
  if (anchor === undefined || anchor === null) return invalid(`no key of the issuer${kid === undefined ? ' without kid' : ` with kid ${describe(kid)}`}`);
  const key = await verificationKey(anchor, alg, ctx.keyCache ?? sharedKeyImportCache());
  if (!key.ok) return invalid(key.detail);
  const badSignature = await signatureProblem(parsed.value, key.value, alg);
  if (badSignature) return invalid(badSignature);
  if (claims.iss !== ctx.issuer) return invalid(`iss ${describe(claims.iss)} is not the issuer asked`);
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!Array.isArray(aud) || !aud.includes(ctx.clientId)) return invalid('aud does not name this gateway\'s client_id');
  const now = ctx.now() / 1000;
  if (!isNumericDate(claims.iat)) return invalid(`iat is ${describe(claims.iat)}, expected a NumericDate`);
  if (claims.iat > now + skew) return invalid(`iat is ${Math.ceil(claims.iat - now)}s in the future`);
  if (claims.exp !== undefined && !isNumericDate(claims.exp)) return invalid(`exp is ${describe(claims.exp)}, expected a NumericDate`);
  if (claims.exp !== undefined && now >= (claims.exp as number) + skew) return invalid(`expired ${Math.floor(now - (claims.exp as number))}s ago`);
  const answer = claims.token_introspection;
  if (!isObject(answer)) return invalid(`token_introspection is ${describe(answer)}, expected an object`);
  return ok(answer);
}

/** An RFC 9701 JWT answer: the envelope (openIntrospectionJwt), then the member checks of verifyIntrospectionJson. */
export async function verifyIntrospectionJwt(jwt: string, ctx: IntrospectionJwtContext): Promise<Result<IntrospectedAccessToken, IntrospectionCode>> {
  const opened = await openIntrospectionJwt(jwt, ctx);
  return opened.ok ? verifyIntrospectionJson(opened.value, ctx) : opened;
}
