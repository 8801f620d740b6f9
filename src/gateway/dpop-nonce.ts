/**
 * Server-issued DPoP nonces for resource requests (RFC 9449 §9: the resource server supplies `DPoP-Nonce`, and a
 * proof must then carry the nonce; §8 describes the same at the authorization server).
 *
 * A nonce is HMAC-SHA-256(secret, period number), base64url, where a period is DPOP_NONCE_PERIOD_MS: the nonce of
 * the current period and of the previous one are accepted, so no per-nonce state is kept and every isolate that
 * holds the secret issues and accepts the same nonces. The secret is 32 random bytes kept in `state.cache` (shared
 * across isolates on Workers); an isolate reads it once. Two isolates that start at the same moment may each write
 * one; each reads the stored value back after writing, so they converge on the last write, and a client that got a
 * nonce from the loser is simply asked again (`use_dpop_nonce`) — the protocol's own recovery path.
 *
 * Does NOT: make a nonce single-use (the proof's `jti` is, through the replay store), or bind a nonce to a client.
 */
import { base64urlDecode, base64urlEncode } from '../crypto/base64url.ts';
import { DPOP_NONCE_PERIOD_MS } from '../limits.ts';
import type { Cache } from '../state/ports.ts';

export interface DpopNonces {
  /** The nonce to hand out now (`DPoP-Nonce`). */
  current(): Promise<string>;
  /** The nonces a proof may carry now: the current and the previous period's. */
  accepted(): Promise<string[]>;
}

const SECRET_KEY = 'dpop-nonce-secret:v1';
/** The secret outlives any period many times over; a lost secret only costs one use_dpop_nonce round trip. */
const SECRET_TTL_MS = 30 * 24 * 60 * 60_000;

/** A stored secret that is not base64url reads as absent (replaced), never as a load that fails forever. */
function decode(value: string): Uint8Array | undefined {
  try {
    return base64urlDecode(value);
  } catch {
    return undefined;
  }
}

export function dpopNonces(cache: Cache, now: () => number, periodMs: number = DPOP_NONCE_PERIOD_MS): DpopNonces {
  let key: Promise<CryptoKey> | undefined;
  /** The period in which `key` was read: it is read again (and its shared TTL renewed) once per period. */
  let keyPeriod: number | undefined;
  const memo = new Map<number, Promise<string>>();

  const loadKey = async (): Promise<CryptoKey> => {
    let stored = await cache.get<string>(SECRET_KEY).catch(() => undefined);
    let raw = typeof stored === 'string' ? decode(stored) : undefined;
    if (raw && raw.length === 32) {
      // Sliding expiry: the secret lives while any isolate uses it, so no isolate keeps one the others replaced.
      await cache.set(SECRET_KEY, stored, SECRET_TTL_MS).catch(() => {});
    } else {
      const fresh = crypto.getRandomValues(new Uint8Array(32));
      await cache.set(SECRET_KEY, base64urlEncode(fresh), SECRET_TTL_MS).catch(() => {});
      stored = await cache.get<string>(SECRET_KEY).catch(() => undefined);
      const readBack = typeof stored === 'string' ? decode(stored) : undefined;
      raw = readBack && readBack.length === 32 ? readBack : fresh;
    }
    return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  };

  const nonceFor = (period: number): Promise<string> => {
    let found = memo.get(period);
    if (!found) {
      // A new period re-reads the shared secret: an isolate that loaded it before it expired (or was replaced)
      // converges on the stored one within a period instead of issuing nonces no other isolate accepts.
      if (keyPeriod === undefined || period > keyPeriod) {
        key = undefined;
        keyPeriod = period;
        memo.clear();
      }
      found = (async () => {
        key ??= loadKey().catch((error: unknown) => {
          key = undefined; // retry on the next request rather than keep a failed load
          throw error;
        });
        const mac = await crypto.subtle.sign('HMAC', await key, new TextEncoder().encode(`dpop-nonce:${period}`));
        return base64urlEncode(new Uint8Array(mac));
      })();
      memo.set(period, found);
      // Keep only the periods that can still be accepted.
      for (const p of memo.keys()) if (p < period - 1) memo.delete(p);
      found.catch(() => memo.delete(period));
    }
    return found;
  };

  const period = () => Math.floor(now() / periodMs);
  return {
    current: () => nonceFor(period()),
    accepted: async () => {
      const p = period();
      return Promise.all([nonceFor(p), nonceFor(p - 1)]);
    },
  };
}
