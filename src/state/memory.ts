/**
 * In-memory state adapters for one process (Node, Deno, Bun, or a test). Not shared between processes or
 * Workers isolates; use the Durable Object adapter there. Bounded, and bounded safely: when full, expired
 * entries go first; then the cache drops its oldest entries (a miss is harmless), while the replay and
 * revocation stores refuse the write with an error rather than forget a live marker (that would fail open).
 * The replay store also caps the live markers of each partition (ReplayStore.checkAndSet), so one caller
 * cannot fill it and turn every other caller's proofs away.
 */
import { MAX_REPLAY_MARKERS_PER_PARTITION, MEMORY_STORE_MAX_ENTRIES } from '../limits.ts';
import type { Cache, ReplayStore, Revocation, RevocationStore, StatePorts } from './ports.ts';
import { checkKey, checkTtl } from './validate.ts';

export interface MemoryStateOptions {
  maxEntries?: number;
  /** Longest key accepted; default MAX_STATE_KEY_LENGTH, the limit every state adapter shares. */
  maxKeyLength?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
  /**
   * Replay store only: live markers one partition may hold. Default MAX_REPLAY_MARKERS_PER_PARTITION, or the same
   * fraction of a custom `maxEntries` (at least 1).
   */
  maxMarkersPerPartition?: number;
}

/** Thrown when a replay or revocation store is full of live entries: callers must fail closed. */
export class StateFullError extends Error {
  override name = 'StateFullError';
}

/** Thrown when one partition of a replay store holds its quota of live markers; other partitions are unaffected. */
export class ReplayQuotaExceededError extends StateFullError {
  override name = 'ReplayQuotaExceededError';
}

/** A sweep of expired entries walks the whole map; when full of live entries, retry it at most this often. */
const SWEEP_INTERVAL_MS = 1_000;

/** A Map with per-entry expiry and a size bound; the building block of the three memory adapters. */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;
  readonly #whenFull: 'evict-oldest' | 'refuse';
  readonly #maxKeyLength: number | undefined;
  #nextSweep = 0;

  constructor({ maxEntries = MEMORY_STORE_MAX_ENTRIES, now = Date.now, maxKeyLength }: MemoryStateOptions = {}, whenFull: 'evict-oldest' | 'refuse' = 'evict-oldest') {
    this.#max = maxEntries;
    this.#now = now;
    this.#maxKeyLength = maxKeyLength;
    this.#whenFull = whenFull;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores `value` for `ttlMs`; `false` when the map is full of live entries and refuses new ones. */
  set(key: string, value: V, ttlMs: number): boolean {
    checkKey(key, this.#maxKeyLength);
    checkTtl(ttlMs);
    const now = this.#now();
    const replacing = this.#entries.delete(key); // re-insert so Map order stays insertion order
    if (!replacing && this.#entries.size >= this.#max && !this.#makeRoom(now)) return false;
    this.#entries.set(key, { value, expiresAt: now + ttlMs });
    return true;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #makeRoom(now: number): boolean {
    if (now >= this.#nextSweep) {
      for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
      this.#nextSweep = now + SWEEP_INTERVAL_MS;
      if (this.#entries.size < this.#max) return true;
    }
    if (this.#whenFull === 'refuse') return false;
    this.#entries.delete(this.#entries.keys().next().value as string);
    return true;
  }
}

export function memoryReplayStore(options: MemoryStateOptions = {}): ReplayStore {
  const { maxEntries = MEMORY_STORE_MAX_ENTRIES, maxKeyLength, now = Date.now } = options;
  const scaled = Math.floor((maxEntries * MAX_REPLAY_MARKERS_PER_PARTITION) / MEMORY_STORE_MAX_ENTRIES);
  const quota = options.maxMarkersPerPartition ?? Math.max(1, scaled);
  if (!Number.isInteger(quota) || quota < 1) throw new RangeError('maxMarkersPerPartition must be a positive integer');
  const seen = new ExpiringMap<true>(options, 'refuse');
  // Live markers per partition, counted by expiry time, not by what `seen` still holds (it drops expired entries
  // lazily). `seen` refuses rather than evicts and nothing here deletes, so a marker lives exactly until its
  // expiry. The queue holds one item per partitioned marker and is purged of expired items before every
  // partitioned write, so it, `live` and the number of partitions stay within the live markers of `seen`
  // (at most maxEntries).
  const live = new Map<string, number>();
  const expiries = new ExpiryQueue();
  return {
    // Synchronous between the check and the set, so atomic within one JS event loop.
    async checkAndSet(key, ttlMs, partition) {
      checkTtl(ttlMs);
      if (partition !== undefined) checkKey(partition, maxKeyLength);
      if (seen.get(key)) return false;
      if (partition === undefined) {
        if (!seen.set(key, true, ttlMs)) throw new StateFullError('replay store full of live markers');
        return true;
      }
      const t = now();
      for (let item = expiries.popExpired(t); item; item = expiries.popExpired(t)) {
        const count = live.get(item.partition)! - 1;
        if (count === 0) live.delete(item.partition);
        else live.set(item.partition, count);
      }
      const count = live.get(partition) ?? 0;
      if (count >= quota) throw new ReplayQuotaExceededError(`replay quota exceeded: the partition holds ${quota} live markers`);
      if (!seen.set(key, true, ttlMs)) throw new StateFullError('replay store full of live markers');
      live.set(partition, count + 1);
      expiries.push({ expiresAt: t + ttlMs, partition });
      return true;
    },
  };
}

/** A binary min-heap of partitioned replay markers by expiry, so each one stops counting in O(log n). */
class ExpiryQueue {
  readonly #items: { expiresAt: number; partition: string }[] = [];

  push(item: { expiresAt: number; partition: string }): void {
    const items = this.#items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.expiresAt <= item.expiresAt) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the earliest item when it has expired at `now`, else undefined. */
  popExpired(now: number): { expiresAt: number; partition: string } | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined || top.expiresAt > now) return undefined;
    const last = items.pop()!;
    if (items.length === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && items[child + 1]!.expiresAt < items[child]!.expiresAt) child++;
      if (items[child]!.expiresAt >= last.expiresAt) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

export function memoryRevocationStore(options?: MemoryStateOptions): RevocationStore {
  const revoked = new ExpiringMap<Revocation>(options, 'refuse');
  return {
    async revoke(subject, revocation, ttlMs) {
      if (!revoked.set(subject, { ...revocation }, ttlMs)) throw new StateFullError('revocation store full of live revocations');
    },
    async get(subject) {
      return revoked.get(subject) ?? null;
    },
    async restore(subject) {
      revoked.delete(subject);
    },
  };
}

export function memoryCache(options?: MemoryStateOptions): Cache {
  const entries = new ExpiringMap<unknown>(options, 'evict-oldest');
  return {
    async get<T>(key: string) {
      return entries.get(key) as T | undefined;
    },
    async set(key, value, ttlMs) {
      entries.set(key, value, ttlMs);
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}

export function memoryState(options?: MemoryStateOptions): StatePorts {
  return { replay: memoryReplayStore(options), revocation: memoryRevocationStore(options), cache: memoryCache(options) };
}
