/**
 * For the upstream agents and services behind the gateway: check the Txn-Token the gateway (the trust domain's
 * Transaction Token Service) attached to a request, as a plain function or as Hono middleware.
 *
 * Spec: draft-ietf-oauth-transaction-tokens-09/-10, "Txn-Token HTTP Header" (the token travels in `Txn-Token`, never
 * `Authorization`; "The value of this header MUST be exactly one Txn-Token"), the receiving workload's validation
 * (signature, `aud` = this trust domain, not expired: verify/txn-token.ts does all of it), Security Considerations
 * ("Workloads MUST retrieve configuration information from a trusted source"; tokens "MUST NOT be logged verbatim").
 *
 * - Keys: only from `jwksUrl`, configuration (https, or http to a loopback host; checked at construction), never from
 *   the token. Kept by a RemoteKeySet (trust/remote-key-set.ts): served from memory, refreshed in the background
 *   every DEFAULT_KEY_REFRESH_SECONDS, refetched at once for an unknown `kid` (a key the gateway just rotated in) at
 *   most once per DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS, last-known keys through an outage of at most
 *   DEFAULT_KEY_MAX_STALE_SECONDS, then ERR_TXN_TOKEN_KEY_SOURCE_FAILED (503, fail closed). Fetches are bounded
 *   (timeout, no redirects, 200 only, MAX_KEY_SET_BYTES). With `cache` (a shared Cache port) isolates share one copy.
 *   Keys qualify when `use` is absent or `sig` and they have a `kid`.
 * - Header: absent or empty → ERR_TXN_TOKEN_MISSING; more than one value (repeated fields, which the Fetch API joins
 *   with ", ", or a list) → ERR_TXN_TOKEN_MALFORMED.
 * - Middleware: on success `c.set('txnToken', verified)` and next(); on failure the response of
 *   downstream/errors.ts (401 problem+json with the code, 503 when keys or the replay store are unavailable; no
 *   challenge: Txn-Tokens have no auth scheme). Neither echoes the token.
 *
 * Does NOT: authenticate the caller (a Txn-Token is not a credential of the workload presenting it: pair it with
 * mTLS, a WIT, or an HTTP signature), authorize (read `scope`, `tctx` from the verified claims), forward the token
 * downstream (outbound calls "MUST include the Txn-Token as it was received": copy the header), or cache results.
 */
import type { MiddlewareHandler } from 'hono';
import { fetchUrlProblem } from '../config/trust-domains.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { DEFAULT_KEY_MAX_STALE_SECONDS, DEFAULT_KEY_REFRESH_SECONDS, DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS } from '../limits.ts';
import type { Result } from '../result.ts';
import { fail } from '../result.ts';
import { memoryCache } from '../state/memory.ts';
import type { Cache, ReplayStore } from '../state/ports.ts';
import { fetchKeySetText, type KeyFetch } from '../trust/key-source-load.ts';
import { RemoteKeySet, type Background } from '../trust/remote-key-set.ts';
import type { TxnTokenErrorCode } from '../verify/errors.ts';
import { verifyTxnToken, type VerifiedTxnToken } from '../verify/txn-token.ts';
import { txnTokenFailureResponse, type DownstreamTxnTokenErrorCode } from './errors.ts';

export type { VerifiedTxnToken } from '../verify/txn-token.ts';
export type { TxnTokenErrorCode } from '../verify/errors.ts';
export { TXN_TOKEN_ERRORS } from '../verify/errors.ts';
export { DOWNSTREAM_TXN_TOKEN_ERRORS, TXN_TOKEN_REQUEST_ERRORS, txnTokenFailureResponse, txnTokenFailureStatus, type DownstreamTxnTokenErrorCode, type TxnTokenRequestErrorCode } from './errors.ts';
export type { KeyFetch } from '../trust/key-source-load.ts';

export interface TxnTokenVerifierOptions {
  /** The gateway's Txn-Token JWKS (configuration: https, or http to a loopback host). */
  jwksUrl: string;
  /** This workload's trust domain: the token's `aud` must contain it. */
  audience: string;
  /** Default the global fetch. */
  fetch?: KeyFetch;
  /** Where the fetched key set is shared across isolates; default a private in-memory cache. */
  cache?: Cache;
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  /** Default ['ES256']. */
  algorithms?: readonly string[];
  /** Refuse a `txn` seen before: only for a receiver that expects one call per transaction (verify/txn-token.ts). */
  replay?: ReplayStore;
  /** One line per failed key-set load (no key material); default a JSON line on stderr. */
  warn?: (line: Record<string, unknown>) => void;
}

/** `background` runs the key set's refreshes past the request (a Workers `waitUntil`); default: they just run. */
export type TxnTokenVerifier = (request: Request, background?: Background) => Promise<Result<VerifiedTxnToken, TxnTokenErrorCode | 'ERR_TXN_TOKEN_MISSING'>>;

export interface TxnTokenVariables {
  txnToken: VerifiedTxnToken;
}

/** Runs work that may outlive the request; without a runtime hook it just runs. */
const detached: Background = (pending) => {
  pending.catch(() => {});
};

/** Builds the verifier once (it holds the key set); call it per request. Throws on a bad `jwksUrl` or `audience`. */
export function txnTokenVerifier(options: TxnTokenVerifierOptions): TxnTokenVerifier {
  const verify = buildVerifier(options);
  return (request, background = detached) => verify(request, background);
}

/** Hono middleware: verified claims in `c.get('txnToken')`, or a 401 / 503 problem+json with the code. */
export function requireTxnToken(options: TxnTokenVerifierOptions): MiddlewareHandler<{ Variables: TxnTokenVariables }> {
  const verify = buildVerifier(options);
  return async (c, next) => {
    let background = detached;
    try {
      const ctx = c.executionCtx; // throws outside Workers
      background = (pending) => ctx.waitUntil(pending.catch(() => {}));
    } catch {
      // no execution context: background refreshes just run
    }
    const result = await verify(c.req.raw, background);
    if (!result.ok) return txnTokenFailureResponse(result.code as DownstreamTxnTokenErrorCode);
    c.set('txnToken', result.value);
    await next();
  };
}

function buildVerifier(options: TxnTokenVerifierOptions): (request: Request, background: Background) => Promise<Result<VerifiedTxnToken, TxnTokenErrorCode | 'ERR_TXN_TOKEN_MISSING'>> {
  const { jwksUrl, audience } = options;
  const problem = typeof jwksUrl === 'string' ? fetchUrlProblem(jwksUrl) : 'must be a string';
  if (problem) throw new TypeError(`jwksUrl ${problem}`);
  if (typeof audience !== 'string' || audience.length === 0) throw new TypeError('audience must be the non-empty name of this trust domain');
  const now = options.now ?? Date.now;
  const fetchImpl: KeyFetch = options.fetch ?? ((url, init) => fetch(url, init));
  const warn = options.warn ?? ((line) => console.error(JSON.stringify(line)));
  let cacheKey: Promise<string> | undefined;
  const keys = new RemoteKeySet({
    location: jwksUrl,
    // Names the URL: another JWKS never serves this one's shared copy.
    cacheKey: () => (cacheKey ??= sha256b64url(jwksUrl).then((h) => `txn-token-keys:${h}`)),
    format: 'jwks',
    load: () => fetchKeySetText(fetchImpl, jwksUrl),
    cache: options.cache ?? memoryCache({ now }),
    now,
    refreshMs: DEFAULT_KEY_REFRESH_SECONDS * 1000,
    unknownKidCooldownMs: DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS * 1000,
    maxStaleMs: DEFAULT_KEY_MAX_STALE_SECONDS * 1000,
    warn,
  });

  return async (request, background) => {
    const value = request.headers.get('txn-token');
    if (value === null || value === '') return fail('ERR_TXN_TOKEN_MISSING', 'no Txn-Token header field');
    // A compact JWS has no comma or space: either means several values (the draft: exactly one Txn-Token).
    if (/[,\s]/.test(value)) return fail('ERR_TXN_TOKEN_MALFORMED', 'the Txn-Token field carries more than one value');
    const ctx: Parameters<typeof verifyTxnToken>[1] = {
      keys: async (kid) => (await keys.find('access-token', kid, background))?.jwk,
      audience,
      now,
    };
    if (options.algorithms !== undefined) ctx.algorithms = options.algorithms;
    if (options.replay !== undefined) ctx.replay = options.replay;
    return verifyTxnToken(value, ctx);
  };
}
