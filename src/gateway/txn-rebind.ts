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
 *     method and tool / prompt / resource name of each call; on A2A routes the A2A method (1.0 name) and task id.
 *
 * A peer gateway's Txn-Token (route `txnToken.peers`, verified by txn-peer.ts) is replaced instead (replacementClaims,
 * the draft's "Replacement Txn-Tokens"): `txn`, `sub`, `aud` and `tctx` kept; `scope` = the peer token's scope-tokens
 * that this call was also authorized with (never wider; none → ERR_TXN_TOKEN_PEER_SCOPE); `req_wl` the peer; `rctx`
 * the peer's, with this hop's facts (authn, req_ip, token_iss, client_id, and route / mcp, which a fresh token carries
 * in tctx) replacing the peer's values for those names, and `req_wl_chain` = the peer token's chain + its `req_wl`
 * (txn/exchange.ts replacementChain; longer than MAX_TXN_REPLACEMENTS → ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG).
 *
 * Does NOT: sign (mint/txn-token.ts), choose keys (txn/key-ring.ts), verify a peer's token or bound the lifetime
 * (txn-peer.ts), or accept anyone else's Txn-Token (dropped).
 */
import type { Principal } from '../identity/principal.ts';
import { MAX_TXN_REPLACEMENTS } from '../limits.ts';
import type { TxnTokenClaims } from '../mint/txn-token.ts';
import type { McpCall } from '../protocols/mcp-request.ts';
import { fail, ok, type Result } from '../result.ts';
import { REQ_WL_CHAIN, replacementChain } from '../txn/exchange.ts';
import type { VerifiedTxnToken } from '../verify/txn-token.ts';

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
  /** The A2A operation (protocols/a2a-request.ts), on A2A routes when the request names one. */
  a2a?: { method: string; taskId?: string };
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
  if (ctx.a2a) tctx.a2a = ctx.a2a.taskId === undefined ? { method: ctx.a2a.method } : { method: ctx.a2a.method, task_id: ctx.a2a.taskId };
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

/** rctx / tctx members that describe one hop: on a replacement this hop's values (or none) replace the peer's. */
const HOP_FACTS = ['authn', 'req_ip', 'token_iss', 'client_id', 'route', 'mcp', REQ_WL_CHAIN];

/** The replacement of a peer's verified Txn-Token, from the claims this call would get on its own (txnClaims). */
export function replacementClaims(own: TxnTokenClaims, peer: VerifiedTxnToken): Result<TxnTokenClaims, 'ERR_TXN_TOKEN_PEER_SCOPE' | 'ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG'> {
  const authorized = new Set(own.scope.split(' '));
  const scope = [...new Set(peer.scope)].filter((s) => authorized.has(s));
  if (scope.length === 0) return fail('ERR_TXN_TOKEN_PEER_SCOPE', `none of the peer token's ${peer.scope.length} scope-token(s) among the ${authorized.size} this call was authorized with`);
  const chain = replacementChain(peer.rctx, peer.reqWl);
  if (chain.length > MAX_TXN_REPLACEMENTS) return fail('ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG', `replaced ${chain.length} times`);
  const rctx: Record<string, unknown> = { ...peer.rctx };
  for (const name of HOP_FACTS) delete rctx[name];
  Object.assign(rctx, own.rctx, own.tctx, { [REQ_WL_CHAIN]: chain });
  const claims: TxnTokenClaims = { aud: own.aud, sub: peer.sub, txn: peer.txn, req_wl: own.req_wl, scope: scope.join(' '), rctx };
  if (peer.tctx !== undefined) claims.tctx = peer.tctx;
  return ok(claims);
}
