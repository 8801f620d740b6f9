/**
 * A peer gateway's own Txn-Token (route `txnToken.peers`; src/gateway/txn-peer.ts, txn-rebind.ts replacementClaims):
 * verified with the peer's JWKS (served by a fake `fetchKeys`) and replaced per draft-ietf-oauth-transaction-tokens
 * "Replacement Txn-Tokens"; anyone else's Txn-Token dropped. In-process createGateway with real WITs and WPTs, the
 * peer's tokens minted with mintTxnToken under a key whose public JWK the fake JWKS serves. What the upstream gets is
 * verified against the gateway's own published keys.
 */
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { mintTxnToken, type TxnTokenClaims } from '../../src/mint/txn-token.ts';
import { memoryCache } from '../../src/state/index.ts';
import { assertConfig, ConfigError, createGateway, memorySink, memoryState, trustKeySource, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';
import { verifiedTxnToken } from './gateway-jwks.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const PEER = `${TD}/ns/edge/sa/peer-gateway`;
const AGENT = `${TD}/ns/prod/sa/agent`;
const ISS = 'https://issuer.dev.test';
const TXN_TD = 'trust.internal.example';
const PEER_JWKS = 'https://peer.example/.well-known/jwks.json';
const LIFETIME = 120;

let issuer: TestKey; // signs WITs, kid k1
let workload: TestKey; // the callers' proof key
let peerKey: TestKey; // the peer gateway's Txn-Token key, kid p1
let stranger: TestKey; // a key the peer's JWKS does not serve
let config: GatewayConfigInput;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];

beforeAll(async () => {
  [issuer, workload, peerKey, stranger] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  const wit = { trustDomains: [TD] };
  const peers = [{ workloadId: PEER, jwksUrl: PEER_JWKS }];
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [configJwk(issuer, 'k1')] }, issuers: [ISS] } },
    transactionTokens: { trustDomain: TXN_TD, lifetimeSeconds: LIFETIME },
    audit: { sink: 'none' },
    routes: [
      { path: '/orders', protocol: 'http', upstream: 'http://up.internal/', auth: { wit }, txnToken: { scope: ['orders:read', 'orders:list'], peers } },
      { path: '/api', protocol: 'http', upstream: 'http://up.internal/', auth: { wit }, txnToken: {} },
    ],
  };
});

afterAll(() => {
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
});

function setup(options: { jwks?: () => Response } = {}) {
  const audit = memorySink();
  const seen: Request[] = [];
  const jwksFetches: string[] = [];
  const gw = createGateway(config, {
    state: memoryState(),
    trustKeys: trustKeySource(assertConfig(config).trustDomains, { cache: memoryCache(), now: Date.now }),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetchKeys: async (url) => {
      jwksFetches.push(url);
      if (url !== PEER_JWKS) return new Response('not found', { status: 404 });
      return options.jwks ? options.jwks() : Response.json({ keys: [{ ...configJwk(peerKey, 'p1'), alg: 'ES256', use: 'sig' }] });
    },
    fetch: async (url, init) => {
      const req = new Request(url, init);
      const t = req.headers.get('txn-token');
      if (t) minted.push(t);
      seen.push(req);
      return new Response('ok');
    },
  });
  return { gw, audit, seen, jwksFetches };
}

async function wimse(sub: string, path: string, txnToken?: string): Promise<Array<[string, string]>> {
  const w = await mintWit({ sub, iss: ISS, workload, issuer });
  const p = await mintWpt({ wit: w, workload, aud: `${PUBLIC}${path}`, claims: txnToken === undefined ? {} : { tth: await sha256b64url(txnToken) } });
  minted.push(w, p);
  const fields: Array<[string, string]> = [['workload-identity-token', w], ['authorization', `WPT ${p}`]];
  if (txnToken !== undefined) fields.push(['txn-token', txnToken]);
  return fields;
}

function request(path: string, fields: Array<[string, string]>) {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${path}`, { method: 'POST', body: '{}', headers });
}

const ORIGINAL: TxnTokenClaims = {
  aud: TXN_TD,
  sub: 'user-1',
  req_wl: 'agent-client',
  txn: 'b6c1f2a0-9d7e-4c1b-8f3a-2e5d6c7b8a90',
  scope: 'orders:read orders:write',
  tctx: { route: '/front', mcp: [{ method: 'tools/call', name: 'order' }] },
  rctx: { authn: 'access-token', req_ip: '203.0.113.9', token_iss: 'https://as.example', client_id: 'agent-client', channel: 'web' },
};

/** The peer gateway's Txn-Token, as it would mint it. */
async function peerToken(claims: Partial<TxnTokenClaims> = {}, options: { lifetimeSeconds?: number; now?: () => number; key?: TestKey } = {}) {
  const t = await mintTxnToken({ ...ORIGINAL, ...claims }, { key: { kid: 'p1', alg: 'ES256', key: (options.key ?? peerKey).privateKey }, lifetimeSeconds: options.lifetimeSeconds ?? 60, now: options.now ?? Date.now });
  minted.push(t);
  return t;
}

const payload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The one Txn-Token the upstream received, verified with the gateway's published keys. */
async function upstreamTxn(gw: ReturnType<typeof createGateway>, req: Request) {
  const token = req.headers.get('txn-token')!;
  expect(token).toBeTruthy();
  return { token, verified: await verifiedTxnToken(gw, token, TXN_TD), claims: payload(token) };
}

async function problem(res: Response) {
  return (await res.json()) as { status: number; code: string };
}

describe('a configured peer gateway\'s Txn-Token', () => {
  it('is replaced: txn, sub, aud, tctx kept; scope narrowed; exp not after the original; req_wl the peer; call chain in rctx', async () => {
    const { gw, seen, audit, jwksFetches } = setup();
    const original = await peerToken({}, { lifetimeSeconds: 30 });
    const res = await gw.fetch(request('/orders/42', await wimse(PEER, '/orders', original)), { clientAddress: '10.0.0.7' });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const { token, verified, claims } = await upstreamTxn(gw, seen[0]!);
    expect(token).not.toBe(original);
    expect(claims).toMatchObject({ aud: TXN_TD, txn: ORIGINAL.txn, sub: 'user-1', req_wl: PEER, scope: 'orders:read' });
    expect(verified.tctx).toEqual(ORIGINAL.tctx);
    // The peer's own members stay; this hop's facts (how it authenticated, from where, which route) replace the peer's.
    expect(verified.rctx).toEqual({ channel: 'web', authn: 'wit+wpt', req_ip: '10.0.0.7', route: '/orders', req_wl_chain: ['agent-client'] });
    const originalExp = payload(original).exp as number;
    expect(claims.exp as number).toBeLessThanOrEqual(originalExp);
    expect((claims.exp as number) - (claims.iat as number)).toBeLessThanOrEqual(30);
    expect(jwksFetches).toEqual([PEER_JWKS]);
    expect(audit.events[0]).toMatchObject({ decision: 'allow', route: '/orders', principal: { workloadId: PEER } });
  });

  it('a second hop extends the chain; the peer\'s keys are fetched once', async () => {
    const { gw, seen, jwksFetches } = setup();
    const first = await peerToken({ req_wl: 'spiffe://dev.test/ns/edge/sa/other-gateway', rctx: { authn: 'wit+wpt', route: '/a', mcp: [{ method: 'tools/list' }], req_wl_chain: ['agent-client'] } });
    expect((await gw.fetch(request('/orders', await wimse(PEER, '/orders', first)))).status).toBe(200);
    expect((await gw.fetch(request('/orders', await wimse(PEER, '/orders', await peerToken()))))).toMatchObject({ status: 200 });
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified.rctx).toEqual({ authn: 'wit+wpt', route: '/orders', req_wl_chain: ['agent-client', 'spiffe://dev.test/ns/edge/sa/other-gateway'] });
    expect(jwksFetches).toHaveLength(1);
  });

  it('a peer without a Txn-Token gets the usual minted token', async () => {
    const { gw, seen } = setup();
    expect((await gw.fetch(request('/orders', await wimse(PEER, '/orders'))))).toMatchObject({ status: 200 });
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified).toMatchObject({ sub: PEER, reqWl: PEER, scope: ['orders:read', 'orders:list'], tctx: { route: '/orders' } });
    expect(verified.txn).not.toBe(ORIGINAL.txn);
    expect(verified.rctx).toEqual({ authn: 'wit+wpt' });
  });

  it('an empty intersection with what this call was authorized with is 403 ERR_TXN_TOKEN_PEER_SCOPE, upstream not called', async () => {
    const { gw, seen, audit } = setup();
    const res = await gw.fetch(request('/orders', await wimse(PEER, '/orders', await peerToken({ scope: 'orders:write admin' }))));
    expect(res.status).toBe(403);
    expect(await problem(res)).toMatchObject({ status: 403, code: 'ERR_TXN_TOKEN_PEER_SCOPE' });
    expect(seen).toHaveLength(0);
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'ERR_TXN_TOKEN_PEER_SCOPE', principal: { workloadId: PEER } });
  });

  it('a chain already MAX_TXN_REPLACEMENTS long is 403 ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG', async () => {
    const { gw, seen } = setup();
    const chain = Array.from({ length: 8 }, (_, i) => `wl-${i}`);
    const res = await gw.fetch(request('/orders', await wimse(PEER, '/orders', await peerToken({ rctx: { req_wl_chain: chain } }))));
    expect(await problem(res)).toMatchObject({ status: 403, code: 'ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG' });
    expect(seen).toHaveLength(0);
  });

  const refusals: Array<[string, () => Promise<string>, string]> = [
    ['for another trust domain', () => peerToken({ aud: 'other.example' }), 'ERR_TXN_TOKEN_AUD_MISMATCH'],
    ['expired', () => peerToken({}, { now: () => Date.now() - 600_000 }), 'ERR_TXN_TOKEN_EXPIRED'],
    // Within the verifier's clock skew, but a replacement is never issued after the original's exp.
    ['expired a second ago', () => peerToken({}, { now: () => Date.now() - 61_000, lifetimeSeconds: 60 }), 'ERR_TXN_TOKEN_EXPIRED'],
    ['forged (another key, the peer\'s kid)', () => peerToken({}, { key: stranger }), 'ERR_TXN_TOKEN_SIGNATURE_INVALID'],
    [
      'with several audiences (a replacement keeps aud)',
      async () => {
        const now = Math.floor(Date.now() / 1000);
        const t = await sign({ alg: 'ES256', typ: 'txntoken+jwt', kid: 'p1' }, { ...ORIGINAL, aud: [TXN_TD, 'other.example'], iat: now, exp: now + 60 }, peerKey);
        minted.push(t);
        return t;
      },
      'ERR_TXN_TOKEN_AUD_MISMATCH',
    ],
    ['not a JWS', async () => 'not-a-token', 'ERR_TXN_TOKEN_MALFORMED'],
  ];
  for (const [name, make, code] of refusals) {
    it(`${name}: 401 ${code}, upstream not called`, async () => {
      const { gw, seen, audit } = setup();
      const res = await gw.fetch(request('/orders', await wimse(PEER, '/orders', await make())));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBeNull();
      expect(await problem(res)).toMatchObject({ status: 401, code });
      expect(seen).toHaveLength(0);
      expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: code, status: 401, principal: { workloadId: PEER } });
    });
  }

  it('two Txn-Token values: 401 ERR_TXN_TOKEN_MALFORMED', async () => {
    const { gw, seen } = setup();
    const [a, b] = [await peerToken(), await peerToken()];
    const fields = await wimse(PEER, '/orders', `${a}, ${b}`);
    const res = await gw.fetch(request('/orders', fields));
    expect(await problem(res)).toMatchObject({ status: 401, code: 'ERR_TXN_TOKEN_MALFORMED' });
    expect(seen).toHaveLength(0);
  });

  it('the peer\'s JWKS unreachable: 503 ERR_TXN_TOKEN_KEY_SOURCE_FAILED (fail closed)', async () => {
    const { gw, seen, audit } = setup({ jwks: () => new Response('down', { status: 500 }) });
    const res = await gw.fetch(request('/orders', await wimse(PEER, '/orders', await peerToken())));
    expect(await problem(res)).toMatchObject({ status: 503, code: 'ERR_TXN_TOKEN_KEY_SOURCE_FAILED' });
    expect(seen).toHaveLength(0);
    expect(audit.events[0]).toMatchObject({ decision: 'error', reason: 'ERR_TXN_TOKEN_KEY_SOURCE_FAILED' });
  });
});

describe('anyone else\'s Txn-Token', () => {
  it('a non-peer workload\'s (valid, peer-signed) Txn-Token is dropped and the usual token minted', async () => {
    const { gw, seen, jwksFetches } = setup();
    expect((await gw.fetch(request('/orders', await wimse(AGENT, '/orders', await peerToken()))))).toMatchObject({ status: 200 });
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified).toMatchObject({ sub: AGENT, reqWl: AGENT, scope: ['orders:read', 'orders:list'], tctx: { route: '/orders' } });
    expect(verified.txn).not.toBe(ORIGINAL.txn);
    expect(jwksFetches).toEqual([]);
  });

  it('a non-peer\'s invalid Txn-Token is not even looked at', async () => {
    const { gw, seen } = setup();
    expect((await gw.fetch(request('/orders', await wimse(AGENT, '/orders', 'not-a-token'))))).toMatchObject({ status: 200 });
    expect((await upstreamTxn(gw, seen[0]!)).verified.sub).toBe(AGENT);
  });

  it('the peer on a route that does not list it: dropped', async () => {
    const { gw, seen } = setup();
    expect((await gw.fetch(request('/api', await wimse(PEER, '/api', await peerToken()))))).toMatchObject({ status: 200 });
    const { verified } = await upstreamTxn(gw, seen[0]!);
    expect(verified).toMatchObject({ sub: PEER, reqWl: PEER, scope: ['route:/api'], tctx: { route: '/api' } });
  });
});

describe('config', () => {
  const problemsOf = (route: Record<string, unknown>) => {
    try {
      createGateway({ ...config, routes: [route] } as GatewayConfigInput, {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };
  const base = { path: '/orders', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } } };

  it('a jwksUrl over plain http to a remote host', () => {
    expect(problemsOf({ ...base, txnToken: { peers: [{ workloadId: PEER, jwksUrl: 'http://peer.example/jwks.json' }] } })).toEqual([
      { path: 'routes[0].txnToken.peers[0].jwksUrl', message: expect.stringContaining('must be https (plain http only to a loopback host)') },
    ]);
  });

  it('http to a loopback host is accepted', () => {
    expect(() => assertConfig({ ...config, routes: [{ ...base, txnToken: { peers: [{ workloadId: PEER, jwksUrl: 'http://127.0.0.1:8788/.well-known/jwks.json' }] } }] })).not.toThrow();
  });

  it('a jwksUrl that is not a URL', () => {
    expect(problemsOf({ ...base, txnToken: { peers: [{ workloadId: PEER, jwksUrl: 'jwks.json' }] } })).toEqual([{ path: 'routes[0].txnToken.peers[0].jwksUrl', message: 'must be an absolute URL' }]);
  });

  it('peers on a route without wit or mtls', () => {
    const route = { ...base, auth: { jwtSvid: { trustDomains: [TD] } }, txnToken: { peers: [{ workloadId: PEER, jwksUrl: PEER_JWKS }] } };
    expect(problemsOf(route)).toEqual([{ path: 'routes[0].txnToken.peers', message: 'needs auth.wit or auth.mtls: a peer gateway is a workload that authenticates with its own credential' }]);
  });

  it('a workloadId that is not canonical, or repeated, or of a trust domain the route does not accept', () => {
    expect(problemsOf({ ...base, txnToken: { peers: [{ workloadId: 'spiffe://Dev.test/gw', jwksUrl: PEER_JWKS }] } })).toEqual([
      { path: 'routes[0].txnToken.peers[0].workloadId', message: expect.stringContaining('not a canonical workload identifier') },
    ]);
    expect(problemsOf({ ...base, txnToken: { peers: [{ workloadId: PEER, jwksUrl: PEER_JWKS }, { workloadId: PEER, jwksUrl: 'https://other.example/jwks' }] } })).toEqual([
      { path: 'routes[0].txnToken.peers', message: 'must not repeat a workloadId' },
    ]);
    expect(problemsOf({ ...base, txnToken: { peers: [{ workloadId: 'spiffe://elsewhere.test/gw', jwksUrl: PEER_JWKS }] } })).toEqual([
      { path: 'routes[0].txnToken.peers[0].workloadId', message: 'trust domain spiffe://elsewhere.test is not among auth.wit / auth.mtls trustDomains' },
    ]);
  });

  it('unknown members and an empty list are refused', () => {
    expect(problemsOf({ ...base, txnToken: { peers: [] } }).map((p) => p.path)).toEqual(['routes[0].txnToken.peers']);
    expect(problemsOf({ ...base, txnToken: { peers: [{ workloadId: PEER, jwksUrl: PEER_JWKS, audience: 'x' }] } }).map((p) => p.path)).toEqual(['routes[0].txnToken.peers[0].audience']);
  });
});
