/**
 * Conformance: Transaction Tokens the gateway mints for its upstreams (draft-ietf-oauth-transaction-tokens), over
 * HTTP on every runtime. The fixture records the `Txn-Token` the upstream received; it must verify against the JWK Set
 * the gateway publishes at /.well-known/jwks.json (fetched over HTTP, as a downstream workload would) with the claims
 * of src/gateway/txn-rebind.ts: aud = the configured trust domain, sub / req_wl / scope / rctx / tctx per credential.
 * A caller's own Txn-Token never reaches the upstream; the JWK Set carries public members only.
 */
import { SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { txnTokenVerifier } from '../../src/downstream/index.ts';
import { verifyTxnToken, type VerifiedTxnToken } from '../../src/verify/txn-token.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { json, recorded, requestId, send } from './client.ts';
import { AS_KID, AS_PATH, ISSUER, ISSUER_KID, PUBLIC_URL, TRUST_DOMAIN, TXN_LIFETIME, TXN_OAUTH_PATH, TXN_TOOL, TXN_TOOL_SCOPES, TXN_TRUST_DOMAIN, TXN_WIT_PATH } from './config.ts';
import { target } from './context.ts';
import { fixtureAsKey, importTestKey } from './keys.ts';

const SUB = `${TRUST_DOMAIN}/ns/conformance/sa/txn-agent`;
const CLIENT_ID = 'conformance-txn-client';
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const toolsCall = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
/** A caller's own (unsigned) Txn-Token: must never reach the upstream. */
const CALLERS_TXN = 'eyJhbGciOiJub25lIiwidHlwIjoidHhudG9rZW4rand0In0.eyJ0eG4iOiJjYWxsZXItdHhuIiwic3ViIjoiYWRtaW4ifQ.';

let issuer: TestKey;
let workload: TestKey;
let asKey: CryptoKey;
const jwksUrl = () => `${target().gatewayUrl}/.well-known/jwks.json`;
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await importTestKey(target().wimse.issuer);
  workload = await generateKey('ES256');
  asKey = await fixtureAsKey();
});

async function witCreds(path: string, wptClaims: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const t = await mintWit({ sub: SUB, iss: ISSUER, kid: ISSUER_KID, workload, issuer });
  const proof = await mintWpt({ wit: t, workload, aud: `${PUBLIC_URL}${path}`, claims: wptClaims });
  return { 'workload-identity-token': t, authorization: `WPT ${proof}` };
}

async function accessToken(path: string, scope: string): Promise<string> {
  const payload = { iss: `${target().fixtureUrl}${AS_PATH}`, sub: 'user-txn', aud: `${PUBLIC_URL}${path}`, client_id: CLIENT_ID, scope, iat: nowS(), exp: nowS() + 600, jti: crypto.randomUUID() };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: AS_KID }).sign(asKey);
}

/** The gateway's JWK Set, fetched over HTTP. */
async function gatewayJwks(): Promise<JWK[]> {
  const response = await fetch(jwksUrl());
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return ((await response.json()) as { keys: JWK[] }).keys;
}

/** The Txn-Token the fixture received for request `id`, verified with the gateway's JWKS (fetched over HTTP). */
async function upstreamTxn(id: string): Promise<{ token: string; verified: VerifiedTxnToken; claims: Record<string, unknown> }> {
  const seen = await recorded(id);
  const token = seen.headers['txn-token'];
  expect(token, 'txn-token at the upstream').toBeTypeOf('string');
  expect(seen.rawHeaderNames.filter((name) => name.toLowerCase() === 'txn-token')).toHaveLength(1);
  const keys = await gatewayJwks();
  const result = await verifyTxnToken(token!, { keys: async (kid) => keys.find((k) => k.kid === kid), audience: TXN_TRUST_DOMAIN, now: Date.now });
  expect(result.ok, result.ok ? '' : `${result.code}: ${result.detail}`).toBe(true);
  // A downstream workload's view: the helper fetches the same JWKS itself.
  const downstream = await txnTokenVerifier({ jwksUrl: jwksUrl(), audience: TXN_TRUST_DOMAIN, warn: () => {} })(new Request('http://downstream.test/', { headers: { 'txn-token': token! } }));
  expect(downstream.ok, downstream.ok ? '' : `${downstream.code}: ${downstream.detail}`).toBe(true);
  const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { token: token!, verified: (result as { value: VerifiedTxnToken }).value, claims };
}

/** rctx: the authentication method, the token's issuer and client, and (where the runtime reports one) the client address. */
function expectRctx(rctx: Record<string, unknown> | undefined, expected: Record<string, unknown>) {
  const { req_ip: ip, ...rest } = rctx ?? {};
  expect(rest).toEqual(expected);
  if (ip !== undefined) expect(ip).toBeTypeOf('string');
}

describe(`Txn-Token to the upstream (${target().runtime})`, () => {
  it('WIT + WPT: sub = req_wl = the workload, scope route:<path>, aud the trust domain, lifetime as configured', async () => {
    const id = requestId('txn-wit');
    const creds = await witCreds(TXN_WIT_PATH);
    const response = await send(`${TXN_WIT_PATH}/items?x=1`, { method: 'POST', headers: { ...creds, 'x-request-id': id, 'content-type': 'application/json' }, body: '{}' });
    expect(response.status, response.body).toBe(200);
    const { token, verified, claims } = await upstreamTxn(id);
    expect(verified).toMatchObject({ aud: [TXN_TRUST_DOMAIN], sub: SUB, reqWl: SUB, scope: [`route:${TXN_WIT_PATH}`] });
    expect(claims).toMatchObject({ aud: TXN_TRUST_DOMAIN, sub: SUB, req_wl: SUB, scope: `route:${TXN_WIT_PATH}` });
    expect((claims.exp as number) - (claims.iat as number)).toBe(TXN_LIFETIME);
    expect(verified.txn).toMatch(/^[0-9a-f-]{36}$/);
    expectRctx(verified.rctx, { authn: 'wit+wpt' });
    expect(verified.tctx).toEqual({ route: TXN_WIT_PATH });
    const seen = await recorded(id);
    for (const name of ['authorization', 'workload-identity-token', 'workload-proof-token']) expect(seen.headers[name], name).toBeUndefined();
    expect(leakedPieces(token, Object.values(creds).map((v) => v.replace(/^WPT /, '')))).toEqual([]);
  });

  it('each request gets a fresh txn', async () => {
    const ids = [requestId('txn-fresh'), requestId('txn-fresh')];
    for (const id of ids) {
      const response = await send(TXN_WIT_PATH, { headers: { ...(await witCreds(TXN_WIT_PATH)), 'x-request-id': id } });
      expect(response.status, response.body).toBe(200);
    }
    const [a, b] = await Promise.all(ids.map(upstreamTxn));
    expect(a!.verified.txn).not.toBe(b!.verified.txn);
  });

  it('OAuth tools/call: sub = the user, req_wl = the client, scope = the tool\'s required scopes, tctx.mcp names the call', async () => {
    const id = requestId('txn-oauth-call');
    const t = await accessToken(TXN_OAUTH_PATH, `read ${TXN_TOOL_SCOPES.join(' ')}`);
    await send(TXN_OAUTH_PATH, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${t}`, 'x-request-id': id }, body: toolsCall(TXN_TOOL) });
    const { verified, claims } = await upstreamTxn(id);
    expect(verified).toMatchObject({ aud: [TXN_TRUST_DOMAIN], sub: 'user-txn', reqWl: CLIENT_ID, scope: TXN_TOOL_SCOPES });
    expect(claims.scope).toBe(TXN_TOOL_SCOPES.join(' '));
    expectRctx(verified.rctx, { authn: 'access-token', token_iss: `${target().fixtureUrl}${AS_PATH}`, client_id: CLIENT_ID });
    expect(verified.tctx).toEqual({ route: TXN_OAUTH_PATH, mcp: [{ method: 'tools/call', name: TXN_TOOL }] });
    expect((await recorded(id)).headers.authorization).toBeUndefined();
  });

  it('OAuth tools/list (no requirement): scope = the token\'s granted scopes', async () => {
    const id = requestId('txn-oauth-list');
    const response = await send(TXN_OAUTH_PATH, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${await accessToken(TXN_OAUTH_PATH, 'read write')}`, 'x-request-id': id }, body: TOOLS_LIST });
    expect(response.status, response.body).toBe(200);
    expect(json(response.body)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
    const { verified } = await upstreamTxn(id);
    expect(verified).toMatchObject({ sub: 'user-txn', reqWl: CLIENT_ID, scope: ['read', 'write'] });
    expect(verified.tctx).toEqual({ route: TXN_OAUTH_PATH, mcp: [{ method: 'tools/list' }] });
  });

  it('a caller\'s own Txn-Token is replaced by the gateway\'s (WIT route, bound by the WPT tth; OAuth route)', async () => {
    const witId = requestId('txn-replace-wit');
    const creds = await witCreds(TXN_WIT_PATH, { tth: await sha256b64url(CALLERS_TXN) });
    expect((await send(TXN_WIT_PATH, { headers: { ...creds, 'txn-token': CALLERS_TXN, 'x-request-id': witId } })).status).toBe(200);
    const oauthId = requestId('txn-replace-oauth');
    await send(TXN_OAUTH_PATH, { method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${await accessToken(TXN_OAUTH_PATH, 'read')}`, 'txn-token': CALLERS_TXN, 'x-request-id': oauthId }, body: TOOLS_LIST });
    for (const id of [witId, oauthId]) {
      const { token, verified } = await upstreamTxn(id);
      expect(token).not.toContain(CALLERS_TXN.split('.')[1]);
      expect(verified.txn).not.toBe('caller-txn');
      expect(verified.sub).not.toBe('admin');
    }
  });

  it('a route without txnToken sends none (and drops the caller\'s)', async () => {
    const id = requestId('txn-none');
    const creds = await witCreds('/wimse', { tth: await sha256b64url(CALLERS_TXN) });
    expect((await send('/wimse', { headers: { ...creds, 'txn-token': CALLERS_TXN, 'x-request-id': id } })).status).toBe(200);
    expect((await recorded(id)).headers['txn-token']).toBeUndefined();
  });

  it('the JWK Set carries public members only (no d), ES256 signing keys with kids', async () => {
    const keys = await gatewayJwks();
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const key of keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key, `${key.kid} ${member}`).not.toHaveProperty(member);
      expect(key.kid).toBeTypeOf('string');
    }
    const txnKeys = keys.filter((k) => k.use === 'sig' && k.alg === 'ES256' && k.kty === 'EC' && k.crv === 'P-256');
    expect(txnKeys.length).toBeGreaterThanOrEqual(1);
  });
});
