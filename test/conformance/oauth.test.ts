/**
 * Conformance: the OAuth resource server (auth.oauth) over HTTP, on every runtime, against the fixture
 * authorization server (issuer fixtureUrl + AS_PATH: RFC 8414 metadata, JWK Set, RFC 7662 introspection).
 *   - RFC 9728 metadata at the route's well-known URL (GET, OPTIONS preflight, other methods 405).
 *   - RFC 6750 challenges: none presented (no error), invalid_token per JWT check (RFC 9068 §4), insufficient_scope
 *     (403, every scope the operation needs), a query token (400 invalid_request); RFC 9470 step-up.
 *   - RFC 9449 DPoP: a bound token with its proof, as Bearer, a replayed proof, a wrong htu, server nonces; each proof
 *     check HTTP can reach (typ, private jwk, alg per route, ath, iat window, htm, key binding, missing or repeated
 *     DPoP field, an unbound token with the DPoP scheme).
 *   - RFC 7662 introspection of opaque tokens (active, inactive, client_secret_basic); RFC 9701 JWT answers with
 *     client_secret_post (a second AS, /as2), a badly signed answer, an endpoint that answers 500 or is down.
 *   - RFC 8414 §3.3: metadata naming another issuer is not used (503, fail closed).
 *   - The MCP front on an OAuth route: per-tool scopes and step-up, Mcp-Method / body disagreement (-32020), legacy
 *     sessions bound to the user that opened them.
 * Every refusal asserts its status, its code and the WWW-Authenticate parameters.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../../src/verify/dpop.ts';
import { challenges, expectJsonRpcError, expectProblem, json, record, recorded, requestId, send, type Challenge, type RawResponse } from './client.ts';
import { AS2_CLIENT_ID, AS2_PATH, AS_CLIENT_ID, AS_DEAD_PATH, AS_DOWN_PATH, AS_KID, AS_PATH, AS_WRONG_PATH, ES256_ONLY, OAUTH_MAX_AGE, PUBLIC_URL } from './config.ts';
import { target } from './context.ts';
import { fixtureAsKey } from './keys.ts';
import type { IntrospectionRecord } from './fixture.ts';

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const toolsCall = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: {} } });
const metadataUrl = (path: string) => `${PUBLIC_URL}/.well-known/oauth-protected-resource${path}`;

const now = () => Math.floor(Date.now() / 1000);
let counter = 0;
const unique = (label: string) => `${label}-${target().runtime}-${process.pid}-${++counter}-${Date.now().toString(36)}`;

let asKey: CryptoKey;
let intruderKey: CryptoKey;
let issuer: string;

beforeAll(async () => {
  issuer = `${target().fixtureUrl}${AS_PATH}`;
  asKey = await fixtureAsKey();
  intruderKey = (await generateKeyPair('ES256')).privateKey;
});

interface MintOptions {
  claims?: JWTPayload & Record<string, unknown>;
  /** Claims to leave out. */
  omit?: string[];
  header?: Record<string, unknown>;
  key?: CryptoKey | Uint8Array;
}

/** An RFC 9068 JWT access token from the fixture AS for `path`'s resource, scope "read", 10 minutes. */
async function accessToken(path: string, { claims = {}, omit = [], header = {}, key = asKey }: MintOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: issuer, sub: 'user-1', aud: `${PUBLIC_URL}${path}`, client_id: 'conformance-client', scope: 'read',
    iat: now(), exp: now() + 600, jti: unique('at'), ...claims,
  };
  for (const name of omit) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: AS_KID, ...header } as never).sign(key);
}

interface DpopKey {
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function dpopKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

/** An RFC 9449 proof for `method` `htu` bound to `token` (ath); `extra` claims and `header` members override. */
async function dpopProof(key: DpopKey, method: string, htu: string, token: string, extra: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm: method, htu, jti: unique('proof'), ath: await sha256b64url(new TextEncoder().encode(token)), iat: now(), ...extra })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk, ...header } as never)
    .sign(key.privateKey);
}

/** Asserts a refusal: status, code (problem+json on http routes, JSON-RPC on mcp routes), and one challenge per scheme. */
function expectRefusal(response: RawResponse, status: number, code: string, { mcp = false, jsonRpc }: { mcp?: boolean; jsonRpc?: number } = {}): Challenge[] {
  if (mcp && jsonRpc === undefined) expectJsonRpcError(response, status, code);
  else if (mcp) {
    expect(response.status, response.body).toBe(status);
    const body = json(response.body);
    expect(body.error.code).toBe(jsonRpc);
    expect(body.error.data.code).toBe(code);
  } else expectProblem(response, status, code);
  return challenges(response);
}

/** Asserts one challenge of `scheme` with `error` and the route's resource_metadata; returns its params. */
function expectChallenge(list: Challenge[], scheme: string, error: string, path: string): Record<string, string> {
  const found = list.find((c) => c.scheme.toLowerCase() === scheme.toLowerCase());
  expect(found, `${scheme} challenge in ${JSON.stringify(list)}`).toBeDefined();
  expect(found!.params.error).toBe(error);
  expect(found!.params.resource_metadata).toBe(metadataUrl(path));
  return found!.params;
}

const bearer = (token: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, ...extra });
/** A 503 (the gateway could not check the credential) names no challenge: the client did nothing wrong. */
const noChallenge = (response: RawResponse) => expect(response.headers['www-authenticate'], 'WWW-Authenticate on a 503').toBeUndefined();

describe(`OAuth resource server (${target().runtime})`, () => {
  describe('RFC 9728 protected resource metadata', () => {
    it('serves the /oauth route metadata with CORS', async () => {
      const response = await send('/.well-known/oauth-protected-resource/oauth');
      expect(response.status, response.body).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['access-control-allow-origin']).toBe('*');
      const doc = json(response.body);
      expect(doc).toEqual({
        resource: `${PUBLIC_URL}/oauth`,
        authorization_servers: [issuer],
        scopes_supported: ['read'],
        bearer_methods_supported: ['header'],
        dpop_signing_alg_values_supported: [...DEFAULT_DPOP_ALGORITHMS],
      });
    });

    it('lists every scope of an MCP route and its tools; a DPoP-only route requires bound tokens', async () => {
      const mcp = json((await send('/.well-known/oauth-protected-resource/oauth-mcp')).body);
      expect(mcp.resource).toBe(`${PUBLIC_URL}/oauth-mcp`);
      expect([...mcp.scopes_supported].sort()).toEqual(['admin', 'read']);
      const dpop = json((await send('/.well-known/oauth-protected-resource/oauth-dpop')).body);
      expect(dpop.dpop_bound_access_tokens_required).toBe(true);
    });

    it('answers a CORS preflight with 204 and other methods with 405 and Allow', async () => {
      const preflight = await send('/.well-known/oauth-protected-resource/oauth', {
        method: 'OPTIONS',
        headers: { origin: 'https://client.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(preflight.headers['access-control-allow-methods']).toContain('GET');
      const post = await send('/.well-known/oauth-protected-resource/oauth', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(post.status).toBe(405);
      expect(post.headers.allow?.split(/\s*,\s*/).sort()).toEqual(['GET', 'HEAD', 'OPTIONS']);
    });
  });

  describe('Bearer JWT access tokens', () => {
    it('without a token: 401 with a Bearer and a DPoP challenge naming the metadata and scope, no error', async () => {
      const response = await send('/oauth');
      const list = expectRefusal(response, 401, 'ERR_CREDENTIALS_MISSING');
      expect(list.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
      expect(list[0]!.params).toEqual({ resource_metadata: metadataUrl('/oauth'), scope: 'read' });
      expect(list[1]!.params.resource_metadata).toBe(metadataUrl('/oauth'));
      expect(list[1]!.params.algs?.split(' ')).toEqual([...DEFAULT_DPOP_ALGORITHMS]);
      expect(list.some((c) => 'error' in c.params)).toBe(false);
      expect(response.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/i);
    });

    it('a DPoP-only route challenges with DPoP alone', async () => {
      const list = expectRefusal(await send('/oauth-dpop'), 401, 'ERR_CREDENTIALS_MISSING');
      expect(list.map((c) => c.scheme)).toEqual(['DPoP']);
      expect(list[0]!.params.resource_metadata).toBe(metadataUrl('/oauth-dpop'));
    });

    it('a valid token passes, and neither Authorization nor DPoP reaches the upstream', async () => {
      const id = requestId('oauth-ok');
      const response = await send('/oauth/items?x=1', { headers: bearer(await accessToken('/oauth'), { 'x-request-id': id, dpop: 'stray' }) });
      expect(response.status, response.body).toBe(200);
      const seen = await recorded(id);
      expect(seen.url).toBe('/base/items?x=1');
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers.dpop).toBeUndefined();
    });

    const cases: Array<[name: string, mint: () => Promise<string>, code: string]> = [
      ['typ JWT', () => accessToken('/oauth', { header: { typ: 'JWT' } }), 'ERR_ACCESS_TOKEN_TYP_INVALID'],
      ['an issuer the route does not accept', () => accessToken('/oauth', { claims: { iss: 'https://rogue.example' } }), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED'],
      ['aud of another route', () => accessToken('/oauth', { claims: { aud: `${PUBLIC_URL}/oauth-mcp` } }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH'],
      ['expired', () => accessToken('/oauth', { claims: { iat: now() - 1200, exp: now() - 600 } }), 'ERR_ACCESS_TOKEN_EXPIRED'],
      ['signed by another key under the AS kid', () => accessToken('/oauth', { key: intruderKey }), 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID'],
      ['alg HS256', () => accessToken('/oauth', { header: { alg: 'HS256' }, key: crypto.getRandomValues(new Uint8Array(32)) }), 'ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED'],
      ['an unknown kid', () => accessToken('/oauth', { header: { kid: 'rotated-away' } }), 'ERR_ACCESS_TOKEN_KEY_NOT_FOUND'],
      ['no client_id', () => accessToken('/oauth', { omit: ['client_id'] }), 'ERR_ACCESS_TOKEN_CLIENT_ID_INVALID'],
      ['no jti', () => accessToken('/oauth', { omit: ['jti'] }), 'ERR_ACCESS_TOKEN_JTI_INVALID'],
    ];
    it.each(cases)('refuses a token with %s: 401 invalid_token', async (_name, mint, code) => {
      const id = requestId('oauth-bad');
      const response = await send('/oauth', { headers: bearer(await mint(), { 'x-request-id': id }) });
      const list = expectRefusal(response, 401, code);
      expect(list).toHaveLength(1);
      expectChallenge(list, 'Bearer', 'invalid_token', '/oauth');
      expect(await (await fetch(`${target().fixtureUrl}/__fixture/records/${id}`)).json()).toBeNull();
    });

    it('a token without the route scope: 403 insufficient_scope naming it', async () => {
      const response = await send('/oauth', { headers: bearer(await accessToken('/oauth', { claims: { scope: 'write' } })) });
      const params = expectChallenge(expectRefusal(response, 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE'), 'Bearer', 'insufficient_scope', '/oauth');
      expect(params.scope).toBe('read');
    });

    it('a token in the query: 400 invalid_request on every scheme', async () => {
      const response = await send(`/oauth?access_token=${await accessToken('/oauth')}`);
      const list = expectRefusal(response, 400, 'ERR_OAUTH_REQUEST_INVALID');
      expectChallenge(list, 'Bearer', 'invalid_request', '/oauth');
      expectChallenge(list, 'DPoP', 'invalid_request', '/oauth');
    });
  });

  describe('MCP route: per-tool scopes and step-up', () => {
    const post = async (body: string, token: string, extra: Record<string, string> = {}) =>
      send('/oauth-mcp', { method: 'POST', body, headers: { ...MCP_HEADERS, ...bearer(token), ...extra } });

    it('tools/list passes with the route scope', async () => {
      const response = await post(TOOLS_LIST, await accessToken('/oauth-mcp'));
      expect(response.status, response.body).toBe(200);
      expect(json(response.body).result).toEqual({ tools: [] });
    });

    it('tools/call of admin_tool with only the route scope: 403 naming every scope the call needs', async () => {
      const id = requestId('oauth-admin');
      const response = await post(toolsCall('admin_tool'), await accessToken('/oauth-mcp'), { 'x-request-id': id });
      const params = expectChallenge(expectRefusal(response, 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', { mcp: true }), 'Bearer', 'insufficient_scope', '/oauth-mcp');
      expect(params.scope?.split(' ').sort()).toEqual(['admin', 'read']);
      expect(await (await fetch(`${target().fixtureUrl}/__fixture/records/${id}`)).json()).toBeNull();
      // With both scopes the call reaches the upstream (which knows no tools: JSON-RPC -32601).
      const granted = await post(toolsCall('admin_tool'), await accessToken('/oauth-mcp', { claims: { scope: 'read admin' } }));
      expect(granted.status, granted.body).toBe(404);
      expect(json(granted.body).error.code).toBe(-32601);
    });

    it('step-up: mfa_tool without acr and auth_time: 401 insufficient_user_authentication with acr_values and max_age', async () => {
      const response = await post(toolsCall('mfa_tool'), await accessToken('/oauth-mcp'));
      const params = expectChallenge(expectRefusal(response, 401, 'ERR_ACCESS_TOKEN_INSUFFICIENT_USER_AUTH', { mcp: true }), 'Bearer', 'insufficient_user_authentication', '/oauth-mcp');
      expect(params.acr_values).toBe('mfa');
      expect(params.max_age).toBe(String(OAUTH_MAX_AGE));
    });

    it('step-up: acr met but authentication too old names max_age only; both met passes', async () => {
      const old = await post(toolsCall('mfa_tool'), await accessToken('/oauth-mcp', { claims: { acr: 'mfa', auth_time: now() - OAUTH_MAX_AGE * 10 } }));
      const params = expectChallenge(expectRefusal(old, 401, 'ERR_ACCESS_TOKEN_INSUFFICIENT_USER_AUTH', { mcp: true }), 'Bearer', 'insufficient_user_authentication', '/oauth-mcp');
      expect(params.max_age).toBe(String(OAUTH_MAX_AGE));
      expect(params.acr_values).toBeUndefined();
      const fresh = await post(toolsCall('mfa_tool'), await accessToken('/oauth-mcp', { claims: { acr: 'mfa', auth_time: now() - 5 } }));
      expect(fresh.status, fresh.body).toBe(404);
      expect(json(fresh.body).error.code).toBe(-32601);
    });

    it('legacy sessions are bound to the user that opened them (foreign: 403, unknown: 404)', async () => {
      const session = unique('session');
      const opened = await send(`/oauth-mcp?session=${session}`, { method: 'POST', body: TOOLS_LIST, headers: { ...MCP_HEADERS, ...bearer(await accessToken('/oauth-mcp')) } });
      expect(opened.status, opened.body).toBe(200);
      expect(opened.headers['mcp-session-id']).toBe(session);
      const same = await post(TOOLS_LIST, await accessToken('/oauth-mcp'), { 'mcp-session-id': session });
      expect(same.status, same.body).toBe(200);
      const foreign = await post(TOOLS_LIST, await accessToken('/oauth-mcp', { claims: { sub: 'user-9' } }), { 'mcp-session-id': session });
      expect(foreign.status, foreign.body).toBe(403);
      expect(json(foreign.body).error.data.code).toBe('ERR_MCP_SESSION_FOREIGN');
      const unknown = await post(TOOLS_LIST, await accessToken('/oauth-mcp'), { 'mcp-session-id': unique('never-opened') });
      expect(unknown.status, unknown.body).toBe(404);
      expect(json(unknown.body).error.data.code).toBe('ERR_MCP_SESSION_UNKNOWN');
    });

    it('Mcp-Method differing from the body method: 400 ERR_MCP_HEADER_MISMATCH, JSON-RPC -32020', async () => {
      const id = requestId('oauth-mismatch');
      const response = await post(toolsCall('echo'), await accessToken('/oauth-mcp'), { 'mcp-method': 'tools/list', 'x-request-id': id });
      expect(response.status, response.body).toBe(400);
      const body = json(response.body);
      expect(body.error.code).toBe(-32020);
      expect(body.error.data.code).toBe('ERR_MCP_HEADER_MISMATCH');
      expect(await (await fetch(`${target().fixtureUrl}/__fixture/records/${id}`)).json()).toBeNull();
    });
  });

  describe('DPoP (RFC 9449)', () => {
    it('a bound token with a valid proof passes; nothing of either reaches the upstream', async () => {
      const key = await dpopKey();
      const token = await accessToken('/oauth', { claims: { cnf: { jkt: key.jkt } } });
      const id = requestId('dpop-ok');
      const response = await send('/oauth', { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', `${PUBLIC_URL}/oauth`, token), 'x-request-id': id } });
      expect(response.status, response.body).toBe(200);
      const seen = await recorded(id);
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers.dpop).toBeUndefined();
    });

    it('the bound token as Bearer: 401 ERR_ACCESS_TOKEN_DPOP_BOUND, invalid_token', async () => {
      const key = await dpopKey();
      const token = await accessToken('/oauth', { claims: { cnf: { jkt: key.jkt } } });
      const list = expectRefusal(await send('/oauth', { headers: bearer(token) }), 401, 'ERR_ACCESS_TOKEN_DPOP_BOUND');
      expectChallenge(list, 'Bearer', 'invalid_token', '/oauth');
    });

    it('a replayed proof: 401 ERR_DPOP_REPLAYED, invalid_dpop_proof', async () => {
      const key = await dpopKey();
      const token = await accessToken('/oauth', { claims: { cnf: { jkt: key.jkt } } });
      const headers = { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', `${PUBLIC_URL}/oauth`, token) };
      expect((await send('/oauth', { headers })).status).toBe(200);
      const list = expectRefusal(await send('/oauth', { headers }), 401, 'ERR_DPOP_REPLAYED');
      const params = expectChallenge(list, 'DPoP', 'invalid_dpop_proof', '/oauth');
      expect(params.algs?.split(' ')).toEqual([...DEFAULT_DPOP_ALGORITHMS]);
    });

    it('a proof for another URI: 401 ERR_DPOP_HTU_MISMATCH (the resource origin, never the Host the request used)', async () => {
      const key = await dpopKey();
      const token = await accessToken('/oauth', { claims: { cnf: { jkt: key.jkt } } });
      for (const htu of [`${PUBLIC_URL}/oauth-dpop`, `${target().gatewayUrl}/oauth`]) {
        const response = await send('/oauth', { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token) } });
        expectChallenge(expectRefusal(response, 401, 'ERR_DPOP_HTU_MISMATCH'), 'DPoP', 'invalid_dpop_proof', '/oauth');
      }
    });

    it('nonce route: a proof without a nonce gets 401 use_dpop_nonce with DPoP-Nonce; the retry with it passes', async () => {
      const key = await dpopKey();
      const token = await accessToken('/oauth-dpop', { claims: { cnf: { jkt: key.jkt } } });
      const htu = `${PUBLIC_URL}/oauth-dpop`;
      const first = await send('/oauth-dpop', { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token) } });
      expectChallenge(expectRefusal(first, 401, 'ERR_DPOP_NONCE_REQUIRED'), 'DPoP', 'use_dpop_nonce', '/oauth-dpop');
      const nonce = first.headers['dpop-nonce'];
      expect(nonce, 'DPoP-Nonce').toBeTypeOf('string');
      expect(first.headers['access-control-expose-headers']).toMatch(/DPoP-Nonce/i);
      const retry = await send('/oauth-dpop', { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, { nonce }) } });
      expect(retry.status, retry.body).toBe(200);
      const wrong = await send('/oauth-dpop', { headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, { nonce: 'not-a-nonce' }) } });
      expectChallenge(expectRefusal(wrong, 401, 'ERR_DPOP_NONCE_INVALID'), 'DPoP', 'use_dpop_nonce', '/oauth-dpop');
      expect(wrong.headers['dpop-nonce']).toBeTypeOf('string');
    });
  });

  describe('opaque tokens (RFC 7662 introspection)', () => {
    const opaque = () => Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
    const store = async (token: string, answer: unknown) => {
      const response = await fetch(`${target().fixtureUrl}/__fixture/introspection/${token}`, { method: 'PUT', body: JSON.stringify(answer) });
      expect(response.status).toBe(204);
    };
    const requests = async (token: string) => (await (await fetch(`${target().fixtureUrl}/__fixture/introspection/${token}/requests`)).json()) as IntrospectionRecord[];
    const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

    it('an active token passes; the gateway authenticated with client_secret_basic', async () => {
      const token = opaque();
      await store(token, { active: true, iss: issuer, aud: `${PUBLIC_URL}/oauth`, sub: 'user-2', client_id: 'conformance-client', scope: 'read', exp: now() + 300, token_type: 'Bearer' });
      const response = await send('/oauth', { headers: bearer(token) });
      expect(response.status, response.body).toBe(200);
      const seen = await requests(token);
      expect(seen.length).toBeGreaterThanOrEqual(1);
      const [request] = seen;
      expect(request!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      expect(new URLSearchParams(request!.body).get('token')).toBe(token);
      const basic = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(request!.authorization ?? '');
      expect(basic, `Authorization ${request!.authorization}`).not.toBeNull();
      const [id, secret] = Buffer.from(basic![1]!, 'base64').toString('latin1').split(':');
      expect(formDecode(id!)).toBe(AS_CLIENT_ID);
      expect(formDecode(secret!)).toBe(target().oauth.clientSecret);
    });

    it('an inactive token: 401 ERR_ACCESS_TOKEN_INACTIVE, invalid_token', async () => {
      const token = opaque();
      await store(token, { active: false });
      const list = expectRefusal(await send('/oauth', { headers: bearer(token) }), 401, 'ERR_ACCESS_TOKEN_INACTIVE');
      expectChallenge(list, 'Bearer', 'invalid_token', '/oauth');
      expect((await requests(token)).length).toBe(1);
    });

    it('an active token for another resource: 401 ERR_ACCESS_TOKEN_AUD_MISMATCH; without the scope: 403', async () => {
      const other = opaque();
      await store(other, { active: true, iss: issuer, aud: `${PUBLIC_URL}/oauth-mcp`, sub: 'user-2', scope: 'read', exp: now() + 300 });
      expectChallenge(expectRefusal(await send('/oauth', { headers: bearer(other) }), 401, 'ERR_ACCESS_TOKEN_AUD_MISMATCH'), 'Bearer', 'invalid_token', '/oauth');
      const narrow = opaque();
      await store(narrow, { active: true, iss: issuer, aud: `${PUBLIC_URL}/oauth`, sub: 'user-2', scope: 'write', exp: now() + 300 });
      const params = expectChallenge(expectRefusal(await send('/oauth', { headers: bearer(narrow) }), 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE'), 'Bearer', 'insufficient_scope', '/oauth');
      expect(params.scope).toBe('read');
    });


    it('RFC 9701: a signed JWT answer from /as2 passes; the gateway used client_secret_post and asked for the JWT', async () => {
      const token = opaque();
      const as2 = `${target().fixtureUrl}${AS2_PATH}`;
      await store(token, { active: true, iss: as2, aud: `${PUBLIC_URL}/oauth-jwt`, sub: 'user-3', client_id: 'conformance-client', scope: 'read', exp: now() + 300, token_type: 'Bearer' });
      const id = requestId('oauth-jwt');
      const response = await send('/oauth-jwt', { headers: bearer(token, { 'x-request-id': id }) });
      expect(response.status, response.body).toBe(200);
      expect((await recorded(id)).headers.authorization).toBeUndefined();
      const seen = await requests(token);
      expect(seen).toHaveLength(1);
      const [request] = seen;
      expect(request!.path).toBe('/as2/introspect');
      expect(request!.authorization).toBeNull();
      expect(request!.accept).toBe('application/token-introspection+jwt');
      expect(request!.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      const form = new URLSearchParams(request!.body);
      expect(form.get('token')).toBe(token);
      expect(form.get('client_id')).toBe(AS2_CLIENT_ID);
      expect(form.get('client_secret')).toBe(target().oauth.clientSecret);
    });

    it('RFC 9701: a JWT answer saying inactive: 401 ERR_ACCESS_TOKEN_INACTIVE, invalid_token', async () => {
      const token = opaque();
      await store(token, { active: false });
      expectChallenge(expectRefusal(await send('/oauth-jwt', { headers: bearer(token) }), 401, 'ERR_ACCESS_TOKEN_INACTIVE'), 'Bearer', 'invalid_token', '/oauth-jwt');
    });

    it('RFC 9701: an answer signed by another key under the AS kid: 503 ERR_INTROSPECTION_RESPONSE_INVALID, no challenge', async () => {
      const token = opaque();
      const put = await fetch(`${target().fixtureUrl}/__fixture/introspection/${token}?signature=bad`, { method: 'PUT', body: JSON.stringify({ active: true, aud: `${PUBLIC_URL}/oauth-jwt`, sub: 'user-3', scope: 'read', exp: now() + 300 }) });
      expect(put.status).toBe(204);
      const id = requestId('oauth-jwt-bad');
      const response = await send('/oauth-jwt', { headers: bearer(token, { 'x-request-id': id }) });
      expectProblem(response, 503, 'ERR_INTROSPECTION_RESPONSE_INVALID');
      noChallenge(response);
      expect((await requests(token)).length).toBe(1);
      expect(await record(id)).toBeNull();
    });

    it('an introspection endpoint answering 500: 503 ERR_INTROSPECTION_FAILED, no challenge', async () => {
      const token = opaque();
      const id = requestId('oauth-as-down');
      const response = await send('/oauth-as-down', { headers: bearer(token, { 'x-request-id': id }) });
      expectProblem(response, 503, 'ERR_INTROSPECTION_FAILED');
      noChallenge(response);
      const seen = await requests(token);
      expect(seen.map((r) => r.path)).toEqual([`${AS_DOWN_PATH}/introspect`]);
      expect(await record(id)).toBeNull();
    });

    it('an introspection endpoint on a closed port: 503 ERR_INTROSPECTION_FAILED, no challenge', async () => {
      const id = requestId('oauth-as-dead');
      const response = await send('/oauth-as-dead', { headers: bearer(opaque(), { 'x-request-id': id }) });
      expectProblem(response, 503, 'ERR_INTROSPECTION_FAILED');
      noChallenge(response);
      expect(await record(id)).toBeNull();
      expect(AS_DEAD_PATH).toBe('/as-dead');
    });
  });

  describe('RFC 8414 key discovery', () => {
    it('metadata naming another issuer is not used (§3.3): 503 ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED, no challenge, also on a retry', async () => {
      // The metadata of /as-wrong names /as, whose JWK Set holds the key this token is signed with: using the
      // document anyway would let the token through.
      const wrong = `${target().fixtureUrl}${AS_WRONG_PATH}`;
      for (const label of ['first', 'retry']) {
        const id = requestId(`oauth-as-wrong-${label}`);
        const token = await accessToken('/oauth-as-wrong', { claims: { iss: wrong } });
        const response = await send('/oauth-as-wrong', { headers: bearer(token, { 'x-request-id': id }) });
        expectProblem(response, 503, 'ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED');
        noChallenge(response);
        expect(await record(id)).toBeNull();
      }
    });
  });

  describe('DPoP proof checks (RFC 9449 §4.3, §7.1)', () => {
    const htu = `${PUBLIC_URL}/oauth`;
    const sha = (text: string) => sha256b64url(new TextEncoder().encode(text));
    interface DpopCase {
      name: string;
      /** The Authorization and DPoP fields for GET /oauth. */
      build: () => Promise<Record<string, string | string[]>>;
      code: string;
      error: string;
    }
    const bound = async () => {
      const key = await dpopKey();
      return { key, token: await accessToken('/oauth', { claims: { cnf: { jkt: key.jkt } } }) };
    };
    const cases: DpopCase[] = [
      { name: 'typ JWT', code: 'ERR_DPOP_TYP_INVALID', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, {}, { typ: 'JWT' }) };
      } },
      { name: 'a private key member (d) in jwk', code: 'ERR_DPOP_JWK_PRIVATE', error: 'invalid_dpop_proof', build: async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
        const jwk = await exportJWK(publicKey);
        const key: DpopKey = { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
        const token = await accessToken('/oauth', { claims: { cnf: { jkt: key.jkt } } });
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, {}, { jwk: await exportJWK(privateKey) }) };
      } },
      { name: 'ath of another token', code: 'ERR_DPOP_ATH_MISMATCH', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, { ath: await sha(`${token}x`) }) };
      } },
      { name: 'no ath', code: 'ERR_DPOP_ATH_MISMATCH', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, { ath: undefined }) };
      } },
      { name: 'iat 10 minutes old', code: 'ERR_DPOP_IAT_OUT_OF_WINDOW', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, { iat: now() - 600 }) };
      } },
      { name: 'iat 10 minutes ahead', code: 'ERR_DPOP_IAT_OUT_OF_WINDOW', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'GET', htu, token, { iat: now() + 600 }) };
      } },
      { name: 'htm POST on a GET', code: 'ERR_DPOP_HTM_MISMATCH', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'POST', htu, token) };
      } },
      { name: 'htm in lower case', code: 'ERR_DPOP_HTM_MISMATCH', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(key, 'get', htu, token) };
      } },
      { name: 'a proof key other than the token cnf.jkt', code: 'ERR_DPOP_KEY_MISMATCH', error: 'invalid_token', build: async () => {
        const { token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(await dpopKey(), 'GET', htu, token) };
      } },
      { name: 'the DPoP scheme without a DPoP field', code: 'ERR_DPOP_PROOF_MISSING', error: 'invalid_dpop_proof', build: async () => {
        const { token } = await bound();
        return { authorization: `DPoP ${token}` };
      } },
      { name: 'two DPoP fields', code: 'ERR_DPOP_MALFORMED', error: 'invalid_dpop_proof', build: async () => {
        const { key, token } = await bound();
        return { authorization: `DPoP ${token}`, dpop: [await dpopProof(key, 'GET', htu, token), await dpopProof(key, 'GET', htu, token)] };
      } },
      { name: 'a token bound to no key with the DPoP scheme', code: 'ERR_ACCESS_TOKEN_NOT_DPOP_BOUND', error: 'invalid_token', build: async () => {
        const token = await accessToken('/oauth');
        return { authorization: `DPoP ${token}`, dpop: await dpopProof(await dpopKey(), 'GET', htu, token) };
      } },
    ];
    it.each(cases.map((c) => [c.name, c] as const))('%s: 401, one DPoP challenge', async (_name, c) => {
      const id = requestId('dpop-bad');
      const response = await send('/oauth', { headers: { ...(await c.build()), 'x-request-id': id } });
      const list = expectRefusal(response, 401, c.code);
      expect(list.map((x) => x.scheme)).toEqual(['DPoP']);
      const params = expectChallenge(list, 'DPoP', c.error, '/oauth');
      expect(params.algs?.split(' ')).toEqual([...DEFAULT_DPOP_ALGORITHMS]);
      expect(response.headers['dpop-nonce']).toBeUndefined();
      expect(await record(id)).toBeNull();
    });

    it('a route with dpopAlgorithms ["ES256"]: an EdDSA proof gets 401 ERR_DPOP_ALG_NOT_ALLOWED with algs="ES256"; ES256 passes', async () => {
      const doc = json((await send('/.well-known/oauth-protected-resource/oauth-es256')).body);
      expect(doc.dpop_signing_alg_values_supported).toEqual(ES256_ONLY);
      const route = `${PUBLIC_URL}/oauth-es256`;
      const ed = await dpopKey('EdDSA');
      const edToken = await accessToken('/oauth-es256', { claims: { cnf: { jkt: ed.jkt } } });
      const id = requestId('dpop-eddsa');
      const refused = await send('/oauth-es256', { headers: { authorization: `DPoP ${edToken}`, dpop: await dpopProof(ed, 'GET', route, edToken, {}, { alg: 'EdDSA' }), 'x-request-id': id } });
      const list = expectRefusal(refused, 401, 'ERR_DPOP_ALG_NOT_ALLOWED');
      expect(list).toHaveLength(1);
      const params = expectChallenge(list, 'DPoP', 'invalid_dpop_proof', '/oauth-es256');
      expect(params.algs).toBe('ES256');
      expect(await record(id)).toBeNull();
      // An EdDSA proof is fine on a route with the default algorithms.
      const edBound = await accessToken('/oauth', { claims: { cnf: { jkt: ed.jkt } } });
      const ok = await send('/oauth', { headers: { authorization: `DPoP ${edBound}`, dpop: await dpopProof(ed, 'GET', htu, edBound, {}, { alg: 'EdDSA' }) } });
      expect(ok.status, ok.body).toBe(200);
      const es = await dpopKey();
      const esToken = await accessToken('/oauth-es256', { claims: { cnf: { jkt: es.jkt } } });
      const passed = await send('/oauth-es256', { headers: { authorization: `DPoP ${esToken}`, dpop: await dpopProof(es, 'GET', route, esToken) } });
      expect(passed.status, passed.body).toBe(200);
    });
  });
});
