/**
 * Serves the demo upstreams on one Node port (127.0.0.1): the MCP server at `/mcp`, the A2A agent below
 * `/a2a/` (card at `/a2a/.well-known/agent-card.json`, JSON-RPC at `/a2a/jsonrpc`), and the dev OAuth
 * authorization server (authorization-server.ts) below `/as/`, issuer `http://127.0.0.1:<port>/as`, metadata at
 * `/.well-known/oauth-authorization-server/as`.
 *
 *   node examples/demo/serve.ts [--port N]      (default 8788)
 *
 * Tests import `startDemoUpstreams({ port: 0 })` instead.
 */
import { pathToFileURL } from 'node:url';
import { createA2aHandler } from './a2a-agent.ts';
import { createDevAuthorizationServer, devAuthorizationServerIssuer, isAuthorizationServerPath } from './authorization-server.ts';
import { createMcpHandler } from './mcp-server.ts';
import { listen, type NodeServer } from '../../src/runtime/node.ts';

export const DEFAULT_DEMO_PORT = 8788;
const HOSTNAME = '127.0.0.1';

export interface DemoUpstreams extends NodeServer {
  /** The dev authorization server's issuer, `http://127.0.0.1:<port>/as`. */
  issuer: string;
}

/**
 * One handler for the demos, dispatched on the path. The authorization server is mounted only when `issuer` is
 * given (its URLs name the listener's own origin): `devAuthorizationServerIssuer(port)`.
 */
export function demoHandler({ issuer }: { issuer?: string } = {}): (request: Request) => Promise<Response> {
  const mcp = createMcpHandler();
  const a2a = createA2aHandler({ basePath: '/a2a' });
  const as = issuer === undefined ? undefined : createDevAuthorizationServer({ issuer });
  const served = ['/mcp', '/a2a/', ...(as ? ['/as/'] : [])];
  return async (request) => {
    const path = new URL(request.url).pathname;
    if (path === '/mcp') return mcp(request);
    if (path === '/a2a' || path.startsWith('/a2a/')) return a2a(request);
    if (as && isAuthorizationServerPath(path)) return as.fetch(request);
    return new Response(JSON.stringify({ error: 'not found', served }), { status: 404, headers: { 'content-type': 'application/json' } });
  };
}

export async function startDemoUpstreams({ port = DEFAULT_DEMO_PORT }: { port?: number } = {}): Promise<DemoUpstreams> {
  // The issuer names the listening port, known only once it listens (port 0): listen first, then build the
  // handler. Nothing can reach a port 0 listener before its port is known, and the handler is set before any
  // connection is read.
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const server = await listen(
    (request) => handler ? handler(request) : new Response('starting', { status: 503, headers: { 'retry-after': '1' } }),
    { port, hostname: HOSTNAME },
  );
  const issuer = devAuthorizationServerIssuer(server.port, HOSTNAME);
  handler = demoHandler({ issuer });
  return { port: server.port, close: server.close, issuer };
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
    console.error(`demo upstreams listening on http://${HOSTNAME}:${upstreams.port} (dev authorization server: ${upstreams.issuer})`);
    const stop = () => void upstreams.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    console.error(`demo upstreams: ${(error as Error).message}`);
    process.exit(1);
  }
}
