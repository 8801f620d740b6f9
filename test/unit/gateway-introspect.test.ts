/**
 * The introspection client (src/gateway/introspect.ts): the RFC 7662 request and client authentication, the bounded
 * response handling (fail closed), RFC 9701 signed answers, and the cache (active answers only, bounded by exp and
 * cacheSeconds, re-checked per route on every hit, flushed by token hash). The AS is an in-process fake fetch.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { authorizationServerSchema, type AuthorizationServerConfig } from '../../src/config/authorization-servers.ts';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { basicAuthorization, introspector, type Introspector } from '../../src/gateway/introspect.ts';
import { INTROSPECTION_HOT_CACHE_MAX_TTL_MS, INTROSPECTION_TIMEOUT_MS, MAX_INTROSPECTION_RESPONSE_BYTES } from '../../src/limits.ts';
import type { Result } from '../../src/result.ts';
import { memoryCache } from '../../src/state/memory.ts';
import type { Cache } from '../../src/state/ports.ts';
import { authorizationServerKeys, type AuthorizationServerKeys } from '../../src/trust/authorization-server-keys.ts';
import { KeySourceUnavailableError } from '../../src/trust/remote-key-set.ts';
import type { VerifiedAccessToken } from '../../src/verify/access-token.ts';
import { expectFailure, expectOk, generateKey, sign, type TestKey } from './verify/mint.ts';

const NOW_MS = 1_800_000_000_000;
const ISS = 'https://as.example/tenant';
const ENDPOINT = 'https://as.example/tenant/introspect';
const ROUTE_A = 'https://gw.example/mcp';
const ROUTE_B = 'https://gw.example/a2a';
const CLIENT_ID = 'gw client';
const SECRET = 'p:ss+w/rd s3cr3t-value';
const SECRET_ENV = 'AS_CLIENT_SECRET';
const TOKEN = 'opaque-2YotnFZFEjr1zCsicMWpAA-access-token';
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

let asKey: TestKey;

beforeAll(async () => {
  asKey = await generateKey('ES256');
});

afterEach(() => {
  vi.useRealTimers();
});

interface Seen {
  url: string;
  init: RequestInit;
  headers: Record<string, string>;
  form: URLSearchParams;
}

/** The fake AS: answers with `reply` (changed by the tests), and records every request. */
function harness(options: { introspection?: Record<string, unknown>; server?: Record<string, unknown>; keys?: AuthorizationServerKeys; env?: Record<string, string>; shared?: Cache } = {}) {
  const clock = { now: NOW_MS };
  const seen: Seen[] = [];
  const state = {
    reply: (): Response | Promise<Response> => json({ active: true, aud: [ROUTE_A], sub: 'user-1', client_id: 'agent', scope: 'tools:read', exp: Math.floor(clock.now / 1000) + 3600 }),
  };
  const servers: Record<string, AuthorizationServerConfig> = {
    [ISS]: authorizationServerSchema.parse({
      jwks: { keys: [{ ...asKey.publicJwk, kid: 'as1' }] },
      algorithms: ['ES256'],
      ...options.server,
      introspection: { endpoint: ENDPOINT, clientId: CLIENT_ID, clientSecretEnv: SECRET_ENV, ...options.introspection },
    }),
  };
  const shared = options.shared ?? memoryCache({ now: () => clock.now });
  const fetchImpl = async (url: string, init: RequestInit) => {
    seen.push({ url, init, headers: init.headers as Record<string, string>, form: new URLSearchParams(String(init.body)) });
    return state.reply();
  };
  const keys = options.keys ?? authorizationServerKeys(servers, { cache: shared, now: () => clock.now, fetch: async () => new Response('no', { status: 500 }) });
  const env = options.env ?? { [SECRET_ENV]: SECRET };
  const make = (): Introspector => introspector({ servers, keys, cache: shared, readEnv: (name) => env[name], fetch: fetchImpl, now: () => clock.now });
  const gateway = make();
  const run = (audience = ROUTE_A, dpop = false, g: Introspector = gateway) => g.introspect(ISS, TOKEN, { audience, dpop });
  return { clock, seen, state, gateway, make, run, shared };
}

function json(body: unknown, init: ResponseInit = {}): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, ...init });
}

function expectCode(result: Result<VerifiedAccessToken, string>, code: string) {
  expectFailure(result, code, [TOKEN, SECRET]);
  if (!result.ok) {
    expect(result.detail).not.toContain(TOKEN);
    expect(result.detail).not.toContain(SECRET);
  }
}

describe('the introspection request (RFC 7662 §2.1)', () => {
  it('POSTs the token form with client_secret_basic, id and secret form-encoded before base64 (RFC 6749 §2.3.1)', async () => {
    const h = harness();
    const v = expectOk(await h.run());
    expect(v).toMatchObject({ issuer: ISS, subject: 'user-1', clientId: 'agent', scopes: ['tools:read'], tokenHash: await sha256b64url(TOKEN) });
    expect(h.seen).toHaveLength(1);
    const [request] = h.seen;
    expect(request!.url).toBe(ENDPOINT);
    expect(request!.init.method).toBe('POST');
    expect(request!.init.redirect).toBe('manual');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers.accept).toBe('application/json');
    expect([...request!.form]).toEqual([['token', TOKEN], ['token_type_hint', 'access_token']]);
    const expected = `Basic ${Buffer.from('gw+client:p%3Ass%2Bw%2Frd+s3cr3t-value').toString('base64')}`;
    expect(request!.headers.authorization).toBe(expected);
    expect(basicAuthorization(CLIENT_ID, SECRET)).toBe(expected);
    expect(JSON.stringify(v)).not.toContain(TOKEN);
  });

  it('sends client_secret_post credentials in the form and no Authorization header', async () => {
    const h = harness({ introspection: { authMethod: 'client_secret_post' } });
    expectOk(await h.run());
    const [request] = h.seen;
    expect(request!.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(request!.form)).toEqual({ token: TOKEN, token_type_hint: 'access_token', client_id: CLIENT_ID, client_secret: SECRET });
  });

  it('takes the endpoint from the metadata when none is configured', async () => {
    const keys: AuthorizationServerKeys = { key: async () => undefined, introspectionEndpoint: async () => 'https://as.example/discovered' };
    const h = harness({ introspection: { endpoint: undefined }, keys });
    expectOk(await h.run());
    expect(h.seen[0]!.url).toBe('https://as.example/discovered');
  });
});

describe('failures are ERR_INTROSPECTION_FAILED, fail closed', () => {
  it('the AS answers 500', async () => {
    const h = harness();
    h.state.reply = () => new Response('boom', { status: 500 });
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
  });

  it('the AS answers 401 (our client authentication refused)', async () => {
    const h = harness();
    h.state.reply = () => json({ error: 'invalid_client' }, { status: 401 });
    const result = await h.run();
    expectCode(result, 'ERR_INTROSPECTION_FAILED');
    expect(result.ok ? '' : result.detail).toContain('client authentication');
  });

  it('the AS does not answer within INTROSPECTION_TIMEOUT_MS', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = harness();
    h.state.reply = () => new Promise<Response>((_, reject) => {
      const signal = h.seen.at(-1)!.init.signal!;
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });
    const pending = h.run();
    while (h.seen.length === 0) await new Promise((resolve) => setImmediate(resolve)); // hashing runs off the fake clock
    await vi.advanceTimersByTimeAsync(INTROSPECTION_TIMEOUT_MS - 1);
    expect(await Promise.race([pending.then(() => 'settled'), new Promise((resolve) => setImmediate(() => resolve('waiting')))])).toBe('waiting');
    await vi.advanceTimersByTimeAsync(1);
    const result = await pending;
    expectCode(result, 'ERR_INTROSPECTION_FAILED');
    expect(result.ok ? '' : result.detail).toContain(`${INTROSPECTION_TIMEOUT_MS} ms`);
  });

  it('the network fails', async () => {
    const h = harness();
    h.state.reply = () => Promise.reject(new TypeError('connection refused'));
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
  });

  it('the AS redirects', async () => {
    const h = harness();
    h.state.reply = () => new Response(null, { status: 302, headers: { location: 'https://evil.example/' } });
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
  });

  it('the body is another content type, not JSON, or too large', async () => {
    const h = harness();
    h.state.reply = () => new Response('{"active":true}', { status: 200, headers: { 'content-type': 'text/html' } });
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
    h.state.reply = () => new Response('{active', { status: 200, headers: { 'content-type': 'application/json' } });
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
    h.state.reply = () => new Response(`{"active":true,"x":"${'a'.repeat(MAX_INTROSPECTION_RESPONSE_BYTES)}"}`, { status: 200, headers: { 'content-type': 'application/json' } });
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
  });

  it('the client secret variable is not set: the detail names the variable, not a value', async () => {
    const h = harness({ env: {} });
    const result = await h.run();
    expectCode(result, 'ERR_INTROSPECTION_FAILED');
    expect(result.ok ? '' : result.detail).toContain(SECRET_ENV);
    expect(h.seen).toHaveLength(0);
  });

  it('the metadata (for the endpoint) is unavailable, or names no endpoint', async () => {
    const down: AuthorizationServerKeys = { key: async () => undefined, introspectionEndpoint: async () => { throw new KeySourceUnavailableError('down'); } };
    expectCode(await harness({ introspection: { endpoint: undefined }, keys: down }).run(), 'ERR_INTROSPECTION_FAILED');
    const none: AuthorizationServerKeys = { key: async () => undefined, introspectionEndpoint: async () => undefined };
    expectCode(await harness({ introspection: { endpoint: undefined }, keys: none }).run(), 'ERR_INTROSPECTION_FAILED');
  });

  it('the issuer is not configured for introspection', async () => {
    const h = harness();
    expectCode(await h.gateway.introspect('https://other.example', TOKEN, { audience: ROUTE_A, dpop: false }), 'ERR_INTROSPECTION_FAILED');
    expect(h.seen).toHaveLength(0);
  });

  it('an oversized token is refused before it reaches the AS', async () => {
    const h = harness();
    expectCode(await h.gateway.introspect(ISS, 'x'.repeat(9000), { audience: ROUTE_A, dpop: false }), 'ERR_ACCESS_TOKEN_TOO_LARGE');
    expect(h.seen).toHaveLength(0);
  });
});

describe('answers', () => {
  it('inactive => ERR_ACCESS_TOKEN_INACTIVE, and never cached', async () => {
    const h = harness();
    h.state.reply = () => json({ active: false });
    expectCode(await h.run(), 'ERR_ACCESS_TOKEN_INACTIVE');
    expectCode(await h.run(), 'ERR_ACCESS_TOKEN_INACTIVE');
    expect(h.seen).toHaveLength(2);
    expect(await h.shared.get(`introspection:${await sha256b64url(TOKEN)}`)).toBeUndefined();
  });

  it('token_type DPoP presented as Bearer, and Bearer presented with DPoP => ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', async () => {
    const h = harness();
    h.state.reply = () => json({ active: true, aud: ROUTE_A, token_type: 'DPoP', cnf: { jkt: JKT }, exp: NOW_MS / 1000 + 600 });
    expectCode(await h.run(ROUTE_A, false), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH');
    expect(expectOk(await h.run(ROUTE_A, true)).cnfJkt).toBe(JKT);
    const b = harness();
    b.state.reply = () => json({ active: true, aud: ROUTE_A, token_type: 'Bearer', exp: NOW_MS / 1000 + 600 });
    expectCode(await b.run(ROUTE_A, true), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH');
    // A cached answer is re-checked against each presentation.
    expectOk(await b.run(ROUTE_A, false));
    expectCode(await b.run(ROUTE_A, true), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH');
    expect(b.seen).toHaveLength(2); // the failure was not cached, the success was
  });

  it('a malformed answer => ERR_INTROSPECTION_RESPONSE_INVALID', async () => {
    const h = harness();
    h.state.reply = () => json({ active: 'yes', aud: ROUTE_A });
    expectCode(await h.run(), 'ERR_INTROSPECTION_RESPONSE_INVALID');
  });
});

describe('RFC 9701 signed answers', () => {
  const signed = (members: Record<string, unknown>, envelope: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    sign({ typ: 'token-introspection+jwt', alg: 'ES256', kid: 'as1', ...header }, { iss: ISS, aud: CLIENT_ID, iat: NOW_MS / 1000, token_introspection: members, ...envelope }, asKey);
  const jwtResponse = (text: string) => new Response(text, { status: 200, headers: { 'content-type': 'application/token-introspection+jwt' } });
  const members = { active: true, aud: ROUTE_A, sub: 'user-9', exp: NOW_MS / 1000 + 600 };

  it('asks for the JWT answer and verifies it with the issuer keys', async () => {
    const h = harness({ introspection: { response: 'jwt' } });
    const jwt = await signed(members);
    h.state.reply = () => jwtResponse(jwt);
    expect(expectOk(await h.run()).subject).toBe('user-9');
    expect(h.seen[0]!.headers.accept).toBe('application/token-introspection+jwt');
    // Cached: the verified members, re-checked on the hit.
    expect(expectOk(await h.run()).subject).toBe('user-9');
    expect(h.seen).toHaveLength(1);
  });

  for (const [name, make] of [
    ['bad typ', () => signed(members, {}, { typ: 'at+jwt' })],
    ['another iss', () => signed(members, { iss: 'https://evil.example' })],
    ['aud not our client_id', () => signed(members, { aud: 'another-rs' })],
    ['bad signature', async () => { const jwt = await signed(members); return `${jwt.slice(0, -4)}AAAA`; }],
  ] as const) {
    it(`${name} => ERR_INTROSPECTION_RESPONSE_INVALID, not cached`, async () => {
      const h = harness({ introspection: { response: 'jwt' } });
      const jwt = await make();
      h.state.reply = () => jwtResponse(jwt);
      expectCode(await h.run(), 'ERR_INTROSPECTION_RESPONSE_INVALID');
      expectCode(await h.run(), 'ERR_INTROSPECTION_RESPONSE_INVALID');
      expect(h.seen).toHaveLength(2);
    });
  }

  it('a plain JSON answer when the JWT was required => ERR_INTROSPECTION_FAILED', async () => {
    const h = harness({ introspection: { response: 'jwt' } });
    expectCode(await h.run(), 'ERR_INTROSPECTION_FAILED');
  });
});

describe('the cache', () => {
  it('a hit avoids the second request, in this isolate and in another sharing state.cache', async () => {
    const h = harness();
    expectOk(await h.run());
    expectOk(await h.run());
    expect(h.seen).toHaveLength(1);
    const other = h.make();
    expectOk(await h.run(ROUTE_A, false, other));
    expect(h.seen).toHaveLength(1);
  });

  it('concurrent misses share one request', async () => {
    const h = harness();
    const results = await Promise.all([h.run(), h.run(), h.run()]);
    for (const r of results) expectOk(r);
    expect(h.seen).toHaveLength(1);
  });

  it('a hit is re-checked for the route: an answer for resource A is refused on route B', async () => {
    const h = harness();
    expectOk(await h.run(ROUTE_A));
    expectCode(await h.run(ROUTE_B), 'ERR_ACCESS_TOKEN_AUD_MISMATCH');
    expect(h.seen).toHaveLength(1);
  });

  it('flush forces re-introspection, here and through the shared cache', async () => {
    const h = harness();
    const other = h.make();
    expectOk(await h.run());
    h.state.reply = () => json({ active: false });
    await h.gateway.flush(await sha256b64url(TOKEN));
    expectCode(await h.run(), 'ERR_ACCESS_TOKEN_INACTIVE');
    expect(h.seen).toHaveLength(2);
    // Another isolate never saw it: its next lookup finds nothing shared and asks the AS.
    expectCode(await h.run(ROUTE_A, false, other), 'ERR_ACCESS_TOKEN_INACTIVE');
    expect(h.seen).toHaveLength(3);
  });

  it('another isolate\'s memory forgets a flushed answer within INTROSPECTION_HOT_CACHE_MAX_TTL_MS', async () => {
    const h = harness();
    const other = h.make();
    expectOk(await h.run());
    expectOk(await h.run(ROUTE_A, false, other)); // now in the other isolate's memory
    await h.gateway.flush(await sha256b64url(TOKEN));
    h.state.reply = () => json({ active: false });
    h.clock.now += INTROSPECTION_HOT_CACHE_MAX_TTL_MS;
    expectCode(await h.run(ROUTE_A, false, other), 'ERR_ACCESS_TOKEN_INACTIVE');
  });

  it('exp bounds the cache: an answer expiring before cacheSeconds is asked again at exp', async () => {
    const h = harness({ introspection: { cacheSeconds: 300 } });
    const exp = NOW_MS / 1000 + 30;
    h.state.reply = () => json({ active: true, aud: ROUTE_A, exp });
    expectOk(await h.run());
    h.clock.now += 29_000;
    expectOk(await h.run());
    expect(h.seen).toHaveLength(1);
    h.clock.now += 1_000; // at exp
    h.state.reply = () => json({ active: false });
    expectCode(await h.run(), 'ERR_ACCESS_TOKEN_INACTIVE');
    expect(h.seen).toHaveLength(2);
  });

  it('cacheSeconds bounds the cache for long-lived tokens, and 0 keeps nothing', async () => {
    const h = harness({ introspection: { cacheSeconds: 60 } });
    expectOk(await h.run());
    h.clock.now += 59_000;
    expectOk(await h.run());
    expect(h.seen).toHaveLength(1);
    h.clock.now += 1_000;
    expectOk(await h.run());
    expect(h.seen).toHaveLength(2);
    const z = harness({ introspection: { cacheSeconds: 0 } });
    expectOk(await z.run());
    expectOk(await z.run());
    expect(z.seen).toHaveLength(2);
  });

  it('without exp, expiresAt is the end of the window the answer is relied on', async () => {
    const h = harness({ introspection: { cacheSeconds: 60 } });
    h.state.reply = () => json({ active: true, aud: ROUTE_A, sub: 'u' });
    expect(expectOk(await h.run()).expiresAt).toBe(NOW_MS + 60_000);
    h.clock.now += 10_000;
    const hit = expectOk(await h.run());
    expect(hit.expiresAt).toBe(NOW_MS + 60_000);
    expect(hit).not.toHaveProperty('expKnown');
  });

  it('keeps only the members the verifier reads, keyed by the token hash (never the token)', async () => {
    const h = harness();
    h.state.reply = () => json({ active: true, aud: ROUTE_A, sub: 'u', email: 'someone@example.com', exp: NOW_MS / 1000 + 600 });
    expectOk(await h.run());
    const entry = await h.shared.get<{ answer: Record<string, unknown>; issuer: string }>(`introspection:${await sha256b64url(TOKEN)}`);
    expect(entry?.issuer).toBe(ISS);
    expect(entry?.answer).toEqual({ active: true, aud: ROUTE_A, sub: 'u', exp: NOW_MS / 1000 + 600 });
    expect(JSON.stringify(entry)).not.toContain(TOKEN);
  });

  it('an entry written under other introspection settings is a miss', async () => {
    const shared = memoryCache({ now: () => NOW_MS });
    const a = harness({ shared });
    expectOk(await a.run());
    const b = harness({ shared, introspection: { response: 'jwt' } });
    b.state.reply = () => json({ active: true, aud: ROUTE_A });
    expectCode(await b.run(), 'ERR_INTROSPECTION_FAILED'); // asked the AS (which answered JSON, refused), did not reuse
    expect(b.seen).toHaveLength(1);
  });
});
