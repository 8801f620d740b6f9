/**
 * The built-in Transaction Token Service (src/gateway/tts.ts, src/txn/exchange.ts), in-process: a workload with a
 * WIT + WPT exchanges an access token (AS keys inline) or a Txn-Token (replacement) for a Txn-Token, verified with
 * verifyTxnToken against the keys the gateway publishes at /.well-known/jwks.json (through gw.fetch). No minted
 * credential may reach an audit event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTxnToken } from '../../src/verify/txn-token.ts';
import { ConfigError, createGateway, memorySink, memoryState, parseConfig, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';
import { ACCESS_TOKEN_TYPE, TXN_TOKEN_TYPE } from '../../src/oauth-uris.ts';
import { verifiedTxnToken } from './gateway-jwks.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const AGENT = `${TD}/ns/prod/sa/agent`;
const OTHER = `${TD}/ns/prod/sa/other`;
const ISS = 'https://issuer.dev.test';
const AS = 'https://as.example';
const TXN_TD = 'trust.internal.example';
const PATH = '/txn-token';

let issuer: TestKey;
let workload: TestKey;
let asKey: TestKey;
let config: GatewayConfigInput;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];
const nowS = () => Math.floor(Date.now() / 1000);
const pub = configJwk;

beforeAll(async () => {
  [issuer, workload, asKey] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [pub(issuer, 'k1')] }, issuers: [ISS] } },
    authorizationServers: { [AS]: { jwks: { keys: [pub(asKey, 'a1')] }, algorithms: ['ES256'] } },
    transactionTokens: {
      trustDomain: TXN_TD,
      lifetimeSeconds: 120,
      service: { auth: { wit: { trustDomains: [TD] } }, requesters: [AGENT], authorizationServers: [AS] },
    },
    routes: [{ path: '/', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } } }],
  };
});

afterAll(() => {
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
});

function setup(now?: () => number) {
  const audit = memorySink();
  const gw = createGateway(config, {
    state: memoryState(),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetch: async () => new Response('upstream'),
    ...(now ? { now } : {}),
  });
  return { gw, audit };
}

async function credentials(sub = AGENT): Promise<Array<[string, string]>> {
  const wit = await mintWit({ sub, iss: ISS, workload, issuer });
  const wpt = await mintWpt({ wit, workload, aud: `${PUBLIC}${PATH}`, claims: { exp: nowS() + 290 } });
  minted.push(wit, wpt);
  return [['workload-identity-token', wit], ['authorization', `WPT ${wpt}`]];
}

async function accessToken(claims: Record<string, unknown> = {}) {
  const t = await sign(
    { typ: 'at+jwt', alg: 'ES256', kid: 'a1' },
    { iss: AS, sub: 'user-1', aud: PUBLIC, client_id: 'web-client', scope: 'trade.stocks trade.read', iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID(), ...claims },
    asKey,
  );
  minted.push(t);
  return t;
}

function exchange(fields: Array<[string, string]>, params: Record<string, string>, path = PATH) {
  const body = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    requested_token_type: TXN_TOKEN_TYPE,
    audience: TXN_TD,
    ...params,
  }).toString();
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${path}`, { method: 'POST', body, headers });
}

const verified = (gw: ReturnType<typeof createGateway>, token: string) => verifiedTxnToken(gw, token, TXN_TD);

async function oauthError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { error: string; error_description?: string };
  expect(body.error).toBe(error);
  expect(Object.keys(body).every((k) => k === 'error' || k === 'error_description')).toBe(true);
}

describe('Transaction Token Service', () => {
  it('exchanges an access token for a Txn-Token', async () => {
    const { gw, audit } = setup();
    const res = await gw.fetch(
      exchange(await credentials(), {
        scope: 'trade.stocks',
        subject_token: await accessToken(),
        subject_token_type: ACCESS_TOKEN_TYPE,
        request_context: JSON.stringify({ req_ip: '69.151.72.123', authn: 'face' }),
        request_details: JSON.stringify({ action: 'BUY', ticker: 'MSFT', quantity: '100' }),
      }),
      { clientAddress: '10.1.2.3' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'token_type']);
    expect(body).toMatchObject({ issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A', expires_in: 120 });
    minted.push(body.access_token as string);
    const t = await verified(gw, body.access_token as string);
    expect(t.sub).toBe('user-1');
    expect(t.reqWl).toBe(AGENT);
    expect(t.scope).toEqual(['trade.stocks']);
    expect(t.exp - t.iat).toBe(120_000);
    expect(t.tctx).toEqual({ action: 'BUY', ticker: 'MSFT', quantity: '100' });
    expect(t.rctx).toEqual({ reported_req_ip: '69.151.72.123', reported_authn: 'face', authn: 'wit+wpt', req_ip: '10.1.2.3' });
    const event = audit.events.at(-1)!;
    expect(event).toMatchObject({ decision: 'allow', reason: 'TXN_TOKEN_ISSUED', status: 200, path: PATH, principal: { workloadId: AGENT } });
  });

  it('refuses a scope wider than the access token\'s (invalid_scope), and a token without scope', async () => {
    const { gw, audit } = setup();
    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.stocks admin', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE })), 400, 'invalid_scope');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'deny', reason: 'ERR_TTS_SCOPE_EXCEEDS_SUBJECT' });
    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.stocks', subject_token: await accessToken({ scope: undefined }), subject_token_type: ACCESS_TOKEN_TYPE })), 400, 'invalid_scope');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN' });
  });

  it('answers an unauthenticated request 401 invalid_client with a challenge', async () => {
    const { gw, audit } = setup();
    const res = await gw.fetch(exchange([], { scope: 'trade.stocks', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE }));
    expect(res.headers.get('www-authenticate')).toBe('WPT');
    await oauthError(res, 401, 'invalid_client');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'deny', reason: 'ERR_CREDENTIALS_MISSING', status: 401 });
  });

  it('refuses a workload not among the requesters (unauthorized_client)', async () => {
    const { gw, audit } = setup();
    await oauthError(await gw.fetch(exchange(await credentials(OTHER), { scope: 'trade.stocks', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE })), 400, 'unauthorized_client');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_REQUESTER_NOT_ALLOWED', principal: { workloadId: OTHER } });
  });

  it('refuses an expired access token (invalid_grant), one for another audience, and GET (405)', async () => {
    const { gw, audit } = setup();
    const expired = await accessToken({ iat: nowS() - 900, exp: nowS() - 300 });
    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.stocks', subject_token: expired, subject_token_type: ACCESS_TOKEN_TYPE })), 400, 'invalid_grant');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_SUBJECT_TOKEN_EXPIRED' });
    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.stocks', subject_token: await accessToken({ aud: 'https://elsewhere.example' }), subject_token_type: ACCESS_TOKEN_TYPE })), 400, 'invalid_grant');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_SUBJECT_TOKEN_INVALID' });
    const get = await gw.fetch(new Request(`http://127.0.0.1${PATH}`));
    expect(get.headers.get('allow')).toBe('POST');
    await oauthError(get, 405, 'invalid_request');
  });

  it('refuses an audience other than the trust domain (invalid_target)', async () => {
    const { gw } = setup();
    await oauthError(await gw.fetch(exchange(await credentials(), { audience: 'other.example', scope: 'trade.stocks', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE })), 400, 'invalid_target');
  });

  it('replaces a Txn-Token: keeps txn, sub, aud and tctx, never widens scope, never outlives the original', async () => {
    let clock = Date.now();
    const { gw } = setup(() => clock);
    const first = await gw.fetch(exchange(await credentials(), { scope: 'trade.stocks trade.read', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE, request_details: '{"action":"BUY"}' }));
    const original = ((await first.json()) as { access_token: string }).access_token;
    minted.push(original);
    const o = await verified(gw, original);

    clock += 30_000;
    const res = await gw.fetch(exchange(await credentials(), { scope: 'trade.read', subject_token: original, subject_token_type: TXN_TOKEN_TYPE }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    minted.push(body.access_token);
    expect(body.expires_in).toBe(90);
    const r = await verified(gw, body.access_token);
    expect([r.txn, r.sub, r.aud, r.tctx]).toEqual([o.txn, o.sub, o.aud, { action: 'BUY' }]);
    expect(r.scope).toEqual(['trade.read']);
    expect(r.exp).toBe(o.exp);
    expect(r.rctx?.req_wl_chain).toEqual([AGENT]);

    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.read admin', subject_token: original, subject_token_type: TXN_TOKEN_TYPE })), 400, 'invalid_scope');

    clock += 91_000; // past the original's exp
    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.read', subject_token: original, subject_token_type: TXN_TOKEN_TYPE })), 400, 'invalid_grant');
  });

  it('refuses a forged Txn-Token as subject (invalid_grant)', async () => {
    const { gw, audit } = setup();
    const forged = await sign({ typ: 'txntoken+jwt', alg: 'ES256', kid: 'x' }, { aud: TXN_TD, sub: 'u', txn: 't', scope: 'trade.read', req_wl: AGENT, iat: nowS(), exp: nowS() + 60 }, asKey);
    minted.push(forged);
    await oauthError(await gw.fetch(exchange(await credentials(), { scope: 'trade.read', subject_token: forged, subject_token_type: TXN_TOKEN_TYPE })), 400, 'invalid_grant');
    expect(audit.events.at(-1)?.detail).toMatch(/^ERR_TXN_TOKEN_KEY_NOT_FOUND/);
  });

  it('leaves the routes alone', async () => {
    const { gw } = setup();
    const res = await gw.fetch(new Request('http://127.0.0.1/txn-token/other', { headers: await credentials() }));
    expect(res.status).not.toBe(405);
  });
});

describe('transactionTokens.service config', () => {
  const service = (extra: Record<string, unknown>) => ({ ...config, transactionTokens: { trustDomain: TXN_TD, service: { auth: { wit: { trustDomains: [TD] } }, requesters: [AGENT], ...extra } } });
  const problems = (input: unknown) => {
    const result = parseConfig(input);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
  };
  it('accepts the defaults', () => {
    const result = parseConfig(service({}));
    expect(result.ok && result.config.transactionTokens?.service).toMatchObject({ path: '/txn-token', authorizationServers: [] });
  });
  it('refuses oauth or jwtSvid as requester authentication', () => {
    expect(problems(service({ auth: { jwtSvid: { trustDomains: [TD] } } })).join()).toMatch(/transactionTokens\.service\.auth.*only wit and\/or mtls/);
  });
  it('refuses colliding paths, undefined trust domains, requesters and issuers', () => {
    expect(problems(service({ path: '/.well-known/tts' })).join()).toMatch(/served by the gateway itself/);
    const withRoute = { ...service({ path: '/api/token' }), routes: [{ path: '/api', protocol: 'http', upstream: 'http://up/', public: true }] };
    expect(problems(withRoute).join()).toMatch(/collides with routes\[0\]/);
    expect(problems(service({ requesters: ['spiffe://elsewhere.test'] })).join()).toMatch(/requesters\[0\].*not among/);
    expect(problems(service({ requesters: ['https://x'] })).join()).toMatch(/requesters\[0\]/);
    expect(problems(service({ authorizationServers: ['https://nope.example'] })).join()).toMatch(/not defined in authorizationServers/);
    expect(problems(service({ auth: { wit: { trustDomains: ['spiffe://undefined.test'] } } })).join()).toMatch(/not defined in trustDomains/);
  });
  it('is a ConfigError at createGateway', () => {
    expect(() => createGateway(service({ requesters: [] }), { state: memoryState() })).toThrow(ConfigError);
  });
});
