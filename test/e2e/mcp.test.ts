/**
 * The real MCP SDK client talks to the real demo MCP server through the gateway (Streamable HTTP, SSE replies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startStack, type Stack } from './stack.ts';

const BEARER = 'Bearer e2e-secret-never-upstream';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.close(); });

/** A connected client whose every request carries an Authorization header (recorded to prove it was sent). */
async function connect(url: string, extraHeaders: Record<string, string> = {}) {
  const sentAuthorization: (string | null)[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    sentAuthorization.push(new Headers(init?.headers).get('authorization'));
    return fetch(input, init);
  };
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: recordingFetch,
    requestInit: { headers: { Authorization: BEARER, ...extraHeaders } },
  });
  const client = new Client({ name: 'portcullis-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, sentAuthorization };
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as { type: string; text?: string }[];
  expect(content[0]?.type).toBe('text');
  return content[0]!.text!;
}

describe('MCP through the gateway', () => {
  it('initializes, lists the tools and calls echo', async () => {
    const { client } = await connect(`${stack.gateway}/mcp`);
    try {
      expect(client.getServerVersion()?.name).toBe('portcullis-demo-mcp');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
      const echoed = await client.callTool({ name: 'echo', arguments: { text: 'hello through the gateway' } });
      expect(echoed.isError).toBeFalsy();
      expect(text(echoed)).toBe('hello through the gateway');
    } finally {
      await client.close();
    }
  });

  it('whoami shows the gateway forwarding fields and no caller credentials', async () => {
    const { client, sentAuthorization } = await connect(`${stack.gateway}/mcp`, { 'X-Request-ID': 'e2e-whoami-1' });
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who.forwarded).toMatchObject({ host: `127.0.0.1:${stack.gatewayPort}`, proto: 'http', prefix: '/mcp' });
      expect(who.forwarded.for).toMatch(/127\.0\.0\.1$/);
      expect(who.requestId).toBe('e2e-whoami-1');
      expect(who.receivedCredentials).toEqual([]);
      expect(who.txnToken).toBeNull();
      // The client really did send the header; the gateway removed it.
      expect(sentAuthorization.length).toBeGreaterThan(0);
      expect(sentAuthorization.every((h) => h === BEARER)).toBe(true);
    } finally {
      await client.close();
    }
    // Nor does the token leak into audit events.
    expect(stack.audit.some((e) => e.route === '/mcp' && e.decision === 'allow')).toBe(true);
    expect(JSON.stringify(stack.audit)).not.toContain('e2e-secret-never-upstream');
  });

  it('control: called directly, the upstream does see the Authorization header', async () => {
    const { client } = await connect(`${stack.upstream}/mcp`);
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who.receivedCredentials).toEqual(['authorization']);
      expect(who.forwarded).toEqual({ host: null, proto: null, prefix: null, for: null });
    } finally {
      await client.close();
    }
  });
});
