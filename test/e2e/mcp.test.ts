/**
 * The real MCP SDK client talks to the real demo MCP server through the gateway (Streamable HTTP, SSE replies).
 * The route requires a WIT + WPT from the dev trust domain, as in the dev stack: the client's fetch is
 * withWorkloadIdentity, which adds the WIT and a fresh proof to every request.
 */
import { mintTxnToken } from '../../src/mint/txn-token.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { withWorkloadIdentity, type WorkloadCredentials } from '../../src/client/fetch.ts';
import { startStack, type Stack } from './stack.ts';

const AGENT = 'spiffe://dev.portcullis.local/agents/e2e-mcp';

let stack: Stack;
let credentials: WorkloadCredentials;
beforeAll(async () => {
  stack = await startStack();
  credentials = await stack.mint(AGENT);
});
afterAll(async () => { await stack?.close(); });

/** One HTTP exchange as it left the client (after the credential wrapper) and the gateway's answer. */
interface Exchange {
  rpcMethod: string | undefined;
  authorization: string | null;
  wit: string | null;
  status: number;
  requestId: string | null;
  wwwAuthenticate: string | null;
  body?: string;
}

/** A fetch that records what is sent and answered; the body of error answers is kept too. */
function recording(exchanges: Exchange[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const text = request.method === 'POST' ? await request.clone().text() : '';
    const response = await fetch(request);
    const exchange: Exchange = {
      rpcMethod: text ? (JSON.parse(text) as { method?: string }).method : undefined,
      authorization: request.headers.get('authorization'),
      wit: request.headers.get('workload-identity-token'),
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      wwwAuthenticate: response.headers.get('www-authenticate'),
    };
    if (!response.ok) exchange.body = await response.clone().text();
    exchanges.push(exchange);
    return response;
  };
}

/** A connected client; `authenticate: false` leaves out the credential wrapper. */
async function connect(url: string, options: { authenticate?: boolean; headers?: Record<string, string> } = {}) {
  const exchanges: Exchange[] = [];
  const inner = recording(exchanges);
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: options.authenticate === false ? inner : withWorkloadIdentity(inner, { credentials: () => credentials }),
    requestInit: { headers: options.headers ?? {} },
  });
  const client = new Client({ name: 'portcullis-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, exchanges };
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as { type: string; text?: string }[];
  expect(content[0]?.type).toBe('text');
  return content[0]!.text!;
}

describe('MCP through the gateway, authenticated with a WIT + WPT', () => {
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

  it('the audit event of a tool call: allow, AUTHENTICATED, and the workload that called', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/mcp`);
    try {
      await client.callTool({ name: 'echo', arguments: { text: 'audited' } });
    } finally {
      await client.close();
    }
    const call = exchanges.find((e) => e.rpcMethod === 'tools/call');
    expect(call?.status).toBe(200);
    const event = stack.audit.find((e) => e.requestId === call?.requestId);
    expect(event).toMatchObject({
      decision: 'allow',
      reason: 'AUTHENTICATED',
      status: 200,
      route: '/mcp',
      protocol: 'mcp',
      principal: { workloadId: AGENT, trustDomain: 'spiffe://dev.portcullis.local', issuer: 'spiffe://dev.portcullis.local', credential: 'wit+wpt' },
    });
    expect(event?.principal?.tokenHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('whoami names the caller from the Txn-Token the gateway minted (verified against its JWK Set), with the forwarding fields and no caller credentials', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/mcp`, { headers: { 'X-Request-ID': 'e2e-whoami-1' } });
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who.forwarded).toMatchObject({ host: `127.0.0.1:${stack.gatewayPort}`, proto: 'http', prefix: '/mcp' });
      expect(who.forwarded.for).toMatch(/127\.0\.0\.1$/);
      expect(who.requestId).toBe('e2e-whoami-1');
      expect(who.receivedCredentials).toEqual([]);
      // The upstream learns the caller from the gateway's Txn-Token, which the demo verified with portcullis/downstream
      // against the gateway's /.well-known/jwks.json: the workload is both the subject and the requester.
      expect(who.caller).toMatchObject({ sub: AGENT, reqWl: AGENT, scope: ['route:/mcp'], aud: ['dev.portcullis.local'], tctx: { route: '/mcp', mcp: [{ method: 'tools/call', name: 'whoami' }] }, rctx: { authn: 'wit+wpt' } });
      expect(who.caller.txn).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await client.close();
    }
    // The client really did send a WIT and a proof on every request; the gateway removed them.
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.every((e) => e.wit === credentials.wit && /^WPT [\w-]+\.[\w-]+\.[\w-]+$/.test(e.authorization ?? ''))).toBe(true);
    expect(new Set(exchanges.map((e) => e.authorization)).size).toBe(exchanges.length); // a fresh proof each time
    const event = stack.audit.find((e) => e.requestId === 'e2e-whoami-1' && e.status === 200);
    expect(event?.principal?.workloadId).toBe(AGENT);
    // Nor do the tokens leak into audit events: only their hashes.
    const audit = JSON.stringify(stack.audit);
    expect(audit).not.toContain(credentials.wit);
    for (const e of exchanges) expect(audit).not.toContain(e.authorization!.slice('WPT '.length));
  });

  it('control: called directly, the upstream does see the WIT and the proof', async () => {
    const { client } = await connect(`${stack.upstream}/mcp`);
    try {
      const who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
      expect(who.receivedCredentials).toEqual(['authorization', 'workload-identity-token']);
      expect(who.forwarded).toEqual({ host: null, proto: null, prefix: null, for: null });
    } finally {
      await client.close();
    }
  });

  it('the upstream refuses a forged Txn-Token (signed with a key the gateway never published) with its code', async () => {
    const forged = await mintTxnToken(
      { aud: 'dev.portcullis.local', sub: AGENT, req_wl: AGENT, scope: 'route:/mcp' },
      { key: { kid: 'forged-1', alg: 'ES256', key: (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']) as CryptoKeyPair).privateKey }, now: Date.now },
    );
    const res = await fetch(`${stack.upstream}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'txn-token': forged },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'ERR_TXN_TOKEN_KEY_NOT_FOUND' });
  });

  it('refuses a client without credentials: 401 with WWW-Authenticate: WPT, audited as a deny', async () => {
    const exchanges: Exchange[] = [];
    const client = new Client({ name: 'portcullis-e2e-anonymous', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.gateway}/mcp`), { fetch: recording(exchanges) });
    const error = await client.connect(transport).then(() => undefined, (e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    expect(exchanges).toHaveLength(1);
    const [refused] = exchanges;
    expect(refused).toMatchObject({ rpcMethod: 'initialize', status: 401, wwwAuthenticate: 'WPT', authorization: null, wit: null });
    // A JSON-RPC error body on an mcp route, with the stable code.
    expect(JSON.parse(refused!.body!)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, data: { status: 401, code: 'ERR_CREDENTIALS_MISSING' } } });
    expect(stack.audit.find((e) => e.requestId === refused!.requestId)).toMatchObject({ decision: 'deny', reason: 'ERR_CREDENTIALS_MISSING', status: 401, route: '/mcp' });
  });
});
