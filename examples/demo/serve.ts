/**
 * Serves the demo upstreams on one Node port (127.0.0.1): the MCP server at `/mcp`, the A2A agent below
 * `/a2a/` (card at `/a2a/.well-known/agent-card.json`, JSON-RPC at `/a2a/jsonrpc`), and the dev OAuth
 * authorization server (authorization-server.ts) below `/as/`, issuer `http://127.0.0.1:<port>/as`, metadata at
 * `/.well-known/oauth-authorization-server/as`.
 *
 *   node examples/demo/serve.ts [--port N] [--gateway URL --trust-domain NAME]     (port default 8788)
 *
 * With `--gateway` (the gateway's origin) and `--trust-domain` (its transactionTokens.trustDomain), the MCP server
 * verifies the Txn-Token the gateway sends against `<gateway>/.well-known/jwks.json` and `whoami` reports the caller
 * it names. Tests import `startDemoUpstreams({ port: 0, txnTokens })` instead.
 */
import { pathToFileURL } from 'node:url';
import { createA2aHandler } from './a2a-agent.ts';
import { createDevAuthorizationServer, devAuthorizationServerIssuer, isAuthorizationServerPath } from './authorization-server.ts';
import { createMcpHandler } from './mcp-server.ts';
import { txnTokenVerifier, type TxnTokenVerifier } from '../../src/downstream/index.ts';
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
/** Where the MCP demo checks Txn-Tokens: the gateway's origin and trust domain (functions: in one process they are known only once both listen). */
export interface DemoTxnTokens {
  gateway: () => string;
  trustDomain: () => string;
}

export function demoHandler({ issuer, txnTokens }: { issuer?: string; txnTokens?: DemoTxnTokens } = {}): (request: Request) => Promise<Response> {
  // One verifier for both demos, made on first use (the gateway's origin may be known only then).
  let verifier: TxnTokenVerifier | undefined;
  const check: TxnTokenVerifier | undefined = txnTokens ? (request) => (verifier ??= txnTokenVerifier({ jwksUrl: `${txnTokens.gateway()}/.well-known/jwks.json`, audience: txnTokens.trustDomain() }))(request) : undefined;
  const mcp = createMcpHandler(check ? { txnTokens: check } : {});
  const a2a = createA2aHandler(check ? { basePath: '/a2a', txnTokens: check } : { basePath: '/a2a' });
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

export async function startDemoUpstreams({ port = DEFAULT_DEMO_PORT, txnTokens }: { port?: number; txnTokens?: DemoTxnTokens } = {}): Promise<DemoUpstreams> {
  // The issuer names the listening port, known only once it listens (port 0): listen first, then build the
  // handler. Nothing can reach a port 0 listener before its port is known, and the handler is set before any
  // connection is read.
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const server = await listen(
    (request) => handler ? handler(request) : new Response('starting', { status: 503, headers: { 'retry-after': '1' } }),
    { port, hostname: HOSTNAME },
  );
  const issuer = devAuthorizationServerIssuer(server.port, HOSTNAME);
  handler = demoHandler(txnTokens ? { issuer, txnTokens } : { issuer });
  return { port: server.port, close: server.close, issuer };
}

function parsePort(args: string[]): number {
  const i = args.indexOf('--port');
  if (i === -1) return DEFAULT_DEMO_PORT;
  const port = Number(args[i + 1]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${args[i + 1]}`);
  return port;
}

function parseTxnTokens(args: string[]): DemoTxnTokens | undefined {
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i === -1 ? undefined : args[i + 1];
  };
  const gateway = value('--gateway');
  const trustDomain = value('--trust-domain');
  if (gateway === undefined && trustDomain === undefined) return undefined;
  if (gateway === undefined || trustDomain === undefined) throw new Error('--gateway and --trust-domain go together');
  const origin = new URL(gateway).origin;
  return { gateway: () => origin, trustDomain: () => trustDomain };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const args = process.argv.slice(2);
    const txnTokens = parseTxnTokens(args);
    const upstreams = await startDemoUpstreams({ port: parsePort(args), ...(txnTokens ? { txnTokens } : {}) });
    console.error(`demo upstreams listening on http://${HOSTNAME}:${upstreams.port} (dev authorization server: ${upstreams.issuer})`);
    const stop = () => void upstreams.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    console.error(`demo upstreams: ${(error as Error).message}`);
    process.exit(1);
  }
}
