/**
 * The demo A2A agent (examples/demo/a2a-agent.ts) driven directly, without the gateway: its card, A2A 1.0 and 0.3
 * on one JSON-RPC URL, the extended card behind a real Txn-Token (minted with a real key ring, its JWK Set served
 * by a fake fetch), and push notification configs that are stored but never delivered. Then the Express-based
 * test agent (test/e2e/a2a-rest-agent.ts) through the SDK's own REST client, to prove that helper works.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SendMessageRequest, TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, RestTransportFactory, type Client } from '@a2a-js/sdk/client';
import { createA2aHandler } from '../../examples/demo/a2a-agent.ts';
import { txnTokenVerifier } from '../../src/downstream/index.ts';
import { MIN_TXN_KEY_ROTATION_MS } from '../../src/limits.ts';
import { mintTxnToken } from '../../src/mint/txn-token.ts';
import { memoryCache } from '../../src/state/memory.ts';
import { txnKeyRing } from '../../src/txn/key-ring.ts';
import { startRestAgent, type RestAgent } from '../e2e/a2a-rest-agent.ts';

const ORIGIN = 'http://agent.test';
const TRUST_DOMAIN = 'demo.portcullis.test';
/** What the gateway sends the upstream so the card names the gateway. */
const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'gw.example', 'x-forwarded-prefix': '/agents/echo' };
const V1 = { 'A2A-Version': '1.0' };

const ring = txnKeyRing(memoryCache({ now: Date.now }), { now: Date.now, rotationMs: MIN_TXN_KEY_ROTATION_MS });
const a2a = createA2aHandler({
  basePath: '/a2a',
  txnTokens: txnTokenVerifier({
    jwksUrl: 'https://gw.example/.well-known/jwks.json',
    audience: TRUST_DOMAIN,
    fetch: async () => new Response(JSON.stringify({ keys: await ring.publicKeys() }), { headers: { 'content-type': 'application/jwk-set+json' } }),
  }),
});

async function txnToken(sub = 'alice'): Promise<string> {
  return mintTxnToken({ aud: TRUST_DOMAIN, sub, scope: 'route:/a2a', req_wl: 'gw.example' }, { key: await ring.signingKey(), now: Date.now });
}

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return a2a(new Request(`${ORIGIN}/a2a/jsonrpc`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

interface RpcReply {
  id: unknown;
  result?: Record<string, any>;
  error?: { code: number; message: string; data?: unknown };
}

async function rpc(method: string, params: unknown, headers: Record<string, string> = {}): Promise<RpcReply> {
  const response = await post({ jsonrpc: '2.0', id: 1, method, params }, headers);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return response.json() as Promise<RpcReply>;
}

/** The JSON of each `data:` line of an SSE body, and the names of any `event:` lines. */
async function sseEvents(response: Response): Promise<{ data: any[]; events: string[] }> {
  const text = await response.text();
  return {
    data: [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!)),
    events: [...text.matchAll(/^event: (.*)$/gm)].map((m) => m[1]!),
  };
}

const v1Message = (text: string) => ({ message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] } });
const v03Message = (text: string) => ({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text }] } });
const skillIds = (card: Record<string, any> | undefined) => (card?.skills as { id: string }[] | undefined)?.map((s) => s.id);

describe('demo A2A agent: card', () => {
  it('serves the 1.0 card with the JSON-RPC interface for 1.0 and 0.3, extended card and push notifications declared', async () => {
    const response = await a2a(new Request(`${ORIGIN}/a2a/.well-known/agent-card.json`));
    expect(response.status).toBe(200);
    expect(response.headers.get('vary')).toBe('X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix, A2A-Version');
    const card = await response.json() as Record<string, any>;
    expect(card.name).toBe('Portcullis demo echo agent');
    expect(card.supportedInterfaces).toEqual([
      { url: `${ORIGIN}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: `${ORIGIN}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ]);
    expect(card.capabilities).toEqual({ streaming: true, pushNotifications: true, extendedAgentCard: true });
    expect(skillIds(card)).toEqual(['echo']);
  });

  it('builds the interface URLs from the forwarding fields, and ignores A2A-Version (always the 1.0 card)', async () => {
    const response = await a2a(new Request(`${ORIGIN}/a2a/.well-known/agent-card.json`, { headers: { ...FORWARDED, 'A2A-Version': '0.3' } }));
    const card = await response.json() as Record<string, any>;
    expect(card.supportedInterfaces.map((i: { url: string; protocolVersion: string }) => `${i.url} ${i.protocolVersion}`)).toEqual([
      'https://gw.example/agents/echo/jsonrpc 1.0',
      'https://gw.example/agents/echo/jsonrpc 0.3',
    ]);
    expect(card.protocolVersion).toBeUndefined();
  });
});

describe('demo A2A agent: JSON-RPC 1.0 and 0.3 on one URL', () => {
  it('A2A-Version 1.0: SendMessage returns the completed task with the echo', async () => {
    const reply = await rpc('SendMessage', v1Message('hello 1.0'), V1);
    const task = reply.result?.task;
    expect(task.status.state).toBe('TASK_STATE_COMPLETED');
    expect(task.artifacts[0].parts[0]).toEqual({ text: 'hello 1.0', mediaType: 'text/plain' });
    expect(task.status.message.parts[0].text).toBe('hello 1.0');
  });

  it('no A2A-Version: 0.3 message/send, answered in the 0.3 shape', async () => {
    const reply = await rpc('message/send', v03Message('hello 0.3'));
    expect(reply.result).toMatchObject({ kind: 'task', status: { state: 'completed', message: { kind: 'message', role: 'agent', parts: [{ kind: 'text', text: 'hello 0.3' }] } } });
    expect(reply.result?.artifacts[0]).toMatchObject({ artifactId: 'echo', parts: [{ kind: 'text', text: 'hello 0.3' }] });
    // The same with the version named.
    const named = await rpc('message/send', v03Message('named'), { 'A2A-Version': '0.3' });
    expect(named.result?.status.state).toBe('completed');
  });

  it('0.3 message/stream streams 0.3 events ending in a final completed status', async () => {
    const response = await post({ jsonrpc: '2.0', id: 'st', method: 'message/stream', params: v03Message('stream 0.3') });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const { data } = await sseEvents(response);
    expect(data.map((d) => d.result.kind)).toEqual(['task', 'status-update', 'artifact-update', 'status-update']);
    expect(data.every((d) => d.id === 'st')).toBe(true);
    expect(data[2].result.artifact.parts).toEqual([{ kind: 'text', text: 'stream 0.3' }]);
    expect(data[3].result).toMatchObject({ final: true, status: { state: 'completed' } });
  });

  it('errors take the shape of the version asked for', async () => {
    // 1.0: google.rpc.ErrorInfo details; 0.3: a bare code and message.
    expect((await rpc('GetTask', { id: 'missing' }, V1)).error).toEqual({
      code: -32001,
      message: 'Task not found: missing',
      data: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'TASK_NOT_FOUND', domain: 'a2a-protocol.org' }],
    });
    expect((await rpc('tasks/get', { id: 'missing' })).error).toEqual({ code: -32001, message: 'Task not found: missing' });
    // A 1.0 method name without A2A-Version is a 0.3 request, and 0.3 has no such method.
    expect((await rpc('SendMessage', v1Message('v?'))).error).toEqual({ code: -32601, message: 'Method not found: SendMessage' });
    // A version the card does not declare.
    const unsupported = (await rpc('GetTask', { id: 'missing' }, { 'A2A-Version': '2.0' })).error;
    expect(unsupported?.code).toBe(-32009);
    expect(unsupported?.message).toContain('Supported versions: 1.0, 0.3');
  });

  it('a 0.3 tasks/resubscribe that fails before streaming is still answered as a stream, as the SDK adapter does', async () => {
    const response = await post({ jsonrpc: '2.0', id: 5, method: 'tasks/resubscribe', params: { id: 'missing' } });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await sseEvents(response)).toEqual({ events: ['error'], data: [{ jsonrpc: '2.0', id: 5, error: { code: -32001, message: 'Task not found: missing' } }] });
  });
});

describe('demo A2A agent: authenticated extended card', () => {
  it('an unauthenticated caller gets the public card (the SDK\'s rule), not the extra skills', async () => {
    const reply = await rpc('GetExtendedAgentCard', {}, V1);
    expect(skillIds(reply.result)).toEqual(['echo']);
    const legacy = await rpc('agent/getAuthenticatedExtendedCard', undefined);
    expect(skillIds(legacy.result)).toEqual(['echo']);
  });

  it('a caller with a valid Txn-Token gets the extended card, its URLs built like the public card\'s', async () => {
    const reply = await rpc('GetExtendedAgentCard', {}, { ...V1, ...FORWARDED, 'txn-token': await txnToken() });
    expect(skillIds(reply.result)).toEqual(['echo', 'shout', 'admin-stats']);
    expect(reply.result?.supportedInterfaces).toEqual([
      { url: 'https://gw.example/agents/echo/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: 'https://gw.example/agents/echo/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ]);
    expect(reply.result?.capabilities.extendedAgentCard).toBe(true);
  });

  it('0.3 agent/getAuthenticatedExtendedCard with a Txn-Token: the extended card in the 0.3 shape', async () => {
    const reply = await rpc('agent/getAuthenticatedExtendedCard', undefined, { 'txn-token': await txnToken() });
    expect(reply.result).toMatchObject({ protocolVersion: '0.3', url: `${ORIGIN}/a2a/jsonrpc`, preferredTransport: 'JSONRPC', supportsAuthenticatedExtendedCard: true });
    expect(skillIds(reply.result)).toEqual(['echo', 'shout', 'admin-stats']);
  });

  it('a Txn-Token that does not verify is refused with the verifier\'s code', async () => {
    const response = await post({ jsonrpc: '2.0', id: 1, method: 'GetExtendedAgentCard', params: {} }, { ...V1, 'txn-token': 'not-a-token' });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'ERR_TXN_TOKEN_MALFORMED' });
  });
});

describe('demo A2A agent: push notification configs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('stores configs from SendMessage, CreateTaskPushNotificationConfig and 0.3 set, and never sends a notification', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const sent = await rpc('SendMessage', { ...v1Message('notify me'), configuration: { taskPushNotificationConfig: { url: 'https://hooks.example/on-send', token: 'tok-1' } } }, V1);
    const taskId = sent.result?.task.id as string;
    expect(sent.result?.task.status.state).toBe('TASK_STATE_COMPLETED');

    const created = await rpc('CreateTaskPushNotificationConfig', { taskId, url: 'https://hooks.example/created' }, V1);
    expect(created.result).toMatchObject({ taskId, url: 'https://hooks.example/created' });
    expect(created.result?.id).toMatch(/^[0-9a-f-]{36}$/);

    const legacy = await rpc('tasks/pushNotificationConfig/set', { taskId, pushNotificationConfig: { url: 'https://hooks.example/legacy' } });
    expect(legacy.result).toMatchObject({ taskId, pushNotificationConfig: { url: 'https://hooks.example/legacy' } });

    const listed = await rpc('ListTaskPushNotificationConfigs', { taskId }, V1);
    expect(listed.result?.configs.map((c: { url: string }) => c.url)).toEqual(['https://hooks.example/on-send', 'https://hooks.example/created', 'https://hooks.example/legacy']);

    // The SDK's default sender would have POSTed each event of the first task to /on-send (fire and forget).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('test/e2e/a2a-rest-agent.ts: the SDK\'s Express adapters', () => {
  let agent: RestAgent;
  beforeAll(async () => {
    agent = await startRestAgent();
  });
  afterAll(async () => {
    await agent?.close();
  });

  /** A REST-only client; `headers` go on every request. */
  async function restClient(headers: Record<string, string> = {}): Promise<{ client: Client; urls: string[] }> {
    const urls: string[] = [];
    const fetchImpl = (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
      urls.push(`${request.method} ${request.url}`);
      return fetch(request);
    };
    // Not ClientFactoryOptions.createFrom(default, ...): that keeps the default JSON-RPC transport, which the card lists first.
    const factory = new ClientFactory({ transports: [new RestTransportFactory({ fetchImpl })], cardResolver: new DefaultAgentCardResolver({ fetchImpl }) });
    return { client: await factory.createFromUrl(`${agent.url}/`), urls };
  }

  it('serves a card with JSONRPC and HTTP+JSON for 1.0 and 0.3, at URLs from the forwarding fields', async () => {
    const response = await fetch(`${agent.url}/.well-known/agent-card.json`, { headers: FORWARDED });
    expect(response.status).toBe(200);
    const card = await response.json() as { supportedInterfaces: { url: string; protocolBinding: string; protocolVersion: string }[] };
    expect(card.supportedInterfaces.map((i) => `${i.protocolBinding} ${i.protocolVersion} ${i.url}`)).toEqual([
      'JSONRPC 1.0 https://gw.example/agents/echo/jsonrpc',
      'HTTP+JSON 1.0 https://gw.example/agents/echo/rest',
      'JSONRPC 0.3 https://gw.example/agents/echo/jsonrpc',
      'HTTP+JSON 0.3 https://gw.example/agents/echo/rest',
    ]);
  });

  it('the SDK REST client resolves the card, sends a message and streams one', async () => {
    const { client, urls } = await restClient();
    const result = await client.sendMessage(SendMessageRequest.fromJSON(v1Message('hello rest')));
    const task = result as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const artifact = task.artifacts[0]?.parts[0]?.content;
    expect(artifact?.$case === 'text' && artifact.value).toBe('hello rest');

    const events: StreamResponse[] = [];
    for await (const event of client.sendMessageStream(SendMessageRequest.fromJSON(v1Message('stream rest')))) events.push(event);
    expect(events.map((e) => e.payload?.$case)).toEqual(['task', 'statusUpdate', 'artifactUpdate', 'statusUpdate']);
    const last = events.at(-1)?.payload;
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);

    expect(urls).toEqual([
      `GET ${agent.url}/.well-known/agent-card.json`,
      `POST ${agent.url}/rest/message:send`,
      `POST ${agent.url}/rest/message:stream`,
    ]);
  });

  it('the extended card over REST: public skills without a Txn-Token, all three with one', async () => {
    const anonymous = await restClient();
    expect((await anonymous.client.getAgentCard()).skills.map((s) => s.id)).toEqual(['echo']);
    expect(anonymous.urls.at(-1)).toBe(`GET ${agent.url}/rest/extendedAgentCard`);
    const holder = await restClient({ 'txn-token': await txnToken('bob') });
    expect((await holder.client.getAgentCard()).skills.map((s) => s.id)).toEqual(['echo', 'shout', 'admin-stats']);
  });

  it('a 0.3 REST call (no A2A-Version, /v1/message:send) is served by the legacy router', async () => {
    const response = await fetch(`${agent.url}/rest/v1/message:send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // The 0.3 HTTP+JSON binding speaks the 0.3 proto JSON: `content` parts and ROLE_* roles.
      body: JSON.stringify({ message: { messageId: 'legacy-1', role: 'ROLE_USER', content: [{ text: 'hello 0.3 rest' }] } }),
    });
    expect(response.status).toBe(201);
    const body = await response.json() as { task: { status: { state: string; message: { role: string; content: { text: string }[] } }; artifacts: { parts: { text: string }[] }[] } };
    expect(body.task.status.state).toBe('TASK_STATE_COMPLETED');
    expect(body.task.status.message).toMatchObject({ role: 'ROLE_AGENT', content: [{ text: 'hello 0.3 rest' }] });
    expect(body.task.artifacts[0]?.parts).toEqual([{ text: 'hello 0.3 rest' }]);
  });
});
