/**
 * State ports on Cloudflare Workers (DESIGN principle 7 and Scale): replay markers, revocations and cache
 * entries live in SQLite-backed Durable Objects, never KV (eventually consistent). Keys are sharded by a
 * fast hash across N named objects, so each key has exactly one home and the load spreads over N objects
 * (one object serves on the order of a thousand simple calls per second).
 *
 * The shard count and name are part of the data layout: changing either sends keys to other objects, which
 * forgets live replay markers and revocations. Pick them once per deployment.
 */
import { DurableObject } from 'cloudflare:workers';
import { DEFAULT_STATE_SHARDS, MAX_STATE_SHARDS, MAX_STATE_VALUE_LENGTH, STATE_PURGE_BATCH, STATE_PURGE_INTERVAL_MS } from '../limits.ts';
import type { Revocation, StatePorts } from '../state/ports.ts';
import { checkKey, checkTtl } from '../state/validate.ts';

type Kind = 'replay' | 'revocation' | 'cache';

/**
 * One shard of Portcullis state; its methods are RPC methods called through durableObjectState(). A Durable
 * Object runs its JavaScript on one thread, calls interleave only at an `await`, and `ctx.storage.sql` is
 * synchronous: a read and a write with no `await` between them form one atomic step. checkAndSet relies on it.
 */
export class PortcullisState extends DurableObject<unknown> {
  readonly #sql: SqlStorage;
  #purgeScheduled = false;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    // Synchronous DDL in the constructor: done before any call is delivered, no blockConcurrencyWhile needed.
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS entry (
        kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT, expires_at INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID`,
    );
    this.#sql.exec('CREATE INDEX IF NOT EXISTS entry_expiry ON entry (expires_at)');
  }

  /** `true` the first time `key` is seen within its TTL, `false` for a replay (ReplayStore.checkAndSet). */
  async checkAndSet(key: string, ttlMs: number): Promise<boolean> {
    checkKey(key);
    checkTtl(ttlMs);
    // Check and insert run back to back with no await: atomic within this object (see the class comment).
    // The output gate holds the reply until the insert is durable, so `true` never outlives a lost write.
    const now = Date.now();
    if (this.#live('replay', key, now) !== undefined) return false;
    this.#put('replay', key, null, now + ttlMs);
    await this.#schedulePurge();
    return true;
  }

  async revoke(subject: string, revocation: Revocation, ttlMs: number): Promise<void> {
    checkKey(subject);
    checkTtl(ttlMs);
    const value = checkValue(JSON.stringify({ reason: String(revocation.reason), revokedAt: Number(revocation.revokedAt) }));
    this.#put('revocation', subject, value, Date.now() + ttlMs);
    await this.#schedulePurge();
  }

  revocation(subject: string): Revocation | null {
    checkKey(subject);
    const value = this.#live('revocation', subject, Date.now());
    return value ? (JSON.parse(value) as Revocation) : null;
  }

  restore(subject: string): void {
    checkKey(subject);
    this.#sql.exec('DELETE FROM entry WHERE kind = ? AND key = ?', 'revocation', subject);
  }

  /** The cached JSON text, or null; parsed by the caller so this object does no per-value work. */
  cacheGet(key: string): string | null {
    checkKey(key);
    return this.#live('cache', key, Date.now()) ?? null;
  }

  async cacheSet(key: string, json: string, ttlMs: number): Promise<void> {
    checkKey(key);
    checkTtl(ttlMs);
    if (typeof json !== 'string') throw new TypeError('cache value must be JSON text');
    this.#put('cache', key, checkValue(json), Date.now() + ttlMs);
    await this.#schedulePurge();
  }

  cacheDelete(key: string): void {
    checkKey(key);
    this.#sql.exec('DELETE FROM entry WHERE kind = ? AND key = ?', 'cache', key);
  }

  /** Deletes a batch of expired rows, then re-arms itself while rows remain. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired = this.#sql
      .exec<{ n: number }>(
        'SELECT COUNT(*) AS n FROM (SELECT 1 FROM entry WHERE expires_at <= ? LIMIT ?)',
        now,
        STATE_PURGE_BATCH,
      )
      .one().n;
    this.#sql.exec(
      'DELETE FROM entry WHERE (kind, key) IN (SELECT kind, key FROM entry WHERE expires_at <= ? LIMIT ?)',
      now,
      STATE_PURGE_BATCH,
    );
    const next = this.#sql.exec<{ next: number | null }>('SELECT MIN(expires_at) AS next FROM entry').one().next;
    if (next === null) {
      this.#purgeScheduled = false;
      return;
    }
    const soon = expired >= STATE_PURGE_BATCH ? now + 1_000 : Math.max(next, now + STATE_PURGE_INTERVAL_MS);
    await this.ctx.storage.setAlarm(soon);
    this.#purgeScheduled = true;
  }

  /** The stored value (or '' for a replay marker) when a live row exists, else undefined. */
  #live(kind: Kind, key: string, now: number): string | undefined {
    const rows = this.#sql
      .exec<{ value: string | null }>('SELECT value FROM entry WHERE kind = ? AND key = ? AND expires_at > ?', kind, key, now)
      .toArray();
    const row = rows[0];
    return row ? (row.value ?? '') : undefined;
  }

  #put(kind: Kind, key: string, value: string | null, expiresAt: number): void {
    this.#sql.exec('INSERT OR REPLACE INTO entry (kind, key, value, expires_at) VALUES (?, ?, ?, ?)', kind, key, value, expiresAt);
  }

  /** Arms the purge alarm once per object lifetime (and again after an alarm found the table empty). */
  async #schedulePurge(): Promise<void> {
    if (this.#purgeScheduled) return;
    this.#purgeScheduled = true;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + STATE_PURGE_INTERVAL_MS);
  }
}

export interface DurableObjectStateOptions {
  /** Number of objects keys are spread over (default 16). Fixed per deployment: see the module comment. */
  shards?: number;
  /** Prefix of the objects' names, so several independent stores can share one namespace. */
  name?: string;
}

/** StatePorts backed by PortcullisState objects of `namespace` (the PORTCULLIS_STATE binding). */
export function durableObjectState(
  namespace: DurableObjectNamespace<PortcullisState>,
  { shards = DEFAULT_STATE_SHARDS, name = 'portcullis-state' }: DurableObjectStateOptions = {},
): StatePorts {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_STATE_SHARDS) {
    throw new RangeError(`shards must be an integer from 1 to ${MAX_STATE_SHARDS}`);
  }
  // Ids are derived once; stubs are made per call because they are cheap and carry no I/O until used.
  const ids: DurableObjectId[] = [];
  // Arguments are checked here as well as in the object, so misuse fails fast without a round trip.
  const shard = (key: string, ttlMs?: number) => {
    checkKey(key);
    if (ttlMs !== undefined) checkTtl(ttlMs);
    const index = shardOf(key, shards);
    const id = (ids[index] ??= namespace.idFromName(`${name}:${index}`));
    return namespace.get(id);
  };
  return {
    replay: {
      // `partition` is checked like a key but caps nothing here (ReplayStore.checkAndSet): rows live in SQLite, not
      // in a bounded map, so one caller's markers cost storage but never make the store refuse other callers; and
      // a partition's keys hash to every shard, so a count would cost a second object call per proof. The RPC
      // method keeps its (key, ttlMs) signature.
      checkAndSet: async (key, ttlMs, partition) => {
        if (partition !== undefined) checkKey(partition);
        return shard(key, ttlMs).checkAndSet(key, ttlMs);
      },
    },
    revocation: {
      revoke: async (subject, revocation, ttlMs) => shard(subject, ttlMs).revoke(subject, revocation, ttlMs),
      get: async (subject) => (await shard(subject).revocation(subject)) as Revocation | null,
      restore: async (subject) => shard(subject).restore(subject),
    },
    cache: {
      get: async <T>(key: string) => {
        const json = await shard(key).cacheGet(key);
        return json === null ? undefined : (JSON.parse(json) as T);
      },
      set: async (key, value, ttlMs) => {
        const json = JSON.stringify(value) as string | undefined;
        if (json === undefined) throw new TypeError('cache value is not JSON-serialisable');
        await shard(key, ttlMs).cacheSet(key, checkValue(json), ttlMs);
      },
      delete: async (key) => shard(key).cacheDelete(key),
    },
  };
}

/** FNV-1a (32-bit) of the key's UTF-16 code units, reduced to a shard index. Keys are already hashes or
 * opaque ids, so a fast non-cryptographic spread is enough; the result is stable across isolates. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

function checkValue(json: string): string {
  if (json.length > MAX_STATE_VALUE_LENGTH) throw new RangeError(`state value longer than ${MAX_STATE_VALUE_LENGTH} characters`);
  return json;
}
