/**
 * The OAuth resource server in the gateway pipeline (issue 5), in-process: JWT access tokens signed with Web
 * Crypto by an issuer with inline keys, opaque tokens introspected at a fake endpoint (the `fetchKeys` port), DPoP
 * proofs, WIT+WPT beside a token, checked through createGateway with a recording upstream and an in-memory audit.
 */
import { calculateJwkThumbprint } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { createGateway, memorySink, memoryState, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../../src/verify/dpop.ts';
import { assertConfig } from '../../src/index.ts';
import { operationRequirement } from '../../src/gateway/oauth.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';

const PUBLIC = 'https://gw.example';
const AS = 'https://as.example';
const AS_INTRO = 'https://intro.example';
const AS_ROT = 'https://rot.example';
const INTRO_ENDPOINT = 'https://intro.example/introspect';
const ROT_JWKS = 'https://rot.example/jwks';
const SECRET_ENV = 'INTRO_SECRET';
const SECRET = 'intro-client-secret-value-1234';
const TD = 'spiffe://dev.test';
const SUB = `${TD}/ns/prod/sa/agent`;
const ALGS = `algs="${DEFAULT_DPOP_ALGORITHMS.join(' ')}"`;
const rm = (path: string) => `resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource${path}"`;

let asKey: TestKey; // signs AS access tokens, kid a1
let rotKey: TestKey; // AS_ROT's first key, kid r1
let rotKey2: TestKey; // AS_ROT's next key, kid r2
let witIssuer: TestKey;
let workload: TestKey;
let client: TestKey; // the DPoP key
let other: TestKey;
let config: GatewayConfigInput;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];

const pub = configJwk;

beforeAll(async () => {
  [asKey, rotKey, rotKey2, witIssuer, workload, client, other] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  const http = (path: string, oauth: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ path, protocol: 'http' as const, upstream: 'http://up.internal/', auth: { oauth: { authorizationServers: [AS], ...oauth }, ...extra } });
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [pub(witIssuer, 'k1')] } } },
    authorizationServers: {
      [AS]: { jwks: { keys: [pub(asKey, 'a1')] }, algorithms: ['ES256'] },
      [AS_INTRO]: { jwks: { keys: [pub(asKey, 'i1')] }, algorithms: ['ES256'], introspection: { endpoint: INTRO_ENDPOINT, clientId: 'gw', clientSecretEnv: SECRET_ENV } },
      [AS_ROT]: { jwksUri: ROT_JWKS, algorithms: ['ES256'], refreshSeconds: 30 },
    },
    routes: [
      http('/api', {}),
      http('/scoped', { scopes: ['read'] }),
      http('/dpop-only', { dpop: 'required' }),
      http('/bearer-only', { dpop: 'disabled' }),
      http('/nonce', { dpopNonce: true }),
      http('/stepup', { acrValues: ['urn:mfa'], maxAge: 300 }),
      http('/intro', { authorizationServers: [AS_INTRO] }),
      http('/rot', { authorizationServers: [AS_ROT] }),
      http('/both', { withWorkload: true }, { wit: { trustDomains: [TD], carriage: 'header' } }),
      http('/any', {}, { wit: { trustDomains: [TD], carriage: 'header' } }),
      http('/any-scoped', { scopes: ['read'] }, { wit: { trustDomains: [TD], carriage: 'header' } }),
      { path: '/mcp', protocol: 'mcp', upstream: 'http://up.internal/mcp', auth: { oauth: { authorizationServers: [AS], scopes: ['mcp'], tools: { deploy: { scopes: ['deploy', 'admin'] } }, methods: { 'resources/read': { scopes: ['files'] } } } } },
    ],
  };
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(() => {
  // No audit event ever carried a token, a proof or the introspection secret.
  expect(leakedPieces(JSON.stringify(allEvents), [...minted, SECRET])).toEqual([]);
  expect(JSON.stringify(allEvents)).not.toContain('opaque-');
});

function setup(options: { now?: () => number } = {}) {
  const audit = memorySink();
  const seen: Request[] = [];
  const fetched: string[] = [];
  const as = {
    rotKeys: [pub(rotKey, 'r1')],
    introspect: new Map<string, Record<string, unknown>>(),
  };
  const gw = createGateway(config, {
    state: memoryState(),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetch: async (url, init) => { seen.push(new Request(url, init)); return new Response('ok'); },
    fetchKeys: async (url, init) => {
      fetched.push(url);
      if (url === ROT_JWKS) return new Response(JSON.stringify({ keys: as.rotKeys }), { headers: { 'content-type': 'application/json' } });
      if (url === INTRO_ENDPOINT) {
        const token = new URLSearchParams(String(init.body)).get('token') ?? '';
        const answer = as.introspect.get(token) ?? { active: false };
        return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
      }
      return new Response('no', { status: 404 });
    },
    readEnv: (name) => (name === SECRET_ENV ? SECRET : undefined),
    ...(options.now ? { now: options.now } : {}),
  });
  return { gw, audit, seen, fetched, as };
}

const nowS = () => Math.floor(Date.now() / 1000);

async function token(path: string, claims: Record<string, unknown> = {}, o: { iss?: string; kid?: string; key?: TestKey } = {}) {
  const t = await sign(
    { typ: 'at+jwt', alg: 'ES256', kid: o.kid ?? 'a1' },
    { iss: o.iss ?? AS, sub: 'user-1', aud: `${PUBLIC}${path}`, client_id: 'agent', scope: 'read write', iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID(), ...claims },
    o.key ?? asKey,
  );
  minted.push(t);
  return t;
}

async function boundToken(path: string, claims: Record<string, unknown> = {}) {
  return token(path, { cnf: { jkt: await calculateJwkThumbprint(client.publicJwk, 'sha256') }, ...claims });
}

async function proof(path: string, accessToken: string, claims: Record<string, unknown> = {}, key: TestKey = client) {
  const p = await sign(
    { typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk },
    { jti: crypto.randomUUID(), htm: 'POST', htu: `${PUBLIC}${path}`, iat: nowS(), ath: await sha256b64url(accessToken), ...claims },
    key,
  );
  minted.push(p);
  return p;
}

async function wit() {
  const t = await mintWit({ sub: SUB, workload, issuer: witIssuer });
  minted.push(t);
  return t;
}

async function wpt(witToken: string, path: string, claims: Record<string, unknown> = {}) {
  const t = await mintWpt({ wit: witToken, workload, aud: `${PUBLIC}${path}`, claims });
  minted.push(t);
  return t;
}

function request(path: string, fields: Array<[string, string]>, body = '{"jsonrpc":"2.0","id":1,"method":"tools/list"}') {
  const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${path}`, { method: 'POST', body, headers });
}

const bearer = (t: string): [string, string] => ['authorization', `Bearer ${t}`];

async function expectRefusal(res: Response, status: number, code: string, challenge: string | null) {
  expect({ status: res.status, challenge: res.headers.get('www-authenticate') }).toEqual({ status, challenge });
  const body = (await res.json()) as { code?: string; error?: { data: { code: string } } };
  expect(body.code ?? body.error?.data.code).toBe(code);
  if (challenge !== null) {
    expect(res.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
    expect(res.headers.get('access-control-expose-headers')).toContain('DPoP-Nonce');
  }
}

describe('no access token: challenges (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1)', () => {
  it('names Bearer first, then DPoP with algs, each with resource_metadata; a scoped route adds scope', async () => {
    const { gw, seen } = setup();
    await expectRefusal(await gw.fetch(request('/api', [])), 401, 'ERR_CREDENTIALS_MISSING', `Bearer ${rm('/api')}, DPoP ${ALGS}, ${rm('/api')}`);
    await expectRefusal(await gw.fetch(request('/scoped', [])), 401, 'ERR_CREDENTIALS_MISSING', `Bearer ${rm('/scoped')}, scope="read", DPoP ${ALGS}, ${rm('/scoped')}, scope="read"`);
    await expectRefusal(await gw.fetch(request('/bearer-only', [])), 401, 'ERR_CREDENTIALS_MISSING', `Bearer ${rm('/bearer-only')}`);
    await expectRefusal(await gw.fetch(request('/dpop-only', [])), 401, 'ERR_CREDENTIALS_MISSING', `DPoP ${ALGS}, ${rm('/dpop-only')}`);
    expect(seen).toHaveLength(0);
  });

  it('on a WIT route in any-mode: Bearer, DPoP, then WPT', async () => {
    const { gw } = setup();
    await expectRefusal(await gw.fetch(request('/any', [])), 401, 'ERR_CREDENTIALS_MISSING', `Bearer ${rm('/any')}, DPoP ${ALGS}, ${rm('/any')}, WPT`);
    await expectRefusal(await gw.fetch(request('/both', [])), 401, 'ERR_CREDENTIALS_MISSING', `Bearer ${rm('/both')}, DPoP ${ALGS}, ${rm('/both')}, WPT`);
  });
});

describe('Bearer JWT access tokens', () => {
  it('authenticates, records the user in the audit event, and strips Authorization and DPoP upstream', async () => {
    const { gw, audit, seen } = setup();
    const t = await token('/api', { scope: 'read write' });
    const res = await gw.fetch(request('/api/x', [bearer(t), ['dpop', 'ignored']]));
    expect(res.status).toBe(200);
    expect(seen[0]!.headers.has('authorization')).toBe(false);
    expect(seen[0]!.headers.has('dpop')).toBe(false);
    expect(audit.events[0]).toMatchObject({ decision: 'allow', reason: 'AUTHENTICATED', route: '/api' });
    expect(audit.events[0]!.principal).toEqual({
      credential: 'access-token',
      issuer: AS,
      expiresAt: expect.any(String),
      tokenHash: await sha256b64url(t),
      user: { issuer: AS, subject: 'user-1', clientId: 'agent', scopes: ['read', 'write'], token: 'jwt', tokenHash: await sha256b64url(t), expiresAt: expect.any(String) },
    });
  });

  it('refuses a token for another resource with invalid_token', async () => {
    const { gw } = setup();
    const res = await gw.fetch(request('/api', [bearer(await token('/scoped'))]));
    await expectRefusal(res, 401, 'ERR_ACCESS_TOKEN_AUD_MISMATCH', `Bearer error="invalid_token", ${rm('/api')}`);
  });

  it('keeps a verified token hot: the second request verifies no signature again', async () => {
    const { gw } = setup();
    const t = await token('/api');
    expect((await gw.fetch(request('/api', [bearer(t)]))).status).toBe(200);
    const verify = vi.spyOn(crypto.subtle, 'verify');
    expect((await gw.fetch(request('/api', [bearer(t)]))).status).toBe(200);
    expect(verify).not.toHaveBeenCalled();
    // Another token still is verified.
    expect((await gw.fetch(request('/api', [bearer(await token('/api'))]))).status).toBe(200);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('stops accepting a cached token once its key is rotated out at the issuer', async () => {
    let offset = 0;
    const { gw, as } = setup({ now: () => Date.now() + offset });
    const t = await token('/rot', {}, { iss: AS_ROT, kid: 'r1', key: rotKey });
    expect((await gw.fetch(request('/rot', [bearer(t)]))).status).toBe(200);
    as.rotKeys = [pub(rotKey2, 'r2')];
    offset = 31_000; // past refreshSeconds: the next lookup refreshes in the background
    await gw.fetch(request('/rot', [bearer(t)]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const res = await gw.fetch(request('/rot', [bearer(t)]));
    await expectRefusal(res, 401, 'ERR_ACCESS_TOKEN_KEY_NOT_FOUND', `Bearer error="invalid_token", ${rm('/rot')}`);
    const next = await token('/rot', {}, { iss: AS_ROT, kid: 'r2', key: rotKey2 });
    expect((await gw.fetch(request('/rot', [bearer(next)]))).status).toBe(200);
  });
});

describe('carriage errors (RFC 6750 §2, §3.1; RFC 9449 §7)', () => {
  it('answers each with its code and challenge', async () => {
    const { gw, seen } = setup();
    const t = await token('/api');
    const invalid = `Bearer error="invalid_request", ${rm('/api')}, DPoP error="invalid_request", ${ALGS}, ${rm('/api')}`;
    const cases: Array<[string, Array<[string, string]>, number, string, string]> = [
      ['/api?access_token=abc', [], 400, 'ERR_OAUTH_REQUEST_INVALID', invalid],
      ['/api', [bearer(t), bearer(t)], 400, 'ERR_OAUTH_REQUEST_INVALID', invalid],
      ['/api', [['authorization', 'Bearer a b']], 400, 'ERR_OAUTH_REQUEST_INVALID', invalid],
      ['/api', [['authorization', 'Bearer']], 400, 'ERR_OAUTH_REQUEST_INVALID', invalid],
      ['/api', [['authorization', `DPoP ${t}`]], 401, 'ERR_DPOP_PROOF_MISSING', `DPoP error="invalid_dpop_proof", ${ALGS}, ${rm('/api')}`],
      ['/api', [['authorization', `DPoP ${t}`], ['dpop', await proof('/api', t)], ['dpop', await proof('/api', t)]], 401, 'ERR_DPOP_MALFORMED', `DPoP error="invalid_dpop_proof", ${ALGS}, ${rm('/api')}`],
    ];
    for (const [path, fields, status, code, challenge] of cases) await expectRefusal(await gw.fetch(request(path, fields)), status, code, challenge);
    expect(seen).toHaveLength(0);
  });

  it('dpop "required": a Bearer token counts as no credential (401 with the DPoP challenge only)', async () => {
    const { gw } = setup();
    await expectRefusal(await gw.fetch(request('/dpop-only', [bearer(await token('/dpop-only'))])), 401, 'ERR_CREDENTIALS_MISSING', `DPoP ${ALGS}, ${rm('/dpop-only')}`);
  });

  it('dpop "disabled": the DPoP scheme counts as no credential; Bearer works', async () => {
    const { gw } = setup();
    const t = await boundToken('/bearer-only');
    await expectRefusal(await gw.fetch(request('/bearer-only', [['authorization', `DPoP ${t}`], ['dpop', await proof('/bearer-only', t)]])), 401, 'ERR_CREDENTIALS_MISSING', `Bearer ${rm('/bearer-only')}`);
    expect((await gw.fetch(request('/bearer-only', [bearer(await token('/bearer-only'))]))).status).toBe(200);
  });
});

describe('DPoP (RFC 9449)', () => {
  it('accepts a bound token with its proof; the principal carries the key thumbprint', async () => {
    const { gw, audit, seen } = setup();
    const t = await boundToken('/api');
    expect((await gw.fetch(request('/api', [['authorization', `DPoP ${t}`], ['dpop', await proof('/api', t)]]))).status).toBe(200);
    const jkt = await calculateJwkThumbprint(client.publicJwk, 'sha256');
    expect(audit.events[0]!.principal).toMatchObject({ credential: 'access-token', keyThumbprint: jkt, user: { dpopJkt: jkt, token: 'jwt' } });
    expect(seen[0]!.headers.has('dpop')).toBe(false);
  });

  it('refuses a bound token sent as Bearer, an unbound token with the DPoP scheme, and a proof by another key', async () => {
    const { gw } = setup();
    const bound = await boundToken('/api');
    await expectRefusal(await gw.fetch(request('/api', [bearer(bound)])), 401, 'ERR_ACCESS_TOKEN_DPOP_BOUND', `Bearer error="invalid_token", ${rm('/api')}`);
    const unbound = await token('/api');
    await expectRefusal(await gw.fetch(request('/api', [['authorization', `DPoP ${unbound}`], ['dpop', await proof('/api', unbound)]])), 401, 'ERR_ACCESS_TOKEN_NOT_DPOP_BOUND', `DPoP error="invalid_token", ${ALGS}, ${rm('/api')}`);
    await expectRefusal(await gw.fetch(request('/api', [['authorization', `DPoP ${bound}`], ['dpop', await proof('/api', bound, {}, other)]])), 401, 'ERR_DPOP_KEY_MISMATCH', `DPoP error="invalid_token", ${ALGS}, ${rm('/api')}`);
  });

  it('asks for a nonce (use_dpop_nonce + DPoP-Nonce), accepts the retry, and hands a nonce on success', async () => {
    const { gw } = setup();
    const t = await boundToken('/nonce');
    const first = await gw.fetch(request('/nonce', [['authorization', `DPoP ${t}`], ['dpop', await proof('/nonce', t)]]));
    await expectRefusal(first, 401, 'ERR_DPOP_NONCE_REQUIRED', `DPoP error="use_dpop_nonce", ${ALGS}, ${rm('/nonce')}`);
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const wrong = await gw.fetch(request('/nonce', [['authorization', `DPoP ${t}`], ['dpop', await proof('/nonce', t, { nonce: 'not-the-nonce' })]]));
    await expectRefusal(wrong, 401, 'ERR_DPOP_NONCE_INVALID', `DPoP error="use_dpop_nonce", ${ALGS}, ${rm('/nonce')}`);
    expect(wrong.headers.get('dpop-nonce')).toBe(nonce);
    const retry = await gw.fetch(request('/nonce', [['authorization', `DPoP ${t}`], ['dpop', await proof('/nonce', t, { nonce })]]));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('dpop-nonce')).toBe(nonce);
  });
});

describe('opaque tokens (introspection through fetchKeys)', () => {
  it('introspects with the client secret from readEnv; user.token is "introspected"', async () => {
    const { gw, audit, fetched, as } = setup();
    as.introspect.set('opaque-token-1', { active: true, aud: `${PUBLIC}/intro`, sub: 'user-2', client_id: 'agent', scope: 'read', exp: nowS() + 600 });
    expect((await gw.fetch(request('/intro', [bearer('opaque-token-1')]))).status).toBe(200);
    expect(fetched).toEqual([INTRO_ENDPOINT]);
    expect(audit.events[0]!.principal).toMatchObject({ credential: 'access-token', user: { issuer: AS_INTRO, subject: 'user-2', scopes: ['read'], token: 'introspected' } });
    await expectRefusal(await gw.fetch(request('/intro', [bearer('opaque-token-2')])), 401, 'ERR_ACCESS_TOKEN_INACTIVE', `Bearer error="invalid_token", ${rm('/intro')}`);
  });

  it('refuses an opaque token on a route none of whose servers introspects', async () => {
    const { gw, fetched } = setup();
    await expectRefusal(await gw.fetch(request('/api', [bearer('opaque-token-3')])), 401, 'ERR_ACCESS_TOKEN_MALFORMED', `Bearer error="invalid_token", ${rm('/api')}`);
    expect(fetched).toEqual([]);
  });
});

describe('per-operation requirements (scopes, MCP tools and methods, step-up)', () => {
  const call = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });

  it('a route scope: 403 insufficient_scope naming it', async () => {
    const { gw } = setup();
    await expectRefusal(await gw.fetch(request('/scoped', [bearer(await token('/scoped', { scope: 'write' }))])), 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', `Bearer error="insufficient_scope", scope="read", ${rm('/scoped')}`);
    expect((await gw.fetch(request('/scoped', [bearer(await token('/scoped', { scope: 'read' }))]))).status).toBe(200);
  });

  it('tools/call of a scoped tool names every scope the call needs; tools/list needs only the route scope', async () => {
    const { gw, seen } = setup();
    const t = await token('/mcp', { scope: 'mcp deploy' });
    expect((await gw.fetch(request('/mcp', [bearer(t)]))).status).toBe(200);
    const res = await gw.fetch(request('/mcp', [bearer(t)], call('deploy')));
    await expectRefusal(res, 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', `Bearer error="insufficient_scope", scope="mcp deploy admin", ${rm('/mcp')}`);
    expect((await gw.fetch(request('/mcp', [bearer(t)], call('other-tool')))).status).toBe(200);
    expect((await gw.fetch(request('/mcp', [bearer(await token('/mcp', { scope: 'mcp deploy admin' }))], call('deploy')))).status).toBe(200);
    expect(seen).toHaveLength(3);
  });

  it('a method requirement (resources/read)', async () => {
    const { gw } = setup();
    const read = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'file:///x' } });
    await expectRefusal(await gw.fetch(request('/mcp', [bearer(await token('/mcp', { scope: 'mcp' }))], read)), 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', `Bearer error="insufficient_scope", scope="mcp files", ${rm('/mcp')}`);
    expect((await gw.fetch(request('/mcp', [bearer(await token('/mcp', { scope: 'mcp files' }))], read))).status).toBe(200);
  });

  it('operationRequirement reads only configured methods and tools (never Object.prototype members)', () => {
    const o = assertConfig(config).routes.find((r) => r.path === '/mcp')!.auth!.oauth!;
    expect(operationRequirement(o, [{ method: 'constructor' }, { method: 'toString' }, { method: 'tools/call', name: '__proto__' }])).toEqual({ scopes: ['mcp'] });
    expect(operationRequirement(o, [{ method: 'resources/read' }, { method: 'tools/call', name: 'deploy' }])).toEqual({ scopes: ['mcp', 'files', 'deploy', 'admin'] });
  });

  it('step-up: acr_values and max_age (RFC 9470)', async () => {
    const { gw } = setup();
    const fresh = nowS() - 10;
    const ok = await token('/stepup', { acr: 'urn:mfa', auth_time: fresh });
    expect((await gw.fetch(request('/stepup', [bearer(ok)]))).status).toBe(200);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ acr: 'urn:pwd', auth_time: fresh }, 'acr_values="urn:mfa"'],
      [{ auth_time: fresh }, 'acr_values="urn:mfa"'],
      [{ acr: 'urn:mfa', auth_time: nowS() - 400 }, 'max_age="300"'],
      [{ acr: 'urn:mfa' }, 'max_age="300"'],
      [{}, 'acr_values="urn:mfa", max_age="300"'],
    ];
    for (const [claims, params] of cases) {
      await expectRefusal(await gw.fetch(request('/stepup', [bearer(await token('/stepup', claims))])), 401, 'ERR_ACCESS_TOKEN_INSUFFICIENT_USER_AUTH', `Bearer error="insufficient_user_authentication", ${params}, ${rm('/stepup')}`);
    }
  });
});

describe('a workload credential with the token', () => {
  const wimse01 = (witToken: string, proofToken: string): Array<[string, string]> => [['workload-identity-token', witToken], ['workload-proof-token', proofToken]];

  it('withWorkload: a token alone is refused with a WPT challenge', async () => {
    const { gw } = setup();
    await expectRefusal(await gw.fetch(request('/both', [bearer(await token('/both'))])), 401, 'ERR_WORKLOAD_CREDENTIAL_MISSING', 'WPT');
  });

  it('withWorkload: WIT + -01 WPT whose ath binds the Bearer token gives both the workload and the user', async () => {
    const { gw, audit, seen } = setup();
    const t = await token('/both');
    const w = await wit();
    const res = await gw.fetch(request('/both', [...wimse01(w, await wpt(w, '/both', { ath: await sha256b64url(t) })), bearer(t)]));
    expect(res.status).toBe(200);
    expect(audit.events[0]!.principal).toMatchObject({ workloadId: SUB, credential: 'wit+wpt', user: { subject: 'user-1', issuer: AS } });
    for (const name of ['authorization', 'workload-identity-token', 'workload-proof-token']) expect(seen[0]!.headers.has(name)).toBe(false);
  });

  it('withWorkload: a WPT whose ath names another token is refused; so is a WIT without a token', async () => {
    const { gw, seen } = setup();
    const t = await token('/both');
    const w = await wit();
    const res = await gw.fetch(request('/both', [...wimse01(w, await wpt(w, '/both', { ath: await sha256b64url('another') })), bearer(t)]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_WPT_ATH_MISMATCH');
    const alone = await gw.fetch(request('/both', wimse01(w, await wpt(w, '/both'))));
    expect(alone.status).toBe(401);
    expect(((await alone.json()) as { code: string }).code).toBe('ERR_CREDENTIALS_MISSING');
    expect(seen).toHaveLength(0);
  });

  it('a DPoP token beside a WPT is refused (ERR_OAUTH_REQUEST_INVALID)', async () => {
    const { gw } = setup();
    const t = await boundToken('/both');
    const w = await wit();
    const res = await gw.fetch(request('/both', [...wimse01(w, await wpt(w, '/both', { ath: await sha256b64url(t) })), ['authorization', `DPoP ${t}`], ['dpop', await proof('/both', t)]]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_OAUTH_REQUEST_INVALID');
  });

  it('any-mode: a WIT alone, a token alone, and both (each verified)', async () => {
    const { gw, audit } = setup();
    const w = await wit();
    expect((await gw.fetch(request('/any', wimse01(w, await wpt(w, '/any'))))).status).toBe(200);
    expect(audit.events[0]!.principal).toMatchObject({ workloadId: SUB, credential: 'wit+wpt' });
    expect(audit.events[0]!.principal!.user).toBeUndefined();
    const t = await token('/any');
    expect((await gw.fetch(request('/any', [bearer(t)]))).status).toBe(200);
    expect(audit.events[1]!.principal).toMatchObject({ credential: 'access-token', user: { subject: 'user-1' } });
    expect((await gw.fetch(request('/any', [...wimse01(w, await wpt(w, '/any', { ath: await sha256b64url(t) })), bearer(t)]))).status).toBe(200);
    expect(audit.events[2]!.principal).toMatchObject({ workloadId: SUB, user: { subject: 'user-1' } });
    // A good WIT does not carry a bad token through.
    const foreign = await token('/api');
    const res = await gw.fetch(request('/any', [...wimse01(w, await wpt(w, '/any', { ath: await sha256b64url(foreign) })), bearer(foreign)]));
    await expectRefusal(res, 401, 'ERR_ACCESS_TOKEN_AUD_MISMATCH', `Bearer error="invalid_token", ${rm('/any')}`);
  });

  it('any-mode with scopes: a WIT alone cannot meet a scope (only a token carries one): 401 ERR_ACCESS_TOKEN_REQUIRED asking for a token', async () => {
    const { gw } = setup();
    const w = await wit();
    const res = await gw.fetch(request('/any-scoped', wimse01(w, await wpt(w, '/any-scoped'))));
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_ACCESS_TOKEN_REQUIRED');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+\/any-scoped", scope="read", DPoP /);
    const t = await token('/any-scoped', { scope: 'read' });
    expect((await gw.fetch(request('/any-scoped', [...wimse01(w, await wpt(w, '/any-scoped', { ath: await sha256b64url(t) })), bearer(t)]))).status).toBe(200);
  });
});
