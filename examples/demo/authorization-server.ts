/**
 * A small OAuth 2.0 authorization server for the dev stack, so OAuth flows through the gateway run with nothing
 * else installed. The demo upstreams (serve.ts) mount it below `/as`, so its issuer is `http://127.0.0.1:<port>/as`
 * (devAuthorizationServerIssuer). It is for local development only: static clients with published secrets,
 * in-memory keys and state, no persistence.
 *
 * Endpoints (for issuer `<origin>/as`):
 *   GET  <origin>/.well-known/oauth-authorization-server/as   RFC 8414 metadata (§3.1: path insertion)
 *   GET  <origin>/as/jwks                                     the signing key set (one ES256 key, made at start)
 *   POST <origin>/as/token                                    client_credentials (RFC 6749 §4.4), DPoP (RFC 9449 §5); with
 *                                                             `peers` token exchange for a JWT authorization grant, with
 *                                                             `trust` the jwt-bearer grant (identity chaining, below)
 *   POST <origin>/as/introspect                               RFC 7662; a signed JWT answer (RFC 9701) on request
 *   *    <origin>/as/authorize                                400 unsupported_response_type (advertised only because
 *                                                             RFC 8414 clients such as the MCP SDK require the field)
 *
 * Static clients (client_secret_basic or client_secret_post, RFC 6749 §2.3.1):
 *
 *   client_id            client_secret                may get scopes        tokens
 *   demo-agent           demo-agent-secret            mcp:tools mcp:admin   JWT access tokens (RFC 9068)
 *   demo-opaque          demo-opaque-secret           mcp:tools mcp:admin   opaque random strings, only introspection resolves them
 *   portcullis-gateway   portcullis-gateway-secret    (none)                none: may call the introspection endpoint
 *   portcullis-egress    portcullis-egress-secret     (none)                only through the chaining grants (a gateway's egress)
 *
 * Token requests: `grant_type=client_credentials`; `scope` optional (default `mcp:tools`), a subset of the
 * client's scopes; `resource` (RFC 8707) required, exactly one absolute URI without a fragment, and the token's
 * audience is exactly that string. Tokens live 300 s and carry `acr` = DEV_ACR and `auth_time` = issue time, so a
 * resource server's step-up checks can be exercised. With a valid `DPoP` proof the token is bound to the proof
 * key (`cnf.jkt`) and its type is `DPoP`; otherwise `Bearer`.
 *
 * Identity chaining (draft-ietf-oauth-identity-chaining-17), for two dev servers standing for two trust domains:
 *   - token exchange (RFC 8693, chaining §2.3), with `peers` (issuers of other authorization servers): a chaining
 *     client (portcullis-egress) sends `subject_token` = an access token issued here (JWT or opaque,
 *     subject_token_type access_token) and exactly one `resource` or `audience` naming a peer (else invalid_target);
 *     `scope` optional, a subset of the subject token's (default: all of them). The answer is a JWT authorization
 *     grant (issued_token_type jwt, token_type N_A, 60 s): iss this issuer, sub the subject token's sub, aud the
 *     peer, iat, exp, jti, scope, client_id (the exchanging client). An unusable subject token is invalid_request
 *     (RFC 8693 §2.2.2).
 *   - jwt-bearer (RFC 7523 §2.1, chaining §2.4), with `trust` (issuer -> its JWK Set URL, or a function giving the
 *     set): `assertion` = a grant from a trusted issuer, checked per RFC 7523 §3 (iss trusted, ES256/RS256-family
 *     signature, aud this issuer or its token endpoint, exp, sub, jti used once; an `at+jwt` access token is no
 *     grant); `resource` required (the access token's aud); `scope` a subset of the grant's scopes that this server
 *     knows (default: all of those). Client authentication is optional (RFC 7523 §3.1); when present the client
 *     must be a chaining client. The answer is a JWT access token as above with sub = the grant's sub, and no
 *     refresh token (chaining §5). Grant failures are invalid_grant.
 *
 * Every answer carries `Cache-Control: no-store` (keys change at every start). Nothing here logs: secrets and tokens never leave the responses they belong to. Opaque tokens are kept by their
 * SHA-256 hash only.
 */
import { base64url, calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, EmbeddedJWK, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { readBounded } from '../../src/read-bounded.ts';
import { ACCESS_TOKEN_TYPE, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/oauth-uris.ts';

export const DEV_AS_PATH = '/as';
/** RFC 8414 §3.1: the well-known segment inserted before the issuer's path. */
export const DEV_AS_METADATA_PATH = '/.well-known/oauth-authorization-server/as';
/** `acr` of every token issued here: the client authenticated with a shared secret. */
export const DEV_ACR = 'urn:portcullis:dev:client-secret';
export const DEV_DEFAULT_SCOPE = 'mcp:tools';
export const DEV_SCOPES = ['mcp:tools', 'mcp:admin', 'a2a:call', 'a2a:admin'] as const;
export const DEV_TOKEN_TTL_SECONDS = 300;
/** Request bodies larger than this are refused with 413. */
export const DEV_AS_MAX_BODY_BYTES = 16 * 1024;
/** DPoP proofs are accepted for this long after (and this far before) their `iat`. */
const DPOP_WINDOW_SECONDS = 60;
/** Caps on in-memory state, so a busy dev loop cannot grow it without bound. */
const MAX_OPAQUE_TOKENS = 10_000;
const MAX_DPOP_JTIS = 10_000;

export interface DevClient {
  secret: string;
  /** Scopes the client may be granted. */
  scopes: readonly string[];
  /** What the token endpoint issues to it: `none` refuses token requests (unauthorized_client). */
  tokens: 'jwt' | 'opaque' | 'none';
  /** May call the introspection endpoint. */
  introspect: boolean;
  /** May use the identity-chaining grants (token exchange, jwt-bearer). */
  chaining?: boolean;
}

export const DEV_CLIENTS: Readonly<Record<string, DevClient>> = {
  'demo-agent': { secret: 'demo-agent-secret', scopes: DEV_SCOPES, tokens: 'jwt', introspect: false },
  'demo-opaque': { secret: 'demo-opaque-secret', scopes: DEV_SCOPES, tokens: 'opaque', introspect: false },
  'portcullis-gateway': { secret: 'portcullis-gateway-secret', scopes: [], tokens: 'none', introspect: true },
  'portcullis-egress': { secret: 'portcullis-egress-secret', scopes: [], tokens: 'none', introspect: false, chaining: true },
};

/** Lifetime of a JWT authorization grant (chaining §2.3 example: 60 s; short-lived against replay, §5). */
export const DEV_GRANT_TTL_SECONDS = 60;
/** Assertions accepted for the jwt-bearer grant. */
const GRANT_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];
const MAX_GRANT_JTIS = 10_000;
/** A trusted issuer's fetched key set is reused this long; an unknown kid refetches at most this often. */
const TRUST_KEYS_TTL_MS = 5 * 60_000;
const TRUST_KEYS_REFETCH_MS = 10_000;
const MAX_TRUST_JWKS_BYTES = 64 * 1024;

/** Where a trusted peer's grant signing keys come from: its JWK Set URL, or a function giving the set. */
export type DevTrustedIssuer = { jwksUrl: string } | { jwks: () => Promise<JSONWebKeySet> };

/** DPoP proof algorithms accepted (asymmetric only; RFC 9449 §4.2). */
const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'];
const AUTH_METHODS = ['client_secret_basic', 'client_secret_post'];
const REALM = 'portcullis-dev-as';
const INTROSPECTION_JWT = 'application/token-introspection+jwt';

/** The issuer of the dev authorization server on a demo upstreams listener. */
export function devAuthorizationServerIssuer(port: number, hostname = '127.0.0.1'): string {
  return `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}${DEV_AS_PATH}`;
}

/** Whether serve.ts should hand `pathname` to the authorization server. */
export function isAuthorizationServerPath(pathname: string): boolean {
  return pathname === DEV_AS_PATH || pathname.startsWith(`${DEV_AS_PATH}/`) || pathname === DEV_AS_METADATA_PATH;
}

export interface DevAuthorizationServerOptions {
  /** `<origin>/as`, e.g. from devAuthorizationServerIssuer(port). */
  issuer: string;
  /** Epoch milliseconds; for tests. */
  now?: () => number;
  /** Issuers of peer authorization servers a token exchange may name as `resource` / `audience` (chaining §2.3). */
  peers?: readonly string[];
  /** Issuers whose JWT authorization grants the jwt-bearer grant accepts, and their keys (chaining §2.4). */
  trust?: Readonly<Record<string, DevTrustedIssuer>>;
  /** Fetches trusted issuers' `jwksUrl`; default the global fetch. */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
}

export interface DevAuthorizationServer {
  issuer: string;
  tokenEndpoint: string;
  introspectionEndpoint: string;
  jwksUri: string;
  metadataUrl: string;
  fetch(request: Request): Promise<Response>;
}

interface TokenRecord {
  clientId: string;
  /** The resource owner: the client itself for client_credentials, the grant's sub for jwt-bearer. */
  sub: string;
  scope: string;
  aud: string;
  iat: number;
  exp: number;
  jkt?: string;
}

class OAuthError {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly headers: Record<string, string>;
  constructor(status: number, error: string, description: string, headers: Record<string, string> = {}) {
    this.status = status;
    this.error = error;
    this.description = description;
    this.headers = headers;
  }
}

const invalidClient = (description: string) => new OAuthError(401, 'invalid_client', description, { 'www-authenticate': `Basic realm="${REALM}"` });

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

function errorResponse(e: OAuthError): Response {
  return json({ error: e.error, error_description: e.description }, e.status, e.headers);
}

function methodNotAllowed(allow: string): Response {
  return json({ error: 'invalid_request', error_description: `method not allowed; use ${allow}` }, 405, { allow });
}

const encoder = new TextEncoder();

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Compares two strings in time independent of where they differ: their SHA-256 digests, byte by byte. */
async function secretsEqual(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function tokenKey(token: string): Promise<string> {
  return Array.from(await sha256(token), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** application/x-www-form-urlencoded decoding of one component (RFC 6749 §2.3.1, Appendix B). */
function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** The form body's parameters; empty values count as absent, and only `multi` names may repeat (RFC 6749 §3.1). */
async function readForm(request: Request, multi: readonly string[] = []): Promise<Map<string, string[]>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new OAuthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  const declared = Number(request.headers.get('content-length') ?? '0');
  const tooLarge = new OAuthError(413, 'invalid_request', `the body exceeds ${DEV_AS_MAX_BODY_BYTES} bytes`);
  if (declared > DEV_AS_MAX_BODY_BYTES) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge;
  }
  const bytes = await readBounded(request.body, DEV_AS_MAX_BODY_BYTES);
  if (!bytes) throw tooLarge;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new OAuthError(400, 'invalid_request', 'the body is not UTF-8');
  }
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (value === '') continue;
    const values = params.get(name) ?? [];
    if (values.length > 0 && !multi.includes(name)) throw new OAuthError(400, 'invalid_request', `parameter ${name} is repeated`);
    values.push(value);
    params.set(name, values);
  }
  return params;
}

const single = (params: Map<string, string[]>, name: string) => params.get(name)?.[0];

/**
 * Client authentication (RFC 6749 §2.3.1): HTTP Basic with form-encoded id and secret, or `client_id` and
 * `client_secret` in the body, never both. Unknown clients are compared against a dummy secret too, so the
 * answer takes as long as for a wrong secret.
 */
async function authenticateClient(request: Request, params: Map<string, string[]>): Promise<[string, DevClient]> {
  const authorization = request.headers.get('authorization');
  const basic = authorization !== null && /^basic /i.test(authorization.trimStart());
  let clientId: string | undefined;
  let secret: string | undefined;
  if (basic) {
    if (params.has('client_secret')) throw new OAuthError(400, 'invalid_request', 'use one client authentication method, not two');
    let decoded: string;
    try {
      decoded = atob(authorization!.trimStart().slice(6).trim());
    } catch {
      throw invalidClient('malformed Basic credentials');
    }
    const colon = decoded.indexOf(':');
    if (colon === -1) throw invalidClient('malformed Basic credentials');
    clientId = formDecode(decoded.slice(0, colon));
    secret = formDecode(decoded.slice(colon + 1));
    if (clientId === undefined || secret === undefined) throw invalidClient('malformed Basic credentials');
    const bodyId = single(params, 'client_id');
    if (bodyId !== undefined && bodyId !== clientId) throw invalidClient('client_id differs from the authenticated client');
  } else {
    clientId = single(params, 'client_id');
    secret = single(params, 'client_secret');
    if (clientId === undefined || secret === undefined) throw invalidClient('client authentication is required (client_secret_basic or client_secret_post)');
  }
  const client = Object.hasOwn(DEV_CLIENTS, clientId) ? DEV_CLIENTS[clientId] : undefined;
  const matches = await secretsEqual(secret, client?.secret ?? 'no such client: compare anyway');
  if (!client || !matches) throw invalidClient('client authentication failed');
  return [clientId, client];
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** A caller-supplied value safe to echo in an error description: short printable ASCII, else nothing. */
function quoted(value: string): string {
  return value.length <= 64 && /^[\x20-\x7e]*$/.test(value) ? ` ${JSON.stringify(value)}` : '';
}

export function createDevAuthorizationServer({ issuer, now = Date.now, peers = [], trust = {}, fetch: fetchImpl = (url, init) => fetch(url, init) }: DevAuthorizationServerOptions): DevAuthorizationServer {
  const base = new URL(issuer);
  if (base.search || base.hash || base.pathname !== DEV_AS_PATH) throw new Error(`dev authorization server: issuer must be <origin>${DEV_AS_PATH}, got ${issuer}`);
  const tokenEndpoint = `${issuer}/token`;
  const introspectionEndpoint = `${issuer}/introspect`;
  const jwksUri = `${issuer}/jwks`;
  const authorizationEndpoint = `${issuer}/authorize`;
  const metadataUrl = `${base.origin}${DEV_AS_METADATA_PATH}`;
  const metadata = {
    issuer,
    authorization_endpoint: authorizationEndpoint,
    token_endpoint: tokenEndpoint,
    jwks_uri: jwksUri,
    introspection_endpoint: introspectionEndpoint,
    response_types_supported: [],
    grant_types_supported: ['client_credentials', ...(peers.length > 0 ? [TOKEN_EXCHANGE_GRANT] : []), ...(Object.keys(trust).length > 0 ? [JWT_BEARER_GRANT] : [])],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    introspection_signing_alg_values_supported: ['ES256'],
    scopes_supported: [...DEV_SCOPES],
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
  };

  // Keys are made once, at start; requests wait for them.
  const keys = (async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk, 'sha256');
    return { privateKey, publicKey, jwks: { keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] }, kid };
  })();
  keys.catch(() => {});

  const opaque = new Map<string, TokenRecord>();
  const dpopJtis = new Map<string, number>();
  const grantJtis = new Map<string, number>();
  const trustKeys = new Map<string, { keys: ReturnType<typeof createLocalJWKSet>; fetchedAt: number }>();
  const seconds = () => Math.floor(now() / 1000);

  /** Drops expired entries, then the oldest while over `cap` (Maps iterate in insertion order). */
  function prune<V>(map: Map<string, V>, expiry: (v: V) => number, cap: number) {
    const t = seconds();
    for (const [k, v] of map) if (expiry(v) <= t) map.delete(k);
    for (const k of map.keys()) {
      if (map.size < cap) break;
      map.delete(k);
    }
  }

  /** RFC 9449 §4.3 checks for a proof sent to the token endpoint; returns the key's thumbprint. */
  async function verifyDpop(value: string): Promise<string> {
    const bad = (description: string) => new OAuthError(400, 'invalid_dpop_proof', description);
    if (value.includes(',') || value.length > 8192) throw bad('expected exactly one DPoP proof');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      const verified = await jwtVerify(value, EmbeddedJWK, { algorithms: DPOP_ALGORITHMS, currentDate: new Date(now()) });
      header = verified.protectedHeader as Record<string, unknown>;
      claims = verified.payload as Record<string, unknown>;
    } catch {
      throw bad('the proof is not a JWS signed by the public jwk in its header');
    }
    if (header.typ !== 'dpop+jwt') throw bad('typ must be dpop+jwt');
    if (claims.htm !== 'POST') throw bad('htm must be POST');
    if (typeof claims.htu !== 'string' || !URL.canParse(claims.htu)) throw bad('htu must be the token endpoint URL');
    const htu = new URL(claims.htu);
    htu.search = '';
    htu.hash = '';
    if (htu.href !== new URL(tokenEndpoint).href) throw bad('htu must be the token endpoint URL');
    const iat = claims.iat;
    const t = now() / 1000;
    if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(t - iat) > DPOP_WINDOW_SECONDS) throw bad(`iat must be within ${DPOP_WINDOW_SECONDS} s of now`);
    if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) throw bad('jti must be a non-empty string');
    const jkt = await calculateJwkThumbprint(header.jwk as JWK, 'sha256');
    const replayKey = `${jkt}:${claims.jti}`;
    const seen = dpopJtis.get(replayKey);
    if (seen !== undefined && seen > seconds()) throw bad('jti was already used');
    prune(dpopJtis, (until) => until, MAX_DPOP_JTIS);
    dpopJtis.set(replayKey, Math.ceil(iat) + 2 * DPOP_WINDOW_SECONDS);
    return jkt;
  }

  /** Requested scopes (space-delimited), each in `allowed`; `fallback` when none are requested. */
  function grantedScope(requested: string | undefined, allowed: readonly string[], fallback: readonly string[]): string {
    const asked = (requested ?? '').split(' ').filter((s) => s !== '');
    const scopes = asked.length === 0 ? [...fallback] : [...new Set(asked)];
    for (const s of scopes) {
      if (!SCOPE_TOKEN.test(s) || !allowed.includes(s)) throw new OAuthError(400, 'invalid_scope', `scope${quoted(s)} is not available`);
    }
    return scopes.join(' ');
  }

  /** RFC 8707: exactly one `resource`, an absolute URI without a fragment. */
  function singleResource(params: Map<string, string[]>): string {
    const resources = params.get('resource') ?? [];
    if (resources.length === 0) throw new OAuthError(400, 'invalid_target', 'resource is required (RFC 8707)');
    if (resources.length > 1) throw new OAuthError(400, 'invalid_target', 'exactly one resource per token');
    const aud = resources[0]!;
    if (!URI_SCHEME.test(aud) || aud.includes('#') || !URL.canParse(aud)) throw new OAuthError(400, 'invalid_target', 'resource must be an absolute URI without a fragment');
    return aud;
  }

  /** An access token (JWT per RFC 9068, or opaque) and its token-endpoint answer. */
  async function issueAccessToken(request: Request, t: { clientId: string; sub: string; scope: string; aud: string; opaque: boolean }): Promise<Response> {
    const proofs = request.headers.get('dpop');
    const jkt = proofs === null ? undefined : await verifyDpop(proofs);
    const tokenType = jkt ? 'DPoP' : 'Bearer';
    const iat = seconds();
    const exp = iat + DEV_TOKEN_TTL_SECONDS;
    const { clientId, sub, scope, aud } = t;
    let accessToken: string;
    if (t.opaque) {
      accessToken = randomToken();
      prune(opaque, (r) => r.exp, MAX_OPAQUE_TOKENS);
      opaque.set(await tokenKey(accessToken), { clientId, sub, scope, aud, iat, exp, ...(jkt ? { jkt } : {}) });
    } else {
      const { privateKey, kid } = await keys;
      accessToken = await new SignJWT({ client_id: clientId, scope, acr: DEV_ACR, auth_time: iat, ...(jkt ? { cnf: { jkt } } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(aud)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(randomToken(16))
        .sign(privateKey);
    }
    return json({ access_token: accessToken, token_type: tokenType, expires_in: DEV_TOKEN_TTL_SECONDS, scope });
  }

  async function token(request: Request): Promise<Response> {
    const params = await readForm(request, ['resource', 'audience']);
    const grantType = single(params, 'grant_type');
    // jwt-bearer: client authentication is optional (RFC 7523 §3.1); every other grant requires it.
    if (grantType === JWT_BEARER_GRANT && request.headers.get('authorization') === null && !params.has('client_id') && !params.has('client_secret')) return jwtBearer(request, params, undefined);
    const [clientId, client] = await authenticateClient(request, params);
    if (grantType === undefined) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
    if (grantType === TOKEN_EXCHANGE_GRANT && peers.length > 0) {
      if (!client.chaining) throw new OAuthError(400, 'unauthorized_client', 'this client may not exchange tokens');
      return tokenExchange(clientId, params);
    }
    if (grantType === JWT_BEARER_GRANT && Object.keys(trust).length > 0) {
      if (!client.chaining) throw new OAuthError(400, 'unauthorized_client', 'this client may not use the jwt-bearer grant');
      return jwtBearer(request, params, clientId);
    }
    if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', `supported: ${metadata.grant_types_supported.join(', ')}`);
    if (client.tokens === 'none') throw new OAuthError(400, 'unauthorized_client', 'this client may not obtain tokens');
    if (params.has('audience')) throw new OAuthError(400, 'invalid_request', 'audience is for token exchange; use resource');
    const scope = grantedScope(single(params, 'scope'), client.scopes, [DEV_DEFAULT_SCOPE]);
    const aud = singleResource(params);
    return issueAccessToken(request, { clientId, sub: clientId, scope, aud, opaque: client.tokens === 'opaque' });
  }

  /** RFC 8693 token exchange profiled by identity chaining §2.3: an access token from here -> a JWT grant for a peer. */
  async function tokenExchange(clientId: string, params: Map<string, string[]>): Promise<Response> {
    const subjectToken = single(params, 'subject_token');
    const subjectType = single(params, 'subject_token_type');
    if (subjectToken === undefined || subjectType === undefined) throw new OAuthError(400, 'invalid_request', 'subject_token and subject_token_type are required');
    if (subjectType !== ACCESS_TOKEN_TYPE) throw new OAuthError(400, 'invalid_request', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (params.has('actor_token') || params.has('actor_token_type')) throw new OAuthError(400, 'invalid_request', 'actor tokens are not supported');
    const requestedType = single(params, 'requested_token_type');
    if (requestedType !== undefined && requestedType !== JWT_TOKEN_TYPE) throw new OAuthError(400, 'invalid_request', `requested_token_type must be ${JWT_TOKEN_TYPE}`);
    const targets = [...(params.get('resource') ?? []), ...(params.get('audience') ?? [])];
    if (targets.length !== 1) throw new OAuthError(400, 'invalid_target', 'exactly one resource or audience (the peer authorization server) is required');
    const aud = targets[0]!;
    if (!peers.includes(aud)) throw new OAuthError(400, 'invalid_target', `${quoted(aud).trim() || 'the target'} is not a peer authorization server`);
    // RFC 8693 §2.2.2: an invalid or unacceptable subject token is invalid_request.
    const record = subjectToken.length <= 8192 ? await lookup(subjectToken) : undefined;
    if (!record) throw new OAuthError(400, 'invalid_request', 'subject_token is not an active access token issued here');
    const held = record.scope.split(' ').filter((s) => s !== '');
    const scope = grantedScope(single(params, 'scope'), held, held);
    const iat = seconds();
    const { privateKey, kid } = await keys;
    const grant = await new SignJWT({ scope, client_id: clientId })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(issuer)
      .setSubject(record.sub)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(iat + DEV_GRANT_TTL_SECONDS)
      .setJti(randomToken(16))
      .sign(privateKey);
    return json({ access_token: grant, issued_token_type: JWT_TOKEN_TYPE, token_type: 'N_A', expires_in: DEV_GRANT_TTL_SECONDS, scope });
  }

  /** A trusted issuer's key set: fetched (bounded) and kept TRUST_KEYS_TTL_MS; `refresh` refetches a set older than TRUST_KEYS_REFETCH_MS. */
  async function trustedKeys(iss: string, refresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    const cached = trustKeys.get(iss);
    const age = cached ? now() - cached.fetchedAt : Infinity;
    if (cached && age < TRUST_KEYS_TTL_MS && !(refresh && age >= TRUST_KEYS_REFETCH_MS)) return cached.keys;
    const source = trust[iss]!;
    let set: JSONWebKeySet;
    if ('jwks' in source) {
      set = await source.jwks();
    } else {
      const response = await fetchImpl(source.jwksUrl, { redirect: 'manual', signal: AbortSignal.timeout(5_000), headers: { accept: 'application/json' } });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`jwks answered ${response.status}`);
      }
      const bytes = await readBounded(response.body, MAX_TRUST_JWKS_BYTES);
      if (!bytes) throw new Error('jwks too large');
      set = JSON.parse(new TextDecoder().decode(bytes)) as JSONWebKeySet;
    }
    const keySet = createLocalJWKSet(set);
    trustKeys.set(iss, { keys: keySet, fetchedAt: now() });
    return keySet;
  }

  /** RFC 7523 §2.1 / §3 profiled by identity chaining §2.4: a peer's JWT grant -> an access token here. */
  async function jwtBearer(request: Request, params: Map<string, string[]>, clientId: string | undefined): Promise<Response> {
    if (Object.keys(trust).length === 0) throw new OAuthError(400, 'unsupported_grant_type', `supported: ${metadata.grant_types_supported.join(', ')}`);
    const invalidGrant = (description: string) => new OAuthError(400, 'invalid_grant', description);
    const assertion = single(params, 'assertion');
    if (assertion === undefined) throw new OAuthError(400, 'invalid_request', 'assertion is required');
    if (assertion.length > 8192 || assertion.split('.').length !== 3) throw invalidGrant('the assertion is not a single signed JWT');
    let iss: unknown;
    let typ: unknown;
    try {
      iss = decodeJwt(assertion).iss;
      typ = decodeProtectedHeader(assertion).typ;
    } catch {
      throw invalidGrant('the assertion is not a JWT');
    }
    if (typeof iss !== 'string' || !Object.hasOwn(trust, iss)) throw invalidGrant('the assertion\'s issuer is not trusted');
    if (typeof typ === 'string' && typ.toLowerCase().replace(/^application\//, '') === 'at+jwt') throw invalidGrant('an access token is not an authorization grant');
    let claims: Record<string, unknown> | undefined;
    for (const refresh of [false, true]) {
      let keySet;
      try {
        keySet = await trustedKeys(iss, refresh);
      } catch {
        throw new OAuthError(503, 'temporarily_unavailable', 'the issuer\'s keys could not be fetched');
      }
      try {
        const verified = await jwtVerify(assertion, keySet, { issuer: iss, audience: [issuer, tokenEndpoint], algorithms: GRANT_ALGORITHMS, currentDate: new Date(now()), clockTolerance: 30, requiredClaims: ['exp', 'sub', 'jti'] });
        claims = verified.payload as Record<string, unknown>;
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_JWKS_NO_MATCHING_KEY' && !refresh) continue;
        if (code === 'ERR_JWT_EXPIRED') throw invalidGrant('the assertion has expired');
        if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw invalidGrant(`claim check failed: ${(error as { claim?: string }).claim ?? 'unknown'}`);
        throw invalidGrant('the assertion\'s signature does not verify with its issuer\'s keys');
      }
    }
    if (!claims) throw invalidGrant('the assertion\'s signature does not verify with its issuer\'s keys');
    const sub = claims.sub;
    const jti = claims.jti;
    const exp = claims.exp as number;
    // Chaining §2.4: deny when the subject cannot be identified.
    if (typeof sub !== 'string' || sub === '' || sub.length > 1024) throw invalidGrant('the assertion names no subject');
    if (typeof jti !== 'string' || jti === '' || jti.length > 256) throw invalidGrant('the assertion has no usable jti');
    const resource = singleResource(params);
    const offered = typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => DEV_SCOPES.includes(s as (typeof DEV_SCOPES)[number])) : [];
    const scope = grantedScope(single(params, 'scope'), offered, offered);
    // RFC 7523 §3 item 7 / chaining §5: single use, remembered until it expires.
    const replayKey = `${iss}\n${jti}`;
    const seen = grantJtis.get(replayKey);
    if (seen !== undefined && seen > seconds()) throw invalidGrant('the assertion was already used');
    prune(grantJtis, (until) => until, MAX_GRANT_JTIS);
    grantJtis.set(replayKey, exp + 30);
    const grantClient = typeof claims.client_id === 'string' && claims.client_id.length <= 256 ? claims.client_id : iss;
    return issueAccessToken(request, { clientId: clientId ?? grantClient, sub, scope, aud: resource, opaque: false });
  }

  /** What this server knows about `token`, or undefined when it did not issue it or it has expired. */
  async function lookup(token: string): Promise<TokenRecord | undefined> {
    const t = seconds();
    const record = opaque.get(await tokenKey(token));
    if (record) return record.exp > t ? record : undefined;
    if (token.split('.').length !== 3) return undefined;
    const { publicKey } = await keys;
    try {
      const { payload, protectedHeader } = await jwtVerify(token, publicKey, { issuer, algorithms: ['ES256'], currentDate: new Date(now()), requiredClaims: ['exp', 'iat', 'aud', 'client_id'] });
      if (protectedHeader.typ !== 'at+jwt' || typeof payload.aud !== 'string' || typeof payload.client_id !== 'string' || typeof payload.scope !== 'string') return undefined;
      const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
      return { clientId: payload.client_id, sub: typeof payload.sub === 'string' ? payload.sub : payload.client_id, scope: payload.scope, aud: payload.aud, iat: payload.iat!, exp: payload.exp!, ...(typeof jkt === 'string' ? { jkt } : {}) };
    } catch {
      return undefined;
    }
  }

  async function introspect(request: Request): Promise<Response> {
    const params = await readForm(request);
    const [callerId, caller] = await authenticateClient(request, params);
    if (!caller.introspect) throw invalidClient('this client may not call the introspection endpoint');
    const token = single(params, 'token');
    if (token === undefined) throw new OAuthError(400, 'invalid_request', 'token is required');
    const record = token.length <= 8192 ? await lookup(token) : undefined;
    const answer = record
      ? {
          active: true,
          scope: record.scope,
          client_id: record.clientId,
          sub: record.sub,
          aud: record.aud,
          iss: issuer,
          exp: record.exp,
          iat: record.iat,
          token_type: record.jkt ? 'DPoP' : 'Bearer',
          ...(record.jkt ? { cnf: { jkt: record.jkt } } : {}),
          acr: DEV_ACR,
          auth_time: record.iat,
        }
      : { active: false };
    const accept = (request.headers.get('accept') ?? '').split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
    if (!accept.includes(INTROSPECTION_JWT)) return json(answer);
    // RFC 9701 §5: a signed answer addressed to the caller.
    const { privateKey, kid } = await keys;
    const jwt = await new SignJWT({ token_introspection: answer })
      .setProtectedHeader({ alg: 'ES256', typ: 'token-introspection+jwt', kid })
      .setIssuer(issuer)
      .setAudience(callerId)
      .setIssuedAt(seconds())
      .sign(privateKey);
    return new Response(jwt, { status: 200, headers: { 'content-type': INTROSPECTION_JWT, 'cache-control': 'no-store' } });
  }

  async function route(request: Request): Promise<Response> {
    const { pathname } = new URL(request.url);
    const method = request.method;
    const read = method === 'GET' || method === 'HEAD';
    switch (pathname) {
      case DEV_AS_METADATA_PATH:
        return read ? json(metadata) : methodNotAllowed('GET, HEAD');
      case `${DEV_AS_PATH}/jwks`:
        return read ? json((await keys).jwks) : methodNotAllowed('GET, HEAD');
      case `${DEV_AS_PATH}/token`:
        return method === 'POST' ? token(request) : methodNotAllowed('POST');
      case `${DEV_AS_PATH}/introspect`:
        return method === 'POST' ? introspect(request) : methodNotAllowed('POST');
      case `${DEV_AS_PATH}/authorize`:
        return json({ error: 'unsupported_response_type', error_description: 'this dev authorization server has no authorization endpoint (no interactive grants)' }, 400);
      default:
        return json({ error: 'not_found', error_description: 'no such endpoint', metadata: metadataUrl }, 404);
    }
  }

  return {
    issuer,
    tokenEndpoint,
    introspectionEndpoint,
    jwksUri,
    metadataUrl,
    fetch: async (request) => {
      try {
        return await route(request);
      } catch (error) {
        if (error instanceof OAuthError) return errorResponse(error);
        // No details: they could echo request material.
        return json({ error: 'server_error', error_description: 'internal error' }, 500);
      }
    },
  };
}
