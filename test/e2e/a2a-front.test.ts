/**
 * The A2A front with the real A2A JS SDK on both sides (issue 6):
 *   - the dev stack's OAuth route `/oauth/a2a` (dev authorization server, demo agent): the SDK client resolves the
 *     gateway's card, whose signature the SDK's own verifier accepts with the key the gateway's JWKS publishes;
 *     sends and streams; reads the extended card with its token (skills filtered by scope); is refused a method its
 *     token lacks the scope for and a push notification URL off the allow-list; a 0.3 client (the SDK's compat
 *     transport, reading the gateway's 0.3 card) is served;
 *   - a gateway in front of the SDK's Express agent (JSON-RPC and HTTP+JSON): the SDK's REST transport through the
 *     gateway, blocking and streaming, in 1.0 and 0.3.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SendMessageRequest, TaskState, verifyAgentCardSignature, type AgentCard, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory, type Client } from '@a2a-js/sdk/client';
import type { JWK } from 'jose';
import { createGateway } from '../../src/gateway/app.ts';
import { memorySink } from '../../src/audit/sinks.ts';
import type { AuditEvent } from '../../src/audit/event.ts';
import { listen, type NodeServer } from '../../src/runtime/node.ts';
import { nodeUpstreamFetch } from '../../src/runtime/node-upstream.ts';
import { startStack, type Stack } from './stack.ts';
import { startRestAgent, type RestAgent } from './a2a-rest-agent.ts';

vi.spyOn(console, 'debug').mockImplementation(() => {}); // the SDK verifier logs each entry it rejects

const HOST = '127.0.0.1';
let stack: Stack;
let issuer: string;

beforeAll(async () => {
  stack = await startStack();
  issuer = stack.config.routes.find((r) => r.path === '/oauth/a2a')!.auth!.oauth!.authorizationServers[0]!;
});
afterAll(async () => { await stack?.close(); });

async function token(scope: string): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa('demo-agent:demo-agent-secret')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: `${stack.gateway}/oauth/a2a` }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const bearer = (accessToken: string): typeof fetch => (input, init) => {
  const request = new Request(input, init);
  request.headers.set('authorization', `Bearer ${accessToken}`);
  return fetch(request);
};

function oauthClient(accessToken: string, legacy = false): ClientFactory {
  const fetchImpl = bearer(accessToken);
  return new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl, ...(legacy ? { legacyCompat: { enabled: true } } : {}) })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl, ...(legacy ? { legacyCompat: { enabled: true } } : {}) }),
  }));
}

function userMessage(text: string): SendMessageRequest {
  return SendMessageRequest.fromJSON({ message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] } });
}

const textOf = (parts: { content?: { $case: string; value?: unknown } }[] | undefined) => {
  const content = parts?.[0]?.content;
  return content?.$case === 'text' ? String(content.value) : undefined;
};

/** The SDK's verifier, with keys from `jwksUrl` (the card's jku must name it). */
async function sdkVerifies(card: unknown, jwksUrl: string): Promise<{ kid: string }> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: (JWK & { kid: string })[] };
  let used = '';
  await verifyAgentCardSignature(async (kid, jku) => {
    expect(jku).toBe(jwksUrl);
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw new Error(`no key ${kid}`);
    used = kid;
    return key;
  })(card as AgentCard);
  return { kid: used };
}

async function rawCall(url: string, accessToken: string, method: string, params: unknown, version = '1.0') {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}`, ...(version ? { 'a2a-version': version } : {}) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 41, method, params }),
  });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as { id?: unknown; result?: Record<string, unknown>; error?: { code: number; data?: { code?: string } } } };
}

describe('A2A over OAuth through the gateway (dev stack, demo agent)', () => {
  it('the SDK resolves the gateway\'s card: gateway URLs, the gateway\'s OAuth scheme, a signature the SDK verifier accepts', async () => {
    const raw = await (await fetch(`${stack.gateway}/oauth/a2a/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json() as Record<string, unknown>;
    const jwksUrl = `${stack.gateway}/.well-known/jwks.json`;
    const { kid } = await sdkVerifies(raw, jwksUrl);
    expect(kid).not.toBe('');
    expect(raw.securitySchemes).toEqual({
      oauth2: {
        oauth2SecurityScheme: {
          oauth2MetadataUrl: `${new URL(issuer).origin}/.well-known/oauth-authorization-server/as`,
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: expect.objectContaining({ 'a2a:call': expect.any(String), 'a2a:admin': expect.any(String) }) } },
          description: expect.any(String),
        },
      },
    });
    expect(raw.securityRequirements).toEqual([{ schemes: { oauth2: { list: ['a2a:call'] } } }]);

    const client = await oauthClient(await token('a2a:call')).createFromUrl(`${stack.gateway}/oauth/a2a/`);
    const result = await client.sendMessage(userMessage('over oauth'));
    expect(textOf((result as Task).artifacts[0]?.parts)).toBe('over oauth');
    const events: StreamResponse[] = [];
    for await (const event of client.sendMessageStream(userMessage('streamed'))) events.push(event);
    expect(events.length).toBeGreaterThan(2);
    const last = events.at(-1)?.payload;
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('a tampered card fails the SDK verifier', async () => {
    const raw = await (await fetch(`${stack.gateway}/oauth/a2a/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json() as { name: string; skills: { description: string }[] };
    const jwksUrl = `${stack.gateway}/.well-known/jwks.json`;
    for (const tamper of [(c: typeof raw) => { c.name = `${c.name}!`; }, (c: typeof raw) => { c.skills[0]!.description = c.skills[0]!.description.replace(/.$/, '?'); }]) {
      const copy = structuredClone(raw);
      tamper(copy);
      await expect(sdkVerifies(copy, jwksUrl)).rejects.toThrow();
    }
  });

  it('the extended card, rewritten and signed, shows each caller the skills its scopes allow', async () => {
    const jsonrpc = `${stack.gateway}/oauth/a2a/jsonrpc`;
    const skillsFor = async (scope: string) => {
      const answer = await rawCall(jsonrpc, await token(scope), 'GetExtendedAgentCard', {});
      expect(answer.status).toBe(200);
      const card = answer.body.result!;
      await sdkVerifies(card, `${stack.gateway}/.well-known/jwks.json`);
      expect((card.supportedInterfaces as { url: string }[]).every((i) => i.url === jsonrpc)).toBe(true);
      return (card.skills as { id: string }[]).map((s) => s.id);
    };
    expect(await skillsFor('a2a:call')).toEqual(['echo', 'shout']);
    expect(await skillsFor('a2a:call a2a:admin')).toEqual(['echo', 'shout', 'admin-stats']);
    // The SDK client fetches it too when the card declares it (getAgentCard), with the same filtering.
    const client = await oauthClient(await token('a2a:call')).createFromUrl(`${stack.gateway}/oauth/a2a/`);
    expect((await client.getAgentCard()).skills.map((s) => s.id)).toEqual(['echo', 'shout']);
  });

  it('a method whose scope the token lacks is refused with an A2A-shaped 403 and the challenge', async () => {
    const answer = await rawCall(`${stack.gateway}/oauth/a2a/jsonrpc`, await token('a2a:call'), 'CancelTask', { id: 'task-1' });
    expect(answer.status).toBe(403);
    expect(answer.wwwAuthenticate).toContain('Bearer error="insufficient_scope", scope="a2a:call a2a:admin"');
    expect(answer.body).toMatchObject({ id: 41, error: { data: { code: 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE' } } });
    const allowed = await rawCall(`${stack.gateway}/oauth/a2a/jsonrpc`, await token('a2a:call a2a:admin'), 'CancelTask', { id: 'task-1' });
    expect(allowed.status).toBe(200); // the agent answers (TaskNotFound): the gateway let it through
    expect(allowed.body.error?.code).toBe(-32001);
  });

  it('push notification URLs: the SDK client registers an allowed one, and is refused another before the agent sees it', async () => {
    const accessToken = await token('a2a:call');
    const client = await oauthClient(accessToken).createFromUrl(`${stack.gateway}/oauth/a2a/`);
    const task = (await client.sendMessage(userMessage('task for push'))) as Task;
    const created = await client.createTaskPushNotificationConfig({ tenant: '', id: 'cfg-1', taskId: task.id, url: 'https://hooks.example.com/a2a/cb', token: 't', authentication: undefined });
    expect(created.url).toBe('https://hooks.example.com/a2a/cb');
    const before = stack.audit.length;
    const refused = await rawCall(`${stack.gateway}/oauth/a2a/jsonrpc`, accessToken, 'CreateTaskPushNotificationConfig', {
      taskId: task.id, id: 'cfg-2', url: 'https://169.254.169.254/latest', authentication: { scheme: 'Bearer', credentials: 'push-secret-credential' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ id: 41, error: { code: -32602, data: { code: 'ERR_A2A_PUSH_URL_NOT_ALLOWED' } } });
    const events = stack.audit.slice(before);
    expect(events.find((e) => e.reason === 'ERR_A2A_PUSH_URL_NOT_ALLOWED')).toMatchObject({ decision: 'deny', route: '/oauth/a2a' });
    expect(events.every((e) => e.upstreamStatus === undefined)).toBe(true);
    expect(JSON.stringify(stack.audit)).not.toContain('push-secret-credential');
    expect(JSON.stringify(stack.audit)).not.toContain('/latest');
  });

  it('a 0.3 client: the gateway serves the 0.3 card shape, and the SDK\'s 0.3 transport is served through it', async () => {
    const legacyCard = await (await fetch(`${stack.gateway}/oauth/a2a/.well-known/agent-card.json`)).json() as Record<string, unknown>;
    expect(legacyCard).toMatchObject({ protocolVersion: '0.3.0', url: `${stack.gateway}/oauth/a2a/jsonrpc`, preferredTransport: 'JSONRPC' });
    expect(legacyCard.securitySchemes).toMatchObject({ oauth2: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${issuer}/token` } } } });
    expect(legacyCard.supportedInterfaces).toBeUndefined();
    const factory = oauthClient(await token('a2a:call'), true);
    const card = new DefaultAgentCardResolver({ legacyCompat: { enabled: true } }).normalizeAgentCard(legacyCard);
    expect(card.supportedInterfaces.map((i) => i.protocolVersion)).toEqual(['0.3.0']);
    const before = stack.audit.length;
    const client: Client = await factory.createFromAgentCard(card);
    const result = await client.sendMessage(userMessage('from a 0.3 client'));
    expect(textOf((result as Task).artifacts[0]?.parts)).toBe('from a 0.3 client');
    const sent = stack.audit.slice(before).filter((e) => e.route === '/oauth/a2a');
    expect(sent.at(-1)).toMatchObject({ decision: 'allow', a2a: { method: 'SendMessage', legacy: true } });
  });
});

describe('A2A HTTP+JSON binding through the gateway (the SDK\'s Express agent)', () => {
  let agent: RestAgent;
  let server: NodeServer;
  let gateway: string;
  const audit: AuditEvent[] = [];

  beforeAll(async () => {
    agent = await startRestAgent();
    let handler: ((request: Request) => Response | Promise<Response>) | undefined;
    server = await listen((request) => (handler ? handler(request) : new Response('starting', { status: 503 })), { port: 0, hostname: HOST });
    gateway = `http://${HOST}:${server.port}`;
    const sink = memorySink();
    const app = createGateway({ publicUrl: gateway, routes: [{ path: '/agent', protocol: 'a2a', upstream: agent.url, public: true }] }, { audit: { emit: (e) => { audit.push(e); return sink.emit(e); } }, fetch: nodeUpstreamFetch() });
    handler = (request) => app.fetch(request);
  });
  afterAll(async () => {
    await server?.close();
    await agent?.close();
  });

  function restClient(legacy = false): ClientFactory {
    return new ClientFactory({
      transports: [new RestTransportFactory({ fetchImpl: fetch, ...(legacy ? { legacyCompat: { enabled: true } } : {}) })],
      cardResolver: new DefaultAgentCardResolver({ fetchImpl: fetch, ...(legacy ? { legacyCompat: { enabled: true } } : {}) }),
      preferredTransports: ['HTTP+JSON'],
    });
  }

  it('the card lists the JSON-RPC and REST interfaces on the gateway, signed', async () => {
    const raw = await (await fetch(`${gateway}/agent/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json() as { supportedInterfaces: { url: string; protocolBinding: string; protocolVersion: string }[] };
    expect(raw.supportedInterfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion])).toEqual([
      [`${gateway}/agent/jsonrpc`, 'JSONRPC', '1.0'],
      [`${gateway}/agent/rest`, 'HTTP+JSON', '1.0'],
      [`${gateway}/agent/jsonrpc`, 'JSONRPC', '0.3'],
      [`${gateway}/agent/rest`, 'HTTP+JSON', '0.3'],
    ]);
    await sdkVerifies(raw, `${gateway}/.well-known/jwks.json`);
  });

  it('the SDK\'s REST transport sends and streams through the gateway (1.0)', async () => {
    const client = await restClient().createFromUrl(`${gateway}/agent/`);
    const result = (await client.sendMessage(userMessage('over rest'))) as Task;
    expect(textOf(result.artifacts[0]?.parts)).toBe('over rest');
    const events: StreamResponse[] = [];
    for await (const event of client.sendMessageStream(userMessage('rest stream'))) events.push(event);
    expect(events.map((e) => e.payload?.$case)).toContain('artifactUpdate');
    const restCalls = audit.filter((e) => e.path.startsWith('/agent/rest/'));
    expect(restCalls.map((e) => e.a2a?.method)).toEqual(expect.arrayContaining(['SendMessage', 'SendStreamingMessage']));
    expect(restCalls.every((e) => e.a2a?.legacy === false)).toBe(true);
  });

  it('the SDK\'s 0.3 REST transport is served too', async () => {
    const legacyCard = await (await fetch(`${gateway}/agent/.well-known/agent-card.json`)).json() as Record<string, unknown>;
    expect(legacyCard).toMatchObject({ protocolVersion: '0.3.0', url: `${gateway}/agent/jsonrpc` });
    const card = new DefaultAgentCardResolver({ legacyCompat: { enabled: true } }).normalizeAgentCard(legacyCard);
    const client = await restClient(true).createFromAgentCard(card);
    const result = (await client.sendMessage(userMessage('0.3 over rest'))) as Task;
    expect(textOf(result.artifacts[0]?.parts)).toBe('0.3 over rest');
    expect(audit.at(-1)).toMatchObject({ decision: 'allow', a2a: { method: 'SendMessage', legacy: true } });
  });
});
