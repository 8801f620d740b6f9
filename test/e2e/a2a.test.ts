/**
 * The real A2A SDK client talks to the real demo A2A agent through the gateway: card discovery, a blocking
 * SendMessage and a streamed SendStreamingMessage (SSE).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageRequest, TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { startStack, type Stack } from './stack.ts';

let stack: Stack;
let client: Client;
/** Every URL the A2A client fetched. */
const fetched: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  const fetchImpl: typeof fetch = (input, init) => {
    fetched.push(input instanceof Request ? input.url : String(input));
    return fetch(input, init);
  };
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    transports: [new JsonRpcTransportFactory({ fetchImpl })],
    cardResolver: new DefaultAgentCardResolver({ fetchImpl }),
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
    expect(fetched[0]).toBe(`${stack.gateway}/a2a/.well-known/agent-card.json`);
    const card = await client.getAgentCard();
    expect(card.name).toBe('Portcullis demo echo agent');
    expect(card.supportedInterfaces).toHaveLength(1);
    expect(card.supportedInterfaces[0]).toMatchObject({ url: `${stack.gateway}/a2a/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' });
    expect(card.supportedInterfaces[0]!.url.startsWith(stack.upstream)).toBe(false);
  });

  it('sends a message and gets the echo back', async () => {
    const result = await client.sendMessage(userMessage('hello agent'));
    expect('status' in result).toBe(true);
    const task = result as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(partText(task.artifacts[0]?.parts)).toBe('hello agent');
    expect(partText(task.status?.message?.parts)).toBe('hello agent');
    // The JSON-RPC call went to the gateway's interface URL, never to the upstream directly.
    expect(fetched).toContain(`${stack.gateway}/a2a/jsonrpc`);
    expect(fetched.some((u) => u.startsWith(stack.upstream))).toBe(false);
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
    expect(stack.audit.some((e) => e.route === '/a2a' && e.decision === 'allow')).toBe(true);
  });

  it('the gateway carries A2A-Version: without it the agent applies the 0.3 default and refuses', async () => {
    const call = (headers: Record<string, string>) => fetch(`${stack.gateway}/a2a/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'SendMessage', params: { message: { messageId: 'm-7', role: 'ROLE_USER', parts: [{ text: 'v?' }] } } }),
    }).then((r) => r.json() as Promise<{ result?: { task?: { status?: { state?: string } } }; error?: { code: number } }>);
    expect((await call({})).error?.code).toBe(-32009);
    expect((await call({ 'A2A-Version': '1.0' })).result?.task?.status?.state).toBe('TASK_STATE_COMPLETED');
  });
});
