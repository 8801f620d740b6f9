/**
 * Per-request re-binding (draft-ietf-oauth-transaction-tokens §2, §7: the gateway as the trust domain's External
 * Endpoint): once a request is authenticated and authorized, the upstream learns who is calling, on whose behalf and
 * with what authority from a Transaction Token the gateway mints, never from the caller's own credentials (which
 * headers.ts strips, a caller's `Txn-Token` included).
 *
 * The claims:
 *   - `sub`: the user an access token speaks for when there is one (delegation), else the calling workload;
 *   - `req_wl`: the calling workload (its workload identifier), or, with an access token alone, the OAuth client;
 *   - `scope`: what this call was authorized with: the scopes its operation required, else the token's granted
 *     scopes, else the route's configured default (`route:<path>` unless set: a workload credential carries no
 *     scopes, and the claim is a non-empty scope string);
 *   - `rctx` (request context): the authentication method (`authn`), the client address, and for an access token
 *     its issuer and client;
 *   - `tctx` (transaction context, immutable down the call chain): the route, and on MCP routes the JSON-RPC
 *     method and tool / prompt / resource name of each call.
 *
 * Does NOT: sign (mint/txn-token.ts), choose keys (txn/key-ring.ts), or accept a caller's Txn-Token (dropped).
 */
import type { Principal } from '../identity/principal.ts';
import type { TxnTokenClaims } from '../mint/txn-token.ts';
import type { McpCall } from '../protocols/mcp-request.ts';

export interface RebindContext {
  /** `aud`: the trust domain the upstreams belong to. */
  trustDomain: string;
  /** The route's mount path. */
  route: string;
  /** The scopes the operation required (oauth.ts operationRequirement), possibly none. */
  requiredScopes: readonly string[];
  /** The scope of a call that carries none of its own (a Txn-Token's scope is never empty). */
  defaultScope: readonly string[];
  /** The MCP calls the request carries (mcp-front.ts), none on other routes. */
  calls?: readonly McpCall[];
  clientAddress?: string;
}

export function txnClaims(principal: Principal, ctx: RebindContext): TxnTokenClaims {
  const user = principal.user;
  const granted = ctx.requiredScopes.length > 0 ? ctx.requiredScopes : (user?.scopes ?? []);
  const scopes = granted.length > 0 ? granted : ctx.defaultScope;
  const rctx: Record<string, unknown> = { authn: principal.credential };
  if (ctx.clientAddress !== undefined) rctx.req_ip = ctx.clientAddress;
  if (user) {
    rctx.token_iss = user.issuer;
    rctx.client_id = user.clientId;
  }
  const tctx: Record<string, unknown> = { route: ctx.route };
  if (ctx.calls && ctx.calls.length > 0) tctx.mcp = ctx.calls.map((call) => (call.name === undefined ? { method: call.method } : { method: call.method, name: call.name }));
  return {
    aud: ctx.trustDomain,
    // Config validation and authentication guarantee one of the two: a principal names a workload or a user.
    sub: user?.subject ?? principal.workloadId!,
    req_wl: principal.workloadId ?? user!.clientId,
    scope: scopes.join(' '),
    rctx,
    tctx,
  };
}
