/**
 * A bounded cache of imported public verification keys (DESIGN principle 6: nothing slow on the hot path).
 *
 * Keyed by (JWS algorithm, the key's required public members as JSON: what its RFC 7638 thumbprint hashes), so a
 * lookup costs no digest; the thumbprint is computed once, on import. Only the public members of a JWK are ever imported, so a
 * JWK that carries private members can neither poison the cache with a private CryptoKey nor get one back.
 * `alg` is part of the key because one RSA key imports differently for RS256 and PS256. Concurrent imports
 * of one key share one promise; a failed import is not cached. Least recently used entries are evicted past
 * `maxEntries`.
 */
import { importJWK, type JWK } from 'jose';
import { KEY_IMPORT_CACHE_MAX_ENTRIES } from '../limits.ts';
import { publicJwk } from './algorithms.ts';
import { jwkThumbprint } from './thumbprint.ts';

export interface ImportedKey {
  key: CryptoKey;
  /** RFC 7638 SHA-256 thumbprint of the public key. */
  thumbprint: string;
}

export class KeyImportCache {
  readonly #entries = new Map<string, Promise<ImportedKey>>();
  readonly #max: number;

  constructor(maxEntries: number = KEY_IMPORT_CACHE_MAX_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
  }

  /**
   * Imports the public part of `jwk` for verifying with `alg`, or returns the cached CryptoKey with the key's
   * RFC 7638 thumbprint. Throws when the key is unusable for `alg` (wrong type or curve, bad coordinates, missing
   * members); callers map that to their own error code.
   */
  async importPublic(jwk: JWK, alg: string): Promise<ImportedKey> {
    const pub = publicJwk(jwk);
    const id = `${alg}\u0000${JSON.stringify(pub)}`;
    const hit = this.#entries.get(id);
    if (hit) {
      this.#entries.delete(id); // refresh recency
      this.#entries.set(id, hit);
      return hit;
    }
    const pending = (async (): Promise<ImportedKey> => {
      const key = await importJWK(pub, alg);
      if (key instanceof Uint8Array) throw new TypeError('symmetric keys are never imported');
      return { key, thumbprint: await jwkThumbprint(pub) };
    })();
    this.#entries.set(id, pending);
    pending.catch(() => {
      if (this.#entries.get(id) === pending) this.#entries.delete(id);
    });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return pending;
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}

let shared: KeyImportCache | undefined;

/** The process-wide (isolate-wide) cache used when a verifier is not given one. Created on first use. */
export function sharedKeyImportCache(): KeyImportCache {
  return (shared ??= new KeyImportCache());
}
