/**
 * For the legacy-session tests: the demo MCP server is stateless (no `Mcp-Session-Id`), so session binding needs
 * a stateful one. This starts a small stateful MCP server (the real SDK server, sessions kept in memory) and a
 * second gateway next to a running dev stack: the dev config (same dev issuer, same dev authorization server on
 * the stack's upstream port) plus a route `/stateful/mcp` with the same `auth.oauth` as `/oauth/mcp`.
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { memorySink, type AuditEvent } from '../../src/audit/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createGateway, type Gateway } from '../../src/gateway/app.ts';
import { listen } from '../../src/runtime/node.ts';
import { nodeUpstreamFetch } from '../../src/runtime/node-upstream.ts';
import { devGatewayConfig } from '../../scripts/dev-config.ts';
import type { Stack } from './stack.ts';

export interface StatefulGateway {
  gateway: string;
  audit: AuditEvent[];
  close(): Promise<void>;
}

function statefulMcpHandler(): (request: Request) => Promise<Response> {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  return async (request) => {
    const id = request.headers.get('mcp-session-id');
    if (id !== null) {
      const transport = sessions.get(id);
      if (!transport) return Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, { status: 404 });
      return transport.handleRequest(request);
    }
    const server = new McpServer({ name: 'e2e-stateful-mcp', version: '0.1.0' });
    server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
      onsessionclosed: (sid) => void sessions.delete(sid),
    });
    await server.connect(transport);
    return transport.handleRequest(request);
  };
}

export async function startStatefulGateway(stack: Stack): Promise<StatefulGateway> {
  const upstream = await listen(statefulMcpHandler(), { port: 0, hostname: '127.0.0.1' });
  let gateway: Gateway | undefined;
  const server = await listen((request, env) => gateway!.fetch(request, { clientAddress: env.incoming.socket.remoteAddress }), { port: 0, hostname: '127.0.0.1' });
  const close = async () => {
    await server.close();
    await upstream.close();
  };
  try {
    const upstreamPort = Number(new URL(stack.upstream).port);
    const dev = await devGatewayConfig({ port: server.port, upstreamPort, devDir: dirname(stack.issuerPath) });
    const input = JSON.parse(dev.json) as { routes: Record<string, unknown>[] };
    const oauthRoute = input.routes.find((r) => r.path === '/oauth/mcp')!;
    input.routes.push({ ...oauthRoute, path: '/stateful/mcp', upstream: `http://127.0.0.1:${upstream.port}/mcp` });
    const parsed = parseConfig(input);
    if (!parsed.ok) throw new Error(`stateful gateway config: ${JSON.stringify(parsed.problems)}`);
    const sink = memorySink();
    gateway = createGateway(parsed.config, { audit: sink, fetch: nodeUpstreamFetch(), readEnv: (name) => dev.env[name] });
    return { gateway: `http://127.0.0.1:${server.port}`, audit: sink.events, close };
  } catch (error) {
    await close();
    throw error;
  }
}
