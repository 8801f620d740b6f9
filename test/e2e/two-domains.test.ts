/**
 * Two trust domains, in one process on loopback listeners (draft-ietf-oauth-identity-chaining-17):
 *
 *   domain A: dev authorization server "A" (peer: B) + gateway A, OAuth route /b/mcp with `egress` to B, upstream
 *             gateway B's /mcp;
 *   domain B: dev authorization server "B" (trusts A's grants) + gateway B, OAuth route /mcp for B's tokens with
 *             txnToken, upstream the demo MCP server, which verifies gateway B's Txn-Tokens.
 *
 * The real MCP SDK client in domain A (client_credentials at A as demo-agent) calls `whoami` through
 * gateway A -> gateway B -> MCP server B. Gateway A exchanges the caller's token at A for a JWT grant, trades it at B
 * for a B access token; gateway B verifies that token and names the caller in a Txn-Token of B's trust domain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { createDevAuthorizationServer, devAuthorizationServerIssuer, type DevAuthorizationServer } from '../../examples/demo/authorization-server.ts';
import { startDemoUpstreams, type DemoUpstreams } from '../../examples/demo/serve.ts';
import { memorySink, type AuditEvent } from '../../src/audit/index.ts';
import type { GatewayConfigInput } from '../../src/config/schema.ts';
import { createGateway, type Gateway } from '../../src/gateway/app.ts';
import { listen, type NodeServer } from '../../src/runtime/node.ts';
import { nodeUpstreamFetch } from '../../src/runtime/node-upstream.ts';
import type { UpstreamSend } from '../../src/gateway/proxy.ts';

const HOST = '127.0.0.1';
const TRUST_DOMAIN_B = 'b.portcullis.test';

const closers: (() => Promise<void>)[] = [];
let issuerA = '';
let issuerB = '';
let gatewayA = '';
let gatewayB = '';
const auditA: AuditEvent[] = [];
const auditB: AuditEvent[] = [];
/** Authorization fields gateway B received, and every header of what gateway B sent its upstream. */
const receivedByB: (string | null)[] = [];
const sentByB: Headers[] = [];

/** A Node listener whose handler is set once its port is known. */
async function listener(): Promise<{ server: NodeServer; origin: string; serve(handler: (request: Request, clientAddress?: string) => Response | Promise<Response>): void }> {
  let handler: ((request: Request, clientAddress?: string) => Response | Promise<Response>) | undefined;
  const server = await listen((request, env) => (handler ? handler(request, env.incoming.socket.remoteAddress) : new Response('starting', { status: 503 })), { port: 0, hostname: HOST });
  closers.push(() => server.close());
  return { server, origin: `http://${HOST}:${server.port}`, serve: (h) => void (handler = h) };
}

beforeAll(async () => {
  const asAListener = await listener();
  const asBListener = await listener();
  issuerA = devAuthorizationServerIssuer(asAListener.server.port, HOST);
  issuerB = devAuthorizationServerIssuer(asBListener.server.port, HOST);
  const asA: DevAuthorizationServer = createDevAuthorizationServer({ issuer: issuerA, peers: [issuerB] });
  const asB: DevAuthorizationServer = createDevAuthorizationServer({ issuer: issuerB, trust: { [issuerA]: { jwksUrl: asA.jwksUri } } });
  asAListener.serve((request) => asA.fetch(request));
  asBListener.serve((request) => asB.fetch(request));

  // Domain B: gateway B in front of the demo MCP server, which checks gateway B's Txn-Tokens.
  const gwBListener = await listener();
  gatewayB = gwBListener.origin;
  const mcpB: DemoUpstreams = await startDemoUpstreams({ port: 0, txnTokens: { gateway: () => gatewayB, trustDomain: () => TRUST_DOMAIN_B } });
  closers.push(() => mcpB.close());
  const configB: GatewayConfigInput = {
    publicUrl: gatewayB,
    authorizationServers: { [issuerB]: {} },
    transactionTokens: { trustDomain: TRUST_DOMAIN_B },
    routes: [{ path: '/mcp', protocol: 'mcp', upstream: `http://${HOST}:${mcpB.port}/mcp`, auth: { oauth: { authorizationServers: [issuerB], scopes: ['mcp:tools'] } }, txnToken: {} }],
  };
  const sinkB = memorySink();
  const nodeSend = nodeUpstreamFetch();
  const recordingSend: UpstreamSend = (url, init) => {
    sentByB.push(new Headers(init.headers as HeadersInit));
    return nodeSend(url, init);
  };
  const gwB: Gateway = createGateway(configB, { audit: sinkB, fetch: recordingSend });
  gwBListener.serve((request, clientAddress) => {
    receivedByB.push(request.headers.get('authorization'));
    return gwB.fetch(request, clientAddress ? { clientAddress } : {});
  });
  auditB.length = 0;
  closers.push(async () => void auditB.push(...sinkB.events));

  // Domain A: gateway A, whose /b/mcp route reaches gateway B with a B token obtained by identity chaining.
  const gwAListener = await listener();
  gatewayA = gwAListener.origin;
  const configA: GatewayConfigInput = {
    publicUrl: gatewayA,
    authorizationServers: { [issuerA]: {} },
    routes: [
      {
        path: '/b/mcp',
        protocol: 'mcp',
        upstream: `${gatewayB}/mcp`,
        auth: { oauth: { authorizationServers: [issuerA], scopes: ['mcp:tools'] } },
        egress: {
          homeAuthorizationServer: { tokenEndpoint: asA.tokenEndpoint, clientId: 'portcullis-egress', clientSecretEnv: 'EGRESS_HOME_SECRET' },
          foreignAuthorizationServer: { issuer: issuerB, tokenEndpoint: asB.tokenEndpoint, clientId: 'portcullis-egress', clientSecretEnv: 'EGRESS_FOREIGN_SECRET' },
        },
      },
    ],
  };
  const env: Record<string, string> = { EGRESS_HOME_SECRET: 'portcullis-egress-secret', EGRESS_FOREIGN_SECRET: 'portcullis-egress-secret' };
  const sinkA = memorySink();
  const gwA = createGateway(configA, { audit: sinkA, fetch: nodeUpstreamFetch(), readEnv: (name) => env[name] });
  gwAListener.serve((request, clientAddress) => gwA.fetch(request, clientAddress ? { clientAddress } : {}));
  closers.push(async () => void auditA.push(...sinkA.events));
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
});

describe('two trust domains: identity chaining through two gateways', () => {
  it('an MCP client in domain A calls whoami on an MCP server in domain B, which sees the caller from A in B\'s Txn-Token', async () => {
    const provider = new ClientCredentialsProvider({ clientId: 'demo-agent', clientSecret: 'demo-agent-secret', scope: 'mcp:tools', expectedIssuer: issuerA });
    const transport = new StreamableHTTPClientTransport(new URL(`${gatewayA}/b/mcp`), { authProvider: provider });
    const client = new Client({ name: 'portcullis-e2e-two-domains', version: '1.0.0' });
    await client.connect(transport);
    let result;
    try {
      result = await client.callTool({ name: 'whoami', arguments: {} });
      // A second call reuses the B token gateway A cached.
      await client.callTool({ name: 'whoami', arguments: {} });
    } finally {
      await client.close();
    }
    const callerTokenA = (await provider.tokens())!.access_token;
    expect(decodeJwt(callerTokenA)).toMatchObject({ iss: issuerA, sub: 'demo-agent', aud: `${gatewayA}/b/mcp` });

    const content = result.content as { type: string; text: string }[];
    const context = JSON.parse(content[0]!.text) as { caller: { sub: string; aud: string[]; reqWl?: string; scope: string } | null; receivedCredentials: string[] };
    // The user from domain A, transcribed through the grant into B's token and B's Txn-Token, for B's trust domain.
    expect(context.caller).toMatchObject({ sub: 'demo-agent', aud: [TRUST_DOMAIN_B] });
    expect(context.caller!.scope).toContain('mcp:tools');
    expect(context.receivedCredentials).toEqual([]);

    // Gateway B was called with B tokens only (one per caller, cached by gateway A), never the caller's A token.
    const presented = receivedByB.filter((v): v is string => v !== null);
    expect(presented.length).toBeGreaterThan(0);
    const tokensAtB = new Set(presented.map((v) => v.replace(/^Bearer /, '')));
    expect(tokensAtB.size).toBe(1);
    const tokenB = [...tokensAtB][0]!;
    expect(tokenB).not.toBe(callerTokenA);
    expect(decodeJwt(tokenB)).toMatchObject({ iss: issuerB, sub: 'demo-agent', aud: `${gatewayB}/mcp`, client_id: 'portcullis-egress' });
    // And nothing of either token went on to the MCP server.
    expect(sentByB.length).toBeGreaterThan(0);
    for (const headers of sentByB) {
      expect(headers.get('authorization')).toBeNull();
      for (const [, value] of headers) {
        expect(value).not.toContain(callerTokenA);
        expect(value).not.toContain(tokenB);
      }
      expect(headers.get('txn-token')).not.toBeNull();
    }
  });
});
