/**
 * In-memory state adapters for one process (Node, Deno, Bun, or a test). Bounded: expired entries are
 * dropped on access and, past `maxEntries`, the oldest insertions are evicted. Not shared between processes
 * or Workers isolates; use the Durable Object adapter there.
 */
import { MEMORY_STORE_MAX_ENTRIES } from '../limits.ts';
import type { Cache, ReplayStore, Revocation, RevocationStore, StatePorts } from './ports.ts';

export interface MemoryStateOptions {
  maxEntries?: number;
  /** Epoch milliseconds; injectable for tests. */
  now?: () => number;
}

/** A Map with per-entry expiry and a size bound; the building block of the three memory adapters. */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor({ maxEntries = MEMORY_STORE_MAX_ENTRIES, now = Date.now }: MemoryStateOptions = {}) {
    this.#max = maxEntries;
    this.#now = now;
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

  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key); // re-insert so Map order stays insertion order for eviction
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

export function memoryReplayStore(options?: MemoryStateOptions): ReplayStore {
  const seen = new ExpiringMap<true>(options);
  return {
    // Synchronous between the check and the set, so atomic within one JS event loop.
    async checkAndSet(key, ttlMs) {
      if (seen.get(key)) return false;
      seen.set(key, true, ttlMs);
      return true;
    },
  };
}

export function memoryRevocationStore(options?: MemoryStateOptions): RevocationStore {
  const revoked = new ExpiringMap<Revocation>(options);
  return {
    async revoke(subject, revocation, ttlMs) {
      revoked.set(subject, { ...revocation }, ttlMs);
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
  const entries = new ExpiringMap<unknown>(options);
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
