/**
 * In-memory state adapters for one process (Node, Deno, Bun, or a test). Not shared between processes or
 * Workers isolates; use the Durable Object adapter there. Bounded, and bounded safely: when full, expired
 * entries go first; then the cache drops its oldest entries (a miss is harmless), while the replay and
 * revocation stores refuse the write with an error rather than forget a live marker (that would fail open).
 */
import { MEMORY_STORE_MAX_ENTRIES } from '../limits.ts';
import type { Cache, ReplayStore, Revocation, RevocationStore, StatePorts } from './ports.ts';
import { checkKey, checkTtl } from './validate.ts';

export interface MemoryStateOptions {
  maxEntries?: number;
  /** Longest key accepted; default MAX_STATE_KEY_LENGTH, the limit every state adapter shares. */
  maxKeyLength?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

/** Thrown when a replay or revocation store is full of live entries: callers must fail closed. */
export class StateFullError extends Error {
  override name = 'StateFullError';
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

export function memoryReplayStore(options?: MemoryStateOptions): ReplayStore {
  const seen = new ExpiringMap<true>(options, 'refuse');
  return {
    // Synchronous between the check and the set, so atomic within one JS event loop.
    async checkAndSet(key, ttlMs) {
      checkTtl(ttlMs);
      if (seen.get(key)) return false;
      if (!seen.set(key, true, ttlMs)) throw new StateFullError('replay store full of live markers');
      return true;
    },
  };
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
