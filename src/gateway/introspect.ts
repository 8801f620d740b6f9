/**
 * Introspects opaque access tokens at their authorization server, for routes that accept them (the I/O around
 * verify/introspection.ts).
 *
 * Spec: RFC 7662 §2.1 (request: POST, form-encoded `token` and `token_type_hint=access_token`, the protected resource
 * authenticated to the endpoint), §2.2 (answer), §2.3 (errors), §4 (caching trades freshness; keep it short); RFC
 * 6749 §2.3.1 (client_secret_basic: client id and secret each form-urlencoded before base64; client_secret_post);
 * RFC 9701 §4 (ask for the signed answer with `Accept: application/token-introspection+jwt`), §5.
 *
 * Per request:
 *   1. the issuer must be configured with `introspection` (else ERR_INTROSPECTION_FAILED: wiring), and the token be at
 *      most MAX_ACCESS_TOKEN_BYTES (ERR_ACCESS_TOKEN_TOO_LARGE: junk is not sent to the AS);
 *   2. a cached answer for base64url(SHA-256(token)) is looked up: this isolate's memory, then `state.cache`;
 *   3. on a miss: the endpoint (configured, else the RFC 8414 metadata's), the client secret (`readEnv` of
 *      `clientSecretEnv`), and one POST: no redirects, INTROSPECTION_TIMEOUT_MS for headers and body, 200 only, a body
 *      of at most MAX_INTROSPECTION_RESPONSE_BYTES of the content type asked for (application/json, or
 *      application/token-introspection+jwt, verified with the issuer's keys). Any failure there is
 *      ERR_INTROSPECTION_FAILED (503, fail closed); concurrent misses for one token in an isolate share one request;
 *   4. the answer's members go through verifyIntrospectionJson with this route's audience, presentation (DPoP or
 *      Bearer) and clock. This runs on a cached answer too: the cache keeps the answer, not the verdict, so an
 *      answer fetched for route A is re-checked for route B's resource (`aud`), expiry and token_type.
 *
 * Cache (decisions): keyed by the token hash alone (`introspection:<hash>`), the issuer and a hash of the issuer's
 * introspection settings kept inside the value (a hit for another issuer or other settings is a miss), so a
 * revocation signal can flush a token without knowing its issuer. Only active answers that pass the checks are kept,
 * for min(cacheSeconds, exp − now) (cacheSeconds when the answer has no `exp`; cacheSeconds 0 keeps nothing), and
 * only the members the verifier reads (INTROSPECTION_MEMBERS). In this isolate's memory an entry lives at most
 * INTROSPECTION_HOT_CACHE_MAX_TTL_MS, which bounds how long another isolate serves an answer flushed elsewhere.
 * A returned token without `exp` has `expiresAt` = the end of the window the answer is relied on (the time it was
 * fetched + cacheSeconds).
 *
 * Does NOT: decide which issuer an opaque token belongs to (the caller passes it), verify the DPoP proof against
 * `cnfJkt`, check required scopes, consult the revocation store, or log the token or the secret (details name the
 * variable holding the secret, never its value; the token appears only as its hash).
 */
import type { IntrospectionConfig, AuthorizationServerConfig } from '../config/authorization-servers.ts';
import { sha256b64url } from '../crypto/digest.ts';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  INTROSPECTION_HOT_CACHE_ENTRIES,
  INTROSPECTION_HOT_CACHE_MAX_TTL_MS,
  INTROSPECTION_TIMEOUT_MS,
  MAX_ACCESS_TOKEN_BYTES,
  MAX_INTROSPECTION_RESPONSE_BYTES,
} from '../limits.ts';
import { readBounded } from '../read-bounded.ts';
import { fail, ok, type Result } from '../result.ts';
import { ExpiringMap } from '../state/memory.ts';
import type { Cache } from '../state/ports.ts';
import type { AuthorizationServerKeys } from '../trust/authorization-server-keys.ts';
import type { Background } from '../trust/remote-key-set.ts';
import type { VerifiedAccessToken } from '../verify/access-token.ts';
import type { AccessTokenErrorCode, IntrospectionErrorCode } from '../verify/errors.ts';
import { INTROSPECTION_MEMBERS, openIntrospectionJwt, verifyIntrospectionJson, type IntrospectionCode } from '../verify/introspection.ts';

export interface Introspector {
  /**
   * Introspects `token` at `issuer` for `audience` (the route's resource); cached by hash(token) (issuer inside the
   * entry) for min(cacheSeconds, exp − now); inactive answers are never cached.
   */
  introspect(issuer: string, token: string, options: { audience: string; dpop: boolean; background?: Background }): Promise<Result<VerifiedAccessToken, AccessTokenErrorCode | IntrospectionErrorCode>>;
  /** Drops every cached answer for this token hash (revocation signals call this). */
  flush(tokenHash: string): Promise<void>;
}

export interface IntrospectorDeps {
  servers: Readonly<Record<string, AuthorizationServerConfig>>;
  keys: AuthorizationServerKeys;
  /** `state.cache`: shared across isolates on Workers. */
  cache: Cache;
  /** Reads `introspection.clientSecretEnv` (process environment, or a Worker's secrets). Absent: no secret. */
  readEnv?: (name: string) => string | undefined;
  /** Default: the global fetch. */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Epoch milliseconds. */
  now: () => number;
}

/** Bumped when what a cached answer means changes, so entries written by another version are misses. */
const CACHE_RULES = 'introspection-1';

/** What the caches hold: the answer's members the verifier reads, and under which settings it was fetched. */
interface CachedAnswer {
  issuer: string;
  /** Hash of the issuer's introspection settings. */
  settings: string;
  answer: Record<string, unknown>;
  /** Epoch ms: the end of the window the answer is relied on (min(fetch + cacheSeconds, exp)). */
  until: number;
}

/** A request on its way, shared by the concurrent misses for one token and issuer. */
interface Flight {
  /** The cache key (token hash) it will be stored under. */
  key: string;
  /** The answer's members (not yet checked), or why there are none. Never rejects. */
  answer: Promise<Result<unknown, IntrospectionCode>>;
  /** Set by flush: the answer is still returned to its waiters, but not cached. */
  flushed: boolean;
}

const detached: Background = (pending) => {
  pending.catch(() => {});
};

export function introspector(deps: IntrospectorDeps): Introspector {
  const fetchImpl = deps.fetch ?? ((url, init) => fetch(url, init));
  const hot = new ExpiringMap<CachedAnswer>({ maxEntries: INTROSPECTION_HOT_CACHE_ENTRIES, now: deps.now });
  const inFlight = new Map<string, Flight>();
  const settingsHashes = new Map<string, Promise<string>>();
  const settingsOf = (issuer: string, config: IntrospectionConfig): Promise<string> => {
    let hash = settingsHashes.get(issuer);
    if (!hash) {
      hash = sha256b64url(JSON.stringify([CACHE_RULES, issuer, config.endpoint ?? null, config.clientId, config.authMethod, config.response])).then((h) => h.slice(0, 22));
      settingsHashes.set(issuer, hash);
    }
    return hash;
  };
  const cacheKey = (tokenHash: string) => `introspection:${tokenHash}`;

  const lookup = async (key: string, issuer: string, settings: string, now: number): Promise<CachedAnswer | undefined> => {
    const local = hot.get(key);
    if (local) return local.issuer === issuer && local.settings === settings && local.until > now ? local : undefined;
    const shared = await deps.cache.get<CachedAnswer>(key).catch(() => undefined);
    if (!isCachedAnswer(shared) || shared.issuer !== issuer || shared.settings !== settings || shared.until <= now) return undefined;
    hot.set(key, shared, Math.min(shared.until - now, INTROSPECTION_HOT_CACHE_MAX_TTL_MS));
    return shared;
  };

  return {
    async introspect(issuer, token, options) {
      const server = Object.hasOwn(deps.servers, issuer) ? deps.servers[issuer] : undefined;
      const config = server?.introspection;
      if (!server || !config) return fail('ERR_INTROSPECTION_FAILED', `issuer ${JSON.stringify(issuer)} is not configured for introspection`);
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_ACCESS_TOKEN_BYTES) {
        return fail('ERR_ACCESS_TOKEN_TOO_LARGE', `token is ${typeof token === 'string' ? token.length : 0} bytes, expected 1 to ${MAX_ACCESS_TOKEN_BYTES}`);
      }
      const background = options.background ?? detached;
      const check = { issuer, audience: options.audience, token, dpop: options.dpop, now: deps.now, clockSkewSeconds: server.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS };
      const tokenHash = await sha256b64url(token);
      const key = cacheKey(tokenHash);
      const settings = await settingsOf(issuer, config);

      const cached = await lookup(key, issuer, settings, deps.now());
      if (cached) return finish(await verifyIntrospectionJson(cached.answer, check), cached.until);

      // A miss: one request per (issuer, token) in this isolate at a time.
      const flightKey = `${key} ${issuer}`;
      let flight = inFlight.get(flightKey);
      if (!flight) {
        const entry: Flight = {
          key,
          answer: fetchAnswer(issuer, token, server, config, background).catch((error: unknown) => fail('ERR_INTROSPECTION_FAILED', `introspection failed (${error instanceof Error ? error.name : typeof error})`)),
          flushed: false,
        };
        flight = entry;
        inFlight.set(flightKey, entry);
        void entry.answer.then(() => {
          if (inFlight.get(flightKey) === entry) inFlight.delete(flightKey);
        });
      }
      const mine = flight;
      const answer = await mine.answer;
      if (!answer.ok) return answer;
      const fetchedAt = deps.now();
      const result = await verifyIntrospectionJson(answer.value, check);
      if (!result.ok) return result;
      const windowEnd = fetchedAt + config.cacheSeconds * 1000;
      const until = result.value.expKnown ? Math.min(windowEnd, result.value.expiresAt) : windowEnd;
      const ttl = until - fetchedAt;
      if (ttl > 0 && !mine.flushed) {
        const entry: CachedAnswer = { issuer, settings, answer: project(answer.value as Record<string, unknown>), until };
        hot.set(key, entry, Math.min(ttl, INTROSPECTION_HOT_CACHE_MAX_TTL_MS));
        await deps.cache.set(key, entry, ttl).catch(() => {});
      }
      return finish(result, until);
    },

    async flush(tokenHash) {
      const key = cacheKey(tokenHash);
      hot.delete(key);
      for (const [flightKey, flight] of inFlight) {
        if (flight.key !== key) continue;
        flight.flushed = true; // an answer still on its way is returned to its waiters but not cached
        inFlight.delete(flightKey);
      }
      await deps.cache.delete(key);
    },
  };

  /** The verified token, with `expiresAt` the end of the reliance window when the answer had no `exp`. */
  function finish(result: Awaited<ReturnType<typeof verifyIntrospectionJson>>, until: number): Result<VerifiedAccessToken, IntrospectionCode> {
    if (!result.ok) return result;
    const { expKnown, ...token } = result.value;
    if (!expKnown) token.expiresAt = until;
    return ok(token);
  }

  /** One request to the endpoint; the answer's members (JWT answers: opened and verified), or why there are none. */
  async function fetchAnswer(issuer: string, token: string, server: AuthorizationServerConfig, config: IntrospectionConfig, background: Background): Promise<Result<unknown, IntrospectionCode>> {
    let endpoint: string | undefined;
    try {
      endpoint = await deps.keys.introspectionEndpoint(issuer, background);
    } catch (error) {
      return fail('ERR_INTROSPECTION_FAILED', `no introspection endpoint for ${JSON.stringify(issuer)}: metadata unavailable (${error instanceof Error ? error.name : typeof error})`);
    }
    if (endpoint === undefined) return fail('ERR_INTROSPECTION_FAILED', `${JSON.stringify(issuer)} publishes no introspection_endpoint and none is configured`);
    const secret = deps.readEnv?.(config.clientSecretEnv);
    if (secret === undefined || secret === '') return fail('ERR_INTROSPECTION_FAILED', `the client secret variable ${config.clientSecretEnv} is not set`);

    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const accept = config.response === 'jwt' ? 'application/token-introspection+jwt' : 'application/json';
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept };
    if (config.authMethod === 'client_secret_post') {
      form.set('client_id', config.clientId);
      form.set('client_secret', secret);
    } else {
      headers.authorization = basicAuthorization(config.clientId, secret);
    }

    const received = await post(fetchImpl, endpoint, headers, form.toString());
    if (!received.ok) return received;
    const { mediaType, text } = received.value;
    if (mediaType !== accept) return fail('ERR_INTROSPECTION_FAILED', `the endpoint answered ${mediaType === '' ? 'without a content type' : JSON.stringify(mediaType.slice(0, 64))}, asked for ${accept}`);
    if (config.response === 'jwt') {
      return openIntrospectionJwt(text.trim(), {
        issuer,
        now: deps.now,
        clockSkewSeconds: server.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
        keys: async (kid) => (await deps.keys.key(issuer, kid, background))?.jwk,
        algorithms: server.algorithms,
        clientId: config.clientId,
      });
    }
    try {
      return ok(JSON.parse(text) as unknown);
    } catch {
      return fail('ERR_INTROSPECTION_FAILED', 'the endpoint answered a body that is not JSON');
    }
  }
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`, application/x-www-form-urlencoded. */
export function basicAuthorization(clientId: string, secret: string): string {
  // After form-encoding both are ASCII, so btoa over the string is base64 of its bytes.
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(secret)}`)}`;
}

function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** The bounded POST: a 200 answer's media type (lowercase, no parameters) and UTF-8 text, or ERR_INTROSPECTION_FAILED. */
async function post(
  fetchImpl: (url: string, init: RequestInit) => Promise<Response>,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<Result<{ mediaType: string; text: string }, 'ERR_INTROSPECTION_FAILED'>> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), INTROSPECTION_TIMEOUT_MS);
  const failed = (detail: string) => fail('ERR_INTROSPECTION_FAILED', `introspection endpoint ${detail}`);
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, { method: 'POST', redirect: 'manual', signal: controller.signal, headers, body });
    } catch (error) {
      return failed(controller.signal.aborted ? `gave no answer within ${INTROSPECTION_TIMEOUT_MS} ms` : `request failed (${error instanceof Error ? error.name : typeof error})`);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      const why = response.status >= 300 && response.status < 400 ? ': redirects are not followed' : response.status === 401 ? ': client authentication refused (RFC 7662 §2.3)' : '';
      return failed(`answered ${response.status}${why}`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_INTROSPECTION_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => {});
      return failed(`declares ${declared} bytes, limit ${MAX_INTROSPECTION_RESPONSE_BYTES}`);
    }
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readBounded(response.body, MAX_INTROSPECTION_RESPONSE_BYTES);
    } catch {
      return failed(controller.signal.aborted ? `gave no complete body within ${INTROSPECTION_TIMEOUT_MS} ms` : 'body could not be read');
    }
    if (bytes === undefined) return failed(`body is over ${MAX_INTROSPECTION_RESPONSE_BYTES} bytes`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      return failed('body is not UTF-8');
    }
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    return ok({ mediaType, text });
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps only the members the verifier reads: no other claim (names, e-mail) is copied into the caches. */
function project(answer: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of INTROSPECTION_MEMBERS) if (answer[name] !== undefined) kept[name] = answer[name];
  return kept;
}

function isCachedAnswer(value: unknown): value is CachedAnswer {
  const v = value as CachedAnswer;
  return typeof v === 'object' && v !== null && typeof v.issuer === 'string' && typeof v.settings === 'string' && typeof v.until === 'number' && typeof v.answer === 'object' && v.answer !== null && !Array.isArray(v.answer);
}
