/**
 * The real A2A SDK client talks to the real demo A2A agent through the gateway: card discovery, a blocking
 * SendMessage and a streamed SendStreamingMessage (SSE). The route requires a WIT + WPT from the dev trust
 * domain, as in the dev stack: the transports and the card resolver all fetch through withWorkloadIdentity,
 * with the route's mount as the proof audience (mountAudience) for the URLs below /a2a.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageRequest, TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { mountAudience } from '../../src/client/audience.ts';
import { withWorkloadIdentity, type FetchLike, type WorkloadCredentials } from '../../src/client/fetch.ts';
import { startStack, type Stack } from './stack.ts';
import { mintTxnToken } from '../../src/mint/txn-token.ts';

const AGENT = 'spiffe://dev.portcullis.local/agents/e2e-a2a';

let stack: Stack;
let client: Client;
let credentials: WorkloadCredentials;
/** The authenticated fetch the A2A client uses. */
let send: FetchLike;
/** Every request the A2A client sent, as it left the credential wrapper. */
const fetched: { url: string; authorization: string | null; wit: string | null }[] = [];

beforeAll(async () => {
  stack = await startStack();
  credentials = await stack.mint(AGENT);
  const recording: FetchLike = (input, init) => {
    const request = new Request(input, init);
    fetched.push({ url: request.url, authorization: request.headers.get('authorization'), wit: request.headers.get('workload-identity-token') });
    return fetch(request);
  };
  send = withWorkloadIdentity(recording, { credentials: () => credentials, audience: mountAudience([`${stack.gateway}/a2a`]) });
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl: send })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl: send }),
  }));
  client = await factory.createFromUrl(`${stack.gateway}/a2a/`);
});
afterAll(async () => { await stack?.close(); });

function userMessage(text: string): SendMessageRequest {
  return SendMessageRequest.fromJSON({ message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text }] } });
}

function partText(parts: { content?: { $case: string; value?: unknown } }[] | undefined): string | undefined {
  const content = parts?.[0]?.content;
  return content?.$case === 'text' ? String(content.value) : undefined;
}

describe('A2A through the gateway', () => {
  it('discovers the card through the gateway, and the card points at the gateway', async () => {
    expect(fetched[0]?.url).toBe(`${stack.gateway}/a2a/.well-known/agent-card.json`);
    const card = await client.getAgentCard();
    expect(card.name).toBe('Portcullis demo echo agent');
    // The demo declares its JSON-RPC endpoint for 1.0 and 0.3; both now name the gateway.
    expect(card.supportedInterfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion])).toEqual([
      [`${stack.gateway}/a2a/jsonrpc`, 'JSONRPC', '1.0'],
      [`${stack.gateway}/a2a/jsonrpc`, 'JSONRPC', '0.3'],
    ]);
  });

  it('sends a message and gets the echo back', async () => {
    const result = await client.sendMessage(userMessage('hello agent'));
    expect('status' in result).toBe(true);
    const task = result as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(partText(task.artifacts[0]?.parts)).toBe('hello agent');
    expect(partText(task.status?.message?.parts)).toBe('hello agent');
    // The JSON-RPC call went to the gateway's interface URL, never to the upstream directly.
    const urls = fetched.map((f) => f.url);
    expect(urls).toContain(`${stack.gateway}/a2a/jsonrpc`);
    expect(urls.some((u) => u.startsWith(stack.upstream))).toBe(false);
    // Every request carried the WIT and a proof of its own.
    expect(fetched.every((f) => f.wit === credentials.wit && f.authorization?.startsWith('WPT '))).toBe(true);
    expect(new Set(fetched.map((f) => f.authorization)).size).toBe(fetched.length);
  });

  it('streams several events ending in completed', async () => {
    const events: StreamResponse[] = [];
    for await (const event of client.sendMessageStream(userMessage('stream me'))) events.push(event);
    expect(events.length).toBeGreaterThan(1);
    const kinds = events.map((e) => e.payload?.$case);
    expect(kinds[0]).toBe('task');
    expect(kinds).toContain('artifactUpdate');
    const artifact = events.find((e) => e.payload?.$case === 'artifactUpdate')?.payload;
    expect(artifact?.$case === 'artifactUpdate' && partText(artifact.value.artifact?.parts)).toBe('stream me');
    const last = events.at(-1)?.payload;
    expect(last?.$case).toBe('statusUpdate');
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const a2a = stack.audit.filter((e) => e.route === '/a2a');
    expect(a2a.length).toBeGreaterThan(0);
    // Cards are served by the gateway without authentication; every call to the agent was authenticated.
    for (const event of a2a.filter((e) => e.reason !== 'A2A_AGENT_CARD')) expect(event).toMatchObject({ decision: 'allow', reason: 'AUTHENTICATED', principal: { workloadId: AGENT, credential: 'wit+wpt' } });
    expect(a2a.some((e) => e.reason === 'A2A_AGENT_CARD')).toBe(true);
    expect(JSON.stringify(stack.audit)).not.toContain(credentials.wit);
  });

  it('the gateway carries A2A-Version: 1.0 with it, the 0.3 default without it, and an unknown version is the agent\'s to refuse', async () => {
    const call = (method: string, headers: Record<string, string>) => send(`${stack.gateway}/a2a/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ text: 'v?' }] } } }),
    }).then((r) => r.json() as Promise<{ result?: { task?: { status?: { state?: string } } }; error?: { code: number } }>);
    expect((await call('SendMessage', { 'A2A-Version': '1.0' })).result?.task?.status?.state).toBe('TASK_STATE_COMPLETED');
    // No version means 0.3 (A2A §3.1), where the method is unknown: -32601 from the agent's 0.3 handler.
    expect((await call('SendMessage', {})).error?.code).toBe(-32601);
    expect((await call('SendMessage', { 'A2A-Version': '2.0' })).error?.code).toBe(-32009);
  });

  it('serves the card without credentials, but refuses a call without them: 401 JSON-RPC error with WWW-Authenticate: WPT', async () => {
    const card = await fetch(`${stack.gateway}/a2a/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } });
    expect(card.status).toBe(200);
    expect(((await card.json()) as { name: string }).name).toBe('Portcullis demo echo agent');
    const response = await fetch(`${stack.gateway}/a2a/jsonrpc`, { method: 'POST', headers: { 'content-type': 'application/json', 'a2a-version': '1.0' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'GetTask', params: { id: 't' } }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('WPT');
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = await response.json() as { id: unknown; error: { data: { code: string; requestId: string } } };
    // The body was not read for an unauthenticated caller, so the error cannot echo the request's id.
    expect(body.id).toBeNull();
    expect(body.error.data.code).toBe('ERR_CREDENTIALS_MISSING');
    expect(stack.audit.find((e) => e.requestId === body.error.data.requestId)).toMatchObject({ decision: 'deny', reason: 'ERR_CREDENTIALS_MISSING', route: '/a2a' });
  });

  it('the agent serves the gateway\'s Txn-Token (every call above carried one) and refuses a forged one with its code', async () => {
    const signing = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const forged = await mintTxnToken({ aud: 'dev.portcullis.local', sub: 'mallory', req_wl: 'mallory', scope: 'route:/a2a' }, { key: { kid: 'forged-1', alg: 'ES256', key: signing.privateKey }, now: Date.now });
    const response = await fetch(`${stack.upstream}/a2a/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'a2a-version': '1.0', 'txn-token': forged },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'none' } }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'ERR_TXN_TOKEN_KEY_NOT_FOUND' });
    // The calls through the gateway succeeded, so the agent verified each Txn-Token they carried.
    expect(stack.audit.some((e) => e.route === '/a2a' && e.decision === 'allow' && e.upstreamStatus === 200)).toBe(true);
  });
});
