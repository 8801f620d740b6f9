/**
 * Egress into another trust domain (src/gateway/egress.ts): an in-process gateway whose OAuth route exchanges the
 * caller's token at the home dev authorization server (A) for a JWT grant, presents it at the foreign one (B) and
 * sends B's access token upstream. Both servers are dev authorization servers reached through `fetchKeys`.
 */
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevAuthorizationServer, type DevAuthorizationServer } from '../../examples/demo/authorization-server.ts';
import { assertConfig, ConfigError, createGateway, memorySink, memoryState, type GatewayConfigInput, type StatePorts } from '../../src/index.ts';

const A = 'http://127.0.0.1:9101/as';
const B = 'http://127.0.0.1:9102/as';
const PUBLIC = 'https://gw-a.example';
const FOREIGN_RS = 'https://rs-b.example/api';

let asA: DevAuthorizationServer;
let asB: DevAuthorizationServer;
beforeAll(() => {
  asA = createDevAuthorizationServer({ issuer: A, peers: [B] });
  asB = createDevAuthorizationServer({ issuer: B, trust: { [A]: { jwksUrl: `${A}/jwks` } }, fetch: async (url) => asA.fetch(new Request(url)) });
});

const basic = (id: string, secret: string) => `Basic ${btoa(`${id}:${secret}`)}`;

function config(egress: Record<string, unknown> = {}, route: Record<string, unknown> = {}): GatewayConfigInput {
  return {
    publicUrl: PUBLIC,
    audit: { sink: 'none' },
    authorizationServers: { [A]: {} },
    routes: [
      {
        path: '/b',
        protocol: 'http',
        upstream: FOREIGN_RS,
        auth: { oauth: { authorizationServers: [A] } },
        egress: {
          homeAuthorizationServer: { tokenEndpoint: `${A}/token`, clientId: 'portcullis-egress', clientSecretEnv: 'EGRESS_A' },
          foreignAuthorizationServer: { issuer: B, tokenEndpoint: `${B}/token`, clientId: 'portcullis-egress', clientSecretEnv: 'EGRESS_B' },
          ...egress,
        },
        ...route,
      },
    ],
  } as GatewayConfigInput;
}

interface Harness {
  fetch(path: string, token: string): Promise<Response>;
  upstream: Request[];
  /** Token endpoint calls, by server. */
  calls: { A: number; B: number };
  audit: ReturnType<typeof memorySink>;
}

function harness({ cfg = config(), state = memoryState(), env = { EGRESS_A: 'portcullis-egress-secret', EGRESS_B: 'portcullis-egress-secret' } as Record<string, string>, intercept }: { cfg?: GatewayConfigInput; state?: StatePorts; env?: Record<string, string>; intercept?: (request: Request) => Response | Promise<Response> | undefined } = {}): Harness {
  const upstream: Request[] = [];
  const calls = { A: 0, B: 0 };
  const audit = memorySink();
  const gw = createGateway(cfg, {
    state,
    audit,
    readEnv: (name) => env[name],
    fetchKeys: async (url, init) => {
      const request = new Request(url, init);
      if (request.url === asA.tokenEndpoint) calls.A++;
      if (request.url === asB.tokenEndpoint) calls.B++;
      const intercepted = await intercept?.(request);
      if (intercepted) return intercepted;
      if (url.startsWith('http://127.0.0.1:9101/')) return asA.fetch(request);
      if (url.startsWith('http://127.0.0.1:9102/')) return asB.fetch(request);
      throw new TypeError('fetch failed');
    },
    fetch: async (url, init) => {
      upstream.push(new Request(url, init as RequestInit));
      return { status: 200, statusText: 'OK', headers: new Headers({ 'content-type': 'text/plain' }), body: null };
    },
  });
  return { fetch: (path, token) => Promise.resolve(gw.fetch(new Request(`${PUBLIC}${path}`, { headers: { authorization: `Bearer ${token}` } }))), upstream, calls, audit };
}

async function callerToken(client = 'demo-agent', scope = 'mcp:tools'): Promise<string> {
  const response = await asA.fetch(new Request(asA.tokenEndpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${PUBLIC}/b`, scope }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client, `${client}-secret`) } }));
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function code(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

describe('egress config', () => {
  it('accepts an egress block on an OAuth route', () => {
    expect(() => assertConfig(config())).not.toThrow();
  });

  it('refuses egress without auth.oauth, with txnToken or upstreamAuth, half a foreign client, or a clear-text URL', () => {
    const messages = (cfg: GatewayConfigInput) => {
      try {
        assertConfig(cfg);
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
    };
    expect(messages(config({}, { auth: { jwtSvid: { trustDomains: ['spiffe://a.test'] } }, }))).toEqual(expect.arrayContaining([expect.stringMatching(/^routes\[0\]\.egress: needs auth\.oauth/)]));
    expect(messages({ ...config({}, { txnToken: {} }), transactionTokens: { trustDomain: 'b.example' } } as GatewayConfigInput)).toEqual(expect.arrayContaining([expect.stringMatching(/egress: cannot be combined with txnToken/)]));
    expect(messages(config({ foreignAuthorizationServer: { issuer: B, tokenEndpoint: `${B}/token`, clientId: 'x' } }))).toEqual(expect.arrayContaining([expect.stringMatching(/foreignAuthorizationServer/)]));
    expect(messages(config({ homeAuthorizationServer: { tokenEndpoint: 'http://as.example/token', clientId: 'x', clientSecretEnv: 'X' } }))).toEqual(expect.arrayContaining([expect.stringMatching(/homeAuthorizationServer\.tokenEndpoint: must be https/)]));
    expect(messages(config({}, { upstream: 'http://rs-b.example/api' }))).toEqual(expect.arrayContaining([expect.stringMatching(/egress: the foreign access token goes to https upstreams only/)]));
  });
});

describe('egress through the gateway', () => {
  it('sends the upstream an access token of trust domain B for the caller, never the caller\'s own token', async () => {
    const h = harness();
    const token = await callerToken();
    const response = await h.fetch('/b/items?x=1', token);
    expect(response.status).toBe(200);
    expect(h.upstream).toHaveLength(1);
    const seen = h.upstream[0]!;
    expect(seen.url).toBe(`${FOREIGN_RS}/items?x=1`);
    const authorization = seen.headers.get('authorization')!;
    expect(authorization).toMatch(/^Bearer /);
    const foreign = authorization.slice('Bearer '.length);
    expect(foreign).not.toBe(token);
    for (const [, value] of seen.headers) expect(value).not.toContain(token);
    expect(seen.headers.get('txn-token')).toBeNull();
    const set = createLocalJWKSet((await (await asB.fetch(new Request(`${B}/jwks`))).json()) as JSONWebKeySet);
    const { payload } = await jwtVerify(foreign, set, { issuer: B, audience: FOREIGN_RS, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: 'demo-agent', client_id: 'portcullis-egress', scope: 'mcp:tools' });
    expect(h.calls).toEqual({ A: 1, B: 1 });
    expect(h.audit.events.at(-1)).toMatchObject({ decision: 'allow', status: 200 });
    expect(JSON.stringify(h.audit.events)).not.toContain(token);
    expect(JSON.stringify(h.audit.events)).not.toContain(foreign);
  });

  it('reuses the foreign token for the same caller (no second exchange), across isolates through the encrypted state cache', async () => {
    const state = memoryState();
    const h = harness({ state });
    const token = await callerToken();
    expect((await h.fetch('/b/one', token)).status).toBe(200);
    expect((await h.fetch('/b/two', token)).status).toBe(200);
    expect(h.calls).toEqual({ A: 1, B: 1 });
    expect(h.upstream[0]!.headers.get('authorization')).toBe(h.upstream[1]!.headers.get('authorization'));
    // Another isolate sharing the state finds it too; the stored value holds no usable token.
    const other = harness({ state });
    expect((await other.fetch('/b/three', token)).status).toBe(200);
    expect(other.calls).toEqual({ A: 0, B: 0 });
    expect(other.upstream[0]!.headers.get('authorization')).toBe(h.upstream[0]!.headers.get('authorization'));
    // A different caller is exchanged separately.
    expect((await h.fetch('/b/four', await callerToken('demo-agent', 'mcp:admin'))).status).toBe(200);
    expect(h.calls).toEqual({ A: 2, B: 2 });
  });

  it('concurrent first calls of one caller share one exchange', async () => {
    const h = harness();
    const token = await callerToken();
    const answers = await Promise.all([h.fetch('/b/1', token), h.fetch('/b/2', token), h.fetch('/b/3', token)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(h.calls).toEqual({ A: 1, B: 1 });
  });

  it('works with an opaque caller token, a configured resource and scope, and no client at B', async () => {
    const cfg = config({ resource: 'https://rs-b.example/', scope: ['mcp:tools'], foreignAuthorizationServer: { issuer: B, tokenEndpoint: `${B}/token` } });
    const withIntrospection = { ...cfg, authorizationServers: { [A]: { introspection: { clientId: 'portcullis-gateway', clientSecretEnv: 'INTROSPECT' } } } } as GatewayConfigInput;
    const h = harness({ cfg: withIntrospection, env: { EGRESS_A: 'portcullis-egress-secret', INTROSPECT: 'portcullis-gateway-secret' } });
    const response = await h.fetch('/b', await callerToken('demo-opaque', 'mcp:tools mcp:admin'));
    expect(response.status).toBe(200);
    const foreign = decodeJwt(h.upstream[0]!.headers.get('authorization')!.slice(7));
    expect(foreign).toMatchObject({ sub: 'demo-opaque', aud: 'https://rs-b.example/', scope: 'mcp:tools', client_id: 'portcullis-egress' });
  });

  it('a missing client secret is ERR_EGRESS_UNAVAILABLE (503), before anything is sent', async () => {
    const h = harness({ env: {} });
    const response = await h.fetch('/b', await callerToken());
    expect(response.status).toBe(503);
    expect(await code(response)).toBe('ERR_EGRESS_UNAVAILABLE');
    expect(h.calls).toEqual({ A: 0, B: 0 });
    expect(h.upstream).toHaveLength(0);
  });

  it('home server refusals and failures: ERR_EGRESS_EXCHANGE_REFUSED / _FAILED (502)', async () => {
    const token = await callerToken();
    // A does not know this peer: invalid_target.
    const unknownPeer = harness({ cfg: config({ foreignAuthorizationServer: { issuer: 'http://127.0.0.1:9103/as', tokenEndpoint: `${B}/token` } }) });
    let response = await unknownPeer.fetch('/b', token);
    expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_EXCHANGE_REFUSED']);
    expect(unknownPeer.audit.events.at(-1)?.detail).toContain('invalid_target');
    // A wider scope than the caller's token: invalid_scope.
    response = await harness({ cfg: config({ scope: ['mcp:admin'] }) }).fetch('/b', token);
    expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_EXCHANGE_REFUSED']);
    // Wrong secret: invalid_client.
    response = await harness({ env: { EGRESS_A: 'nope', EGRESS_B: 'portcullis-egress-secret' } }).fetch('/b', token);
    expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_EXCHANGE_REFUSED']);
    for (const broken of [new Response('oops', { status: 500 }), new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }), Response.json({ access_token: 'opaque', issued_token_type: 'urn:ietf:params:oauth:token-type:jwt' })]) {
      const h = harness({ intercept: (request) => (request.url === asA.tokenEndpoint ? broken : undefined) });
      response = await h.fetch('/b', token);
      expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_EXCHANGE_FAILED']);
      expect(h.upstream).toHaveLength(0);
    }
    const down = harness({ intercept: (request) => (request.url === asA.tokenEndpoint ? Promise.reject(new TypeError('fetch failed')) : undefined) });
    response = await down.fetch('/b', token);
    expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_EXCHANGE_FAILED']);
  });

  it('foreign server refusals and failures: ERR_EGRESS_GRANT_REFUSED / _FAILED (502); failures are not cached', async () => {
    const token = await callerToken();
    const refused = harness({ intercept: (request) => (request.url === asB.tokenEndpoint ? Response.json({ error: 'invalid_grant', error_description: 'no' }, { status: 400 }) : undefined) });
    let response = await refused.fetch('/b', token);
    expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_GRANT_REFUSED']);
    response = await refused.fetch('/b', token);
    expect(refused.calls).toEqual({ A: 2, B: 2 });
    // B does not trust the issuer of the grant (a B without trust in A).
    const strictB = createDevAuthorizationServer({ issuer: B, trust: { 'http://127.0.0.1:9103/as': { jwks: async () => ({ keys: [] }) } } });
    response = await harness({ intercept: (request) => (request.url === asB.tokenEndpoint ? strictB.fetch(request) : undefined) }).fetch('/b', token);
    expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_GRANT_REFUSED']);
    // A DPoP token cannot be presented as Bearer; a 503; no answer.
    for (const broken of [Response.json({ access_token: 'x', token_type: 'DPoP', expires_in: 60 }), new Response('busy', { status: 503 })]) {
      response = await harness({ intercept: (request) => (request.url === asB.tokenEndpoint ? broken : undefined) }).fetch('/b', token);
      expect([response.status, await code(response)]).toEqual([502, 'ERR_EGRESS_GRANT_FAILED']);
    }
  });

  it('an unauthenticated caller is refused by the route before any exchange', async () => {
    const h = harness();
    const response = await h.fetch('/b', 'not-a-token');
    expect(response.status).toBe(401);
    expect(h.calls).toEqual({ A: 0, B: 0 });
  });
});
