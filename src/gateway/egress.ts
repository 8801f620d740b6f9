/**
 * Egress into another trust domain: the client side of draft-ietf-oauth-identity-chaining-17, for routes with
 * `egress`. The caller's access token (issued by the home authorization server, verified by the route's auth.oauth)
 * becomes an access token of the foreign trust domain, which is what the upstream receives.
 *
 * Per request (app.ts calls `token` after authentication, with the token exactly as presented):
 *   1. cache lookup, keyed by hash(route and its egress config) + hash(caller token): this isolate's memory, then
 *      `state.cache`, where the foreign token is stored encrypted (AES-256-GCM) under a key derived from the caller's
 *      token, so the shared store never holds a usable token and only a holder of the caller's token can read it;
 *   2. token exchange at the home authorization server (RFC 8693 §2.1; chaining §2.3): client_secret_basic,
 *      `subject_token` = the caller's token (subject_token_type access_token), `resource` = the foreign issuer,
 *      `requested_token_type` jwt, `scope` when configured. The answer must be 200 with a JWT (issued_token_type
 *      jwt, or a three-part access_token);
 *   3. jwt-bearer at the foreign authorization server (RFC 7523 §2.1; chaining §2.4): `assertion` = the grant,
 *      `resource` = egress.resource (default: the route's upstream URL), `scope` when configured; client_secret_basic
 *      when a client is configured. The answer must be 200 with a Bearer access token; a refresh token is ignored
 *      (chaining §5: none is expected);
 *   4. the foreign token is cached until min(its expiry, the caller token's expiry) minus EGRESS_CACHE_MARGIN_MS;
 *      concurrent misses for one key in an isolate share one chain of requests.
 * Every request: POST, no redirects, EGRESS_TIMEOUT_MS for headers and body, at most EGRESS_MAX_RESPONSE_BYTES of
 * JSON, to a URL that passes fetchUrlProblem (https, or http to a loopback host).
 *
 * Codes: ERR_EGRESS_UNAVAILABLE (a client secret variable is not set), ERR_EGRESS_EXCHANGE_FAILED /
 * ERR_EGRESS_GRANT_FAILED (the home / foreign server unreachable, slow, or answering nonsense),
 * ERR_EGRESS_EXCHANGE_REFUSED / ERR_EGRESS_GRANT_REFUSED (it answered an OAuth error; its `error` code goes to the
 * audit detail). Details never carry a token or secret.
 */
import type { RouteConfig } from '../config/schema.ts';
import { fetchUrlProblem } from '../config/trust-domains.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/base64url.ts';
import { sha256, sha256b64url } from '../crypto/digest.ts';
import { DEFAULT_FOREIGN_TOKEN_TTL_MS, EGRESS_CACHE_MARGIN_MS, EGRESS_HOT_CACHE_ENTRIES, EGRESS_MAX_RESPONSE_BYTES, EGRESS_TIMEOUT_MS, MAX_ACCESS_TOKEN_BYTES } from '../limits.ts';
import { readBounded } from '../read-bounded.ts';
import { fail, ok, type Result } from '../result.ts';
import { ExpiringMap } from '../state/memory.ts';
import type { Cache } from '../state/ports.ts';
import { basicAuthorization } from './introspect.ts';
import { ACCESS_TOKEN_TYPE, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../oauth-uris.ts';

export type EgressErrorCode = 'ERR_EGRESS_UNAVAILABLE' | 'ERR_EGRESS_EXCHANGE_FAILED' | 'ERR_EGRESS_EXCHANGE_REFUSED' | 'ERR_EGRESS_GRANT_FAILED' | 'ERR_EGRESS_GRANT_REFUSED';
export type EgressConfig = NonNullable<RouteConfig['egress']>;


/** Bumped when what a cached entry means changes. */
const CACHE_RULES = 'egress-1';

export interface EgressDeps {
  /** `state.cache`. */
  cache: Cache;
  /** Reads the client secret variables. */
  readEnv?: (name: string) => string | undefined;
  /** Default: the global fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  now: () => number;
}

export interface Egress {
  /**
   * The foreign access token for this caller on this route. `callerToken` is the access token exactly as presented
   * (already verified), `callerExpiresAt` its expiry (epoch ms): nothing is cached beyond it.
   */
  token(route: RouteConfig, callerToken: string, callerExpiresAt: number): Promise<Result<string, EgressErrorCode>>;
}

interface Sealed {
  rules: string;
  iv: string;
  data: string;
}

export function egressClient(deps: EgressDeps): Egress {
  const fetchImpl = deps.fetch ?? ((url, init) => fetch(url, init));
  const hot = new ExpiringMap<string>({ maxEntries: EGRESS_HOT_CACHE_ENTRIES, now: deps.now });
  const inflight = new Map<string, Promise<Result<string, EgressErrorCode>>>();
  const routeKeys = new WeakMap<RouteConfig, Promise<string>>();

  const routeKey = (route: RouteConfig) => {
    let key = routeKeys.get(route);
    if (!key) routeKeys.set(route, (key = sha256b64url(JSON.stringify([CACHE_RULES, route.path, route.upstream, route.egress]))));
    return key;
  };

  return {
    async token(route, callerToken, callerExpiresAt) {
      const config = route.egress!;
      const key = `egress:${await routeKey(route)}:${await sha256b64url(callerToken)}`;
      const remembered = hot.get(key);
      if (remembered !== undefined) return ok(remembered);
      const pending = inflight.get(key);
      if (pending) return pending;
      const run = (async (): Promise<Result<string, EgressErrorCode>> => {
        const stored = await deps.cache.get<Sealed>(key).catch(() => undefined);
        const opened = stored?.rules === CACHE_RULES ? await unseal(stored, callerToken).catch(() => undefined) : undefined;
        if (opened && opened.until - EGRESS_CACHE_MARGIN_MS > deps.now()) {
          hot.set(key, opened.token, opened.until - EGRESS_CACHE_MARGIN_MS - deps.now());
          return ok(opened.token);
        }
        const fresh = await chain(route, config, callerToken);
        if (!fresh.ok) return fresh;
        const until = Math.min(deps.now() + fresh.value.ttlMs, callerExpiresAt);
        const ttl = until - EGRESS_CACHE_MARGIN_MS - deps.now();
        if (ttl > 0) {
          hot.set(key, fresh.value.token, ttl);
          // A failed write only costs a later exchange.
          await deps.cache.set(key, await seal({ token: fresh.value.token, until }, callerToken), ttl).catch(() => {});
        }
        return ok(fresh.value.token);
      })();
      inflight.set(key, run);
      try {
        return await run;
      } finally {
        inflight.delete(key);
      }
    },
  };

  async function chain(route: RouteConfig, config: EgressConfig, callerToken: string): Promise<Result<{ token: string; ttlMs: number }, EgressErrorCode>> {
    const home = config.homeAuthorizationServer;
    const foreign = config.foreignAuthorizationServer;
    const homeSecret = deps.readEnv?.(home.clientSecretEnv);
    if (!homeSecret) return fail('ERR_EGRESS_UNAVAILABLE', `the client secret variable ${home.clientSecretEnv} is not set`);
    let foreignAuth: string | undefined;
    if (foreign.clientId !== undefined && foreign.clientSecretEnv !== undefined) {
      const secret = deps.readEnv?.(foreign.clientSecretEnv);
      if (!secret) return fail('ERR_EGRESS_UNAVAILABLE', `the client secret variable ${foreign.clientSecretEnv} is not set`);
      foreignAuth = basicAuthorization(foreign.clientId, secret);
    }
    const scope = config.scope?.join(' ');

    // Chaining §2.3: the caller's token for a JWT authorization grant addressed to the foreign server.
    const exchangeForm = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: callerToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: JWT_TOKEN_TYPE,
      resource: foreign.issuer,
    });
    if (scope) exchangeForm.set('scope', scope);
    const exchanged = await post(fetchImpl, home.tokenEndpoint, basicAuthorization(home.clientId, homeSecret), exchangeForm, 'home');
    if (!exchanged.ok) return fail(exchanged.refused ? 'ERR_EGRESS_EXCHANGE_REFUSED' : 'ERR_EGRESS_EXCHANGE_FAILED', exchanged.detail);
    const grant = exchanged.body.access_token;
    if (typeof grant !== 'string' || grant.length > MAX_ACCESS_TOKEN_BYTES || grant.split('.').length !== 3) return fail('ERR_EGRESS_EXCHANGE_FAILED', 'home token endpoint answered without a JWT grant in access_token');
    const issuedType = exchanged.body.issued_token_type;
    if (issuedType !== undefined && issuedType !== JWT_TOKEN_TYPE) return fail('ERR_EGRESS_EXCHANGE_FAILED', `home token endpoint issued ${printable(issuedType)}, not a JWT`);

    // Chaining §2.4 / RFC 7523 §2.1: the grant for an access token of the foreign trust domain.
    const grantForm = new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion: grant, resource: config.resource ?? defaultResource(route) });
    if (scope) grantForm.set('scope', scope);
    const granted = await post(fetchImpl, foreign.tokenEndpoint, foreignAuth, grantForm, 'foreign');
    if (!granted.ok) return fail(granted.refused ? 'ERR_EGRESS_GRANT_REFUSED' : 'ERR_EGRESS_GRANT_FAILED', granted.detail);
    const accessToken = granted.body.access_token;
    if (typeof accessToken !== 'string' || accessToken === '' || accessToken.length > MAX_ACCESS_TOKEN_BYTES || !/^[\x21-\x7e]+$/.test(accessToken)) return fail('ERR_EGRESS_GRANT_FAILED', 'foreign token endpoint answered without a usable access_token');
    const tokenType = granted.body.token_type;
    if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') return fail('ERR_EGRESS_GRANT_FAILED', `foreign token endpoint issued a ${printable(tokenType)} token; only Bearer can be presented`);
    const expiresIn = granted.body.expires_in;
    const ttlMs = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : DEFAULT_FOREIGN_TOKEN_TTL_MS;
    return ok({ token: accessToken, ttlMs });
  }
}

/** The route's upstream URL: the foreign resource when egress.resource is not set (schema.ts requires it for service bindings). */
function defaultResource(route: RouteConfig): string {
  return typeof route.upstream === 'string' ? route.upstream : (route.egress?.resource ?? route.upstream.url ?? '');
}

export function printable(value: unknown): string {
  return typeof value === 'string' && value.length <= 64 && /^[\x20-\x7e]*$/.test(value) ? JSON.stringify(value) : typeof value === 'string' ? 'an unprintable value' : String(typeof value);
}

export type Posted = { ok: true; body: Record<string, unknown> } | { ok: false; refused: boolean; detail: string };

/**
 * The bounded POST to a token endpoint: a 200 JSON object, a refusal (4xx with an OAuth error), or a failure.
 * `which` names the endpoint in details ("home", "foreign"; txn-external.ts: "transaction token service").
 */
export async function post(fetchImpl: (url: string, init: RequestInit) => Promise<Response>, url: string, authorization: string | undefined, form: URLSearchParams, which: string): Promise<Posted> {
  const failed = (detail: string): Posted => ({ ok: false, refused: false, detail: `${which} token endpoint ${detail}` });
  const problem = fetchUrlProblem(url);
  if (problem) return failed(problem);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), EGRESS_TIMEOUT_MS);
  try {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (authorization) headers.authorization = authorization;
    let response: Response;
    try {
      response = await fetchImpl(url, { method: 'POST', redirect: 'manual', signal: controller.signal, headers, body: form.toString() });
    } catch (error) {
      return failed(controller.signal.aborted ? `gave no answer within ${EGRESS_TIMEOUT_MS} ms` : `request failed (${error instanceof Error ? error.name : typeof error})`);
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      return failed(`answered ${response.status}: redirects are not followed`);
    }
    if (Number(response.headers.get('content-length') ?? '0') > EGRESS_MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => {});
      return failed(`answer is over ${EGRESS_MAX_RESPONSE_BYTES} bytes`);
    }
    let body: unknown;
    try {
      const bytes = await readBounded(response.body, EGRESS_MAX_RESPONSE_BYTES);
      if (bytes === undefined) return failed(`answer is over ${EGRESS_MAX_RESPONSE_BYTES} bytes`);
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      if (response.status !== 200) return failed(`answered ${response.status}`);
      return failed(controller.signal.aborted ? `gave no complete body within ${EGRESS_TIMEOUT_MS} ms` : 'answered a body that is not JSON');
    }
    const record = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    if (response.status === 200) return record ? { ok: true, body: record } : failed('answered JSON that is not an object');
    // RFC 6749 §5.2: 400 (401 invalid_client) with an error code: the server refused.
    if ((response.status === 400 || response.status === 401) && typeof record?.error === 'string') {
      return { ok: false, refused: true, detail: `${which} token endpoint refused: ${printable(record.error)} (${response.status})` };
    }
    return failed(`answered ${response.status}`);
  } finally {
    clearTimeout(timer);
  }
}

const encoder = new TextEncoder();

/** AES-256-GCM under SHA-256(label || caller token): the shared cache holds nothing usable without the caller's token. */
async function cacheKey(callerToken: string): Promise<CryptoKey> {
  const raw = await sha256(`portcullis egress cache key\n${callerToken}`);
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function seal(value: { token: string; until: number }, callerToken: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await cacheKey(callerToken), encoder.encode(JSON.stringify(value))));
  return { rules: CACHE_RULES, iv: base64urlEncode(iv), data: base64urlEncode(data) };
}

async function unseal(sealed: Sealed, callerToken: string): Promise<{ token: string; until: number } | undefined> {
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: base64urlDecode(sealed.iv)! as Uint8Array<ArrayBuffer> }, await cacheKey(callerToken), base64urlDecode(sealed.data)! as Uint8Array<ArrayBuffer>);
  const value = JSON.parse(new TextDecoder().decode(plain)) as { token?: unknown; until?: unknown };
  return typeof value.token === 'string' && typeof value.until === 'number' ? { token: value.token, until: value.until } : undefined;
}
