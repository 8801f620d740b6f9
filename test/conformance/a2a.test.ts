/**
 * Conformance: the A2A front (protocol "a2a" routes) over HTTP, on every runtime, against the fixture agent at
 * /a2a-up (fixture.ts; routes in config.ts):
 *   - Agent Cards: served by the gateway without credentials on an authenticated route, rewritten (interfaces on
 *     PUBLIC_URL + mount, gRPC and foreign-host interfaces dropped, the upstream's schemes replaced by the route's),
 *     signed with a key the gateway JWKS publishes, cached (Vary, ETag, Cache-Control, 304), in the 1.0 or 0.3 shape
 *     by A2A-Version, at the legacy agent.json path too, revalidated upstream with If-None-Match.
 *   - Pass-through: JSON-RPC bodies and A2A-Version / A2A-Extensions reach the agent intact; SSE of
 *     SendStreamingMessage streams event by event and a caller going away cancels the upstream; REST paths unchanged.
 *   - auth.oauth.methods scopes per A2A method (JSON-RPC and HTTP+JSON error shapes), push notification URL
 *     allow-list, the extended card rewritten, signed and filtered by a2a.skills scopes, malformed JSON-RPC refused.
 * Every refusal asserts its status, its code and its wire shape, and that the agent was not reached.
 */
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyAgentCard, type AgentCardJson } from '../../src/a2a/card-signature.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { mintWit, mintWpt } from '../wimse.ts';
import { challenges, expectUpstreamStreamStopped, json, record, recorded, requestId, send, type RawResponse } from './client.ts';
import {
  A2A_CARD_SCOPE, A2A_GZIP_PATH, A2A_OAUTH_PATH, A2A_PUSH_PREFIX, A2A_REVALIDATE_PATH, A2A_REVALIDATE_UPSTREAM, A2A_SEND_SCOPE, A2A_SKILL_SCOPES,
  A2A_WIT_PATH, AS_KID, AS_PATH, AS_TOKEN_PATH, ISSUER, ISSUER_KID, PUBLIC_URL, TRUST_DOMAIN,
} from './config.ts';
import { target } from './context.ts';
import { A2A_CARD_PATH, A2A_FIXTURE_SKILLS, A2A_UP } from './fixture.ts';
import { fixtureAsKey, importTestKey } from './keys.ts';

const SUB = `${TRUST_DOMAIN}/ns/conformance/sa/a2a-client`;
const JSON_TYPE = { 'content-type': 'application/json' };
const V1 = { 'a2a-version': '1.0' };
const GATEWAY_JWKS = '/.well-known/jwks.json';
const DEFAULT_CARD_MAX_AGE = 300;

let issuer: TestKey;
let workload: TestKey;
let asKey: CryptoKey;

beforeAll(async () => {
  [issuer, workload, asKey] = await Promise.all([importTestKey(target().wimse.issuer), generateKey('ES256'), fixtureAsKey()]);
});

const now = () => Math.floor(Date.now() / 1000);

/** A WIT and a fresh -02 WPT for the `/a2a-wit` mount. */
async function witCreds(): Promise<Record<string, string>> {
  const wit = await mintWit({ sub: SUB, iss: ISSUER, kid: ISSUER_KID, workload, issuer });
  return { 'workload-identity-token': wit, authorization: `WPT ${await mintWpt({ wit, workload, aud: `${PUBLIC_URL}${A2A_WIT_PATH}` })}` };
}

/** Bearer fields for an RFC 9068 access token of the fixture AS for `/a2a-oauth` with `scope`. */
async function bearer(scope: string): Promise<Record<string, string>> {
  const token = await new SignJWT({
    iss: `${target().fixtureUrl}${AS_PATH}`, sub: 'user-a2a', aud: `${PUBLIC_URL}${A2A_OAUTH_PATH}`, client_id: 'conformance-client', scope,
    iat: now(), exp: now() + 600, jti: crypto.randomUUID(),
  }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: AS_KID }).sign(asKey);
  return { authorization: `Bearer ${token}` };
}

const rpc = (id: string | number, method: string, params: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const userMessage = (text: string) => ({ messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] });

/** The interfaces the gateway must serve for a mount: the fixture's JSONRPC 1.0 and 0.3 and HTTP+JSON, moved onto it. */
const gatewayInterfaces = (mount: string) => [
  { url: `${PUBLIC_URL}${mount}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
  { url: `${PUBLIC_URL}${mount}/jsonrpc-v03`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
  { url: `${PUBLIC_URL}${mount}/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
];

interface JwkWithKid extends JsonWebKey {
  kid: string;
}

function protectedHeader(card: AgentCardJson, index = 0): Record<string, unknown> {
  const entry = card.signatures?.[index];
  expect(entry, 'card signature entry').toBeDefined();
  return JSON.parse(Buffer.from(entry!.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Asserts that `card` carries a gateway signature (typ JOSE, jku the gateway JWKS) by a key the JWKS publishes, and that it verifies. */
async function expectGatewaySigned(card: AgentCardJson): Promise<void> {
  expect(card.signatures).toHaveLength(1);
  const header = protectedHeader(card);
  expect(header).toMatchObject({ alg: 'ES256', typ: 'JOSE', jku: `${PUBLIC_URL}${GATEWAY_JWKS}` });
  const jwks = await send(GATEWAY_JWKS);
  expect(jwks.status).toBe(200);
  const keys = (json(jwks.body) as { keys: JwkWithKid[] }).keys;
  expect(keys.map((k) => k.kid), 'the card kid is published in the gateway JWKS').toContain(header.kid);
  const lookup = async (kid: string) => keys.find((k) => k.kid === kid);
  const verified = await verifyAgentCard(card, { algorithms: ['ES256'], keys: lookup });
  expect(verified, JSON.stringify(verified)).toMatchObject({ ok: true, value: { kid: header.kid, alg: 'ES256' } });
  // The signature covers the content: the same card with one member changed does not verify.
  const tampered = await verifyAgentCard({ ...card, name: `${String(card.name)} (altered)` }, { algorithms: ['ES256'], keys: lookup });
  expect(tampered).toMatchObject({ ok: false, code: 'ERR_CARD_SIGNATURE_INVALID' });
}


/** Asserts a gateway error in the A2A JSON-RPC shape: the call's id, `jsonRpc` as error.code, the gateway code in data. */
function expectA2aJsonRpcError(response: RawResponse, status: number, code: string, jsonRpc: number, id: string | number | null): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(json(response.body)).toEqual({
    jsonrpc: '2.0',
    id,
    error: { code: jsonRpc, message: expect.any(String), data: { status, code, requestId: response.headers['x-request-id'] } },
  });
}

/** Asserts a gateway error in the A2A HTTP+JSON shape (google.rpc.Status with an ErrorInfo naming the gateway code). */
function expectA2aRestError(response: RawResponse, status: number, grpcStatus: string, code: string): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(json(response.body)).toEqual({
    error: {
      code: status,
      status: grpcStatus,
      message: expect.any(String),
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'portcullis', metadata: { requestId: response.headers['x-request-id'] } }],
    },
  });
}

describe(`A2A Agent Card (${target().runtime})`, () => {
  const cardUrl = `${A2A_WIT_PATH}${A2A_CARD_PATH}`;

  it('is served without credentials on an authenticated route, which refuses calls without them', async () => {
    const card = await send(cardUrl, { headers: V1 });
    expect(card.status, card.body).toBe(200);
    expect(card.headers['content-type']).toMatch(/^application\/json/);
    // The same route's calls need a WIT: refused in the JSON-RPC shape (no id read before authentication).
    const id = requestId('a2a-unauth');
    const call = await send(`${A2A_WIT_PATH}/jsonrpc`, { method: 'POST', headers: { ...JSON_TYPE, 'x-request-id': id }, body: rpc(1, 'SendMessage', { message: userMessage('hi') }) });
    expectA2aJsonRpcError(call, 401, 'ERR_CREDENTIALS_MISSING', -32000, null);
    expect(await record(id)).toBeNull();
  });

  it('is rewritten: interfaces on the gateway mount, gRPC and foreign hosts dropped, the route\'s security instead of the upstream\'s', async () => {
    const card = json((await send(cardUrl, { headers: V1 })).body) as AgentCardJson;
    expect(card.supportedInterfaces).toEqual(gatewayInterfaces(A2A_WIT_PATH));
    expect(card).toMatchObject({ name: 'Conformance fixture agent', version: '1.0.0', capabilities: { streaming: true, pushNotifications: true, extendedAgentCard: true } });
    expect((card.skills as Array<{ id: string }>).map((s) => s.id)).toEqual([A2A_FIXTURE_SKILLS[0]]);
    expect(Object.keys(card.securitySchemes as object)).toEqual(['wit', 'wpt']);
    expect(card.securitySchemes).toMatchObject({
      wit: { apiKeySecurityScheme: { location: 'header', name: 'Workload-Identity-Token' } },
      wpt: { httpAuthSecurityScheme: { scheme: 'WPT' } },
    });
    expect(card.securityRequirements).toEqual([{ schemes: { wit: { list: [] }, wpt: { list: [] } } }]);
    expect(JSON.stringify(card)).not.toContain(target().fixtureUrl);
  });

  it('is signed with a key from the gateway JWKS (typ JOSE, jku) and verifies', async () => {
    await expectGatewaySigned(json((await send(cardUrl, { headers: V1 })).body) as AgentCardJson);
  });

  it('carries Vary: A2A-Version, a strong ETag and Cache-Control; If-None-Match gets 304', async () => {
    const first = await send(cardUrl, { headers: V1 });
    expect(first.headers.vary).toMatch(/(^|,\s*)A2A-Version(\s*,|$)/i);
    expect(first.headers['cache-control']).toBe(`public, max-age=${DEFAULT_CARD_MAX_AGE}`);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await send(cardUrl, { headers: { ...V1, 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(again.headers.vary).toMatch(/A2A-Version/i);
    // Another tag gets the card.
    const other = await send(cardUrl, { headers: { ...V1, 'if-none-match': '"not-the-card"' } });
    expect(other.status).toBe(200);
    expect(other.body).toBe(first.body);
  });

  it('A2A-Version 0.3 (and none at all) gets the 0.3 shape, from the 0.3 interface only, signed', async () => {
    const v03 = await send(cardUrl, { headers: { 'a2a-version': '0.3' } });
    expect(v03.status, v03.body).toBe(200);
    const card = json(v03.body) as AgentCardJson;
    expect(card).toMatchObject({ protocolVersion: '0.3.0', name: 'Conformance fixture agent', url: `${PUBLIC_URL}${A2A_WIT_PATH}/jsonrpc-v03`, preferredTransport: 'JSONRPC', supportsAuthenticatedExtendedCard: true });
    expect(card.supportedInterfaces).toBeUndefined();
    expect(card.additionalInterfaces).toBeUndefined();
    expect(card.securitySchemes).toMatchObject({ wit: { type: 'apiKey', in: 'header', name: 'Workload-Identity-Token' }, wpt: { type: 'http', scheme: 'WPT' } });
    expect(card.security).toEqual([{ wit: [], wpt: [] }]);
    await expectGatewaySigned(card);
    const v1 = await send(cardUrl, { headers: V1 });
    expect(v03.headers.etag).not.toBe(v1.headers.etag);
    // "Agents MUST interpret empty value as 0.3": no A2A-Version at all gets the same 0.3 card.
    const none = await send(cardUrl);
    expect(none.status).toBe(200);
    expect(none.body).toBe(v03.body);
    // The version may also come as the A2A-Version query parameter.
    const query = await send(`${cardUrl}?A2A-Version=1.0`);
    expect(query.body).toBe(v1.body);
  });

  it('A2A-Version 9.9: 400 ERR_A2A_VERSION_NOT_SUPPORTED (HTTP+JSON error shape)', async () => {
    const response = await send(cardUrl, { headers: { 'a2a-version': '9.9' } });
    expectA2aRestError(response, 400, 'INVALID_ARGUMENT', 'ERR_A2A_VERSION_NOT_SUPPORTED');
  });

  it('is served at the legacy /.well-known/agent.json path too', async () => {
    const legacy = await send(`${A2A_WIT_PATH}/.well-known/agent.json`, { headers: V1 });
    expect(legacy.status, legacy.body).toBe(200);
    expect(legacy.body).toBe((await send(cardUrl, { headers: V1 })).body);
    expect((json(legacy.body) as AgentCardJson).supportedInterfaces).toEqual(gatewayInterfaces(A2A_WIT_PATH));
  });

  it('an OAuth route\'s card declares the client credentials flow with the token endpoint and every scope', async () => {
    const card = json((await send(`${A2A_OAUTH_PATH}${A2A_CARD_PATH}`, { headers: V1 })).body) as AgentCardJson;
    expect(card.supportedInterfaces).toEqual(gatewayInterfaces(A2A_OAUTH_PATH));
    const issuer = `${target().fixtureUrl}${AS_PATH}`;
    const scheme = (card.securitySchemes as Record<string, { oauth2SecurityScheme: { flows: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } } } }>).oauth2!;
    expect(scheme.oauth2SecurityScheme.flows.clientCredentials.tokenUrl).toBe(`${issuer}${AS_TOKEN_PATH}`);
    expect(Object.keys(scheme.oauth2SecurityScheme.flows.clientCredentials.scopes).sort()).toEqual(['read', A2A_SEND_SCOPE, A2A_CARD_SCOPE, ...Object.values(A2A_SKILL_SCOPES).flat()].sort());
    expect(card.securityRequirements).toEqual([{ schemes: { oauth2: { list: ['read'] } } }]);
    await expectGatewaySigned(card);
  });

  it('revalidates the upstream card with If-None-Match once its max-age (0 here) has passed, and keeps serving it on 304', async () => {
    const first = await send(`${A2A_REVALIDATE_PATH}${A2A_CARD_PATH}`, { headers: V1 });
    expect(first.status, first.body).toBe(200);
    const counts = async () => (await (await fetch(`${target().fixtureUrl}/__fixture/a2a-cards/${encodeURIComponent(A2A_REVALIDATE_UPSTREAM)}`)).json()) as { fetches: number; notModified: number; ifNoneMatch: Array<string | null> };
    const before = await counts();
    const second = await send(`${A2A_REVALIDATE_PATH}${A2A_CARD_PATH}`, { headers: V1 });
    expect(second.status).toBe(200);
    expect(second.body).toBe(first.body);
    const after = await counts();
    expect(after.fetches).toBe(before.fetches + 1);
    expect(after.notModified).toBe(before.notModified + 1);
    expect(after.ifNoneMatch.at(-1)).toMatch(/^"[^"]+"$/);
    expect((json(second.body) as AgentCardJson).supportedInterfaces).toEqual(gatewayInterfaces(A2A_REVALIDATE_PATH));
  });
});

describe(`A2A cards from an upstream that compresses unasked (${target().runtime})`, () => {
  it('the card and the extended card are decoded, rewritten and signed; the caller gets them uncompressed', async () => {
    const card = await send(`${A2A_GZIP_PATH}${A2A_CARD_PATH}`, { headers: V1 });
    expect(card.status, card.body).toBe(200);
    expect(card.headers['content-encoding']).toBeUndefined();
    const served = json(card.body) as AgentCardJson;
    expect(served.supportedInterfaces).toEqual(gatewayInterfaces(A2A_GZIP_PATH));
    await expectGatewaySigned(served);
    const extended = await send(`${A2A_GZIP_PATH}/jsonrpc`, { method: 'POST', headers: { ...JSON_TYPE, ...V1 }, body: rpc('gz-1', 'GetExtendedAgentCard', {}) });
    expect(extended.status, extended.body).toBe(200);
    expect(extended.headers['content-encoding']).toBeUndefined();
    const result = (json(extended.body) as { id: string; result: AgentCardJson }).result;
    expect((json(extended.body) as { id: string }).id).toBe('gz-1');
    expect(result.supportedInterfaces).toEqual(gatewayInterfaces(A2A_GZIP_PATH));
    await expectGatewaySigned(result);
  });
});

describe(`A2A pass-through (${target().runtime})`, () => {
  it('JSON-RPC: the body, A2A-Version and A2A-Extensions reach the agent intact', async () => {
    const id = requestId('a2a-rpc');
    const body = rpc('call-1', 'SendMessage', { message: userMessage('héllo ✓ agent'), metadata: { n: 1.5e3, list: [true, null] } });
    const extensions = 'https://ext.conformance.test/a2a/trace/v1, https://ext.conformance.test/a2a/cost/v2';
    const response = await send(`${A2A_WIT_PATH}/jsonrpc`, { method: 'POST', headers: { ...(await witCreds()), ...JSON_TYPE, ...V1, 'a2a-extensions': extensions, 'x-request-id': id }, body });
    expect(response.status, response.body).toBe(200);
    expect(json(response.body)).toEqual({ jsonrpc: '2.0', id: 'call-1', result: { echoed: 'SendMessage' } });
    const seen = await recorded(id);
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe(`${A2A_UP}/jsonrpc`);
    expect(seen.body).toBe(body);
    expect(seen.headers['a2a-version']).toBe('1.0');
    expect(seen.headers['a2a-extensions']).toBe(extensions);
    // The caller's workload credentials are the gateway's to check, not the agent's to see.
    expect(seen.headers['workload-identity-token']).toBeUndefined();
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('SendStreamingMessage: SSE events arrive one by one, not buffered until the end', async () => {
    const id = requestId('a2a-sse');
    const events = 4;
    const gap = 200;
    const response = await fetch(`${target().gatewayUrl}${A2A_WIT_PATH}/jsonrpc?n=${events}&gap=${gap}`, {
      method: 'POST',
      headers: { ...(await witCreds()), ...JSON_TYPE, ...V1, accept: 'text/event-stream', 'x-request-id': id },
      body: rpc('stream-1', 'SendStreamingMessage', { message: userMessage('stream') }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let firstAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      if (!firstAt && text.includes('\n\n')) firstAt = Date.now();
    }
    const data = text.split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as unknown);
    expect(data).toEqual(Array.from({ length: events }, (_, i) => ({ jsonrpc: '2.0', id: 'stream-1', result: { statusUpdate: { taskId: 'fixture-task', seq: i + 1 } } })));
    const written = (await recorded(id)).sseWrittenAt;
    expect(written).toHaveLength(events);
    // The last event is written ~600 ms after the first; a buffering gateway delivers the first only after it.
    expect(firstAt).toBeGreaterThan(0);
    expect(written[events - 1]! - firstAt).toBeGreaterThan(gap);
  });

  it('SendStreamingMessage: a caller going away cancels the upstream stream', async () => {
    const id = requestId('a2a-sse-abort');
    const controller = new AbortController();
    const response = await fetch(`${target().gatewayUrl}${A2A_WIT_PATH}/jsonrpc?n=0&gap=100`, {
      method: 'POST',
      headers: { ...(await witCreds()), ...JSON_TYPE, ...V1, accept: 'text/event-stream', 'x-request-id': id },
      body: rpc('stream-2', 'SendStreamingMessage', { message: userMessage('forever') }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('"seq":1');
    controller.abort();
    await reader.cancel().catch(() => {});
    await expectUpstreamStreamStopped(id);
  });

  it('HTTP+JSON: POST <mount>/rest/message:send reaches the agent path unchanged, body intact', async () => {
    const id = requestId('a2a-rest-send');
    const body = JSON.stringify({ message: userMessage('rest') });
    const response = await send(`${A2A_WIT_PATH}/rest/message:send`, { method: 'POST', headers: { ...(await witCreds()), ...JSON_TYPE, ...V1, 'x-request-id': id }, body });
    expect(response.status, response.body).toBe(200);
    expect(json(response.body)).toMatchObject({ method: 'POST', path: `${A2A_UP}/rest/message:send` });
    const seen = await recorded(id);
    expect(seen.url).toBe(`${A2A_UP}/rest/message:send`);
    expect(seen.body).toBe(body);
    expect(seen.headers['a2a-version']).toBe('1.0');
  });

  it('HTTP+JSON: GET <mount>/rest/tasks/abc reaches the agent path unchanged', async () => {
    const id = requestId('a2a-rest-get');
    const response = await send(`${A2A_WIT_PATH}/rest/tasks/abc?historyLength=2`, { headers: { ...(await witCreds()), ...V1, 'x-request-id': id } });
    expect(response.status, response.body).toBe(200);
    const seen = await recorded(id);
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe(`${A2A_UP}/rest/tasks/abc?historyLength=2`);
  });
});

describe(`A2A method scopes (${target().runtime})`, () => {
  const post = async (body: string, fields: Record<string, string>, path = `${A2A_OAUTH_PATH}/jsonrpc`) =>
    send(path, { method: 'POST', headers: { ...JSON_TYPE, ...V1, ...fields }, body });

  it('SendMessage without its method scope: 403 in the JSON-RPC shape with the call\'s id and an insufficient_scope challenge', async () => {
    const id = requestId('a2a-scope');
    const response = await post(rpc('scoped-7', 'SendMessage', { message: userMessage('hi') }), { ...(await bearer('read')), 'x-request-id': id });
    expectA2aJsonRpcError(response, 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', -32000, 'scoped-7');
    const bearerChallenge = challenges(response).find((c) => c.scheme === 'Bearer');
    expect(bearerChallenge?.params.error).toBe('insufficient_scope');
    expect(bearerChallenge?.params.scope?.split(' ').sort()).toEqual([A2A_SEND_SCOPE, 'read'].sort());
    expect(bearerChallenge?.params.resource_metadata).toBe(`${PUBLIC_URL}/.well-known/oauth-protected-resource${A2A_OAUTH_PATH}`);
    expect(await record(id)).toBeNull();
  });

  it('SendMessage with its method scope: forwarded (200)', async () => {
    const id = requestId('a2a-scope-ok');
    const response = await post(rpc('scoped-8', 'SendMessage', { message: userMessage('hi') }), { ...(await bearer(`read ${A2A_SEND_SCOPE}`)), 'x-request-id': id });
    expect(response.status, response.body).toBe(200);
    expect(json(response.body)).toEqual({ jsonrpc: '2.0', id: 'scoped-8', result: { echoed: 'SendMessage' } });
    expect((await recorded(id)).url).toBe(`${A2A_UP}/jsonrpc`);
  });

  it('the 0.3 name (message/send) and the HTTP+JSON binding need the same scope (403, each in its binding\'s shape)', async () => {
    const legacy = await post(rpc(9, 'message/send', { message: userMessage('hi') }), await bearer('read'), `${A2A_OAUTH_PATH}/jsonrpc-v03`);
    expectA2aJsonRpcError(legacy, 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', -32000, 9);
    const id = requestId('a2a-scope-rest');
    const rest = await post(JSON.stringify({ message: userMessage('hi') }), { ...(await bearer('read')), 'x-request-id': id }, `${A2A_OAUTH_PATH}/rest/message:send`);
    expectA2aRestError(rest, 403, 'PERMISSION_DENIED', 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE');
    expect(await record(id)).toBeNull();
  });

  it('a method without its own scope (GetTask) passes with the route scope', async () => {
    const response = await post(rpc(10, 'GetTask', { id: 'task-1' }), await bearer('read'));
    expect(response.status, response.body).toBe(200);
    expect(json(response.body).result).toEqual({ echoed: 'GetTask' });
  });
});

describe(`A2A push notification URLs (${target().runtime})`, () => {
  const sendWithPush = (url: string) => rpc('push-1', 'SendMessage', { message: userMessage('notify me'), configuration: { taskPushNotificationConfig: { url, token: 'secret-token' } } });
  const fields = async (id: string) => ({ ...JSON_TYPE, ...V1, ...(await bearer(`read ${A2A_SEND_SCOPE}`)), 'x-request-id': id });

  it.each([
    ['another host', 'https://hooks.elsewhere.test/a2a/cb'],
    ['http instead of https', A2A_PUSH_PREFIX.replace('https:', 'http:') + 'cb'],
    ['a sibling of the allowed path', A2A_PUSH_PREFIX.replace(/\/$/, '-other/cb')],
    ['a dot segment out of the prefix', `${A2A_PUSH_PREFIX}%2e%2e/admin`],
  ])('disallowed (%s): 400 ERR_A2A_PUSH_URL_NOT_ALLOWED, -32602, the agent not reached', async (_label, url) => {
    const id = requestId('a2a-push-deny');
    const response = await send(`${A2A_OAUTH_PATH}/jsonrpc`, { method: 'POST', headers: await fields(id), body: sendWithPush(url) });
    expectA2aJsonRpcError(response, 400, 'ERR_A2A_PUSH_URL_NOT_ALLOWED', -32602, 'push-1');
    expect(await record(id)).toBeNull();
  });

  it('disallowed in an HTTP+JSON CreateTaskPushNotificationConfig: 400 in the google.rpc.Status shape', async () => {
    const id = requestId('a2a-push-rest');
    const response = await send(`${A2A_OAUTH_PATH}/rest/tasks/task-1/pushNotificationConfigs`, { method: 'POST', headers: await fields(id), body: JSON.stringify({ url: 'https://hooks.elsewhere.test/cb' }) });
    expectA2aRestError(response, 400, 'INVALID_ARGUMENT', 'ERR_A2A_PUSH_URL_NOT_ALLOWED');
    expect(await record(id)).toBeNull();
  });

  it('a route without an allow-list refuses every push URL', async () => {
    const id = requestId('a2a-push-public');
    const response = await send('/a2a/jsonrpc', { method: 'POST', headers: { ...JSON_TYPE, ...V1, 'x-request-id': id }, body: sendWithPush(`${A2A_PUSH_PREFIX}cb`) });
    expectA2aJsonRpcError(response, 400, 'ERR_A2A_PUSH_URL_NOT_ALLOWED', -32602, 'push-1');
    expect(await record(id)).toBeNull();
  });

  it('allowed: forwarded with the body intact', async () => {
    const id = requestId('a2a-push-ok');
    const body = sendWithPush(`${A2A_PUSH_PREFIX}cb/42`);
    const response = await send(`${A2A_OAUTH_PATH}/jsonrpc`, { method: 'POST', headers: await fields(id), body });
    expect(response.status, response.body).toBe(200);
    expect(json(response.body)).toEqual({ jsonrpc: '2.0', id: 'push-1', result: { echoed: 'SendMessage' } });
    expect((await recorded(id)).body).toBe(body);
  });
});

describe(`A2A extended card (${target().runtime})`, () => {
  const extended = async (scope: string, method = 'GetExtendedAgentCard', path = `${A2A_OAUTH_PATH}/jsonrpc`) =>
    send(path, { method: 'POST', headers: { ...JSON_TYPE, ...V1, ...(await bearer(scope)) }, body: rpc('ext-1', method) });
  const skillIds = (card: AgentCardJson) => (card.skills as Array<{ id: string }>).map((s) => s.id);

  it('without the method scope: 403', async () => {
    expectA2aJsonRpcError(await extended('read'), 403, 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', -32000, 'ext-1');
  });

  it('is rewritten onto the gateway and signed; no skill scope: only the unscoped skill', async () => {
    const response = await extended(`read ${A2A_CARD_SCOPE}`);
    expect(response.status, response.body).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = json(response.body) as { jsonrpc: string; id: string; result: AgentCardJson };
    expect(body).toMatchObject({ jsonrpc: '2.0', id: 'ext-1' });
    const card = body.result;
    expect(card.supportedInterfaces).toEqual(gatewayInterfaces(A2A_OAUTH_PATH));
    expect(Object.keys(card.securitySchemes as object)).toEqual(['oauth2']);
    expect(skillIds(card)).toEqual(['echo']);
    await expectGatewaySigned(card);
  });

  it('shows each scoped skill only to tokens with its scopes, stating its requirement', async () => {
    const withReports = json((await extended(`read ${A2A_CARD_SCOPE} ${A2A_SKILL_SCOPES.reports.join(' ')}`)).body).result as AgentCardJson;
    expect(skillIds(withReports)).toEqual(['echo', 'reports']);
    const reports = (withReports.skills as Array<{ id: string; securityRequirements?: unknown }>)[1]!;
    expect(reports.securityRequirements).toEqual([{ schemes: { oauth2: { list: ['read', ...A2A_SKILL_SCOPES.reports] } } }]);
    await expectGatewaySigned(withReports);
    const all = json((await extended(`read ${A2A_CARD_SCOPE} ${Object.values(A2A_SKILL_SCOPES).flat().join(' ')}`)).body).result as AgentCardJson;
    expect(skillIds(all)).toEqual([...A2A_FIXTURE_SKILLS]);
  });

  it('the 0.3 method (agent/getAuthenticatedExtendedCard) gets the 0.3 shape, filtered and signed', async () => {
    const response = await extended(`read ${A2A_CARD_SCOPE}`, 'agent/getAuthenticatedExtendedCard', `${A2A_OAUTH_PATH}/jsonrpc-v03`);
    expect(response.status, response.body).toBe(200);
    const card = json(response.body).result as AgentCardJson;
    expect(card).toMatchObject({ protocolVersion: '0.3.0', url: `${PUBLIC_URL}${A2A_OAUTH_PATH}/jsonrpc-v03`, preferredTransport: 'JSONRPC' });
    expect(skillIds(card)).toEqual(['echo']);
    await expectGatewaySigned(card);
  });

  it('HTTP+JSON GET <mount>/rest/extendedAgentCard: the bare card, rewritten, filtered and signed', async () => {
    const response = await send(`${A2A_OAUTH_PATH}/rest/extendedAgentCard`, { headers: { ...V1, ...(await bearer(`read ${A2A_CARD_SCOPE} admin`)) } });
    expect(response.status, response.body).toBe(200);
    const card = json(response.body) as AgentCardJson;
    expect(card.supportedInterfaces).toEqual(gatewayInterfaces(A2A_OAUTH_PATH));
    expect(skillIds(card)).toEqual(['echo', 'admin']);
    await expectGatewaySigned(card);
  });
});

describe(`A2A malformed requests (${target().runtime})`, () => {
  it('a JSON-RPC batch (array body): 400 ERR_A2A_REQUEST_INVALID, -32600, the agent not reached', async () => {
    const id = requestId('a2a-batch');
    const response = await send('/a2a/jsonrpc', { method: 'POST', headers: { ...JSON_TYPE, 'x-request-id': id }, body: `[${rpc(1, 'SendMessage')},${rpc(2, 'GetTask', { id: 't' })}]` });
    expectA2aJsonRpcError(response, 400, 'ERR_A2A_REQUEST_INVALID', -32600, null);
    expect(await record(id)).toBeNull();
  });

  it('a body that is not JSON: 400 ERR_A2A_PARSE_ERROR, -32700, the agent not reached', async () => {
    const id = requestId('a2a-parse');
    const response = await send('/a2a/jsonrpc', { method: 'POST', headers: { ...JSON_TYPE, 'x-request-id': id }, body: '{"jsonrpc":"2.0","id":1,"method":' });
    expectA2aJsonRpcError(response, 400, 'ERR_A2A_PARSE_ERROR', -32700, null);
    expect(await record(id)).toBeNull();
  });

  it('a JSON-RPC body sent as text/plain (a cross-site form could): 400 ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED, -32005', async () => {
    const id = requestId('a2a-type');
    const response = await send('/a2a/jsonrpc', { method: 'POST', headers: { 'content-type': 'text/plain', 'x-request-id': id }, body: rpc(3, 'SendMessage', { message: userMessage('hi') }) });
    expectA2aJsonRpcError(response, 400, 'ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED', -32005, null);
    expect(await record(id)).toBeNull();
  });
});
