/**
 * A trust domain's key set kept at a URL or in a file: loaded on first use, then served from memory, so the
 * steady-state request path performs no I/O (DESIGN principle 6).
 *
 * Rules, per isolate:
 *  - fresh (before `refreshAt`): served as is.
 *  - due for refresh: still served, while one refresh runs in the background (handed to `background`, which on
 *    Workers is `waitUntil`, so the refresh is not cancelled with the response).
 *  - a token names a `kid` the set lacks: refetched at once, but at most once per `unknownKidCooldownMs`, so a
 *    rotated-in key works immediately and junk `kid`s cannot turn the gateway against the key source.
 *  - the source fails: last-known keys keep verifying until `maxStaleMs` after the last successful load; after
 *    that (or when nothing was ever loaded) lookups throw KeySourceUnavailableError and the gateway fails closed
 *    (503). Failed loads are retried no more often than the cooldown.
 *  - across isolates: every successful load is written to the shared cache (`state.cache`: a Durable Object on
 *    Workers); a new isolate, or one whose copy is due, first takes a newer copy from there, so a fleet of
 *    isolates does not each fetch. A copy from the cache is checked key by key again, like a fetched one.
 *  - SPIFFE bundles: `spiffe_refresh_hint` sets the refresh interval (clamped); a `spiffe_sequence` lower than the
 *    one in use is refused as a rollback while the keys in use are still within `maxStaleMs`.
 *
 * Does NOT: fetch anything a token names (the location is configuration), follow redirects (key-source-load.ts),
 * or verify signatures (the verifiers do, with the keys returned here).
 */
import { MAX_KEY_REFRESH_SECONDS, MIN_KEY_REFRESH_SECONDS } from '../limits.ts';
import type { Cache } from '../state/ports.ts';
import { buildKeySet, parseKeySetDocument, type KeyPurpose, type KeySet, type KeySetFormat, type TrustKey } from './key-set.ts';

/** No usable keys: nothing loaded yet and the source fails, or the last-known keys are older than allowed. */
export class KeySourceUnavailableError extends Error {
  override name = 'KeySourceUnavailableError';
}

export interface RemoteKeySetOptions {
  /** Where the set comes from, for log lines (a configured URL or path: not secret). */
  location: string;
  /** Key of the shared copy in `cache`. */
  cacheKey: () => Promise<string>;
  format: KeySetFormat;
  /** Reads the document's text: a bounded fetch or file read. Throws on any failure. */
  load: () => Promise<string>;
  cache: Cache;
  now: () => number;
  refreshMs: number;
  unknownKidCooldownMs: number;
  maxStaleMs: number;
  /** Receives one line per failed load (no key material). */
  warn?: (line: Record<string, unknown>) => void;
}

/** The shared copy: usable keys as loaded, and when. JSON, so any Cache adapter stores it. */
interface SharedCopy {
  keys: unknown[];
  fetchedAt: number;
  refreshAt: number;
  sequence?: number;
}

interface Loaded {
  set: KeySet;
  fetchedAt: number;
  refreshAt: number;
  sequence?: number;
}

export type Background = (pending: Promise<unknown>) => void;

export class RemoteKeySet {
  readonly #o: RemoteKeySetOptions;
  #current: Loaded | undefined;
  #pending: Promise<void> | undefined;
  /** After a failed load, no new attempt before this (epoch ms). */
  #retryAt = 0;
  #lastForcedAt = Number.NEGATIVE_INFINITY;
  #lastFailure = 'not loaded yet';

  constructor(options: RemoteKeySetOptions) {
    this.#o = options;
  }

  /** The key for `kid` (or the only eligible key), `undefined` when the set has none; throws when no set is usable. */
  async find(purpose: KeyPurpose, kid: string | undefined, background: Background): Promise<TrustKey | undefined> {
    const now = this.#o.now();
    let current = this.#usable(now);
    if (!current) {
      if (now >= this.#retryAt) await this.#refresh(false);
      current = this.#usable(this.#o.now());
      if (!current) throw new KeySourceUnavailableError(`no usable keys from ${this.#o.location}: ${this.#lastFailure}`);
    } else if (now >= current.refreshAt && now >= this.#retryAt) {
      background(this.#refresh(false));
    }
    const found = current.set.find(purpose, kid);
    if (found || kid === undefined || now < this.#lastForcedAt + this.#o.unknownKidCooldownMs) return found;
    this.#lastForcedAt = now;
    await this.#refresh(true);
    return this.#usable(this.#o.now())?.set.find(purpose, kid);
  }

  #usable(now: number): Loaded | undefined {
    const current = this.#current;
    return current && now < current.fetchedAt + this.#o.maxStaleMs ? current : undefined;
  }

  /** One load at a time per isolate; concurrent callers share it. Never rejects. */
  #refresh(unknownKid: boolean): Promise<void> {
    if (this.#pending) return this.#pending;
    const run = this.#load(unknownKid).finally(() => {
      if (this.#pending === run) this.#pending = undefined;
    });
    this.#pending = run;
    return run;
  }

  async #load(unknownKid: boolean): Promise<void> {
    const now = this.#o.now();
    const cacheKey = await this.#o.cacheKey();
    const shared = await this.#o.cache.get<SharedCopy>(cacheKey).catch(() => undefined);
    if (shared && isSharedCopy(shared) && shared.fetchedAt > (this.#current?.fetchedAt ?? Number.NEGATIVE_INFINITY)) {
      // A copy older in spiffe_sequence than the keys in use is a rollback: not adopted.
      const rollback = shared.sequence !== undefined && this.#current?.sequence !== undefined && shared.sequence < this.#current.sequence;
      const adopted = rollback ? undefined : await this.#adopt(shared).catch(() => undefined);
      if (adopted) this.#current = adopted;
      // Another isolate loaded it. Enough unless it is due too, or a token wants a kid and the copy predates
      // this isolate's cooldown window (it may predate the rotation).
      if (adopted && now < adopted.refreshAt && !(unknownKid && shared.fetchedAt < now - this.#o.unknownKidCooldownMs)) return;
    }
    try {
      const text = await this.#o.load();
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        throw new Error('the document is not JSON');
      }
      const copy: SharedCopy = { keys: [], fetchedAt: now, refreshAt: now };
      const parsed = parseKeySetDocument(doc, this.#o.format);
      if (!parsed.ok) throw new Error(`the document ${parsed.detail}`);
      const inUse = this.#usable(now);
      if (inUse?.sequence !== undefined && parsed.value.sequence !== undefined && parsed.value.sequence < inUse.sequence) {
        throw new Error(`spiffe_sequence went back from ${inUse.sequence} to ${parsed.value.sequence}`);
      }
      copy.keys = parsed.value.keys;
      copy.refreshAt = now + this.#interval(parsed.value.refreshHintSeconds);
      if (parsed.value.sequence !== undefined) copy.sequence = parsed.value.sequence;
      this.#current = await this.#adopt(copy);
      this.#retryAt = 0;
      if (parsed.value.skipped.length > 0) this.#o.warn?.({ event: 'key_set_keys_skipped', source: this.#o.location, skipped: parsed.value.skipped });
      await this.#o.cache.set(cacheKey, copy, this.#o.maxStaleMs).catch(() => {});
    } catch (error) {
      this.#retryAt = now + this.#o.unknownKidCooldownMs;
      this.#lastFailure = error instanceof Error ? error.message : String(error);
      this.#o.warn?.({ event: 'key_set_load_failed', source: this.#o.location, reason: this.#lastFailure, servingStale: this.#usable(now) !== undefined });
    }
  }

  async #adopt(copy: SharedCopy): Promise<Loaded> {
    const parsed = parseKeySetDocument({ keys: copy.keys }, this.#o.format);
    if (!parsed.ok) throw new Error(parsed.detail);
    const loaded: Loaded = { set: await buildKeySet(parsed.value.keys, this.#o.format), fetchedAt: copy.fetchedAt, refreshAt: copy.refreshAt };
    if (copy.sequence !== undefined) loaded.sequence = copy.sequence;
    return loaded;
  }

  #interval(hintSeconds: number | undefined): number {
    if (hintSeconds === undefined) return this.#o.refreshMs;
    return Math.min(Math.max(hintSeconds, MIN_KEY_REFRESH_SECONDS), MAX_KEY_REFRESH_SECONDS) * 1000;
  }
}

function isSharedCopy(value: unknown): value is SharedCopy {
  const v = value as SharedCopy;
  return typeof v === 'object' && v !== null && Array.isArray(v.keys) && typeof v.fetchedAt === 'number' && typeof v.refreshAt === 'number' && (v.sequence === undefined || typeof v.sequence === 'number');
}
