/**
 * Serves the demo upstreams on one Node port (127.0.0.1): the MCP server at `/mcp` and the A2A agent below
 * `/a2a/` (card at `/a2a/.well-known/agent-card.json`, JSON-RPC at `/a2a/jsonrpc`).
 *
 *   node examples/demo/serve.ts [--port N]      (default 8788)
 *
 * Tests import `startDemoUpstreams({ port: 0 })` instead.
 */
import { pathToFileURL } from 'node:url';
import { createA2aHandler } from './a2a-agent.ts';
import { createMcpHandler } from './mcp-server.ts';
import { listen, type NodeServer } from '../../src/runtime/node.ts';

export const DEFAULT_DEMO_PORT = 8788;
const HOSTNAME = '127.0.0.1';

export type DemoUpstreams = NodeServer;

/** One handler for both demos, dispatched on the first path segment. */
export function demoHandler(): (request: Request) => Promise<Response> {
  const mcp = createMcpHandler();
  const a2a = createA2aHandler({ basePath: '/a2a' });
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/mcp') return mcp(request);
    if (path === '/a2a' || path.startsWith('/a2a/')) return a2a(request);
    return new Response(JSON.stringify({ error: 'not found', served: ['/mcp', '/a2a/'] }), { status: 404, headers: { 'content-type': 'application/json' } });
  };
}

export function startDemoUpstreams({ port = DEFAULT_DEMO_PORT }: { port?: number } = {}): Promise<DemoUpstreams> {
  return listen(demoHandler(), { port, hostname: HOSTNAME });
}

function parsePort(args: string[]): number {
  const i = args.indexOf('--port');
  if (i === -1) return DEFAULT_DEMO_PORT;
  const port = Number(args[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${args[i + 1]}`);
  return port;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const upstreams = await startDemoUpstreams({ port: parsePort(process.argv.slice(2)) });
    console.error(`demo upstreams listening on http://${HOSTNAME}:${upstreams.port}`);
    const stop = () => void upstreams.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    console.error(`demo upstreams: ${(error as Error).message}`);
    process.exit(1);
  }
}
