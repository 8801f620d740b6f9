/**
 * Transaction Tokens minted by the gateway for its upstreams (draft-ietf-oauth-transaction-tokens; src/gateway/
 * txn-rebind.ts, src/mint/txn-token.ts, src/txn/key-ring.ts), in-process: real WITs, WPTs and access tokens signed
 * with Web Crypto, createGateway with a memory state, a recording upstream and an in-memory audit sink. Every Txn-Token
 * the upstream receives is verified with verifyTxnToken against the keys the gateway itself publishes at
 * /.well-known/jwks.json (fetched through gw.fetch).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { memoryCache } from '../../src/state/index.ts';
import { verifyTxnToken } from '../../src/verify/txn-token.ts';
import { assertConfig, ConfigError, createGateway, memorySink, memoryState, trustKeySource, type AuditEvent, type GatewayConfigInput, type StatePorts } from '../../src/index.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';
import { publishedKeys, verifiedTxnToken } from './gateway-jwks.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const SUB = `${TD}/ns/prod/sa/agent`;
const ISS = 'https://issuer.dev.test';
const AS = 'https://as.example';
const TXN_TD = 'trust.internal.example';
const LIFETIME = 120;

let issuer: TestKey; // signs WITs, kid k1
let workload: TestKey; // the workload's proof key
let asKey: TestKey; // signs access tokens, kid a1
let config: GatewayConfigInput;
/** Every credential minted here and every Txn-Token the upstream received: none may reach an audit event. */
const minted: string[] = [];
const allEvents: AuditEvent[] = [];

const pub = configJwk;

beforeAll(async () => {
  [issuer, workload, asKey] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  const wit = { trustDomains: [TD] };
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [pub(issuer, 'k1')] }, issuers: [ISS] } },
    authorizationServers: { [AS]: { jwks: { keys: [pub(asKey, 'a1')] }, algorithms: ['ES256'] } },
    transactionTokens: { trustDomain: TXN_TD, lifetimeSeconds: LIFETIME },
    routes: [
      { path: '/api', protocol: 'http', upstream: 'http://up.internal/', auth: { wit }, txnToken: {} },
      { path: '/orders', protocol: 'http', upstream: 'http://up.internal/', auth: { wit }, txnToken: { scope: ['orders:read', 'orders:list'] } },
      { path: '/plain', protocol: 'http', upstream: 'http://up.internal/', auth: { wit } },
      {
        path: '/mcp', protocol: 'mcp', upstream: 'http://up.internal/mcp', txnToken: {},
        auth: { oauth: { authorizationServers: [AS], tools: { deploy: { scopes: ['deploy', 'admin'] } } } },
      },
      {
        path: '/both', protocol: 'http', upstream: 'http://up.internal/', txnToken: {},
        auth: { wit: { trustDomains: [TD], carriage: 'header' }, oauth: { authorizationServers: [AS], withWorkload: true } },
      },
    ],
  };
});

afterAll(() => {
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
});

function setup(options: { state?: StatePorts; now?: () => number } = {}) {
  const audit = memorySink();
  const seen: Request[] = [];
  const gw = createGateway(config, {
    state: options.state ?? memoryState(),
    // WIT keys from their own cache: a failing state cache must fail the Txn-Token, not the WIT.
    trustKeys: trustKeySource(assertConfig(config).trustDomains, { cache: memoryCache(), now: Date.now }),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetch: async (url, init) => {
      const req = new Request(url, init);
      const t = req.headers.get('txn-token');
      if (t) minted.push(t);
      seen.push(req);
      return new Response('ok');
    },
    ...(options.now ? { now: options.now } : {}),
  });
  return { gw, audit, seen };
}

const nowS = () => Math.floor(Date.now() / 1000);

async function wit() {
  const t = await mintWit({ sub: SUB, iss: ISS, workload, issuer });
  minted.push(t);
  return t;
}

async function wpt(witToken: string, path: string, claims: Record<string, unknown> = {}) {
  const t = await mintWpt({ wit: witToken, workload, aud: `${PUBLIC}${path}`, claims });
  minted.push(t);
  return t;
}

async function accessToken(path: string, claims: Record<string, unknown> = {}) {
  const t = await sign(
    { typ: 'at+jwt', alg: 'ES256', kid: 'a1' },
    { iss: AS, sub: 'user-1', aud: `${PUBLIC}${path}`, client_id: 'agent-client', scope: 'read write', iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID(), ...claims },
    asKey,
  );
  minted.push(t);
  return t;
}

const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const toolsCall = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });

function request(path: string, fields: Array<[string, string]>, body = '{}') {
  const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${path}`, { method: 'POST', body, headers });
}

const wimse = (witToken: string, proof: string): Array<[string, string]> => [['workload-identity-token', witToken], ['authorization', `WPT ${proof}`]];
const wimse01 = (witToken: string, proof: string): Array<[string, string]> => [['workload-identity-token', witToken], ['workload-proof-token', proof]];
const bearer = (t: string): [string, string] => ['authorization', `Bearer ${t}`];

/** The one Txn-Token the upstream received with `req`, verified against the gateway's JWKS; also returns its raw header and claims. */
async function upstreamTxn(gw: ReturnType<typeof createGateway>, req: Request) {
  const values = [...req.headers].filter(([name]) => name === 'txn-token').map(([, value]) => value);
  expect(values).toHaveLength(1);
  const token = values[0]!;
  expect(token.split(',')).toHaveLength(1);
  const verified = await verifiedTxnToken(gw, token, TXN_TD);
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
  return { token, verified, header: header!, claims: claims! };
}

describe('WIT + WPT route with txnToken', () => {
  it('the upstream receives one Txn-Token naming the workload, verifiable with the gateway JWKS', async () => {
    const { gw, seen, audit } = setup();
    const w = await wit();
    const res = await gw.fetch(request('/api/items', wimse(w, await wpt(w, '/api'))), { clientAddress: '10.0.0.7' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const { verified, header, claims } = await upstreamTxn(gw, seen[0]!);
    expect(header).toEqual({ alg: 'ES256', typ: 'txntoken+jwt', kid: expect.any(String) });
    expect(verified).toMatchObject({ aud: [TXN_TD], sub: SUB, reqWl: SUB, scope: ['route:/api'] });
    expect(verified.rctx).toEqual({ authn: 'wit+wpt', req_ip: '10.0.0.7' });
    expect(verified.tctx).toEqual({ route: '/api' });
    expect(claims).toMatchObject({ aud: TXN_TD, sub: SUB, req_wl: SUB, scope: 'route:/api' });
    expect(claims.txn).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // No credential of the caller travels with it.
    for (const name of ['authorization', 'workload-identity-token', 'workload-proof-token']) expect(seen[0]!.headers.has(name), name).toBe(false);
    expect(audit.events[0]).toMatchObject({ decision: 'allow', reason: 'AUTHENTICATED', route: '/api' });
  });

  it('a configured scope replaces route:<path> for a workload credential', async () => {
    const { gw, seen } = setup();
    const w = await wit();
    expect((await gw.fetch(request('/orders', wimse(w, await wpt(w, '/orders'))))).status).toBe(200);
    const { verified, claims } = await upstreamTxn(gw, seen[0]!);
    expect(claims.scope).toBe('orders:read orders:list');
    expect(verified.scope).toEqual(['orders:read', 'orders:list']);
    expect(verified.tctx).toEqual({ route: '/orders' });
    expect(verified.rctx).toEqual({ authn: 'wit+wpt' });
  });

  it('each request gets a fresh txn; exp - iat is lifetimeSeconds', async () => {
    const { gw, seen } = setup();
    for (let i = 0; i < 3; i++) {
      const w = await wit();
      expect((await gw.fetch(request('/api', wimse(w, await wpt(w, '/api'))))).status).toBe(200);
    }
    const tokens = await Promise.all(seen.map((req) => upstreamTxn(gw, req)));
    expect(new Set(tokens.map((t) => t.verified.txn)).size).toBe(3);
    expect(new Set(tokens.map((t) => t.token)).size).toBe(3);
    for (const { claims, verified } of tokens) {
      expect((claims.exp as number) - (claims.iat as number)).toBe(LIFETIME);
      expect(verified.exp - verified.iat).toBe(LIFETIME * 1000);
      expect(Math.abs((claims.iat as number) - nowS())).toBeLessThanOrEqual(2);
    }
  });

  it('the lifetime follows the gateway clock (`now`)', async () => {
    const fixed = Date.now() - 30_000;
    const { gw, seen } = setup({ now: () => fixed });
    const w = await wit();
    expect((await gw.fetch(request('/api', wimse(w, await wpt(w, '/api'))))).status).toBe(200);
    const token = seen[0]!.headers.get('txn-token')!;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number; exp: number };
    expect(claims).toMatchObject({ iat: Math.floor(fixed / 1000), exp: Math.floor(fixed / 1000) + LIFETIME });
  });

  it('a caller-supplied Txn-Token (bound by the WPT tth) never reaches the upstream: the gateway\'s replaces it', async () => {
    const { gw, seen } = setup();
    const w = await wit();
    const callers = 'eyJhbGciOiJub25lIn0.eyJ0eG4iOiJjYWxsZXIiLCJzdWIiOiJhZG1pbiJ9.';
    const res = await gw.fetch(request('/api', [...wimse(w, await wpt(w, '/api', { tth: await sha256b64url(callers) })), ['txn-token', callers]]));
    expect(res.status).toBe(200);
    const { token, verified } = await upstreamTxn(gw, seen[0]!);
    expect(token).not.toBe(callers);
    expect(verified.txn).not.toBe('caller');
    expect(verified.sub).toBe(SUB);
  });

  it('JWKS: public members only, the signing kid among them', async () => {
    const { gw, seen } = setup();
    const w = await wit();
    await gw.fetch(request('/api', wimse(w, await wpt(w, '/api'))));
    const keys = await publishedKeys(gw);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: expect.any(String) });
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key, member).not.toHaveProperty(member);
    }
    const { header } = await upstreamTxn(gw, seen[0]!);
    expect(keys.map((k) => k.kid)).toContain(header.kid);
  });
});

describe('a route without txnToken', () => {
  it('sends no Txn-Token, and drops the caller\'s', async () => {
    const { gw, seen } = setup();
    const w = await wit();
    expect((await gw.fetch(request('/plain', wimse(w, await wpt(w, '/plain'))))).status).toBe(200);
    const callers = 'eyJhbGciOiJub25lIn0.eyJ0eG4iOiIxIn0.';
    const w2 = await wit();
    expect((await gw.fetch(request('/plain', [...wimse(w2, await wpt(w2, '/plain', { tth: await sha256b64url(callers) })), ['txn-token', callers]]))).status).toBe(200);
    expect(seen).toHaveLength(2);
    for (const req of seen) expect(req.headers.has('txn-token')).toBe(false);
  });
});

describe('OAuth route (access token) with txnToken', () => {
  it('tools/call of a scoped tool: sub = the user, req_wl = the client, scope = the tool\'s required scopes', async () => {
    const { gw, seen } = setup();
    const t = await accessToken('/mcp', { scope: 'read deploy admin' });
    const res = await gw.fetch(request('/mcp', [bearer(t)], toolsCall('deploy')), { clientAddress: '192.0.2.9' });
    expect(res.status).toBe(200);
    const { verified, claims } = await upstreamTxn(gw, seen[0]!);
    expect(verified).toMatchObject({ aud: [TXN_TD], sub: 'user-1', reqWl: 'agent-client', scope: ['deploy', 'admin'] });
    expect(claims.scope).toBe('deploy admin');
    expect(verified.rctx).toEqual({ authn: 'access-token', req_ip: '192.0.2.9', token_iss: AS, client_id: 'agent-client' });
    expect(verified.tctx).toEqual({ route: '/mcp', mcp: [{ method: 'tools/call', name: 'deploy' }] });
    expect(seen[0]!.headers.has('authorization')).toBe(false);
  });

  it('tools/list (no requirement): scope = the token\'s granted scopes; tctx.mcp names the method', async () => {
    const { gw, seen } = setup();
    expect((await gw.fetch(request('/mcp', [bearer(await accessToken('/mcp', { scope: 'read write' }))], TOOLS_LIST))).status).toBe(200);
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified).toMatchObject({ sub: 'user-1', reqWl: 'agent-client', scope: ['read', 'write'] });
    expect(verified.tctx).toEqual({ route: '/mcp', mcp: [{ method: 'tools/list' }] });
    expect(verified.rctx).toEqual({ authn: 'access-token', token_iss: AS, client_id: 'agent-client' });
  });

  it('a token without scope on an operation without requirement: scope = route:<path>', async () => {
    const { gw, seen } = setup();
    expect((await gw.fetch(request('/mcp', [bearer(await accessToken('/mcp', { scope: undefined }))], toolsCall('other')))).status).toBe(200);
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified.scope).toEqual(['route:/mcp']);
    expect(verified.tctx).toEqual({ route: '/mcp', mcp: [{ method: 'tools/call', name: 'other' }] });
  });

  it('a caller-supplied Txn-Token is replaced by the gateway\'s', async () => {
    const { gw, seen } = setup();
    const callers = 'eyJhbGciOiJub25lIn0.eyJ0eG4iOiJjYWxsZXIifQ.';
    expect((await gw.fetch(request('/mcp', [bearer(await accessToken('/mcp')), ['txn-token', callers], ['Txn-Token', 'second.value.here']], TOOLS_LIST))).status).toBe(200);
    const { token, verified } = await upstreamTxn(gw, seen[0]!);
    expect(token).not.toContain(callers);
    expect(token).not.toContain('second.value.here');
    expect(verified.sub).toBe('user-1');
  });
});

describe('withWorkload route (WIT + WPT-01 + Bearer) with txnToken', () => {
  it('sub = the user, req_wl = the workload, rctx carries the token\'s issuer and client', async () => {
    const { gw, seen } = setup();
    const t = await accessToken('/both', { scope: 'read' });
    const w = await wit();
    const res = await gw.fetch(request('/both', [...wimse01(w, await wpt(w, '/both', { ath: await sha256b64url(t) })), bearer(t)]));
    expect(res.status).toBe(200);
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified).toMatchObject({ aud: [TXN_TD], sub: 'user-1', reqWl: SUB, scope: ['read'] });
    expect(verified.rctx).toEqual({ authn: 'wit+wpt', token_iss: AS, client_id: 'agent-client' });
    expect(verified.tctx).toEqual({ route: '/both' });
  });
});

describe('config', () => {
  const problemsOf = (input: GatewayConfigInput) => {
    try {
      createGateway(input, {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  it('a public route with txnToken is refused', () => {
    const problems = problemsOf({
      publicUrl: PUBLIC,
      transactionTokens: { trustDomain: TXN_TD },
      routes: [{ path: '/open', protocol: 'http', upstream: 'http://up.internal/', public: true, txnToken: {} }],
    });
    expect(problems).toEqual([{ path: 'routes[0].txnToken', message: 'needs an auth block: a public route has no caller to name' }]);
  });

  it('txnToken without the top-level transactionTokens is refused', () => {
    const problems = problemsOf({
      publicUrl: PUBLIC,
      trustDomains: { [TD]: { jwks: { keys: [pub(issuer, 'k1')] } } },
      routes: [
        { path: '/plain', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } } },
        { path: '/api', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } }, txnToken: {} },
      ],
    });
    expect(problems).toEqual([{ path: 'routes[1].txnToken', message: 'needs the top-level transactionTokens (the trust domain and keys Txn-Tokens are minted for)' }]);
  });
});

describe('state failure', () => {
  const failing = (cache: StatePorts['cache']): StatePorts => {
    const base = memoryState();
    return { replay: base.replay, revocation: base.revocation, cache };
  };

  async function expectUnavailable(state: StatePorts) {
    const { gw, seen, audit } = setup({ state });
    const w = await wit();
    const res = await gw.fetch(request('/api', wimse(w, await wpt(w, '/api'))));
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status: 503, type: 'application/problem+json' });
    expect(await res.json()).toMatchObject({ status: 503, code: 'ERR_TXN_TOKEN_UNAVAILABLE', requestId: res.headers.get('x-request-id') });
    expect(seen).toHaveLength(0);
    expect(audit.events.at(-1)).toMatchObject({ decision: 'error', reason: 'ERR_TXN_TOKEN_UNAVAILABLE', status: 503, route: '/api', principal: { workloadId: SUB } });
    // A route without txnToken does not depend on the key ring.
    const w2 = await wit();
    expect((await gw.fetch(request('/plain', wimse(w2, await wpt(w2, '/plain'))))).status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.has('txn-token')).toBe(false);
    return gw;
  }

  it('a state store holding an unusable signing key: 503 ERR_TXN_TOKEN_UNAVAILABLE, the upstream not called, the JWKS 503', async () => {
    const period = Math.floor(Date.now() / (24 * 60 * 60_000));
    const bad = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', d: 'AAAA', kid: 'bad-key', alg: 'ES256' };
    const ring = { keys: [{ period, jwk: bad }, { period: period + 1, jwk: { ...bad, kid: 'bad-next' } }] };
    const gw = await expectUnavailable(failing({ get: async <T>() => ring as T, set: async () => {}, delete: async () => {} }));
    const jwks = await gw.fetch(new Request('http://127.0.0.1/.well-known/jwks.json'));
    expect(jwks.status).toBe(503);
    expect(((await jwks.json()) as { code: string }).code).toBe('ERR_TXN_TOKEN_UNAVAILABLE');
  });

  // Fail closed: a key only this isolate held could not be published by the others, so its tokens would not verify.
  it('a state cache whose get/set throw: 503 ERR_TXN_TOKEN_UNAVAILABLE, and the upstream is not called', async () => {
    const down = async (): Promise<never> => { throw new Error('state store down'); };
    await expectUnavailable(failing({ get: down, set: down, delete: async () => {} }));
  });
});
