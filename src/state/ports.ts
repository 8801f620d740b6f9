/**
 * State ports: the only way gateway code keeps state between requests. Each has an in-memory adapter
 * (one process) and a Durable Object adapter (Workers, strongly consistent across isolates); Deno KV and
 * Redis adapters for fleets are planned against the same interfaces. Keys are opaque strings of at most
 * MAX_STATE_KEY_LENGTH characters chosen by callers, who hash secrets first (tokens never reach a store).
 * Adapters throw on invalid arguments and when they cannot record a marker: callers fail closed.
 */

/** Single-use markers (WPT `jti`, DPoP `jti`, signature `nonce`). */
export interface ReplayStore {
  /**
   * Atomically records `key` for `ttlMs` milliseconds. Resolves `true` when the key was not already recorded
   * (first use), `false` when it was (a replay). Two concurrent calls with one key never both see `true`.
   *
   * `partition` names the caller the marker is charged to (for WPTs, a hash of the WIT subject), with the same
   * rules as a key. A store bounded by entry count caps each partition's live markers (the memory adapter:
   * MAX_REPLAY_MARKERS_PER_PARTITION), so one caller minting fresh `jti`s fills its own share and cannot make
   * every other caller's proofs fail; past the cap the call throws (ReplayQuotaExceededError) and the caller
   * fails closed. Keys stay global: a replay is detected whatever partition comes with it, so pass the partition
   * the key already commits to. Stores without such a bound (Durable Objects) check it and apply no cap.
   */
  checkAndSet(key: string, ttlMs: number, partition?: string): Promise<boolean>;
}

export interface Revocation {
  /** Why access was cut (a CAEP event type, an operator note). */
  reason: string;
  /** Epoch milliseconds when the revocation was recorded. */
  revokedAt: number;
}

/** Subjects (workload ids, token hashes, sessions) whose access is cut off at runtime. */
export interface RevocationStore {
  /** Records a revocation that lasts `ttlMs` (long enough to outlive every credential it covers). */
  revoke(subject: string, revocation: Revocation, ttlMs: number): Promise<void>;
  /** The revocation in force for `subject`, or `null`. */
  get(subject: string): Promise<Revocation | null>;
  /** Lifts a revocation. */
  restore(subject: string): Promise<void>;
}

/** A cache of JSON-serialisable values (verified token claims, fetched key sets, PDP decisions). */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface StatePorts {
  replay: ReplayStore;
  revocation: RevocationStore;
  cache: Cache;
}
