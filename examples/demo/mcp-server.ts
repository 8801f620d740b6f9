/**
 * Demo MCP server (upstream of the dev stack): a real @modelcontextprotocol/sdk server behind a Web-standard
 * `(Request) => Promise<Response>` handler, so any runtime (or the gateway in-process) can serve it.
 *
 * Tools:
 * - `echo`   returns its `text` argument;
 * - `whoami` returns the caller context as this upstream sees it: who called, from the Transaction Token the gateway
 *            sent (`Txn-Token`, verified against the gateway's JWK Set with portcullis/downstream when the handler
 *            is given a verifier), and the request id, forwarding fields and which caller credential headers reached
 *            it (none should), so tests can check what the gateway passes on and what it strips.
 *
 * A request whose Txn-Token does not verify is refused (401, the verifier's code), as any receiving workload must
 * (draft-ietf-oauth-transaction-tokens); a request without one is served, so the demo also runs without the gateway.
 *
 * Stateless Streamable HTTP: a fresh server and transport per request (the SDK's transport refuses reuse in
 * stateless mode). No Host/Origin allow-list is configured, because behind the gateway the Host is the
 * upstream's own address and the gateway, not this demo, is the trust boundary.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';
import { txnTokenFailureResponse, type TxnTokenVerifier, type VerifiedTxnToken } from '../../src/downstream/index.ts';

/**
 * Credential headers a caller may present; the gateway must keep every one of them from reaching here. (`Txn-Token`
 * is not among them: the gateway replaces a caller's with its own, which is how this upstream learns the caller.)
 */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'dpop', 'workload-identity-token', 'workload-proof-token', 'signature', 'signature-input'];

type HeaderBag = Record<string, string | string[] | undefined>;

function first(headers: HeaderBag, name: string): string | null {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** Who called, as a verified Txn-Token says (null without one). */
export type TxnCaller = Pick<VerifiedTxnToken, 'sub' | 'reqWl' | 'scope' | 'txn' | 'aud' | 'tctx' | 'rctx'> | null;

/** The caller context as seen here; exported so other demos and tests describe it the same way. */
export function callerContext(headers: HeaderBag, caller: TxnCaller = null) {
  return {
    caller,
    requestId: first(headers, 'x-request-id'),
    forwarded: {
      host: first(headers, 'x-forwarded-host'),
      proto: first(headers, 'x-forwarded-proto'),
      prefix: first(headers, 'x-forwarded-prefix'),
      for: first(headers, 'x-forwarded-for'),
    },
    receivedCredentials: CREDENTIAL_HEADERS.filter((name) => headers[name] !== undefined),
  };
}

function buildServer(caller: TxnCaller): McpServer {
  const server = new McpServer({ name: 'portcullis-demo-mcp', version: '0.1.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given.', inputSchema: { text: z.string().describe('Text to echo back.') } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'whoami',
    { description: 'Returns the caller context as this upstream received it (JSON).' },
    async (extra) => ({ content: [{ type: 'text', text: JSON.stringify(callerContext(extra.requestInfo?.headers ?? {}, caller)) }] }),
  );
  return server;
}

function methodNotAllowed(): Response {
  // Stateless: there is no session to stream to (GET) or to end (DELETE). The SDK client treats 405 on GET
  // as "no standalone stream" and carries on.
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }), {
    status: 405,
    headers: { allow: 'POST', 'content-type': 'application/json' },
  });
}

/** `txnTokens`: portcullis/downstream's txnTokenVerifier for the gateway's JWK Set and trust domain. */
export function createMcpHandler({ txnTokens }: { txnTokens?: TxnTokenVerifier } = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'POST') return methodNotAllowed();
    let caller: TxnCaller = null;
    if (txnTokens && request.headers.has('txn-token')) {
      const checked = await txnTokens(request);
      if (!checked.ok) return txnTokenFailureResponse(checked.code);
      const { sub, reqWl, scope, txn, aud, tctx, rctx } = checked.value;
      caller = { sub, reqWl, scope, txn, aud, ...(tctx ? { tctx } : {}), ...(rctx ? { rctx } : {}) };
    }
    const server = buildServer(caller);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    return transport.handleRequest(request);
  };
}
