/**
 * Federation at the built-in Transaction Token Service (src/gateway/tts.ts, src/txn/federation.ts), in-process: a
 * foreign AS's JWT authorization grant becomes a local Txn-Token, through the RFC 7523 jwt-bearer grant (client
 * authentication optional) and through token exchange with subject_token_type jwt by an authenticated workload.
 * Issued tokens are verified against /.well-known/jwks.json; no grant or minted token may reach an audit event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, memorySink, memoryState, parseConfig, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';
import { JWT_BEARER_GRANT, JWT_TOKEN_TYPE, TXN_TOKEN_TYPE } from '../../src/oauth-uris.ts';
import { verifiedTxnToken } from './gateway-jwks.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const AGENT = `${TD}/ns/prod/sa/agent`;
const OTHER = `${TD}/ns/prod/sa/other`;
const ISS = 'https://issuer.dev.test';
const AS = 'https://as.example';
const FOREIGN = 'https://as.a.example/auth';
const TXN_TD = 'trust.internal.example';
const PATH = '/txn-token';
const SERVICE_URL = `${PUBLIC}${PATH}`;

let issuer: TestKey;
let workload: TestKey;
let asKey: TestKey;
let foreign: TestKey;
let intruder: TestKey;
let config: GatewayConfigInput;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [issuer, workload, asKey, foreign, intruder] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [configJwk(issuer, 'k1')] }, issuers: [ISS] } },
    authorizationServers: { [AS]: { jwks: { keys: [configJwk(asKey, 'a1')] }, algorithms: ['ES256'] } },
    transactionTokens: {
      trustDomain: TXN_TD,
      lifetimeSeconds: 120,
      service: {
        auth: { wit: { trustDomains: [TD] } },
        requesters: [AGENT],
        authorizationServers: [AS],
        federation: {
          [FOREIGN]: { jwks: { keys: [configJwk(foreign, '2813308004')] }, scopes: ['orders.read', 'orders.write'], subject: { prefix: 'a.example:' }, maxLifetimeSeconds: 120 },
        },
      },
    },
    routes: [{ path: '/', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } } }],
  };
});

afterAll(() => {
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
});

function setup(input: GatewayConfigInput = config) {
  const audit = memorySink();
  const gw = createGateway(input, {
    state: memoryState(),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetch: async () => new Response('upstream'),
  });
  return { gw, audit };
}

async function credentials(sub = AGENT): Promise<Array<[string, string]>> {
  const wit = await mintWit({ sub, iss: ISS, workload, issuer });
  const wpt = await mintWpt({ wit, workload, aud: SERVICE_URL, claims: { exp: nowS() + 290 } });
  minted.push(wit, wpt);
  return [['workload-identity-token', wit], ['authorization', `WPT ${wpt}`]];
}

async function grant(claims: Record<string, unknown> = {}, key = foreign) {
  const t = await sign(
    { alg: 'ES256', kid: '2813308004' },
    { iss: FOREIGN, sub: 'johndoe', aud: SERVICE_URL, client_id: 'client-a', scope: 'orders.read orders.write', iat: nowS() - 1, exp: nowS() + 60, jti: crypto.randomUUID(), ...claims },
    key,
  );
  minted.push(t);
  return t;
}

function post(params: Record<string, string>, fields: Array<[string, string]> = []) {
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${PATH}`, { method: 'POST', body: new URLSearchParams(params).toString(), headers });
}

const bearer = (assertion: string, extra: Record<string, string> = {}) => post({ grant_type: JWT_BEARER_GRANT, assertion, ...extra });
const exchangeJwt = (subject: string, fields: Array<[string, string]>, extra: Record<string, string> = {}) =>
  post({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', requested_token_type: TXN_TOKEN_TYPE, audience: TXN_TD, scope: 'orders.read', subject_token: subject, subject_token_type: JWT_TOKEN_TYPE, ...extra }, fields);

const verified = (gw: ReturnType<typeof createGateway>, token: string) => verifiedTxnToken(gw, token, TXN_TD);

async function oauthError(res: Response, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { error: string };
  expect(body.error).toBe(error);
}

describe('TTS federation: RFC 7523 jwt-bearer grant', () => {
  it('turns a foreign grant into a Txn-Token without client authentication, with transcribed claims', async () => {
    const { gw, audit } = setup();
    const res = await gw.fetch(bearer(await grant(), { scope: 'orders.read', request_details: '{"action":"list"}' }), { clientAddress: '192.0.2.7' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A', expires_in: 120 });
    expect(body.scope).toBeUndefined();
    minted.push(body.access_token as string);
    const t = await verified(gw, body.access_token as string);
    expect(t.sub).toBe('a.example:johndoe');
    expect(t.scope).toEqual(['orders.read']);
    expect(t.reqWl).toBe('client-a');
    expect(t.rctx).toEqual({ authn: 'jwt-bearer', grant_iss: FOREIGN, req_ip: '192.0.2.7' });
    expect(t.tctx).toEqual({ action: 'list' });
    expect(typeof t.txn).toBe('string');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'allow', reason: 'TXN_TOKEN_ISSUED', status: 200 });
    expect(audit.events.at(-1)?.principal).toBeUndefined();
  });

  it('derives an omitted scope from the grant within the federation\'s scopes, and names it; req_wl falls back to iss', async () => {
    const { gw } = setup();
    const res = await gw.fetch(bearer(await grant({ scope: 'orders.read admin', client_id: undefined })));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.scope).toBe('orders.read');
    minted.push(body.access_token as string);
    const t = await verified(gw, body.access_token as string);
    expect(t.scope).toEqual(['orders.read']);
    expect(t.reqWl).toBe(FOREIGN);
  });

  it('refuses a replayed grant (invalid_grant)', async () => {
    const { gw, audit } = setup();
    const g = await grant();
    expect((await gw.fetch(bearer(g, { scope: 'orders.read' }))).status).toBe(200);
    await oauthError(await gw.fetch(bearer(g, { scope: 'orders.read' })), 400, 'invalid_grant');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'deny', reason: 'ERR_GRANT_REPLAYED', status: 400 });
  });

  it('refuses a wrong audience, an unknown issuer, a forged and an expired grant (invalid_grant)', async () => {
    const { gw, audit } = setup();
    const cases: Array<[string, string]> = [
      [await grant({ aud: 'https://as.b.example/auth' }), 'ERR_GRANT_AUD_MISMATCH'],
      [await grant({ iss: 'https://as.evil.example' }), 'ERR_GRANT_ISSUER_NOT_ALLOWED'],
      [await grant({}, intruder), 'ERR_GRANT_SIGNATURE_INVALID'],
      [await grant({ iat: nowS() - 200, exp: nowS() - 100 }), 'ERR_GRANT_EXPIRED'],
      [await grant({ jti: undefined }), 'ERR_GRANT_JTI_INVALID'],
      [await grant({ sub: undefined }), 'ERR_GRANT_SUB_INVALID'],
    ];
    for (const [g, reason] of cases) {
      await oauthError(await gw.fetch(bearer(g, { scope: 'orders.read' })), 400, 'invalid_grant');
      expect(audit.events.at(-1)).toMatchObject({ decision: 'deny', reason });
    }
  });

  it('refuses scope beyond the federation\'s or the grant\'s, and a grant without scope (invalid_scope)', async () => {
    const { gw, audit } = setup();
    await oauthError(await gw.fetch(bearer(await grant({ scope: 'orders.read admin' }), { scope: 'admin' })), 400, 'invalid_scope');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_SCOPE_EXCEEDS_FEDERATION' });
    await oauthError(await gw.fetch(bearer(await grant({ scope: 'orders.read' }), { scope: 'orders.write' })), 400, 'invalid_scope');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_SCOPE_EXCEEDS_SUBJECT' });
    await oauthError(await gw.fetch(bearer(await grant({ scope: undefined }), { scope: 'orders.read' })), 400, 'invalid_scope');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN' });
  });

  it('refuses a missing assertion, request_context from an anonymous client, and another audience', async () => {
    const { gw, audit } = setup();
    await oauthError(await gw.fetch(post({ grant_type: JWT_BEARER_GRANT })), 400, 'invalid_request');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_ASSERTION_MISSING' });
    await oauthError(await gw.fetch(bearer(await grant(), { scope: 'orders.read', request_context: '{"x":1}' })), 400, 'invalid_request');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_TTS_CONTEXT_UNAUTHENTICATED' });
    await oauthError(await gw.fetch(bearer(await grant(), { audience: 'elsewhere' })), 400, 'invalid_target');
  });

  it('verifies the service credentials when presented: a listed workload becomes req_wl, others are refused', async () => {
    const { gw, audit } = setup();
    const res = await gw.fetch(post({ grant_type: JWT_BEARER_GRANT, assertion: await grant(), scope: 'orders.read' }, await credentials()));
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { access_token: string }).access_token;
    minted.push(token);
    expect((await verified(gw, token)).reqWl).toBe(AGENT);
    expect(audit.events.at(-1)).toMatchObject({ principal: { workloadId: AGENT } });
    await oauthError(await gw.fetch(post({ grant_type: JWT_BEARER_GRANT, assertion: await grant() }, await credentials(OTHER))), 400, 'unauthorized_client');
    await oauthError(await gw.fetch(post({ grant_type: JWT_BEARER_GRANT, assertion: await grant() }, [['authorization', 'WPT not-a-token']])), 401, 'invalid_client');
  });

  it('still requires client authentication for token exchange', async () => {
    const { gw } = setup();
    await oauthError(await gw.fetch(exchangeJwt(await grant(), [])), 401, 'invalid_client');
  });

  it('is unchanged without federation: 401 without credentials, unsupported_grant_type with, jwt subjects refused', async () => {
    const { federation: _, ...service } = (config.transactionTokens as { service: Record<string, unknown> }).service;
    const { gw } = setup({ ...config, transactionTokens: { ...config.transactionTokens!, service: service as never } });
    await oauthError(await gw.fetch(bearer(await grant(), { scope: 'orders.read' })), 401, 'invalid_client');
    await oauthError(await gw.fetch(post({ grant_type: JWT_BEARER_GRANT, assertion: await grant() }, await credentials())), 400, 'unsupported_grant_type');
    await oauthError(await gw.fetch(exchangeJwt(await grant(), await credentials())), 400, 'invalid_request');
  });
});

describe('TTS federation: token exchange with a jwt subject token (mode B)', () => {
  it('exchanges a foreign grant for an authenticated workload', async () => {
    const { gw, audit } = setup();
    const res = await gw.fetch(exchangeJwt(await grant(), await credentials(), { request_context: '{"req_ip":"198.51.100.1","channel":"api"}' }), { clientAddress: '10.0.0.9' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'token_type']);
    minted.push(body.access_token as string);
    const t = await verified(gw, body.access_token as string);
    expect(t.sub).toBe('a.example:johndoe');
    expect(t.reqWl).toBe(AGENT);
    expect(t.scope).toEqual(['orders.read']);
    expect(t.rctx).toEqual({ channel: 'api', reported_req_ip: '198.51.100.1', authn: 'jwt-bearer', grant_iss: FOREIGN, req_ip: '10.0.0.9' });
    expect(audit.events.at(-1)).toMatchObject({ decision: 'allow', principal: { workloadId: AGENT } });
  });

  it('refuses a replayed grant there too', async () => {
    const { gw, audit } = setup();
    const g = await grant();
    expect((await gw.fetch(exchangeJwt(g, await credentials()))).status).toBe(200);
    await oauthError(await gw.fetch(exchangeJwt(g, await credentials())), 400, 'invalid_grant');
    expect(audit.events.at(-1)).toMatchObject({ reason: 'ERR_GRANT_REPLAYED', principal: { workloadId: AGENT } });
  });
});

describe('transactionTokens.service.federation config', () => {
  const withService = (extra: Record<string, unknown>) => ({ ...config, transactionTokens: { trustDomain: TXN_TD, service: { auth: { wit: { trustDomains: [TD] } }, requesters: [AGENT], ...extra } } });
  const problems = (input: unknown) => {
    const result = parseConfig(input);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  };
  const entry = () => ({ jwks: { keys: [configJwk(foreign, 'f1')] }, scopes: ['orders.read'] });

  it('accepts an entry, with defaults', () => {
    const result = parseConfig(withService({ federation: { [FOREIGN]: entry() } }));
    expect(result.ok && result.config.transactionTokens?.service?.federation?.[FOREIGN]).toMatchObject({ algorithms: ['ES256', 'RS256'], requireJti: true });
    expect(parseConfig(withService({ federation: { [FOREIGN]: { jwksUri: 'https://as.a.example/jwks', scopes: ['a'] } }, grantAudience: 'https://gw.example/token' })).ok).toBe(true);
  });
  it('refuses neither or both key sources, bad URLs, no scopes, a long lifetime and unknown keys', () => {
    expect(problems(withService({ federation: { [FOREIGN]: { scopes: ['a'] } } }))).toMatch(/exactly one of jwks and jwksUri/);
    expect(problems(withService({ federation: { [FOREIGN]: { ...entry(), jwksUri: 'https://x.example/jwks' } } }))).toMatch(/exactly one of jwks and jwksUri/);
    expect(problems(withService({ federation: { [FOREIGN]: { jwksUri: 'http://x.example/jwks', scopes: ['a'] } } }))).toMatch(/jwksUri: must be https/);
    expect(problems(withService({ federation: { 'http://as.example': entry() } }))).toMatch(/must be https/);
    expect(problems(withService({ federation: { [FOREIGN]: { ...entry(), scopes: [] } } }))).toMatch(/scopes/);
    expect(problems(withService({ federation: { [FOREIGN]: { ...entry(), maxLifetimeSeconds: 7200 } } }))).toMatch(/maxLifetimeSeconds/);
    expect(problems(withService({ federation: { [FOREIGN]: { ...entry(), extra: 1 } } }))).toMatch(/extra/);
    expect(problems(withService({ federation: { [FOREIGN]: { ...entry(), algorithms: ['RS256'] } } }))).toMatch(/fits none of algorithms/);
    expect(problems(withService({ federation: {} }))).toMatch(/at least one issuer/);
  });
  it('refuses grantAudience without federation', () => {
    expect(problems(withService({ grantAudience: 'https://gw.example/token' }))).toMatch(/grantAudience: needs federation/);
  });
});
