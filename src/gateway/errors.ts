/**
 * Gateway-generated error responses. Two shapes (DESIGN principle 2): RFC 9457 problem+json everywhere,
 * and a JSON-RPC error body on MCP routes, because MCP clients read a 4xx without a JSON-RPC body as
 * "legacy server" or "session expired" (MCP 2026-07-28 transports; 2025-11-25 session handling). The wire
 * carries a stable code and the request id, never the input that caused the error.
 */
import type { Protocol } from '../config/schema.ts';

export type ErrorCode =
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_PATH_INVALID'
  | 'ERR_HEADERS_TOO_LARGE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_UPSTREAM_TIMEOUT'
  | 'ERR_UPSTREAM_UNREACHABLE'
  | 'ERR_UPSTREAM_INVALID'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_INTERNAL';

interface ErrorSpec {
  status: number;
  title: string;
  /** For the audit event: `deny` when the caller's request was refused, `error` when the gateway or upstream failed. */
  decision: 'deny' | 'error';
}

const ERRORS: Record<ErrorCode, ErrorSpec> = {
  ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No route matches this path', decision: 'deny' },
  ERR_PATH_INVALID: { status: 400, title: 'Ambiguous request path', decision: 'deny' },
  ERR_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large', decision: 'deny' },
  ERR_BODY_TOO_LARGE: { status: 413, title: 'Request body too large', decision: 'deny' },
  ERR_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream did not answer in time', decision: 'error' },
  ERR_UPSTREAM_UNREACHABLE: { status: 502, title: 'Upstream unreachable', decision: 'error' },
  ERR_UPSTREAM_INVALID: { status: 502, title: 'Upstream sent an invalid response', decision: 'error' },
  ERR_CONFIG_INVALID: { status: 503, title: 'Gateway not configured', decision: 'error' },
  ERR_INTERNAL: { status: 500, title: 'Internal gateway error', decision: 'error' },
};

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

/** JSON-RPC "server error" range (JSON-RPC 2.0 §5.1): the gateway, not the MCP server, refused the call. */
const JSONRPC_GATEWAY_ERROR = -32000;

export function errorResponse(code: ErrorCode, requestId: string, protocol?: Protocol): Response {
  const { status, title } = ERRORS[code];
  const headers = new Headers({ 'x-request-id': requestId, 'cache-control': 'no-store' });
  let body: string;
  if (protocol === 'mcp') {
    headers.set('content-type', 'application/json');
    body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: JSONRPC_GATEWAY_ERROR, message: title, data: { status, code, requestId } } });
  } else {
    headers.set('content-type', 'application/problem+json');
    body = JSON.stringify({ type: 'about:blank', title, status, code, requestId });
  }
  return new Response(body, { status, headers });
}
