/**
 * The MCP front (protocol "mcp" routes): reads what a request asks the MCP server to do, before it is forwarded.
 *
 *   - The JSON-RPC body (read whole, bounded by the route's maxBodyBytes) and the mirrored headers of the
 *     2026-07-28 transport (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) are read and cross-checked by
 *     protocols/mcp-request.ts; a disagreement is refused (400, -32020), so a policy on the headers and one on the
 *     body can never see different operations. The calls it finds give the operation's scope requirement
 *     (oauth.ts operationRequirement).
 *   - Legacy sessions (2025-03-26 to 2025-11-25 transports, `Mcp-Session-Id`): when the upstream opens one, the
 *     session id is bound to the principal that opened it (protocols/mcp-session.ts); a request presenting the id
 *     is then refused unless it comes from that principal (403), and an id the gateway never saw opened gets 404,
 *     which makes MCP clients start a new session. A DELETE the upstream accepts ends the binding.
 * Both eras pass through unchanged otherwise: GET streams, DELETE, `Last-Event-ID`, `Mcp-Param-*`.
 *
 * Does NOT: bind sessions on public routes (there is no principal), or validate JSON-RPC params beyond the
 * method and the tool, prompt or resource name.
 */
import type { Principal } from '../identity/principal.ts';
import { MCP_SESSION_BINDING_TTL_MS } from '../limits.ts';
import { readMcpRequest, type McpRequestInfo } from '../protocols/mcp-request.ts';
import { sessionBinding, sessionOwner } from '../protocols/mcp-session.ts';
import { fail, ok, type Result } from '../result.ts';
import type { Cache } from '../state/ports.ts';
import type { McpErrorCode } from './errors.ts';

export interface McpFront {
  /** Reads and cross-checks the request (`body`: the bytes read, or undefined) and checks its session's owner. */
  inspect(request: Request, body: Uint8Array | undefined, principal: Principal | undefined): Promise<Result<McpRequestInfo, McpErrorCode>>;
  /** After the upstream answered: binds a session it opened, or ends one it closed. */
  settle(request: Request, info: McpRequestInfo, principal: Principal | undefined, response: { status: number; headers: Headers }): Promise<void>;
}

/** `namespace` keeps one route's sessions apart from another's (two upstreams may mint the same id). */
export function mcpFront(cache: Cache, namespace: string): McpFront {
  const sessions = sessionBinding(cache, { namespace });
  return {
    inspect: async (request, body, principal) => {
      const read = readMcpRequest({ method: request.method, headers: request.headers }, body);
      if (!read.ok || !principal) return read;
      // Mcp-Session-Id is forwarded in every era: a modern-era request (or one merely claiming a later revision)
      // carrying a legacy session id must not reach a legacy upstream unchecked, so any present id is checked.
      const sessionId = read.value.sessionId ?? request.headers.get('mcp-session-id') ?? undefined;
      if (sessionId === undefined || sessionId === '') return read;
      const owner = await sessionOwner(principal);
      const state = await sessions.check(sessionId, owner);
      if (state === 'foreign') return fail('ERR_MCP_SESSION_FOREIGN', 'the session was opened by another principal');
      if (state === 'unknown') return fail('ERR_MCP_SESSION_UNKNOWN', 'no session with this id was opened through the gateway (or its binding expired)');
      return ok(read.value);
    },
    settle: async (request, info, principal, response) => {
      if (!principal) return;
      const opened = response.headers.get('mcp-session-id');
      const accepted = response.status >= 200 && response.status < 300;
      if (opened !== null && opened !== info.sessionId && accepted) {
        await sessions.bind(opened, await sessionOwner(principal), MCP_SESSION_BINDING_TTL_MS);
      } else if (request.method === 'DELETE' && info.sessionId !== undefined && accepted) {
        await sessions.end(info.sessionId);
      }
    },
  };
}
