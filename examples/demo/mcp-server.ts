/**
 * Demo MCP server (upstream of the dev stack): a real @modelcontextprotocol/sdk server behind a Web-standard
 * `(Request) => Promise<Response>` handler, so any runtime (or the gateway in-process) can serve it.
 *
 * Tools:
 * - `echo`   returns its `text` argument;
 * - `whoami` returns the caller context as this upstream sees it (request id, forwarding fields, and which
 *            credential headers reached it), so tests can check what the gateway passes on and what it strips.
 *            It cannot say who the caller is: the gateway authenticates callers but passes no identity upstream
 *            yet (no Txn-Token), so the caller is named only in the gateway's audit event.
 *
 * Stateless Streamable HTTP: a fresh server and transport per request (the SDK's transport refuses reuse in
 * stateless mode). No Host/Origin allow-list is configured, because behind the gateway the Host is the
 * upstream's own address and the gateway, not this demo, is the trust boundary.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { z } from 'zod';

/** Credential headers a caller may present; the gateway must keep every one of them from reaching here. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'dpop', 'workload-identity-token', 'workload-proof-token', 'signature', 'signature-input', 'txn-token'];

type HeaderBag = Record<string, string | string[] | undefined>;

function first(headers: HeaderBag, name: string): string | null {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** The caller context as seen here; exported so other demos and tests describe it the same way. */
export function callerContext(headers: HeaderBag) {
  return {
    // The gateway does not mint Transaction Tokens yet, so nothing here says who called; report that plainly
    // rather than invent an identity.
    txnToken: first(headers, 'txn-token'),
    note: 'this upstream is not told who the caller is: the gateway does not mint Transaction Tokens in this version. '
      + 'On a route that requires authentication the gateway knows the caller; it is named only in the gateway\'s audit event for this requestId.',
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

function buildServer(): McpServer {
  const server = new McpServer({ name: 'portcullis-demo-mcp', version: '0.1.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given.', inputSchema: { text: z.string().describe('Text to echo back.') } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  server.registerTool(
    'whoami',
    { description: 'Returns the caller context as this upstream received it (JSON).' },
    async (extra) => ({ content: [{ type: 'text', text: JSON.stringify(callerContext(extra.requestInfo?.headers ?? {})) }] }),
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

export function createMcpHandler(): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'POST') return methodNotAllowed();
    const server = buildServer();
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    return transport.handleRequest(request);
  };
}
