/**
 * The A2A front (issue 6; src/gateway/a2a-front.ts and the A2A parts of src/gateway/app.ts) through createGateway,
 * with a fake upstream agent that records every call: method-level scopes for both bindings and protocol versions,
 * the push notification URL allow-list (and what reaches the audit log), the extended card (rewritten, signed,
 * skills filtered by scope and by the a2aSkillPolicy hook), the Txn-Token's tctx.a2a, and the shape of errors
 * raised before the body is read. Access tokens are JWTs signed by an authorization server with inline keys.
 */
import { verifyAgentCardSignature, type AgentCard } from '@a2a-js/sdk';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { signAgentCard, verifyAgentCard, type AgentCardJson } from '../../src/a2a/card-signature.ts';
import { readAgentCard } from '../../src/a2a/agent-card.ts';
import type { SkillPolicy } from '../../src/gateway/a2a-front.ts';
import { createGateway, memorySink, memoryState, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../../src/verify/dpop.ts';
import { leakedPieces } from '../wimse.ts';
import { publishedKeys, verifiedTxnToken } from './gateway-jwks.ts';
import { configJwk, generateKey, sign, type TestKey } from './verify/mint.ts';
import upstreamCard from '../vectors/a2a/gateway-upstream-card.json' with { type: 'json' };

const PUBLIC = 'https://gw.example';
const AS = 'https://as.example';
const BASE = 'http://agent.internal/base/';
const MOUNT = '/agents/oauth';
const TXN_TD = 'trust.internal.example';
const HOOKS = 'https://hooks.example/a2a/';
const RM = `resource_metadata="${PUBLIC}/.well-known/oauth-protected-resource${MOUNT}"`;
/** Recognisable secrets put in push configs: none may reach an audit event. */
const PATH_SECRET = 'PathSecret7f3a';
const QUERY_SECRET = 'QuerySecret9b1c';
const CREDENTIALS_SECRET = 'CredentialsSecret4d2e';
const TOKEN_SECRET = 'TokenSecret8a6f';

/** The upstream's 0.3 extended card (agent/getAuthenticatedExtendedCard answers in the 0.3 shape). */
const LEGACY_UPSTREAM_CARD = {
  protocolVersion: '0.3.0',
  name: upstreamCard.name,
  description: upstreamCard.description,
  url: `${BASE}jsonrpc`,
  preferredTransport: 'JSONRPC',
  version: upstreamCard.version,
  capabilities: { streaming: true },
  securitySchemes: { upstreamKey: { type: 'apiKey', in: 'header', name: 'X-Upstream-Key' } },
  security: [{ upstreamKey: [] }],
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['text/plain'],
  skills: upstreamCard.skills.map(({ id, name, description, tags }) => ({ id, name, description, tags })),
  supportsAuthenticatedExtendedCard: true,
};

let asKey: TestKey;
/** The key the upstream signs its cards with, pinned on the `-pinned` and `-flagged` routes. */
let upstreamKey: TestKey;
let config: GatewayConfigInput;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];

vi.spyOn(console, 'debug').mockImplementation(() => {}); // the SDK verifier logs every failed entry

beforeAll(async () => {
  [asKey, upstreamKey] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
  const pinnedRoute = (path: string, onInvalid: 'refuse' | 'flag') => ({
    path, protocol: 'a2a' as const, upstream: BASE,
    auth: { oauth: { authorizationServers: [AS], scopes: ['a2a'] } },
    a2a: { upstreamSignature: { jwks: { keys: [configJwk(upstreamKey, 'up-1')] }, onInvalid } },
  });
  config = {
    publicUrl: PUBLIC,
    authorizationServers: { [AS]: { jwks: { keys: [configJwk(asKey, 'a1')] }, algorithms: ['ES256'], tokenEndpoint: `${AS}/oauth/token` } },
    transactionTokens: { trustDomain: TXN_TD },
    routes: [
      {
        path: MOUNT, protocol: 'a2a', upstream: BASE, txnToken: {},
        auth: { oauth: { authorizationServers: [AS], scopes: ['a2a'], methods: { CancelTask: { scopes: ['admin'] } } } },
        a2a: { skills: { 'secret-skill': { scopes: ['secret'] } }, pushNotifications: { allowedUrls: [HOOKS] } },
      },
      pinnedRoute(`${MOUNT}-pinned`, 'refuse'),
      pinnedRoute(`${MOUNT}-flagged`, 'flag'),
    ],
  };
});

afterAll(() => {
  // No audit event ever carried a token, a push URL's path or query, or a push config's credentials.
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
  for (const secret of [PATH_SECRET, QUERY_SECRET, CREDENTIALS_SECRET, TOKEN_SECRET]) expect(JSON.stringify(allEvents)).not.toContain(secret);
});

interface Seen {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

/** The fake upstream agent: the extended card on GetExtendedAgentCard (both names) and GET …/extendedAgentCard, `{}` results otherwise. */
function setup(options: { policy?: SkillPolicy } = {}) {
  const audit = memorySink();
  const agent = {
    seen: [] as Seen[],
    /** Replaces the JSON-RPC answer to GetExtendedAgentCard (an error, a malformed card). */
    extended: undefined as string | undefined,
    /** Compress answers (content-encoding gzip), as some upstreams do unasked. */
    gzip: false,
  };
  const gw = createGateway(config, {
    state: memoryState(),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    ...(options.policy ? { a2aSkillPolicy: options.policy } : {}),
    fetch: async (url, init) => {
      const req = new Request(url, init as RequestInit);
      const body = await req.text();
      agent.seen.push({ method: req.method, url: url.href, headers: req.headers, body });
      const txn = req.headers.get('txn-token');
      if (txn) minted.push(txn);
      const json = (value: unknown) => {
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        if (agent.gzip) return new Response(new Response(text).body!.pipeThrough(new CompressionStream('gzip')), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', etag: '"up"' } });
        return new Response(text, { headers: { 'content-type': 'application/json', etag: '"up"' } });
      };
      if (url.pathname === '/base/rest/extendedAgentCard') return json(upstreamCard);
      if (req.method !== 'POST' || url.pathname !== '/base/jsonrpc') return json({});
      const rpc = JSON.parse(body) as { id: unknown; method: string };
      if (rpc.method === 'GetExtendedAgentCard') return json(agent.extended ?? { jsonrpc: '2.0', id: rpc.id, result: upstreamCard });
      if (rpc.method === 'agent/getAuthenticatedExtendedCard') return json({ jsonrpc: '2.0', id: rpc.id, result: LEGACY_UPSTREAM_CARD });
      return json({ jsonrpc: '2.0', id: rpc.id, result: {} });
    },
  });
  return { gw, audit, agent };
}

const nowS = () => Math.floor(Date.now() / 1000);

async function token(scope: string, sub = 'user-1', mount = MOUNT) {
  const t = await sign(
    { typ: 'at+jwt', alg: 'ES256', kid: 'a1' },
    { iss: AS, sub, aud: `${PUBLIC}${mount}`, client_id: 'agent-client', scope, iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID() },
    asKey,
  );
  minted.push(t);
  return t;
}

function rpc(accessToken: string | undefined, id: unknown, method: string, params: object = {}, headers: Record<string, string> = {}, mount = MOUNT) {
  return new Request(`http://127.0.0.1${mount}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
  });
}

function rest(accessToken: string | undefined, method: string, path: string, body?: object) {
  return new Request(`http://127.0.0.1${MOUNT}/rest${path}`, {
    method,
    headers: { 'a2a-version': '1.0', ...(body ? { 'content-type': 'application/json' } : {}), ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

const V1 = { 'a2a-version': '1.0' };
const message = (extra: object = {}) => ({ message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ text: 'plan a route' }], ...extra } });

/** A JSON-RPC error response of the gateway: status, id and error, exactly. */
async function expectRpcError(res: Response, status: number, id: unknown, rpcCode: number, message: string, code: string) {
  const body = (await res.json()) as { error: { data: { requestId: string } } };
  expect({ status: res.status, type: res.headers.get('content-type'), body }).toEqual({
    status,
    type: 'application/json',
    body: { jsonrpc: '2.0', id, error: { code: rpcCode, message, data: { status, code, requestId: res.headers.get('x-request-id') } } },
  });
}

/** A google.rpc.Status response of the gateway (the HTTP+JSON binding), exactly. */
async function expectRestError(res: Response, status: number, grpc: string, message: string, code: string) {
  expect({ status: res.status, type: res.headers.get('content-type'), body: await res.json() }).toEqual({
    status,
    type: 'application/json',
    body: { error: { code: status, status: grpc, message, details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'portcullis', metadata: { requestId: res.headers.get('x-request-id') } }] } },
  });
}

describe('method-level scopes (auth.oauth.methods: CancelTask needs admin)', () => {
  const challenge = `Bearer error="insufficient_scope", scope="a2a admin", ${RM}`;

  it('JSON-RPC 1.0 CancelTask, 0.3 tasks/cancel: 403 insufficient_scope, a JSON-RPC error with the request\'s id', async () => {
    const { gw, agent, audit } = setup();
    const caller = await token('a2a');
    const v1 = await gw.fetch(rpc(caller, 'c-1', 'CancelTask', { id: 't-1' }, V1));
    expect(v1.headers.get('www-authenticate')).toBe(challenge);
    await expectRpcError(v1, 403, 'c-1', -32000, 'Insufficient scope', 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE');
    const legacy = await gw.fetch(rpc(caller, 7, 'tasks/cancel', { id: 't-1' }));
    expect(legacy.headers.get('www-authenticate')).toBe(challenge);
    await expectRpcError(legacy, 403, 7, -32000, 'Insufficient scope', 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE');
    expect(agent.seen).toEqual([]);
    expect(audit.events.map((e) => [e.decision, e.reason, e.status])).toEqual([['deny', 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', 403], ['deny', 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', 403]]);
    // Another method needs the route's scope only.
    expect((await gw.fetch(rpc(caller, 'g-1', 'GetTask', { id: 't-1' }, V1))).status).toBe(200);
  });

  it('REST POST /tasks/{id}:cancel: 403 insufficient_scope as google.rpc.Status', async () => {
    const { gw, agent } = setup();
    const res = await gw.fetch(rest(await token('a2a'), 'POST', '/tasks/t-1:cancel', {}));
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    await expectRestError(res, 403, 'PERMISSION_DENIED', 'Insufficient scope', 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE');
    expect(agent.seen).toEqual([]);
  });

  it('with the scope, all three are forwarded', async () => {
    const { gw, agent } = setup();
    const admin = await token('a2a admin');
    expect((await gw.fetch(rpc(admin, 'c-1', 'CancelTask', { id: 't-1' }, V1))).status).toBe(200);
    expect((await gw.fetch(rpc(admin, 7, 'tasks/cancel', { id: 't-1' }))).status).toBe(200);
    expect((await gw.fetch(rest(admin, 'POST', '/tasks/t-1:cancel', {}))).status).toBe(200);
    expect(agent.seen.map((s) => [s.method, s.url])).toEqual([
      ['POST', `${BASE}jsonrpc`],
      ['POST', `${BASE}jsonrpc`],
      ['POST', `${BASE}rest/tasks/t-1:cancel`],
    ]);
    expect(agent.seen.every((s) => !s.headers.has('authorization'))).toBe(true);
  });
});

describe('push notification URLs (a2a.pushNotifications.allowedUrls)', () => {
  const auth = { scheme: 'Bearer', credentials: CREDENTIALS_SECRET };
  const legacyAuth = { schemes: ['Bearer'], credentials: CREDENTIALS_SECRET };
  /** Every way a call registers a push URL, JSON-RPC 1.0 and 0.3. */
  const calls = (url: string): Array<[string, string, object, Record<string, string>]> => [
    ['SendMessage 1.0', 'SendMessage', { ...message(), configuration: { taskPushNotificationConfig: { url, token: TOKEN_SECRET, authentication: auth } } }, V1],
    ['message/send 0.3', 'message/send', { ...message(), configuration: { pushNotificationConfig: { url, token: TOKEN_SECRET, authentication: legacyAuth } } }, {}],
    ['CreateTaskPushNotificationConfig 1.0', 'CreateTaskPushNotificationConfig', { taskId: 't-1', url, token: TOKEN_SECRET, authentication: auth }, V1],
    ['tasks/pushNotificationConfig/set 0.3', 'tasks/pushNotificationConfig/set', { taskId: 't-1', pushNotificationConfig: { url, token: TOKEN_SECRET, authentication: legacyAuth } }, {}],
  ];
  const refused = [
    `https://evil.example/a2a/${PATH_SECRET}?sig=${QUERY_SECRET}`, // another host
    `http://hooks.example/a2a/${PATH_SECRET}?sig=${QUERY_SECRET}`, // http
    `https://hooks.example/a2a-evil/${PATH_SECRET}?sig=${QUERY_SECRET}`, // the prefix's path continued without a segment boundary
    `https://hooks.example.evil.example/a2a/${PATH_SECRET}?sig=${QUERY_SECRET}`, // the prefix's host continued
    `https://hooks.example@evil.example/a2a/${PATH_SECRET}`, // the prefix's host as userinfo
    `https://hooks.example/a2a/../${PATH_SECRET}`, // a dot segment out of the prefix
  ];

  it('an allowed URL is forwarded, body unchanged, in every call shape', async () => {
    const { gw, agent, audit } = setup();
    const caller = await token('a2a');
    for (const [label, method, params, headers] of calls(`${HOOKS}cb/${PATH_SECRET}?sig=${QUERY_SECRET}`)) {
      const res = await gw.fetch(rpc(caller, label, method, params, headers));
      expect({ label, status: res.status }).toEqual({ label, status: 200 });
      expect(JSON.parse(agent.seen.at(-1)!.body)).toEqual({ jsonrpc: '2.0', id: label, method, params });
    }
    expect(audit.events.map((e) => e.reason)).toEqual(['AUTHENTICATED', 'AUTHENTICATED', 'AUTHENTICATED', 'AUTHENTICATED']);
  });

  it('a URL outside the allow-list: 400 ERR_A2A_PUSH_URL_NOT_ALLOWED, JSON-RPC -32602; the upstream is never called', async () => {
    const { gw, agent, audit } = setup();
    const caller = await token('a2a');
    for (const url of refused) {
      for (const [label, method, params, headers] of calls(url)) {
        const res = await gw.fetch(rpc(caller, label, method, params, headers));
        const body = (await res.json()) as { jsonrpc: string; error: unknown };
        expect({ label, url, status: res.status, jsonrpc: body.jsonrpc, error: body.error }).toEqual({
          label, url, status: 400, jsonrpc: '2.0',
          error: { code: -32602, message: 'Push notification URL not allowed', data: { status: 400, code: 'ERR_A2A_PUSH_URL_NOT_ALLOWED', requestId: res.headers.get('x-request-id') } },
        });
      }
    }
    expect(agent.seen).toEqual([]);
    expect(audit.events).toHaveLength(refused.length * 4);
    expect(audit.events.every((e) => e.decision === 'deny' && e.reason === 'ERR_A2A_PUSH_URL_NOT_ALLOWED' && e.status === 400)).toBe(true);
    // The detail names the rule and at most an origin, never a path, query or credential.
    const logged = JSON.stringify(audit.events);
    for (const secret of [PATH_SECRET, QUERY_SECRET, CREDENTIALS_SECRET, TOKEN_SECRET, '/a2a-evil', 'sig=']) expect(logged).not.toContain(secret);
  });

  it('REST CreateTaskPushNotificationConfig and message:send: google.rpc.Status 400', async () => {
    const { gw, agent } = setup();
    const caller = await token('a2a');
    const create = await gw.fetch(rest(caller, 'POST', '/tasks/t-1/pushNotificationConfigs', { taskId: 't-1', url: refused[0], authentication: auth }));
    await expectRestError(create, 400, 'INVALID_ARGUMENT', 'Push notification URL not allowed', 'ERR_A2A_PUSH_URL_NOT_ALLOWED');
    const send = await gw.fetch(rest(caller, 'POST', '/message:send', { ...message(), configuration: { taskPushNotificationConfig: { url: refused[2], authentication: auth } } }));
    await expectRestError(send, 400, 'INVALID_ARGUMENT', 'Push notification URL not allowed', 'ERR_A2A_PUSH_URL_NOT_ALLOWED');
    expect(agent.seen).toEqual([]);
    expect((await gw.fetch(rest(caller, 'POST', '/tasks/t-1/pushNotificationConfigs', { taskId: 't-1', url: `${HOOKS}cb` }))).status).toBe(200);
  });

  // JSON-RPC 2.0 §5: the id MUST be the request's unless it could not be detected (parse error, invalid request).
  it('the refusal carries the request\'s JSON-RPC id', async () => {
    const { gw } = setup();
    const [, method, params, headers] = calls(refused[0]!)[0]!;
    const res = await gw.fetch(rpc(await token('a2a'), 'push-1', method, params, headers));
    await expectRpcError(res, 400, 'push-1', -32602, 'Push notification URL not allowed', 'ERR_A2A_PUSH_URL_NOT_ALLOWED');
  });
});

type Card = AgentCardJson & Record<string, unknown>;

async function verifiedBoth(gw: ReturnType<typeof setup>['gw'], card: Card, sdk = true) {
  const keys = await publishedKeys(gw);
  const ours = await verifyAgentCard(card, { algorithms: ['ES256'], keys: async (kid) => keys.find((k) => k.kid === kid) });
  expect(ours.ok).toBe(true);
  if (sdk) await verifyAgentCardSignature(async (kid) => keys.find((k) => k.kid === kid) as JWK)(card as unknown as AgentCard);
}

const skillIds = (card: Card) => (card.skills as Array<{ id: string }>).map((s) => s.id);

describe('the extended card and the pinned upstream signature (a2a.upstreamSignature)', () => {
  /** A gateway whose fake upstream answers GetExtendedAgentCard on `mount`, and the call to make. */
  async function ask(mount: string) {
    const { gw, agent, audit } = setup();
    return { gw, agent, audit, call: async () => gw.fetch(rpc(await token('a2a', 'user-1', mount), 'p-1', 'GetExtendedAgentCard', {}, V1, mount)) };
  }

  it('signed by the pinned key: served, re-signed by the gateway alone', async () => {
    const { agent, call, gw } = await ask(`${MOUNT}-pinned`);
    const normal = readAgentCard(upstreamCard);
    expect(normal.ok).toBe(true);
    const signedUp = await signAgentCard(normal.ok ? normal.value : {}, { key: upstreamKey.privateKey, alg: 'ES256', kid: 'up-1' });
    agent.extended = JSON.stringify({ jsonrpc: '2.0', id: 'p-1', result: signedUp });
    const res = await call();
    expect(res.status).toBe(200);
    const card = ((await res.json()) as { result: Card }).result;
    expect(card.signatures).toHaveLength(1);
    await verifiedBoth(gw, card);
  });

  it('unsigned, with onInvalid "refuse": 502 ERR_A2A_CARD_SIGNATURE_INVALID, audited; with "flag": served, the failure in the audit detail', async () => {
    const refused = await ask(`${MOUNT}-pinned`);
    await expectRpcError(await refused.call(), 502, 'p-1', -32000, 'Upstream agent card signature invalid', 'ERR_A2A_CARD_SIGNATURE_INVALID');
    expect(refused.audit.events.at(-1)).toMatchObject({ decision: 'error', reason: 'ERR_A2A_CARD_SIGNATURE_INVALID', detail: expect.stringContaining('ERR_CARD_SIGNATURE_MISSING') });
    const flagged = await ask(`${MOUNT}-flagged`);
    const res = await flagged.call();
    expect(res.status).toBe(200);
    expect(flagged.audit.events.at(-1)).toMatchObject({ decision: 'allow', reason: 'AUTHENTICATED', detail: expect.stringContaining('ERR_CARD_SIGNATURE_MISSING') });
  });
});

describe('the authenticated extended card (GetExtendedAgentCard)', () => {
  it('JSON-RPC: the result is rewritten onto the gateway, signed (SDK-verifiable), and holds the skills the caller\'s scopes allow', async () => {
    const { gw } = setup();
    const plain = await gw.fetch(rpc(await token('a2a'), 'x-1', 'GetExtendedAgentCard', {}, V1));
    expect({ status: plain.status, cache: plain.headers.get('cache-control'), etag: plain.headers.get('etag') }).toEqual({ status: 200, cache: 'no-store', etag: null });
    const answer = (await plain.json()) as { jsonrpc: string; id: unknown; result: Card };
    expect({ jsonrpc: answer.jsonrpc, id: answer.id }).toEqual({ jsonrpc: '2.0', id: 'x-1' });
    const card = answer.result;
    expect(card.supportedInterfaces).toEqual([
      { url: `${PUBLIC}${MOUNT}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: `${PUBLIC}${MOUNT}/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
      { url: `${PUBLIC}${MOUNT}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ]);
    expect(Object.keys(card.securitySchemes as object)).toEqual(['oauth2']);
    expect(card.securityRequirements).toEqual([{ schemes: { oauth2: { list: ['a2a'] } } }]);
    expect(skillIds(card)).toEqual(['plan', 'denied-skill']);
    await verifiedBoth(gw, card);
    const secret = (await (await gw.fetch(rpc(await token('a2a secret'), 'x-2', 'GetExtendedAgentCard', {}, V1))).json()) as { result: Card };
    expect(skillIds(secret.result)).toEqual(['plan', 'secret-skill', 'denied-skill']);
    await verifiedBoth(gw, secret.result);
  });

  it('the a2aSkillPolicy hook removes what it denies, after the scopes, and is asked with the route and principal', async () => {
    const asked: Array<[string, string | undefined, string]> = [];
    const policy: SkillPolicy = ({ route, principal, skillId }) => {
      asked.push([route, principal?.user?.subject, skillId]);
      return skillId !== 'denied-skill';
    };
    const { gw } = setup({ policy });
    const plain = (await (await gw.fetch(rpc(await token('a2a', 'alice'), 1, 'GetExtendedAgentCard', {}, V1))).json()) as { result: Card };
    expect(skillIds(plain.result)).toEqual(['plan']);
    // secret-skill was never put to the policy: the scopes had already removed it.
    expect(asked).toEqual([[MOUNT, 'alice', 'plan'], [MOUNT, 'alice', 'denied-skill']]);
    const secret = (await (await gw.fetch(rpc(await token('a2a secret', 'bob'), 2, 'GetExtendedAgentCard', {}, V1))).json()) as { result: Card };
    expect(skillIds(secret.result)).toEqual(['plan', 'secret-skill']);
    await verifiedBoth(gw, secret.result);
  });

  it('0.3 agent/getAuthenticatedExtendedCard: the 0.3 card, on the gateway, with the gateway\'s schemes, signed', async () => {
    const { gw } = setup();
    const answer = (await (await gw.fetch(rpc(await token('a2a'), 3, 'agent/getAuthenticatedExtendedCard'))).json()) as { id: unknown; result: Card };
    expect(answer.id).toBe(3);
    const card = answer.result;
    expect({ protocolVersion: card.protocolVersion, url: card.url, preferredTransport: card.preferredTransport, security: card.security, supportedInterfaces: card.supportedInterfaces }).toEqual({
      protocolVersion: '0.3.0', url: `${PUBLIC}${MOUNT}/jsonrpc`, preferredTransport: 'JSONRPC', security: [{ oauth2: ['a2a'] }], supportedInterfaces: undefined,
    });
    expect(card.securitySchemes).toMatchObject({ oauth2: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${AS}/oauth/token` } } } });
    expect(skillIds(card)).toEqual(['plan', 'denied-skill']);
    // Only our verifier: the SDK 1.3.0 verifier canonicalises the 1.0 form, which a 0.3 card is not.
    await verifiedBoth(gw, card, false);
  });

  it('REST GET /extendedAgentCard: the bare card, rewritten, filtered and signed', async () => {
    const { gw, agent } = setup();
    const res = await gw.fetch(rest(await token('a2a'), 'GET', '/extendedAgentCard'));
    expect({ status: res.status, cache: res.headers.get('cache-control') }).toEqual({ status: 200, cache: 'no-store' });
    const card = (await res.json()) as Card;
    expect((card.supportedInterfaces as Array<{ url: string }>).map((i) => i.url)).toEqual([`${PUBLIC}${MOUNT}/jsonrpc`, `${PUBLIC}${MOUNT}/rest`, `${PUBLIC}${MOUNT}/jsonrpc`]);
    expect(skillIds(card)).toEqual(['plan', 'denied-skill']);
    await verifiedBoth(gw, card);
    expect(agent.seen.map((s) => [s.method, s.url])).toEqual([['GET', `${BASE}rest/extendedAgentCard`]]);
  });

  it('a gzip-compressed extended card is decoded, rewritten and sent back uncompressed', async () => {
    const { gw, agent } = setup();
    agent.gzip = true;
    const res = await gw.fetch(rest(await token('a2a'), 'GET', '/extendedAgentCard'));
    expect({ status: res.status, encoding: res.headers.get('content-encoding') }).toEqual({ status: 200, encoding: null });
    const card = (await res.json()) as Card;
    expect(skillIds(card)).toEqual(['plan', 'denied-skill']);
    await verifiedBoth(gw, card);
  });

  it('a JSON-RPC error from the upstream passes through byte for byte', async () => {
    const { gw, agent } = setup();
    agent.extended = '{"jsonrpc":"2.0","id":"x-9","error":{"code":-32007,"message":"Extended card not configured"}}';
    const res = await gw.fetch(rpc(await token('a2a'), 'x-9', 'GetExtendedAgentCard', {}, V1));
    expect({ status: res.status, body: await res.text() }).toEqual({ status: 200, body: agent.extended });
  });

  it('no answer shape carries the unfiltered card past the filter: error data dropped, an envelope without result or error 502', async () => {
    const { gw, agent } = setup();
    agent.extended = JSON.stringify({ jsonrpc: '2.0', id: 'x-8', error: { code: -32000, message: 'oops', data: { card: upstreamCard } } });
    const res = await gw.fetch(rpc(await token('a2a'), 'x-8', 'GetExtendedAgentCard', {}, V1));
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 'x-8', error: { code: -32000, message: 'oops' } } });
    agent.extended = JSON.stringify({ jsonrpc: '2.0', id: 'x-7', ...upstreamCard });
    await expectRpcError(await gw.fetch(rpc(await token('a2a'), 'x-7', 'GetExtendedAgentCard', {}, V1)), 502, 'x-7', -32000, 'Upstream sent an invalid response', 'ERR_UPSTREAM_INVALID');
  });

  it('a malformed card answer: 502 ERR_A2A_CARD_INVALID as a JSON-RPC error (with the id) or google.rpc.Status', async () => {
    const { gw, agent, audit } = setup();
    const caller = await token('a2a');
    for (const answer of ['{"jsonrpc":"2.0","id":"x-3","result":{"name":"half a card"}}', '{"jsonrpc":"2.0","id":"x-3","result":null}', 'not json']) {
      agent.extended = answer;
      await expectRpcError(await gw.fetch(rpc(caller, 'x-3', 'GetExtendedAgentCard', {}, V1)), 502, 'x-3', -32000, 'Upstream agent card invalid', 'ERR_A2A_CARD_INVALID');
    }
    expect(audit.events.map((e) => [e.decision, e.reason, e.status])).toEqual(Array(3).fill(['error', 'ERR_A2A_CARD_INVALID', 502]));
  });
});

describe('Txn-Token re-binding on an A2A route: tctx.a2a', () => {
  it('SendMessage names the method; GetTask (JSON-RPC and REST) the method and the task', async () => {
    const { gw, agent, audit } = setup();
    const caller = await token('a2a');
    expect((await gw.fetch(rpc(caller, 1, 'SendMessage', message(), V1))).status).toBe(200);
    expect((await gw.fetch(rpc(caller, 2, 'GetTask', { id: 'task-42' }, V1))).status).toBe(200);
    expect((await gw.fetch(rpc(caller, 3, 'tasks/get', { id: 'task-43' }))).status).toBe(200);
    expect((await gw.fetch(rest(caller, 'GET', '/tasks/task-44'))).status).toBe(200);
    const contexts = [];
    for (const seen of agent.seen) {
      const txn = await verifiedTxnToken(gw, seen.headers.get('txn-token')!, TXN_TD);
      expect({ sub: txn.sub, scope: txn.scope }).toEqual({ sub: 'user-1', scope: ['a2a'] });
      contexts.push(txn.tctx);
    }
    expect(contexts).toEqual([
      { route: MOUNT, a2a: { method: 'SendMessage' } },
      { route: MOUNT, a2a: { method: 'GetTask', task_id: 'task-42' } },
      { route: MOUNT, a2a: { method: 'GetTask', task_id: 'task-43' } },
      { route: MOUNT, a2a: { method: 'GetTask', task_id: 'task-44' } },
    ]);
    // The audit events name the same calls.
    expect(audit.events.map((e) => e.a2a)).toEqual([
      { method: 'SendMessage', wireMethod: 'SendMessage', legacy: false },
      { method: 'GetTask', wireMethod: 'GetTask', legacy: false, taskId: 'task-42' },
      { method: 'GetTask', wireMethod: 'tasks/get', legacy: true, taskId: 'task-43' },
      { method: 'GetTask', wireMethod: 'GET /tasks/{id}', legacy: false, taskId: 'task-44' },
    ]);
  });
});

describe('errors before the body is read (no credentials)', () => {
  const challenge = `Bearer ${RM}, scope="a2a", DPoP algs="${DEFAULT_DPOP_ALGORITHMS.join(' ')}", ${RM}, scope="a2a"`;

  it('JSON-RPC binding: 401 with the challenge and a JSON-RPC error whose id is null (the body was not read)', async () => {
    const { gw, agent, audit } = setup();
    const res = await gw.fetch(rpc(undefined, 9, 'GetTask', { id: 't-1' }, V1));
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    await expectRpcError(res, 401, null, -32000, 'Authentication required', 'ERR_CREDENTIALS_MISSING');
    expect(agent.seen).toEqual([]);
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'ERR_CREDENTIALS_MISSING', status: 401 });
  });

  it('a REST path: 401 with the challenge and google.rpc.Status', async () => {
    const { gw, agent } = setup();
    for (const [method, path, body] of [['GET', '/tasks/t-1', undefined], ['POST', '/message:send', message()], ['POST', '/tasks/t-1:cancel', {}]] as const) {
      const res = await gw.fetch(rest(undefined, method, path, body));
      expect(res.headers.get('www-authenticate')).toBe(challenge);
      await expectRestError(res, 401, 'UNAUTHENTICATED', 'Authentication required', 'ERR_CREDENTIALS_MISSING');
    }
    expect(agent.seen).toEqual([]);
  });
});
