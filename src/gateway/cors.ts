/**
 * CORS for what browser clients of an OAuth resource server must read (Fetch standard, CORS protocol): the RFC 9728
 * metadata, and on routes with `auth.oauth` the challenges of a refusal (`WWW-Authenticate`, `DPoP-Nonce`: RFC 9449
 * §8, §9) and the MCP session fields. Access tokens are sent explicitly, never as ambient credentials (cookies), so
 * any origin may call: `Access-Control-Allow-Origin: *` without `Allow-Credentials`.
 *
 * Does NOT: restrict origins (the token is what authorizes), or add CORS to routes without `auth.oauth` (a
 * workload calling with a WIT is not a browser).
 */

/** Fields a browser client of an OAuth route may read from a response. */
const EXPOSED = 'WWW-Authenticate, DPoP-Nonce, Mcp-Session-Id, Mcp-Protocol-Version';

/** Added to every response of an OAuth route (refusals included). */
export const OAUTH_CORS: Readonly<Record<string, string>> = { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED };

/** A CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(request: Request): boolean {
  return request.method === 'OPTIONS' && request.headers.has('origin') && request.headers.has('access-control-request-method');
}

/** The answer to a preflight for `methods`; the requested headers are allowed (a client sends Authorization, DPoP, MCP-Protocol-Version). */
export function preflightResponse(request: Request, methods: string, requestId: string): Response {
  const headers: Record<string, string> = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': methods,
    'access-control-max-age': '600',
    vary: 'Access-Control-Request-Headers',
    'x-request-id': requestId,
  };
  const asked = request.headers.get('access-control-request-headers');
  if (asked !== null && asked.length <= 1024) headers['access-control-allow-headers'] = asked;
  return new Response(null, { status: 204, headers });
}
