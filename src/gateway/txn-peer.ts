/**
 * A peer gateway's own Txn-Token (a route's `txnToken.peers`): another External Endpoint of the same trust domain
 * forwards a request with the Txn-Token it minted, and this gateway, instead of minting a fresh transaction, replaces
 * it (draft-ietf-oauth-transaction-tokens, "Replacement Txn-Tokens"; the claims: txn-rebind.ts replacementClaims).
 *
 * - Only when the authenticated principal's `workloadId` is exactly a configured peer's (a Txn-Token is never a
 *   credential: the peer authenticated with its WIT or X509-SVID first). Anyone else's `Txn-Token` is dropped with
 *   the other inbound credentials (headers.ts) and the usual token minted.
 * - The `Txn-Token` field: absent or empty → no replacement (the usual token); more than one value →
 *   ERR_TXN_TOKEN_MALFORMED ("MUST be exactly one Txn-Token"); else verified by the downstream verifier
 *   (downstream/index.ts txnTokenVerifier, one per peer JWKS URL: a RemoteKeySet kept in memory and the state cache,
 *   refreshed in the background) with `aud` = our trust domain. Its codes (TXN_TOKEN_ERRORS) are the refusal: 401,
 *   503 for ERR_TXN_TOKEN_KEY_SOURCE_FAILED (errors.ts).
 * - Further, for the replacement: `aud` must be our trust domain alone (a replacement keeps `aud`, and the gateway
 *   mints one audience) else ERR_TXN_TOKEN_AUD_MISMATCH; and the token must have at least a second left (no
 *   replacement at or after the original's `exp`, clock skew notwithstanding) else ERR_TXN_TOKEN_EXPIRED. The
 *   replacement's lifetime is the configured one, cut to end no later than the original.
 *
 * Does NOT: decide the replacement's claims (txn-rebind.ts), sign (mint/txn-token.ts), or spend the `txn` in a replay
 * store (a transaction legitimately crosses several hops). Tokens are never logged; details name codes and counts.
 */
import type { RouteConfig } from '../config/schema.ts';
import { txnTokenVerifier, type TxnTokenVerifier } from '../downstream/index.ts';
import type { Principal } from '../identity/principal.ts';
import { fail, ok, type Result } from '../result.ts';
import type { Cache } from '../state/ports.ts';
import type { KeyFetch } from '../trust/key-source-load.ts';
import type { Background } from '../trust/remote-key-set.ts';
import type { TxnTokenErrorCode } from '../verify/errors.ts';
import type { VerifiedTxnToken } from '../verify/txn-token.ts';

export type TxnPeerConfig = NonNullable<NonNullable<RouteConfig['txnToken']>['peers']>[number];

export interface TxnPeerPorts {
  /** Our transactionTokens.trustDomain: the peer's tokens must be issued for it. */
  trustDomain: string;
  /** transactionTokens.lifetimeSeconds: the replacement's lifetime before it is cut to the original's exp. */
  lifetimeSeconds: number;
  cache: Cache;
  now: () => number;
  /** Fetches the peers' JWK Sets; default the global fetch. */
  fetch?: KeyFetch;
}

/** The peer's verified token and how long its replacement may live. */
export interface PeerTxnToken {
  token: VerifiedTxnToken;
  lifetimeSeconds: number;
}

/** undefined: no replacement (not a peer, or a peer without a Txn-Token); else the token to replace, or the refusal. */
export type PeerTxnCheck = (principal: Principal, request: Request, background: Background) => Promise<Result<PeerTxnToken | undefined, TxnTokenErrorCode>>;

/** Builds each route's check; verifiers (and their key sets) are shared by JWKS URL across routes. */
export function txnPeers(ports: TxnPeerPorts): (peers: readonly TxnPeerConfig[] | undefined) => PeerTxnCheck | undefined {
  const byUrl = new Map<string, TxnTokenVerifier>();
  const verifierFor = (jwksUrl: string) => {
    let verify = byUrl.get(jwksUrl);
    if (!verify) {
      verify = txnTokenVerifier({ jwksUrl, audience: ports.trustDomain, cache: ports.cache, now: ports.now, ...(ports.fetch ? { fetch: ports.fetch } : {}) });
      byUrl.set(jwksUrl, verify);
    }
    return verify;
  };
  return (peers) => {
    if (!peers || peers.length === 0) return undefined;
    const verifiers = new Map(peers.map((peer) => [peer.workloadId, verifierFor(peer.jwksUrl)] as const));
    return async (principal, request, background) => {
      const verify = principal.workloadId === undefined ? undefined : verifiers.get(principal.workloadId);
      if (!verify) return ok(undefined);
      const result = await verify(request, background);
      if (!result.ok) return result.code === 'ERR_TXN_TOKEN_MISSING' ? ok(undefined) : fail(result.code, result.detail);
      const token = result.value;
      if (token.aud.length !== 1) return fail('ERR_TXN_TOKEN_AUD_MISMATCH', `${token.aud.length} aud values: a replacement keeps aud, and it can only be this trust domain`);
      const lifetimeSeconds = Math.min(ports.lifetimeSeconds, Math.floor(token.exp / 1000) - Math.floor(ports.now() / 1000));
      if (lifetimeSeconds < 1) return fail('ERR_TXN_TOKEN_EXPIRED', 'less than a second left: no replacement at or after the original\'s exp');
      return ok({ token, lifetimeSeconds });
    };
  };
}
