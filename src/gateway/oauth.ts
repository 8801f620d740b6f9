/**
 * The OAuth resource-server half of authentication, per route (`auth.oauth`): finds the access token a request
 * presents, verifies it, checks DPoP, and answers refusals with the challenges RFC 6750 §3, RFC 9449 §7.1 and
 * RFC 9470 §3 define, each naming the route's RFC 9728 metadata (`resource_metadata`, RFC 9728 §5.1).
 *
 * Carriage (RFC 6750 §2, RFC 9449 §7):
 *   - `Authorization: Bearer <token>` (unless dpop "required") or `Authorization: DPoP <token>` with one `DPoP`
 *     proof (unless dpop "disabled"); a token in the query (`access_token`) is refused: 400 invalid_request, as
 *     is a repeated or malformed Authorization field. The form-body method is not supported (bodies are not read
 *     for credentials) and such a body is forwarded as it is.
 *   - A JWT-shaped token (three base64url segments) is verified locally (verify/access-token.ts) with keys from
 *     the issuer's configured source; anything else is introspected at the route's one introspecting server.
 *   - A DPoP-bound token (`cnf.jkt`, or introspection `token_type` DPoP) sent as Bearer is refused (RFC 9449 §7.2),
 *     and a token sent with the DPoP scheme must be bound to the proof's key (§7.1).
 * Verified JWTs are kept per isolate and route, keyed by the token, until `exp`, and count only while the
 * issuer's key that verified them is still current; proofs are never cached. A DPoP request whose JWT is not
 * cached has the token's and the proof's signatures checked concurrently, with one digest of the token for both
 * `ath` and the token hash.
 *
 * Scopes, `acr` and `auth_time` are checked per operation (`requirementProblem`), after the MCP front has read
 * the tool and method, so one 403 names every scope the operation needs (MCP 2026-07-28 scope challenges).
 *
 * Does NOT: check scope hierarchies (a scope is granted only by its exact name), look at form bodies, or pass the
 * token on (headers.ts strips Authorization and DPoP).
 */
import type { AuthorizationServerConfig, OAuthRouteConfig, OperationRequirement } from '../config/schema.ts';
import { parseCompactJwt } from '../crypto/jws.ts';
import { sha256b64url } from '../crypto/digest.ts';
import type { UserPrincipal } from '../identity/principal.ts';
import { HOT_ACCESS_TOKEN_CACHE_ENTRIES, MAX_ACCESS_TOKEN_BYTES } from '../limits.ts';
import { ExpiringMap } from '../state/memory.ts';
import type { ReplayStore } from '../state/ports.ts';
import type { AuthorizationServerKeys } from '../trust/authorization-server-keys.ts';
import type { Background } from '../trust/key-source.ts';
import { KeySourceUnavailableError } from '../trust/remote-key-set.ts';
import { verifyAccessToken, type VerifiedAccessToken } from '../verify/access-token.ts';
import { DEFAULT_DPOP_ALGORITHMS, verifyDpopProof } from '../verify/dpop.ts';
import type { DpopNonces } from './dpop-nonce.ts';
import type { Introspector } from './introspect.ts';
import type { AuthErrorCode } from './errors.ts';
import { resourceMetadataUrl } from './resource-metadata.ts';

export interface OAuthPorts {
  servers: Readonly<Record<string, AuthorizationServerConfig>>;
  keys: AuthorizationServerKeys;
  introspector: Introspector | undefined;
  replay: ReplayStore;
  nonces: DpopNonces;
  /** Epoch milliseconds. */
  now: () => number;
}

export interface OAuthRefusal {
  ok: false;
  code: AuthErrorCode;
  detail: string;
  status?: number;
  challenges: string[];
  /** Extra response fields (`DPoP-Nonce`). */
  headers?: Record<string, string>;
}

export interface OAuthSuccess {
  ok: true;
  user: UserPrincipal;
  /** Response fields to add on success (a fresh `DPoP-Nonce`). */
  headers?: Record<string, string>;
}

export interface OAuthRoute {
  /** This route's resource identifier (RFC 8707; `aud` must contain it). */
  resource: string;
  /** Where its RFC 9728 metadata is served. */
  metadataUrl: string;
  /** The challenges of a 401 for a request without an access token, Bearer and/or DPoP first. */
  missingChallenges: string[];
  /** Whether the request presents an access token (an `Authorization` scheme this route reads, or a query token). */
  presents(request: Request): boolean;
  authenticate(request: Request, path: string, background?: Background): Promise<OAuthSuccess | OAuthRefusal>;
  /** A 400 `invalid_request` (RFC 6750 §3.1), challenged on every scheme the route accepts. */
  invalidRequest(detail: string): OAuthRefusal;
  /**
   * The scopes / step-up the operation needs and the token lacks, as a refusal; undefined when it meets them. A
   * caller authenticated without an access token (`user` undefined: a workload credential on a route that takes
   * either) meets only an operation that needs nothing a token carries.
   */
  requirementProblem(user: UserPrincipal | undefined, requirement: Requirement): OAuthRefusal | undefined;
}

/** What one request needs: the route's own requirement merged with those of its MCP tools and methods. */
export interface Requirement {
  scopes: string[];
  acrValues?: string[];
  maxAge?: number;
}

/** RFC 9110 §11.2 token68, which both Bearer (RFC 6750 §2.1 b64token) and DPoP tokens are. */
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The requirement of one operation: the route's plus each named tool's and method's (scopes unioned). */
export function operationRequirement(config: OAuthRouteConfig, calls: readonly { method: string; name?: string }[]): Requirement {
  const parts: OperationRequirement[] = [config];
  for (const call of calls) {
    // Own keys only: a JSON-RPC method named "constructor" or "toString" must not reach Object.prototype.
    if (config.methods && Object.hasOwn(config.methods, call.method)) parts.push(config.methods[call.method]!);
    if (call.method === 'tools/call' && call.name !== undefined && config.tools && Object.hasOwn(config.tools, call.name)) parts.push(config.tools[call.name]!);
  }
  const scopes = [...new Set(parts.flatMap((p) => p.scopes ?? []))];
  const requirement: Requirement = { scopes };
  // Several acr lists: the token must satisfy each, so only values in all of them do.
  const acrLists = parts.map((p) => p.acrValues).filter((list): list is string[] => list !== undefined);
  if (acrLists.length > 0) requirement.acrValues = acrLists.reduce((a, b) => a.filter((v) => b.includes(v)));
  const ages = parts.map((p) => p.maxAge).filter((age): age is number => age !== undefined);
  if (ages.length > 0) requirement.maxAge = Math.min(...ages);
  return requirement;
}

/** One quoted auth-param value (RFC 9110 §11.2 quoted-string); config values never hold `"` or `\`. */
const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

interface Presented {
  scheme: 'bearer' | 'dpop';
  token: string;
  proof?: string;
}

export function oauthRoute(config: OAuthRouteConfig, resource: string, ports: OAuthPorts): OAuthRoute {
  const metadataUrl = resourceMetadataUrl(resource);
  // DPoP htu: the request's URL on the resource's (= publicUrl's) origin, never the Host it arrived with.
  const resourceOrigin = new URL(resource).origin;
  const rm = `resource_metadata=${quoted(metadataUrl)}`;
  const dpopAlgorithms = config.dpopAlgorithms ?? DEFAULT_DPOP_ALGORITHMS;
  const algs = `algs=${quoted(dpopAlgorithms.join(' '))}`;
  const bearerOk = config.dpop !== 'required';
  const dpopOk = config.dpop !== 'disabled';
  const issuers = config.authorizationServers;
  const introspecting = issuers.find((issuer) => ports.servers[issuer]?.introspection !== undefined);
  const hot = new ExpiringMap<{ token: VerifiedAccessToken; kid: string | undefined; thumbprint: string }>({ maxEntries: HOT_ACCESS_TOKEN_CACHE_ENTRIES, maxKeyLength: MAX_ACCESS_TOKEN_BYTES, now: ports.now });

  // RFC 6750 §3: no error code when no token was presented; the route's scopes help the client ask for enough.
  const scopeParam = config.scopes && config.scopes.length > 0 ? [`scope=${quoted(config.scopes.join(' '))}`] : [];
  const missingChallenges = [
    ...(bearerOk ? [['Bearer', [rm, ...scopeParam].join(', ')].join(' ')] : []),
    ...(dpopOk ? [`DPoP ${[algs, rm, ...scopeParam].join(', ')}`] : []),
  ];
  const challenge = (scheme: 'bearer' | 'dpop', error: string, extra: string[] = []) =>
    scheme === 'dpop' ? `DPoP error=${quoted(error)}, ${[...extra, algs, rm].join(', ')}` : `Bearer error=${quoted(error)}, ${[...extra, rm].join(', ')}`;
  const refuse = (code: AuthErrorCode, detail: string, scheme: 'bearer' | 'dpop', error: string, options: { status?: number; extra?: string[]; headers?: Record<string, string> } = {}): OAuthRefusal => {
    const refusal: OAuthRefusal = { ok: false, code, detail, challenges: [challenge(scheme, error, options.extra)] };
    if (options.status !== undefined) refusal.status = options.status;
    if (options.headers) refusal.headers = options.headers;
    return refusal;
  };
  const invalidRequest = (detail: string): OAuthRefusal => ({
    ok: false,
    code: 'ERR_OAUTH_REQUEST_INVALID',
    detail,
    // RFC 6750 §3.1 and RFC 9449 Figure 19: the error on every scheme the route accepts.
    challenges: [...(bearerOk ? [challenge('bearer', 'invalid_request')] : []), ...(dpopOk ? [challenge('dpop', 'invalid_request')] : [])],
  });

  const extract = (request: Request): Presented | OAuthRefusal | undefined => {
    // The query is parsed (names may be percent-encoded) only when there is one.
    if (request.url.includes('?') && new URL(request.url).searchParams.has('access_token')) return invalidRequest('an access_token query parameter (RFC 6750 §2.3; MCP forbids tokens in the URI)');
    const value = request.headers.get('authorization');
    if (value === null) return undefined;
    const space = value.indexOf(' ');
    const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
    if (scheme !== 'bearer' && scheme !== 'dpop') return undefined;
    if ((scheme === 'bearer' && !bearerOk) || (scheme === 'dpop' && !dpopOk)) return undefined;
    if (value.includes(',')) return invalidRequest('the Authorization field appears more than once');
    const token = value.slice(space + 1).replace(/^ +/, '');
    if (space < 0 || token === '' || !TOKEN68.test(token)) return invalidRequest(`the ${scheme === 'dpop' ? 'DPoP' : 'Bearer'} credentials are not one token68`);
    if (scheme === 'bearer') return { scheme, token };
    const proof = request.headers.get('dpop');
    // RFC 9449 §4.3 step 1: exactly one DPoP field (a Headers object joins repeats with ", ").
    if (proof === null) return refuse('ERR_DPOP_PROOF_MISSING', 'Authorization: DPoP without a DPoP proof', 'dpop', 'invalid_dpop_proof');
    if (proof.includes(',') || /\s/.test(proof)) return refuse('ERR_DPOP_MALFORMED', 'the DPoP field appears more than once or holds more than one value', 'dpop', 'invalid_dpop_proof');
    return { scheme, token, proof };
  };

  /** The verified token: from the hot cache, local JWT verification, or introspection. `tokenHash`: when already computed. */
  const verifyToken = async (presented: Presented, background: Background | undefined, tokenHash?: string): Promise<{ ok: true; token: VerifiedAccessToken; via: 'jwt' | 'introspected' } | OAuthRefusal> => {
    const { token, scheme } = presented;
    if (!JWT_SHAPE.test(token)) {
      if (!introspecting || !ports.introspector) return refuse('ERR_ACCESS_TOKEN_MALFORMED', 'not a JWT, and no authorization server of this route introspects tokens', scheme, 'invalid_token');
      const answer = await ports.introspector.introspect(introspecting, token, { audience: resource, dpop: scheme === 'dpop', ...(background ? { background } : {}) });
      if (!answer.ok) {
        if (answer.code === 'ERR_INTROSPECTION_FAILED' || answer.code === 'ERR_INTROSPECTION_RESPONSE_INVALID' || answer.code === 'ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED') return { ok: false, code: answer.code, detail: answer.detail, challenges: [] };
        return refuse(answer.code, answer.detail, scheme, 'invalid_token');
      }
      return { ok: true, token: answer.value, via: 'introspected' };
    }
    const cached = token.length <= MAX_ACCESS_TOKEN_BYTES ? hot.get(token) : undefined;
    if (cached && cached.token.expiresAt > ports.now()) {
      const current = await ports.keys.key(cached.token.issuer, cached.kid, background).catch(() => undefined);
      if (current?.thumbprint === cached.thumbprint) return { ok: true, token: cached.token, via: 'jwt' };
      hot.delete(token);
    }
    let used: { kid: string | undefined; thumbprint: string } | undefined;
    let unavailable = false;
    const claimedIssuer = unverifiedClaims(token)?.iss;
    const server = claimedIssuer !== undefined && issuers.includes(claimedIssuer) ? ports.servers[claimedIssuer] : undefined;
    const verified = await verifyAccessToken(token, {
      keys: async (issuer, kid) => {
        try {
          const found = await ports.keys.key(issuer, kid, background);
          if (found) used = { kid, thumbprint: found.thumbprint };
          return found?.jwk;
        } catch (error) {
          if (error instanceof KeySourceUnavailableError) unavailable = true;
          throw error;
        }
      },
      policy: {
        issuers,
        audience: resource,
        algorithms: server?.algorithms ?? ['RS256', 'ES256'],
        clockSkewSeconds: server?.clockSkewSeconds,
        maxLifetimeSeconds: server?.maxTokenLifetimeSeconds,
      },
      now: ports.now,
      ...(tokenHash !== undefined ? { tokenHash } : {}),
    });
    if (!verified.ok) {
      if (verified.code === 'ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED' || unavailable) return { ok: false, code: 'ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED', detail: verified.detail, challenges: [] };
      return refuse(verified.code, verified.detail, scheme, 'invalid_token');
    }
    const ttl = verified.value.expiresAt - ports.now();
    if (used && ttl > 0 && token.length <= MAX_ACCESS_TOKEN_BYTES) hot.set(token, { token: verified.value, ...used }, ttl);
    return { ok: true, token: verified.value, via: 'jwt' };
  };

  return {
    resource,
    metadataUrl,
    missingChallenges,
    invalidRequest,
    presents: (request) => {
      const found = extract(request);
      return found !== undefined;
    },
    authenticate: async (request, path, background) => {
      const presented = extract(request);
      if (presented === undefined) return { ok: false, code: 'ERR_CREDENTIALS_MISSING', detail: 'no access token presented', challenges: missingChallenges };
      if ('ok' in presented) return presented;
      let dpopJkt: string | undefined;
      let headers: Record<string, string> | undefined;
      let verified: Awaited<ReturnType<typeof verifyToken>>;
      if (presented.scheme === 'bearer') {
        verified = await verifyToken(presented, background);
        if (!verified.ok) return verified;
        if (verified.token.cnfJkt !== undefined) return refuse('ERR_ACCESS_TOKEN_DPOP_BOUND', 'a DPoP-bound token presented as a Bearer token (RFC 9449 §7.2)', 'bearer', 'invalid_token');
      } else {
        const nonce = config.dpopNonce ? await ports.nonces.accepted() : undefined;
        const checkProof = (expectedJkt: string, tokenHash: string) =>
          verifyDpopProof(presented.proof!, {
            method: request.method,
            url: `${resourceOrigin}${path}`,
            accessToken: presented.token,
            accessTokenHash: tokenHash,
            expectedJkt,
            ...(nonce ? { nonce } : {}),
            replay: ports.replay,
            policy: { algorithms: dpopAlgorithms },
            now: ports.now,
          });
        // A JWT not yet verified: the token and the proof are checked at once (each is one signature; neither needs
        // the other's result but the token's cnf.jkt, read here unverified and compared again once the token has
        // verified). A proof whose token then fails has spent its jti: it could not be used again anyway.
        const claimedJkt = JWT_SHAPE.test(presented.token) && !hot.get(presented.token) ? unverifiedClaims(presented.token)?.jkt : undefined;
        let proof: Awaited<ReturnType<typeof checkProof>> | undefined;
        let boundTo: string | undefined;
        if (claimedJkt !== undefined) {
          const tokenHash = await sha256b64url(presented.token);
          boundTo = claimedJkt;
          [verified, proof] = await Promise.all([verifyToken(presented, background, tokenHash), checkProof(claimedJkt, tokenHash)]);
          if (!verified.ok) return verified;
        } else {
          verified = await verifyToken(presented, background);
          if (!verified.ok) return verified;
          boundTo = verified.token.cnfJkt;
          if (boundTo !== undefined) proof = await checkProof(boundTo, verified.token.tokenHash);
        }
        if (verified.token.cnfJkt === undefined) return refuse('ERR_ACCESS_TOKEN_NOT_DPOP_BOUND', 'the DPoP scheme with a token that is not bound to a key (RFC 9449 §7.1)', 'dpop', 'invalid_token');
        if (verified.token.cnfJkt !== boundTo || !proof) return refuse('ERR_DPOP_KEY_MISMATCH', 'the proof was checked against another key than the token binds', 'dpop', 'invalid_token');
        if (!proof.ok) {
          switch (proof.code) {
            case 'ERR_DPOP_REPLAY_STORE_FAILED':
              return { ok: false, code: proof.code, detail: proof.detail, challenges: [] };
            case 'ERR_DPOP_NONCE_REQUIRED':
            case 'ERR_DPOP_NONCE_INVALID':
              return refuse(proof.code, proof.detail, 'dpop', 'use_dpop_nonce', { headers: { 'dpop-nonce': nonce![0]! } });
            case 'ERR_DPOP_KEY_MISMATCH':
              return refuse(proof.code, proof.detail, 'dpop', 'invalid_token');
            default:
              return refuse(proof.code, proof.detail, 'dpop', 'invalid_dpop_proof');
          }
        }
        dpopJkt = proof.value.jkt;
        if (nonce) headers = { 'dpop-nonce': nonce[0]! };
      }
      const token = verified.token;
      const user: UserPrincipal = {
        issuer: token.issuer,
        subject: token.subject,
        clientId: token.clientId,
        scopes: token.scopes,
        token: verified.via,
        tokenHash: token.tokenHash,
        expiresAt: new Date(token.expiresAt).toISOString(),
      };
      if (token.acr !== undefined) user.acr = token.acr;
      if (token.authTime !== undefined) user.authTime = new Date(token.authTime).toISOString();
      if (dpopJkt !== undefined) user.dpopJkt = dpopJkt;
      return headers ? { ok: true, user, headers } : { ok: true, user };
    },
    requirementProblem: (user, requirement) => {
      if (!user) {
        if (requirement.scopes.length === 0 && requirement.acrValues === undefined && requirement.maxAge === undefined) return undefined;
        // Scopes and authentication context are what a token carries: without one, ask for one (RFC 6750 §3).
        return { ok: false, code: 'ERR_ACCESS_TOKEN_REQUIRED', detail: 'the operation needs scopes or a user authentication that only an access token carries', challenges: missingChallenges };
      }
      const scheme = user.dpopJkt !== undefined ? 'dpop' : 'bearer';
      const missing = requirement.scopes.filter((s) => !user.scopes.includes(s));
      if (missing.length > 0) {
        // MCP 2026-07-28: one challenge with every scope this operation needs, not only the missing ones.
        return refuse('ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', `missing scope(s) ${missing.join(' ')}`, scheme, 'insufficient_scope', { extra: [`scope=${quoted(requirement.scopes.join(' '))}`] });
      }
      const stepUp: string[] = [];
      if (requirement.acrValues !== undefined && (user.acr === undefined || !requirement.acrValues.includes(user.acr))) stepUp.push(`acr_values=${quoted(requirement.acrValues.join(' '))}`);
      if (requirement.maxAge !== undefined) {
        const authTime = user.authTime === undefined ? undefined : Date.parse(user.authTime);
        // RFC 9470 §3: a token without auth_time cannot show a recent enough authentication.
        if (authTime === undefined || ports.now() - authTime > requirement.maxAge * 1000) stepUp.push(`max_age=${quoted(String(requirement.maxAge))}`);
      }
      if (stepUp.length > 0) {
        return refuse('ERR_ACCESS_TOKEN_INSUFFICIENT_USER_AUTH', `the token's authentication does not meet ${stepUp.map((p) => p.split('=')[0]).join(' and ')}`, scheme, 'insufficient_user_authentication', { extra: stepUp });
      }
      return undefined;
    },
  };
}

/** What a JWT claims about its issuer and key binding, read without trusting it (to pick the issuer's algorithm policy, and to check a DPoP proof while the token's signature is checked); undefined when unreadable. */
function unverifiedClaims(token: string): { iss?: string; jkt?: string } | undefined {
  if (token.length > MAX_ACCESS_TOKEN_BYTES) return undefined;
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) return undefined;
  const { iss, cnf } = parsed.value.claims as { iss?: unknown; cnf?: { jkt?: unknown } };
  const claims: { iss?: string; jkt?: string } = {};
  if (typeof iss === 'string') claims.iss = iss;
  if (typeof cnf === 'object' && cnf !== null && typeof cnf.jkt === 'string') claims.jkt = cnf.jkt;
  return claims;
}
