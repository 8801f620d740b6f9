/**
 * The gateway's rotating Txn-Token signing keys (draft-ietf-oauth-transaction-tokens-09/-10, "Txn-Token Format",
 * JWT header: "Key rotation of the signing key SHOULD be supported through the use of a `kid` Header Parameter";
 * Security Considerations: key rotation MAY follow OpenID Connect Core §10.1.1), shared by every isolate.
 *
 * Rotation is by period number: period = floor(now / rotationMs). Each period has its own ES256 key (kid = RFC 7638
 * thumbprint). The key of period p signs during p; it is published (publicKeys) during p and p + 1, so a token signed
 * just before a rotation verifies for its whole life: rotationMs ≥ MIN_TXN_KEY_ROTATION_MS = the longest token
 * (MAX_TXN_TOKEN_LIFETIME_SECONDS) plus the largest clock skew. From the middle of period p the key of p + 1 is generated
 * ahead and published too, so verifiers that refresh their JWKS every few minutes hold it before it signs anything.
 *
 * Shared state: one JSON ring under TXN_KEY_RING_CACHE_KEY (or the caller's `cacheKey`) in `state.cache` (a Durable Object on Workers), holding
 * the PRIVATE JWKs of the periods still in use. That is deliberate: every isolate must sign with the same key, and
 * the Cache port is the only state all isolates share. So the state store holds signing secrets and must be treated
 * like one: it is the gateway's own Durable Object (or process memory), never a store reachable by others. The ring is
 * never logged, and errors here never quote it.
 *
 * Generate-if-absent race (as in gateway/dpop-nonce.ts): an isolate that finds no key for the period generates one,
 * writes the ring, reads it back, and signs with what it read, so concurrent isolates converge on the last write. A
 * key an isolate signed with that a later write lost is put back (as a second candidate of that period, published
 * but not chosen) the next time the isolate reads the ring, so no signed token is left without its public key for
 * longer than TXN_KEY_RING_REREAD_MS.
 *
 * Per isolate: signingKey() re-reads the ring when the period changes and at most every TXN_KEY_RING_REREAD_MS; in
 * between it returns the memoised, already imported key (no store round trip, no import on the hot path).
 * publicKeys() reads the shared ring on every call (the JWKS route is not the hot path), so whichever isolate serves
 * it publishes the keys every isolate signs with.
 *
 * Does NOT: sign (mint/txn-token.ts does), serve the JWKS route (the caller publishes publicKeys()), revoke a key
 * early, or support another algorithm than ES256 (cheap to generate, small signatures, on every runtime).
 */
import type { JWK } from 'jose';
import { publicJwk } from '../crypto/algorithms.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { DEFAULT_TXN_KEY_ROTATION_MS, MAX_TXN_KEYS_PER_PERIOD, MIN_TXN_KEY_ROTATION_MS, TXN_KEY_RING_REREAD_MS } from '../limits.ts';
import type { PublishedJwk } from '../mint/keys.ts';
import type { Cache } from '../state/ports.ts';

export interface TxnSigningKey {
  kid: string;
  alg: 'ES256';
  key: CryptoKey;
}

export interface TxnKeyRing {
  /** The key to sign with now (rotating every rotationMs; generated when due). */
  signingKey(): Promise<TxnSigningKey>;
  /** Public JWKs to publish: the current key and the previous one (tokens signed just before a rotation still verify), plus the next if already generated. kid = RFC 7638 thumbprint, alg, use "sig". */
  publicKeys(): Promise<PublishedJwk[]>;
}

export interface TxnKeyRingOptions {
  /** Epoch milliseconds. */
  now: () => number;
  /** Default DEFAULT_TXN_KEY_ROTATION_MS; at least MIN_TXN_KEY_ROTATION_MS. */
  rotationMs?: number;
  /** Where the ring is kept in `state.cache`. Default TXN_KEY_RING_CACHE_KEY; another purpose (Agent Card signing,
   * AGENT_CARD_KEY_RING_CACHE_KEY) keeps a ring of its own, so no key ever signs two kinds of object. */
  cacheKey?: string;
}

/** Key of the shared ring in `state.cache` (versioned: a later format uses another key). */
export const TXN_KEY_RING_CACHE_KEY = 'txn-signing-keys:v1';
/** Key of the Agent Card signing ring (gateway/a2a-card.ts). */
export const AGENT_CARD_KEY_RING_CACHE_KEY = 'agent-card-signing-keys:v1';

/** One stored key: the period it signs in, and its private JWK (EC P-256, with `kid` and `alg`). */
interface RingEntry {
  period: number;
  jwk: JWK;
}

interface StoredRing {
  keys: RingEntry[];
}

/** What an isolate holds between reads. */
interface Memo {
  period: number;
  readAt: number;
  entries: RingEntry[];
  signing: TxnSigningKey;
}

const GENERATE = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export function txnKeyRing(cache: Cache, options: TxnKeyRingOptions): TxnKeyRing {
  const rotationMs = options.rotationMs ?? DEFAULT_TXN_KEY_ROTATION_MS;
  if (!Number.isSafeInteger(rotationMs) || rotationMs < MIN_TXN_KEY_ROTATION_MS) {
    throw new RangeError(`rotationMs must be an integer of at least ${MIN_TXN_KEY_ROTATION_MS} (the longest Txn-Token plus clock skew)`);
  }
  const now = options.now;
  const cacheKey = options.cacheKey ?? TXN_KEY_RING_CACHE_KEY;
  /** The stored ring outlives the periods it covers; every write renews it. */
  const ttlMs = 3 * rotationMs;
  /** Imported private keys by kid (keys of other periods are few; pruned with the ring). */
  const imported = new Map<string, Promise<CryptoKey>>();
  /** Keys this isolate signed with, so a lost write can be healed: kid → entry. */
  const used = new Map<string, RingEntry>();
  let memo: Memo | undefined;
  let pending: Promise<Memo> | undefined;

  const importPrivate = (jwk: JWK): Promise<CryptoKey> => {
    const kid = jwk.kid as string;
    let found = imported.get(kid);
    if (!found) {
      const { kty, crv, x, y, d } = jwk;
      found = crypto.subtle.importKey('jwk', { kty, crv, x, y, d } as JsonWebKey, GENERATE, false, ['sign']) as Promise<CryptoKey>;
      imported.set(kid, found);
      found.catch(() => imported.delete(kid));
    }
    return found;
  };

  // A failing store rejects (the caller fails closed, 503): a key only this isolate held could not be published by
  // the others, so the tokens it signed would not verify where the JWK Set is served by another isolate.
  const read = async (): Promise<RingEntry[]> => parseRing(await cache.get<unknown>(cacheKey));

  const write = (entries: RingEntry[]): Promise<void> => cache.set(cacheKey, { keys: entries } satisfies StoredRing, ttlMs);

  /** Reads the ring, adds what is missing (keys for `period` and, when due, `period + 1`; lost keys this isolate used), writes, reads back. */
  const load = async (period: number): Promise<Memo> => {
    const readAt = now();
    let entries = await read();
    const missing: RingEntry[] = [];
    for (const entry of used.values()) {
      if (entry.period >= period - 1 && !entries.some((e) => e.jwk.kid === entry.jwk.kid)) missing.push(entry);
    }
    const wantNext = readAt >= period * rotationMs + rotationMs / 2;
    for (const p of wantNext ? [period, period + 1] : [period]) {
      if (!entries.some((e) => e.period === p) && !missing.some((e) => e.period === p)) missing.push({ period: p, jwk: await generate() });
    }
    let mine: RingEntry[] = [];
    if (missing.length > 0) {
      mine = missing;
      await write(prune([...entries, ...missing], period));
      const readBack = await read();
      // A store that lost the write (without failing) still leaves this isolate a key to sign with: its own, which
      // the next load writes back (the `used` keys above).
      entries = prune(mergeMissing(readBack, missing), period);
    } else {
      entries = prune(entries, period);
    }
    const current = entries.find((e) => e.period === period) ?? mine.find((e) => e.period === period)!;
    const signing: TxnSigningKey = { kid: current.jwk.kid as string, alg: 'ES256', key: await importPrivate(current.jwk) };
    used.set(signing.kid, current);
    for (const [kid, entry] of used) if (entry.period < period - 1) used.delete(kid);
    const live = new Set(entries.map((e) => e.jwk.kid as string));
    for (const kid of imported.keys()) if (!live.has(kid)) imported.delete(kid);
    return { period, readAt, entries, signing };
  };

  const fresh = (force: boolean): Promise<Memo> => {
    const period = Math.floor(now() / rotationMs);
    const m = memo;
    if (!force && m && m.period === period && now() - m.readAt < TXN_KEY_RING_REREAD_MS) return Promise.resolve(m);
    if (pending) return pending;
    const run = load(period)
      .then((loaded) => {
        // A slower load for an older period must not replace a newer memo.
        if (!memo || loaded.period >= memo.period) memo = loaded;
        return loaded;
      })
      .finally(() => {
        if (pending === run) pending = undefined;
      });
    pending = run;
    return run;
  };

  return {
    async signingKey() {
      const m = memo;
      // Hot path: a memo of this period read within the re-read interval.
      if (m && m.period === Math.floor(now() / rotationMs) && now() - m.readAt < TXN_KEY_RING_REREAD_MS) return m.signing;
      return (await fresh(false)).signing;
    },
    async publicKeys() {
      // Always from the shared ring (one read; the JWKS route is not the hot path), so whichever isolate answers it
      // publishes every key any isolate signs with, including one healed back after a race.
      const m = await fresh(true);
      return m.entries.filter((e) => e.period >= m.period - 1 && e.period <= m.period + 1).map((e) => publishedJwk(e.jwk));
    },
  };
}

async function generate(): Promise<JWK> {
  const pair = (await crypto.subtle.generateKey(GENERATE, true, ['sign', 'verify'])) as CryptoKeyPair;
  const exported = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
  const jwk: JWK = { kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y, d: exported.d, alg: 'ES256' };
  jwk.kid = await jwkThumbprint(publicJwk(jwk));
  return jwk;
}

function publishedJwk(jwk: JWK): PublishedJwk {
  return { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string, kid: jwk.kid as string, alg: 'ES256', use: 'sig' };
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** The valid entries of a stored ring, in stored order; anything else reads as absent (and is replaced), never as an error. */
function parseRing(value: unknown): RingEntry[] {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as StoredRing).keys)) return [];
  const entries: RingEntry[] = [];
  for (const entry of (value as StoredRing).keys as unknown[]) {
    if (typeof entry !== 'object' || entry === null) continue;
    const { period, jwk } = entry as RingEntry;
    if (!Number.isSafeInteger(period) || typeof jwk !== 'object' || jwk === null) continue;
    const { kty, crv, x, y, d, kid, alg } = jwk;
    const strings = [x, y, d].every((v) => typeof v === 'string' && B64URL.test(v));
    if (kty !== 'EC' || crv !== 'P-256' || alg !== 'ES256' || !strings || typeof kid !== 'string' || kid.length === 0) continue;
    entries.push({ period, jwk: { kty, crv, x, y, d, kid, alg } });
  }
  return entries;
}

/** The stored entries plus those of `missing` the store does not hold (a lost write), the stored ones first. */
function mergeMissing(stored: RingEntry[], missing: RingEntry[]): RingEntry[] {
  const out = [...stored];
  for (const entry of missing) if (!out.some((e) => e.jwk.kid === entry.jwk.kid)) out.push(entry);
  return out;
}

/** Keeps the periods still in use (previous, current, next), at most MAX_TXN_KEYS_PER_PERIOD keys each, by period. */
function prune(entries: RingEntry[], period: number): RingEntry[] {
  const kept: RingEntry[] = [];
  for (const entry of entries) {
    if (entry.period < period - 1 || entry.period > period + 1) continue;
    if (kept.some((e) => e.jwk.kid === entry.jwk.kid)) continue;
    if (kept.filter((e) => e.period === entry.period).length >= MAX_TXN_KEYS_PER_PERIOD) continue;
    kept.push(entry);
  }
  return kept.sort((a, b) => a.period - b.period);
}
