/**
 * The authentication stage in the gateway pipeline, in-process: real WITs, WPTs and JWT-SVIDs signed with Web
 * Crypto, checked through createGateway with a memory state, a recording upstream and an in-memory audit sink.
 */
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWimseSigner, type WimseSigner } from '../../src/mint/wimse-signature.ts';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { jwkThumbprint } from '../../src/crypto/thumbprint.ts';
import { memoryCache } from '../../src/state/index.ts';
import { assertConfig, createGateway, memorySink, memoryState, trustKeySource, type AuditEvent, type GatewayConfigInput, type StatePorts, type TrustKeySource } from '../../src/index.ts';
import { leakedPieces, mintJwtSvid, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, type TestKey } from './verify/mint.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const OTHER_TD = 'wimse://other.test';
const SUB = `${TD}/ns/prod/sa/agent`;
const ISS = 'https://issuer.dev.test';

let issuer: TestKey; // ES256, kid k1, signs WITs and JWT-SVIDs of spiffe://dev.test
let otherIssuer: TestKey; // ES256, kid o1, wimse://other.test
let workload: TestKey; // ES256, the workload's proof key
let intruder: TestKey;
let config: GatewayConfigInput;
/** Every token minted here, to prove none reaches an audit event. */
const minted: string[] = [];
const allEvents: AuditEvent[] = [];

beforeAll(async () => {
  [issuer, otherIssuer, workload, intruder] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  config = {
    publicUrl: PUBLIC,
    trustDomains: {
      [TD]: { jwks: { keys: [configJwk(issuer, 'k1')] }, issuers: [ISS] },
      [OTHER_TD]: { jwks: { keys: [configJwk(otherIssuer, 'o1')] } },
    },
    routes: [
      { path: '/api', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } } },
      { path: '/mcp', protocol: 'mcp', upstream: 'http://up.internal/mcp', auth: { wit: { trustDomains: [TD] } } },
      { path: '/legacy', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD], carriage: 'header' } } },
      { path: '/other', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [OTHER_TD] } } },
      { path: '/svid', protocol: 'http', upstream: 'http://up.internal/', auth: { jwtSvid: { trustDomains: [TD] } } },
      { path: '/both', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] }, jwtSvid: { trustDomains: [TD], audience: 'spiffe://dev.test/gateway' } } },
      { path: '/open', protocol: 'http', upstream: 'http://up.internal/', public: true },
      { path: '/sig', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD], proofs: ['http-sig'] } }, limits: { maxBodyBytes: 64 } },
      { path: '/either', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD], proofs: ['wpt', 'http-sig'] } } },
    ],
  };
});

afterAll(() => {
  // No audit event of this file ever carried a token (DESIGN principle 2).
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
});

interface Setup {
  state?: StatePorts;
  trustKeys?: TrustKeySource;
  config?: GatewayConfigInput;
}

function setup(options: Setup = {}) {
  const audit = memorySink();
  const seen: Request[] = [];
  const cfg = options.config ?? config;
  const keyCalls: string[] = [];
  const base = options.trustKeys ?? trustKeySource(assertConfig(cfg).trustDomains, { cache: memoryCache(), now: Date.now });
  const trustKeys: TrustKeySource = { key: (td, kid, purpose, background) => { keyCalls.push(`${purpose} ${td} ${kid}`); return base.key(td, kid, purpose, background); } };
  const gw = createGateway(cfg, {
    state: options.state ?? memoryState(),
    trustKeys,
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetch: async (url, init) => { seen.push(new Request(url, init)); return new Response('ok'); },
  });
  return { gw, audit, seen, keyCalls };
}

async function wit(claims: Record<string, unknown> = {}, extra: Partial<Parameters<typeof mintWit>[0]> = {}) {
  const token = await mintWit({ sub: SUB, iss: ISS, workload, issuer, claims, ...extra });
  minted.push(token);
  return token;
}

async function wpt(witToken: string, aud = `${PUBLIC}/api`, extra: Partial<Parameters<typeof mintWpt>[0]> = {}) {
  const token = await mintWpt({ wit: witToken, workload, aud, ...extra });
  minted.push(token);
  return token;
}

function request(path: string, fields: Array<[string, string]>, init: RequestInit = {}) {
  const headers = new Headers();
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${path}`, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', ...init, headers });
}

const wimse = (witToken: string, proof: string): Array<[string, string]> => [['workload-identity-token', witToken], ['authorization', `WPT ${proof}`]];

async function expectProblem(res: Response, status: number, code: string) {
  expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status, type: 'application/problem+json' });
  expect(await res.json()).toEqual({ type: 'about:blank', title: expect.any(String), status, code, requestId: res.headers.get('x-request-id') });
}

describe('WIT + WPT on a route (in-process)', () => {
  it('authenticates, forwards no credential upstream, and records the principal in the audit event', async () => {
    const { gw, audit, seen } = setup();
    const witToken = await wit();
    const res = await gw.fetch(request('/api/tools', [...wimse(witToken, await wpt(witToken)), ['txn-token', 'unbound']]), { clientAddress: '10.0.0.1' });
    // A Txn-Token the proof does not bind is refused (tth, wpt-02 §2 step 10) ...
    expect(res.status).toBe(401);
    expect(audit.events[0]).toMatchObject({ reason: 'ERR_WPT_TTH_MISMATCH' });

    const ok = await gw.fetch(request('/api/tools', wimse(witToken, await wpt(witToken))));
    expect(ok.status).toBe(200);
    const upstream = seen[0]!;
    for (const name of ['authorization', 'workload-identity-token', 'workload-proof-token', 'txn-token']) expect(upstream.headers.has(name), name).toBe(false);
    const event = audit.events[1]!;
    expect(event).toMatchObject({ decision: 'allow', reason: 'AUTHENTICATED', status: 200, route: '/api' });
    expect(event.principal).toEqual({
      workloadId: SUB,
      trustDomain: TD,
      issuer: ISS,
      credential: 'wit+wpt',
      keyThumbprint: await jwkThumbprint(workload.publicJwk),
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      tokenHash: await sha256b64url(witToken),
    });
  });

  it('binds a Txn-Token with tth and then accepts it', async () => {
    const { gw } = setup();
    const witToken = await wit();
    const txn = 'eyJhbGciOiJub25lIn0.eyJ0eG4iOiIxIn0.';
    const proof = await wpt(witToken, `${PUBLIC}/api`, { claims: { tth: await sha256b64url(txn) } });
    expect((await gw.fetch(request('/api', [...wimse(witToken, proof), ['txn-token', txn]]))).status).toBe(200);
  });

  it('accepts aud = publicUrl + mount for any path below it, and aud = the request URL on publicUrl; never one built from Host', async () => {
    const { gw, audit } = setup();
    const witToken = await wit();
    expect((await gw.fetch(request('/api/a/b?q=1', wimse(witToken, await wpt(witToken, `${PUBLIC}/api`))))).status).toBe(200);
    expect((await gw.fetch(request('/api/a/b?q=1', wimse(witToken, await wpt(witToken, `${PUBLIC}/api/a/b`))))).status).toBe(200);
    const viaHost = await gw.fetch(request('/api', wimse(witToken, await wpt(witToken, 'http://127.0.0.1/api'))));
    expect(viaHost.status).toBe(401);
    expect(audit.events[2]).toMatchObject({ reason: 'ERR_WPT_AUD_MISMATCH' });
  });

  it('answers 401 ERR_CREDENTIALS_MISSING with WWW-Authenticate: WPT when nothing is presented, without calling the upstream', async () => {
    const { gw, seen, audit } = setup();
    const res = await gw.fetch(request('/api', []));
    expect(res.headers.get('www-authenticate')).toBe('WPT');
    await expectProblem(res, 401, 'ERR_CREDENTIALS_MISSING');
    expect(seen).toHaveLength(0);
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'ERR_CREDENTIALS_MISSING', status: 401, detail: 'no credential presented' });
    expect(audit.events[0]!.principal).toBeUndefined();
  });

  it('answers each extraction failure with its code and status', async () => {
    const { gw, seen } = setup();
    const witToken = await wit();
    const proof = await wpt(witToken);
    const cases: Array<[Array<[string, string]>, number, string]> = [
      [[['workload-identity-token', witToken], ['workload-identity-token', witToken], ['authorization', `WPT ${proof}`]], 400, 'ERR_WIT_MALFORMED'],
      [[['workload-identity-token', witToken], ['authorization', `WPT ${proof}`], ['authorization', `WPT ${proof}`]], 401, 'ERR_WPT_MALFORMED'],
      [[['workload-identity-token', witToken], ['authorization', 'WPT']], 401, 'ERR_WPT_MALFORMED'],
      [[['workload-identity-token', witToken]], 401, 'ERR_WPT_MISSING'],
      [[['authorization', `WPT ${proof}`]], 400, 'ERR_WIT_MISSING'],
      [[['authorization', 'Basic dXNlcjpwYXNz']], 401, 'ERR_CREDENTIALS_MISSING'],
      [[['workload-identity-token', witToken], ['workload-proof-token', proof]], 401, 'ERR_WPT_MISSING'],
    ];
    for (const [fields, status, code] of cases) {
      const res = await gw.fetch(request('/api', fields));
      expect(res.headers.get('www-authenticate'), code).toBe(status === 401 ? 'WPT' : null);
      await expectProblem(res, status, code);
    }
    expect(seen).toHaveLength(0);
  });

  it('answers a WIT failure with 400 and the verifier code, no challenge', async () => {
    const { gw, audit } = setup();
    const now = Math.floor(Date.now() / 1000);
    const expired = await wit({ iat: now - 900, exp: now - 600 });
    const res = await gw.fetch(request('/api', wimse(expired, await wpt(expired))));
    expect(res.headers.get('www-authenticate')).toBeNull();
    await expectProblem(res, 400, 'ERR_WIT_EXPIRED');
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'ERR_WIT_EXPIRED', detail: expect.stringMatching(/^expired \d+s ago$/) });
  });

  it('refuses oversized tokens before parsing them (400 ERR_WIT_TOO_LARGE, 401 ERR_WPT_TOO_LARGE), never a 500', async () => {
    const { gw, keyCalls } = setup();
    const big = await wit({ pad: 'p'.repeat(9000) });
    await expectProblem(await gw.fetch(request('/api', wimse(big, await wpt(big)))), 400, 'ERR_WIT_TOO_LARGE');
    const witToken = await wit();
    await expectProblem(await gw.fetch(request('/api', wimse(witToken, await wpt(witToken, `${PUBLIC}/api`, { claims: { pad: 'p'.repeat(5000) } })))), 401, 'ERR_WPT_TOO_LARGE');
    expect(keyCalls).toHaveLength(1); // only the normal-sized WIT reached the key lookup
  });

  it('answers a WPT failure with 401 and WWW-Authenticate: WPT', async () => {
    const { gw } = setup();
    const witToken = await wit();
    const res = await gw.fetch(request('/api', wimse(witToken, await wpt(witToken, `${PUBLIC}/api`, { signWith: intruder }))));
    expect(res.headers.get('www-authenticate')).toBe('WPT');
    await expectProblem(res, 401, 'ERR_WPT_SIGNATURE_INVALID');
  });

  it('refuses the second use of a proof: 401 ERR_WPT_REPLAYED', async () => {
    const { gw, seen } = setup();
    const witToken = await wit();
    const proof = await wpt(witToken);
    expect((await gw.fetch(request('/api', wimse(witToken, proof)))).status).toBe(200);
    const again = await gw.fetch(request('/api', wimse(witToken, proof)));
    expect(again.headers.get('www-authenticate')).toBe('WPT');
    await expectProblem(again, 401, 'ERR_WPT_REPLAYED');
    expect(seen).toHaveLength(1);
  });

  it('caches a verified WIT by its hash: a second request with a new proof verifies only the proof', async () => {
    const state = memoryState();
    const { gw, keyCalls } = setup({ state });
    const witToken = await wit();
    const verify = vi.spyOn(crypto.subtle, 'verify');
    try {
      expect((await gw.fetch(request('/api', wimse(witToken, await wpt(witToken))))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(2); // the WIT's signature and the proof's
      expect((await gw.fetch(request('/api', wimse(witToken, await wpt(witToken))))).status).toBe(200);
      expect((await gw.fetch(request('/mcp', wimse(witToken, await wpt(witToken, `${PUBLIC}/mcp`))))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(4); // one proof each
      // A different WIT is verified in full.
      const second = await wit();
      expect((await gw.fetch(request('/api', wimse(second, await wpt(second))))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(6);
    } finally {
      verify.mockRestore();
    }
    // Each hit still asks the key source (from memory) whether the signing key is still trusted.
    expect(keyCalls).toEqual(Array(4).fill(`wit ${TD} k1`));
  });

  it('takes keys from a remote JWKS: a rotated-in kid is fetched at once; an unreachable source with no keys is 503 ERR_WIT_KEY_SOURCE_FAILED', async () => {
    const remote = structuredClone(config) as { trustDomains: Record<string, Record<string, unknown>> };
    remote.trustDomains[TD] = { keySource: { url: 'https://keys.dev.test/jwks.json' }, issuers: [ISS] };
    const served = { keys: [configJwk(otherIssuer, 'old')], up: true };
    const fetched: string[] = [];
    const gw = createGateway(remote as GatewayConfigInput, {
      state: memoryState(),
      audit: { emit: () => {} },
      fetch: async () => new Response('ok'),
      fetchKeys: async (url) => {
        fetched.push(url);
        return served.up ? Response.json({ keys: served.keys }) : new Response('down', { status: 500 });
      },
    });
    const witToken = await wit();
    // The issuer's key k1 is not published yet: one refetch, still missing, so the key step refuses.
    await expectProblem(await gw.fetch(request('/api', wimse(witToken, await wpt(witToken)))), 400, 'ERR_WIT_KEY_NOT_FOUND');
    expect(fetched).toHaveLength(2);
    served.keys = [configJwk(otherIssuer, 'old'), configJwk(issuer, 'k1')];
    const fresh = await wit();
    // Within the cooldown, the unknown kid does not trigger another fetch...
    await expectProblem(await gw.fetch(request('/api', wimse(fresh, await wpt(fresh)))), 400, 'ERR_WIT_KEY_NOT_FOUND');
    expect(fetched).toHaveLength(2);
    // ...a fresh gateway (a new isolate with nothing shared) sees k1 at its first fetch.
    const second = createGateway(remote as GatewayConfigInput, { state: memoryState(), audit: { emit: () => {} }, fetch: async () => new Response('ok'), fetchKeys: async () => Response.json({ keys: served.keys }) });
    expect((await second.fetch(request('/api', wimse(fresh, await wpt(fresh))))).status).toBe(200);
    const third = createGateway(remote as GatewayConfigInput, { state: memoryState(), audit: { emit: () => {} }, fetch: async () => new Response('ok'), fetchKeys: async () => new Response('down', { status: 500 }) });
    const down = await third.fetch(request('/api', wimse(fresh, await wpt(fresh))));
    await expectProblem(down, 503, 'ERR_WIT_KEY_SOURCE_FAILED');
  });

  it('stops serving a cached WIT once its signing key is no longer trusted (400 ERR_WIT_KEY_NOT_FOUND)', async () => {
    const state = memoryState();
    let trusted = true;
    const base = trustKeySource(assertConfig(config).trustDomains, { cache: memoryCache(), now: Date.now });
    const { gw } = setup({ state, trustKeys: { key: async (td, kid, purpose, bg) => (trusted ? base.key(td, kid, purpose, bg) : undefined) } });
    const witToken = await wit();
    expect((await gw.fetch(request('/api', wimse(witToken, await wpt(witToken))))).status).toBe(200);
    expect((await gw.fetch(request('/api', wimse(witToken, await wpt(witToken))))).status).toBe(200);
    trusted = false; // e.g. rotated out of a remote JWKS
    await expectProblem(await gw.fetch(request('/api', wimse(witToken, await wpt(witToken)))), 400, 'ERR_WIT_KEY_NOT_FOUND');
    // A fresh gateway over the same shared cache refuses it too: the shared entry is re-checked as well.
    const other = setup({ state, trustKeys: { key: async () => undefined } });
    await expectProblem(await other.gw.fetch(request('/api', wimse(witToken, await wpt(witToken)))), 400, 'ERR_WIT_KEY_NOT_FOUND');
  });

  it('never serves a cached WIT to a route that does not accept its trust domain, nor across a trustDomains change', async () => {
    const state = memoryState();
    const first = setup({ state });
    const witToken = await wit();
    expect((await first.gw.fetch(request('/api', wimse(witToken, await wpt(witToken))))).status).toBe(200);
    const other = await first.gw.fetch(request('/other', wimse(witToken, await wpt(witToken, `${PUBLIC}/other`))));
    await expectProblem(other, 400, 'ERR_WIT_KEY_NOT_FOUND');
    expect(first.audit.events[1]).toMatchObject({ detail: `trust domain ${TD} is not accepted on this route` });
    // Same store, changed trust domain policy (another issuer allowlist): the WIT is checked again, and refused.
    const changed = structuredClone(config) as { trustDomains: Record<string, { issuers?: string[] }> };
    changed.trustDomains[TD]!.issuers = ['https://someone.else'];
    const second = setup({ state, config: changed as GatewayConfigInput });
    await expectProblem(await second.gw.fetch(request('/api', wimse(witToken, await wpt(witToken)))), 400, 'ERR_WIT_ISSUER_NOT_ALLOWED');
    expect(second.keyCalls).toHaveLength(1);
  });

  it('refuses a WIT from a trust domain the route does not accept without asking the key source (400 ERR_WIT_KEY_NOT_FOUND)', async () => {
    const { gw, keyCalls, audit } = setup();
    const foreign = await wit({ sub: 'spiffe://elsewhere.test/agent' });
    await expectProblem(await gw.fetch(request('/api', wimse(foreign, await wpt(foreign)))), 400, 'ERR_WIT_KEY_NOT_FOUND');
    const configuredElsewhere = await wit({ sub: `${OTHER_TD}/agent` }, { issuer: otherIssuer, kid: 'o1' });
    await expectProblem(await gw.fetch(request('/api', wimse(configuredElsewhere, await wpt(configuredElsewhere)))), 400, 'ERR_WIT_KEY_NOT_FOUND');
    expect(keyCalls).toEqual([]);
    expect(audit.events.map((e) => e.detail)).toEqual(['trust domain spiffe://elsewhere.test is not accepted on this route', `trust domain ${OTHER_TD} is not accepted on this route`]);
  });

  it('serves the -01 carriage: Workload-Proof-Token, and 400 without a challenge for proof failures', async () => {
    const { gw } = setup();
    const witToken = await wit();
    const fields = (proof: string): Array<[string, string]> => [['workload-identity-token', witToken], ['workload-proof-token', proof]];
    expect((await gw.fetch(request('/legacy', fields(await wpt(witToken, `${PUBLIC}/legacy`)))))).toHaveProperty('status', 200);
    const bad = await gw.fetch(request('/legacy', fields(await wpt(witToken, `${PUBLIC}/elsewhere`))));
    expect(bad.headers.get('www-authenticate')).toBeNull();
    await expectProblem(bad, 400, 'ERR_WPT_AUD_MISMATCH');
    // -01 binds an access token presented with the proof (ath).
    const bearer = await gw.fetch(request('/legacy', [...fields(await wpt(witToken, `${PUBLIC}/legacy`)), ['authorization', 'Bearer at-1']]));
    await expectProblem(bearer, 400, 'ERR_WPT_ATH_MISMATCH');
    const bound = await wpt(witToken, `${PUBLIC}/legacy`, { claims: { ath: await sha256b64url('at-1') } });
    expect((await gw.fetch(request('/legacy', [...fields(bound), ['authorization', 'Bearer at-1']]))).status).toBe(200);
  });

  it('answers on MCP routes with the same statuses and headers and a JSON-RPC error body', async () => {
    const { gw } = setup();
    const witToken = await wit();
    const missing = await gw.fetch(request('/mcp', []));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('WPT');
    expect(await missing.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, data: { status: 401, code: 'ERR_CREDENTIALS_MISSING' } } });
    const badWit = await gw.fetch(request('/mcp', wimse(witToken.slice(0, -10), await wpt(witToken, `${PUBLIC}/mcp`))));
    expect(badWit.status).toBe(400);
    expect(await badWit.json()).toMatchObject({ error: { data: { status: 400, code: 'ERR_WIT_SIGNATURE_INVALID' } } });
    const both = await gw.fetch(request('/both', []));
    expect(both.headers.get('www-authenticate')).toBe('WPT, Bearer');
  });

  it('answers 503 when the replay store fails, and fails closed', async () => {
    const state: StatePorts = { ...memoryState(), replay: { checkAndSet: async () => { throw new Error('store down'); } } };
    const { gw, seen, audit } = setup({ state });
    const witToken = await wit();
    const res = await gw.fetch(request('/api', wimse(witToken, await wpt(witToken))));
    await expectProblem(res, 503, 'ERR_WPT_REPLAY_STORE_FAILED');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(seen).toHaveLength(0);
    expect(audit.events[0]).toMatchObject({ decision: 'error' });
  });

  it('keeps the principal in the audit event when a later stage refuses (413)', async () => {
    const { gw, audit } = setup({ config: { ...config, limits: { maxBodyBytes: 4 } } as GatewayConfigInput });
    const witToken = await wit();
    const res = await gw.fetch(request('/api', [...wimse(witToken, await wpt(witToken)), ['content-length', '10']], { body: 'x'.repeat(10) }));
    expect(res.status).toBe(413);
    expect(audit.events[0]).toMatchObject({ reason: 'ERR_BODY_TOO_LARGE', principal: { workloadId: SUB, credential: 'wit+wpt' } });
  });

  it('leaves public routes as they were', async () => {
    const { gw, audit } = setup();
    expect((await gw.fetch(request('/open', []))).status).toBe(200);
    expect(audit.events[0]).toMatchObject({ reason: 'PUBLIC_ROUTE' });
    expect(audit.events[0]!.principal).toBeUndefined();
  });
});

describe('JWT-SVID on a route (in-process)', () => {
  const svid = async (aud: string | string[] = `${PUBLIC}/svid`, claims: Record<string, unknown> = {}, key?: TestKey) => {
    const token = await mintJwtSvid({ sub: SUB, aud, issuer: key ?? issuer, claims: { iss: ISS, ...claims } });
    minted.push(token);
    return token;
  };

  it('authenticates a bearer JWT-SVID and records it as the principal', async () => {
    const { gw, audit, seen } = setup();
    const token = await svid();
    const res = await gw.fetch(request('/svid/x', [['authorization', `Bearer ${token}`]]));
    expect(res.status).toBe(200);
    expect(seen[0]!.headers.has('authorization')).toBe(false);
    expect(audit.events[0]).toMatchObject({ reason: 'AUTHENTICATED' });
    expect(audit.events[0]!.principal).toEqual({ workloadId: SUB, trustDomain: TD, issuer: ISS, credential: 'jwt-svid', expiresAt: expect.any(String), tokenHash: await sha256b64url(token) });
  });

  it('answers a failure with 401 and WWW-Authenticate: Bearer error="invalid_token"', async () => {
    const { gw } = setup();
    const wrongAud = await gw.fetch(request('/svid', [['authorization', `Bearer ${await svid('https://elsewhere.example')}`]]));
    expect(wrongAud.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    await expectProblem(wrongAud, 401, 'ERR_JWT_SVID_AUD_MISMATCH');
    const forged = await gw.fetch(request('/svid', [['authorization', `Bearer ${await svid(undefined, {}, intruder)}`]]));
    await expectProblem(forged, 401, 'ERR_JWT_SVID_SIGNATURE_INVALID');
    const missing = await gw.fetch(request('/svid', []));
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    await expectProblem(missing, 401, 'ERR_CREDENTIALS_MISSING');
  });

  it('on a route taking both, accepts either credential; the JWT-SVID audience is the configured one', async () => {
    const { gw, audit } = setup();
    expect((await gw.fetch(request('/both', [['authorization', `Bearer ${await svid('spiffe://dev.test/gateway')}`]]))).status).toBe(200);
    const witToken = await wit();
    expect((await gw.fetch(request('/both', wimse(witToken, await wpt(witToken, `${PUBLIC}/both`))))).status).toBe(200);
    expect(audit.events.map((e) => e.principal?.credential)).toEqual(['jwt-svid', 'wit+wpt']);
    const refused = await gw.fetch(request('/both', [['authorization', `Bearer ${await svid(`${PUBLIC}/both`)}`]]));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", WPT');
  });
});

describe('WIT + WIMSE HTTP signature on a route (in-process)', () => {
  let signer: WimseSigner;
  let witToken: string;
  beforeAll(async () => {
    witToken = await wit();
    signer = await createWimseSigner(witToken, { ...(await exportJWK(workload.privateKey)), alg: workload.alg });
  });

  /** A request to `path` with the WIT and a WIMSE signature made for `aud` (default the route mount). */
  async function signedRequest(path: string, options: { body?: string; sendBody?: string; aud?: string; extra?: Record<string, string> } = {}) {
    const headers = new Headers({ 'workload-identity-token': witToken, ...options.extra });
    const url = `${PUBLIC}${path}`;
    const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
    // Set before signing: fetch would add a text/plain Content-Type to a string body, which the signature must cover.
    if (body) headers.set('content-type', 'application/json');
    const method = body ? 'POST' : 'GET';
    const fields = await signer({ method, url, headers }, { audience: options.aud ?? `${PUBLIC}/${path.split('/')[1]}`, ...(body ? { body } : {}) });
    for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
    return new Request(`http://127.0.0.1${path}`, { method, headers, ...(body ? { body: options.sendBody ?? options.body } : {}) });
  }

  it('authenticates a signed GET and a signed POST, forwards the body read for the digest and no signature fields', async () => {
    const { gw, audit, seen } = setup();
    expect((await gw.fetch(await signedRequest('/sig/tools'))).status).toBe(200);
    const post = await gw.fetch(await signedRequest('/either/x', { body: '{"jsonrpc":"2.0"}' }));
    expect(post.status).toBe(200);
    expect(await seen[1]!.text()).toBe('{"jsonrpc":"2.0"}');
    for (const name of ['signature', 'signature-input', 'workload-identity-token']) expect(seen[1]!.headers.has(name)).toBe(false);
    expect(seen[1]!.headers.get('content-digest')).toMatch(/^sha-256=:/);
    expect(audit.events[1]).toMatchObject({ decision: 'allow', principal: { credential: 'wit+http-sig', workloadId: SUB } });
  });

  it('refuses a body that does not match its Content-Digest (400 ERR_HTTPSIG_DIGEST_MISMATCH) without calling the upstream', async () => {
    const { gw, seen } = setup();
    await expectProblem(await gw.fetch(await signedRequest('/sig', { body: '{"a":1}', sendBody: '{"a":2}' })), 400, 'ERR_HTTPSIG_DIGEST_MISMATCH');
    expect(seen).toHaveLength(0);
  });

  it('reads no body for a caller whose WIT does not verify (no unauthenticated caller makes the gateway hold a body)', async () => {
    const { gw, seen } = setup();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({ pull(c) { pulled++; c.enqueue(new Uint8Array(16)); if (pulled > 3) c.close(); } });
    const headers = { 'workload-identity-token': truncateToken(await wit()), signature: 'sig1=:AAAA:', 'signature-input': 'sig1=()' };
    const response = await gw.fetch(new Request('http://127.0.0.1/sig', { method: 'POST', body, headers, duplex: 'half' } as RequestInit));
    await expectProblem(response, 400, 'ERR_WIT_MALFORMED');
    expect(pulled).toBeLessThanOrEqual(1); // at most what the runtime pre-fetches, never the whole body
    expect(seen).toHaveLength(0);
  });

  it('reads a signed body only up to the route limit (413 ERR_BODY_TOO_LARGE)', async () => {
    const { gw, seen } = setup();
    await expectProblem(await gw.fetch(await signedRequest('/sig', { body: 'x'.repeat(65) })), 413, 'ERR_BODY_TOO_LARGE');
    expect(seen).toHaveLength(0);
  });

  it('refuses a replayed signature (400 ERR_HTTPSIG_REPLAYED), another audience (ERR_HTTPSIG_AUD_MISMATCH), and a WIT without a signature (ERR_HTTPSIG_MISSING)', async () => {
    const { gw } = setup();
    const once = await signedRequest('/sig');
    expect((await gw.fetch(once.clone())).status).toBe(200);
    await expectProblem(await gw.fetch(once), 400, 'ERR_HTTPSIG_REPLAYED');
    await expectProblem(await gw.fetch(await signedRequest('/sig', { aud: `${PUBLIC}/either` })), 400, 'ERR_HTTPSIG_AUD_MISMATCH');
    const bare = await gw.fetch(request('/sig', [['workload-identity-token', witToken]], { method: 'GET', body: null }));
    await expectProblem(bare, 400, 'ERR_HTTPSIG_MISSING');
    await expectProblem(await gw.fetch(request('/sig', [], { method: 'GET', body: null })), 400, 'ERR_HTTPSIG_MISSING');
  });

  it('on a route taking both proofs, a WPT still works, and a 401 challenges with WPT only', async () => {
    const { gw } = setup();
    expect((await gw.fetch(request('/either', wimse(witToken, await wpt(witToken, `${PUBLIC}/either`))))).status).toBe(200);
    const none = await gw.fetch(request('/either', []));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('WPT');
  });
});

function truncateToken(token: string): string {
  return token.split('.').slice(0, 2).join('.');
}

describe('the shared WIT cache across gateways', () => {
  it('keeps results apart per publicUrl: a WIT whose aud names gateway A is refused by B even after A cached it', async () => {
    const state = memoryState();
    const a = setup({ state });
    const token = await wit({ aud: PUBLIC });
    expect((await a.gw.fetch(request('/api', wimse(token, await wpt(token))))).status).toBe(200);
    const other = structuredClone(config) as { publicUrl: string };
    other.publicUrl = 'https://other-gw.example';
    const b = setup({ state, config: other as GatewayConfigInput });
    const refused = await b.gw.fetch(request('/api', wimse(token, await wpt(token, 'https://other-gw.example/api'))));
    await expectProblem(refused, 400, 'ERR_WIT_CLAIM_INVALID');
  });
});
