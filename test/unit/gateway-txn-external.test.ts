/**
 * Txn-Tokens from an external Transaction Token Service (transactionTokens.external; src/gateway/txn-external.ts).
 *
 * The TTS here is a FAKE RFC 8693 / draft-ietf-oauth-transaction-tokens token endpoint (an in-process function reached
 * through the gateway's fetchKeys port), not another Portcullis gateway's built-in TTS: that one authenticates
 * requesting workloads by WIT / mTLS (tts.ts step 2), never by a client secret, and the external client speaks
 * client_secret_basic. The fake signs real Txn-Tokens with a txnKeyRing of its own and publishes them at its jwksUrl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintTxnToken } from '../../src/mint/txn-token.ts';
import { memoryCache } from '../../src/state/index.ts';
import { txnKeyRing, type TxnKeyRing } from '../../src/txn/key-ring.ts';
import { verifyTxnToken } from '../../src/verify/txn-token.ts';
import { assertConfig, ConfigError, createGateway, memorySink, memoryState, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const SUB = `${TD}/ns/prod/sa/agent`;
const ISS = 'https://issuer.dev.test';
const AS = 'https://as.example';
const TXN_TD = 'trust.internal.example';
const TTS = 'http://127.0.0.1:9301';
const SECRET = 'tts-client-secret';

let issuer: TestKey;
let workload: TestKey;
let asKey: TestKey;
let ttsKeys: TxnKeyRing;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];

beforeAll(async () => {
  [issuer, workload, asKey] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  ttsKeys = txnKeyRing(memoryCache(), { now: Date.now });
});

afterAll(() => {
  expect(leakedPieces(JSON.stringify(allEvents), [...minted, SECRET])).toEqual([]);
});

function config(external: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): GatewayConfigInput {
  return {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [configJwk(issuer, 'k1')] }, issuers: [ISS] } },
    authorizationServers: { [AS]: { jwks: { keys: [configJwk(asKey, 'a1')] }, algorithms: ['ES256'] } },
    transactionTokens: { trustDomain: TXN_TD, external: { tokenEndpoint: `${TTS}/token`, clientId: 'portcullis-gw', clientSecretEnv: 'TTS_SECRET', jwksUrl: `${TTS}/jwks`, ...external }, ...extra },
    routes: [
      { path: '/api', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } }, txnToken: {} },
      { path: '/user', protocol: 'http', upstream: 'http://up.internal/', auth: { oauth: { authorizationServers: [AS] } }, txnToken: {} },
    ],
  } as GatewayConfigInput;
}

/** What the fake TTS does with a Txn-Token Request: answer (default: mint one from the request), or throw (down). */
type TtsBehaviour = (form: URLSearchParams) => Promise<Response>;

async function mintFor(form: URLSearchParams, overrides: Record<string, unknown> = {}): Promise<string> {
  const token = await mintTxnToken(
    {
      aud: form.get('audience')!,
      sub: 'subject-by-tts',
      req_wl: 'spiffe://dev.test/gateway',
      scope: form.get('scope')!,
      rctx: JSON.parse(form.get('request_context') ?? '{}') as Record<string, unknown>,
      tctx: JSON.parse(form.get('request_details') ?? '{}') as Record<string, unknown>,
      ...overrides,
    },
    { key: await ttsKeys.signingKey(), lifetimeSeconds: 60, now: Date.now },
  );
  minted.push(token);
  return token;
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
const txnResponse = (token: string, more: Record<string, unknown> = {}) => json(200, { access_token: token, issued_token_type: 'urn:ietf:params:oauth:token-type:txn_token', token_type: 'N_A', expires_in: 60, ...more });

function setup({ cfg = config(), env = { TTS_SECRET: SECRET } as Record<string, string | undefined>, behaviour }: { cfg?: GatewayConfigInput; env?: Record<string, string | undefined>; behaviour?: TtsBehaviour } = {}) {
  const audit = memorySink();
  const seen: Request[] = [];
  const ttsRequests: { headers: Headers; form: URLSearchParams }[] = [];
  const issued: string[] = [];
  const gw = createGateway(cfg, {
    state: memoryState(),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    readEnv: (name) => env[name],
    fetchKeys: async (url, init) => {
      const request = new Request(url, init);
      if (request.url === `${TTS}/jwks`) return json(200, { keys: await ttsKeys.publicKeys() });
      if (request.url !== `${TTS}/token`) throw new TypeError('fetch failed');
      const form = new URLSearchParams(await request.text());
      ttsRequests.push({ headers: request.headers, form });
      if (request.headers.get('authorization') !== `Basic ${btoa(`portcullis-gw:${SECRET}`)}`) return json(401, { error: 'invalid_client' });
      if (behaviour) return behaviour(form);
      const token = await mintFor(form);
      issued.push(token);
      return txnResponse(token);
    },
    fetch: async (url, init) => {
      seen.push(new Request(url, init as RequestInit));
      return { status: 200, statusText: 'OK', headers: new Headers({ 'content-type': 'text/plain' }), body: null };
    },
  });
  return { gw, audit, seen, ttsRequests, issued };
}

const nowS = () => Math.floor(Date.now() / 1000);

async function witRequest(path = '/api/items'): Promise<{ request: Request; wit: string }> {
  const wit = await mintWit({ sub: SUB, iss: ISS, workload, issuer });
  const wpt = await mintWpt({ wit, workload, aud: `${PUBLIC}/api` });
  minted.push(wit, wpt);
  return { wit, request: new Request(`${PUBLIC}${path}`, { headers: { 'workload-identity-token': wit, authorization: `WPT ${wpt}` } }) };
}

async function accessToken(): Promise<string> {
  const t = await sign(
    { typ: 'at+jwt', alg: 'ES256', kid: 'a1' },
    { iss: AS, sub: 'user-1', aud: `${PUBLIC}/user`, client_id: 'agent-client', scope: 'read write', iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID() },
    asKey,
  );
  minted.push(t);
  return t;
}

async function code(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

describe('transactionTokens.external config', () => {
  const messages = (cfg: unknown) => {
    try {
      assertConfig(cfg as GatewayConfigInput);
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('accepts an external TTS', () => {
    expect(messages(config())).toEqual([]);
    expect(messages(config({ jwksUrl: undefined }))).toEqual([]);
  });

  it('refuses external with service, peers or mtls on txnToken routes, and a clear-text or credentialed endpoint', () => {
    const withService = config({}, { service: { auth: { wit: { trustDomains: [TD] } }, requesters: [TD] } });
    expect(messages(withService)).toEqual(expect.arrayContaining([expect.stringMatching(/^transactionTokens\.external: cannot be combined with service/)]));
    const cfg = config() as { routes: Record<string, unknown>[] };
    cfg.routes.push(
      { path: '/peer', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } }, txnToken: { peers: [{ workloadId: `${TD}/gw-b`, jwksUrl: 'https://gw-b.example/.well-known/jwks.json' }] } },
      { path: '/tls', protocol: 'http', upstream: 'http://up.internal/', auth: { mtls: { trustDomains: [TD] } }, txnToken: {} },
    );
    const found = messages(cfg);
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^routes\[2\]\.txnToken\.peers: not with transactionTokens\.external/), expect.stringMatching(/^routes\[3\]\.auth\.mtls: not with txnToken and transactionTokens\.external/)]));
    expect(messages(config({ tokenEndpoint: 'http://tts.example/token' }))).toEqual(expect.arrayContaining([expect.stringMatching(/^transactionTokens\.external\.tokenEndpoint: must be https/)]));
    expect(messages(config({ jwksUrl: 'https://u:p@tts.example/jwks' }))).toEqual(expect.arrayContaining([expect.stringMatching(/^transactionTokens\.external\.jwksUrl: must not carry credentials/)]));
    expect(messages(config({ clientSecretEnv: 'not a name' }))).toEqual(expect.arrayContaining([expect.stringMatching(/^transactionTokens\.external\.clientSecretEnv/)]));
  });
});

describe('Txn-Tokens from an external TTS', () => {
  it('a WIT caller: the exact Txn-Token Request (client_secret_basic, the WIT as a jwt subject) and the TTS\'s token upstream', async () => {
    const { gw, seen, ttsRequests, issued, audit } = setup();
    const { request, wit } = await witRequest();
    const response = await gw.fetch(request, { clientAddress: '10.0.0.7' });
    expect(response.status).toBe(200);
    expect(ttsRequests).toHaveLength(1);
    const { headers, form } = ttsRequests[0]!;
    expect(headers.get('authorization')).toBe(`Basic ${btoa(`portcullis-gw:${SECRET}`)}`);
    expect(headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      requested_token_type: 'urn:ietf:params:oauth:token-type:txn_token',
      audience: TXN_TD,
      scope: 'route:/api',
      subject_token: wit,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      request_context: JSON.stringify({ authn: 'wit+wpt', req_ip: '10.0.0.7' }),
      request_details: JSON.stringify({ route: '/api' }),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.get('txn-token')).toBe(issued[0]);
    for (const name of ['authorization', 'workload-identity-token']) expect(seen[0]!.headers.has(name), name).toBe(false);
    expect(audit.events.at(-1)).toMatchObject({ decision: 'allow', status: 200 });
  });

  it('an OAuth caller: the access token is the subject token; the token\'s scope and issuer go to the TTS', async () => {
    const { gw, seen, ttsRequests, issued } = setup();
    const token = await accessToken();
    const response = await gw.fetch(new Request(`${PUBLIC}/user/x`, { headers: { authorization: `Bearer ${token}` } }));
    expect(response.status).toBe(200);
    const form = ttsRequests[0]!.form;
    expect(form.get('subject_token')).toBe(token);
    expect(form.get('subject_token_type')).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(form.get('scope')).toBe('read write');
    expect(JSON.parse(form.get('request_context')!)).toEqual({ authn: 'access-token', token_iss: AS, client_id: 'agent-client' });
    expect(JSON.parse(form.get('request_details')!)).toEqual({ route: '/user' });
    const txn = seen[0]!.headers.get('txn-token')!;
    expect(txn).toBe(issued[0]);
    for (const [, value] of seen[0]!.headers) expect(value).not.toContain(token);
    const verified = await verifyTxnToken(txn, { keys: async (kid) => (await ttsKeys.publicKeys()).find((k) => k.kid === kid), audience: TXN_TD, now: Date.now });
    expect(verified.ok).toBe(true);
  });

  it('asks for a new Txn-Token on every request (never cached), and the gateway publishes no Txn-Token keys', async () => {
    const { gw, seen, ttsRequests } = setup();
    for (let i = 0; i < 2; i++) expect((await gw.fetch((await witRequest()).request)).status).toBe(200);
    expect(ttsRequests).toHaveLength(2);
    expect(seen[0]!.headers.get('txn-token')).not.toBe(seen[1]!.headers.get('txn-token'));
    const jwks = await gw.fetch(new Request(`${PUBLIC}/.well-known/jwks.json`));
    expect(jwks.status).toBe(404);
  });

  it('the TTS refuses (an OAuth error) → 502 ERR_TXN_TTS_REFUSED, its error code in the audit detail, no upstream call', async () => {
    const { gw, seen, audit } = setup({ behaviour: async () => json(400, { error: 'invalid_scope', error_description: 'no' }) });
    const response = await gw.fetch((await witRequest()).request);
    expect(response.status).toBe(502);
    expect(await code(response)).toBe('ERR_TXN_TTS_REFUSED');
    expect(seen).toHaveLength(0);
    expect(audit.events.at(-1)).toMatchObject({ decision: 'error', reason: 'ERR_TXN_TTS_REFUSED', status: 502, detail: expect.stringContaining('invalid_scope') });
  });

  it('a wrong client secret is a refusal too (401 invalid_client)', async () => {
    const { gw, seen } = setup({ env: { TTS_SECRET: 'wrong' } });
    const response = await gw.fetch((await witRequest()).request);
    expect(await code(response)).toBe('ERR_TXN_TTS_REFUSED');
    expect(seen).toHaveLength(0);
  });

  it('the TTS down, failing or the secret unset → 503 ERR_TXN_TTS_FAILED, no upstream call', async () => {
    for (const behaviour of [async () => { throw new TypeError('fetch failed'); }, async () => json(500, { error: 'server_error' }), async () => new Response('<html>', { status: 200 }), async () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } })] as TtsBehaviour[]) {
      const { gw, seen } = setup({ behaviour });
      const response = await gw.fetch((await witRequest()).request);
      expect(response.status).toBe(503);
      expect(await code(response)).toBe('ERR_TXN_TTS_FAILED');
      expect(seen).toHaveLength(0);
    }
    const unset = setup({ env: {} });
    const response = await unset.gw.fetch((await witRequest()).request);
    expect(await code(response)).toBe('ERR_TXN_TTS_FAILED');
    expect(unset.ttsRequests).toHaveLength(0);
  });

  it('a returned token with a bad signature, a wider scope, another audience or the wrong response types → 502 ERR_TXN_TTS_RESPONSE_INVALID', async () => {
    const badSignature: TtsBehaviour = async (form) => {
      const [a, b] = [await mintFor(form), await mintFor(form, { sub: 'someone-else' })];
      return txnResponse(`${b.split('.').slice(0, 2).join('.')}.${a.split('.')[2]}`);
    };
    const cases: TtsBehaviour[] = [
      badSignature,
      async (form) => txnResponse(await mintFor(form, { scope: `${form.get('scope')} admin` })),
      async (form) => txnResponse(await mintFor(form, { aud: 'other.example' })),
      async (form) => txnResponse(await mintFor(form), { token_type: 'Bearer' }),
      async (form) => txnResponse(await mintFor(form), { issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }),
      async (form) => txnResponse(await mintFor(form), { refresh_token: 'r' }),
      async () => txnResponse('not-a-jws'),
    ];
    for (const [i, behaviour] of cases.entries()) {
      const { gw, seen, audit } = setup({ behaviour });
      const response = await gw.fetch((await witRequest()).request);
      expect(response.status, `case ${i}`).toBe(502);
      expect(await code(response), `case ${i}`).toBe('ERR_TXN_TTS_RESPONSE_INVALID');
      expect(seen).toHaveLength(0);
      if (i === 0) expect(audit.events.at(-1)!.detail).toContain('ERR_TXN_TOKEN_SIGNATURE_INVALID');
    }
  });

  it('without jwksUrl the token is passed on after the structural checks only', async () => {
    const { gw, seen } = setup({ cfg: config({ jwksUrl: undefined }), behaviour: async (form) => txnResponse(await mintFor(form, { aud: 'unchecked.example' })) });
    expect((await gw.fetch((await witRequest()).request)).status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it('the TTS key set unreachable → 503 ERR_TXN_TTS_FAILED', async () => {
    const { gw, seen } = setup({ cfg: config({ jwksUrl: 'http://127.0.0.1:9399/jwks' }) });
    const response = await gw.fetch((await witRequest()).request);
    expect(response.status).toBe(503);
    expect(await code(response)).toBe('ERR_TXN_TTS_FAILED');
    expect(seen).toHaveLength(0);
  });
});
