/**
 * A trust domain's key set as the key sources hold it: parsed from a JWK Set (RFC 7517) or a SPIFFE bundle
 * (SPIFFE Trust Domain and Bundle §4), reduced to the public signature keys usable for WITs and JWT-SVIDs, and
 * indexed for lookup by `kid`.
 *
 * Selection (workload-creds-02 §3): with a `kid`, the key with that `kid`; without one, the only eligible key,
 * and nothing when there are several (no guessing). Eligible for a purpose: in a plain JWK Set `use` absent or
 * `sig`; in a SPIFFE bundle `use` is required and must be the credential's own (`wit-svid` for WITs, WIT-SVID.md;
 * `jwt-svid` for JWT-SVIDs, JWT-SVID §5); `sig` is accepted there too, for WIMSE issuers that publish plain keys.
 * `access-token` (an authorization server's token signing keys, RFC 9068 §4): `use` absent or `sig` only (RFC 7517
 * §4.2); an `enc` key never reaches the index (trustAnchorJwk refuses that `use`, so the key is skipped).
 *
 * Fetched sets are data, not config: a key this project cannot use (unknown `kty` or curve, short RSA modulus,
 * private members, another `use`) is skipped, as RFC 7517 §5 and the bundle spec ask ("MUST ignore the entire
 * JWK element"), and the rest of the set still counts. A `kid` that appears twice makes both keys unusable
 * (WIT-SVID.md: `kid` MUST be unique in the bundle); an ambiguous key is never chosen.
 *
 * Each key's RFC 7638 thumbprint is computed once, when the set is built: a cached verification result records
 * the thumbprint of the key that signed it, and a cache hit is honoured only while the current set still maps
 * that `kid` to that thumbprint (gateway/authenticate.ts), so a key removed at its source stops verifying.
 */
import type { JWK } from 'jose';
import { trustAnchorJwk } from '../config/trust-domains.ts';
import { publicJwk } from '../crypto/algorithms.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { MAX_TRUST_DOMAIN_KEYS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';

export type KeyPurpose = 'wit' | 'jwt-svid' | 'access-token';
export type KeySetFormat = 'jwks' | 'spiffe-bundle';

/** A trust anchor key: public members, `kid` and `alg` only, frozen; with its RFC 7638 thumbprint. */
export interface TrustKey {
  jwk: Readonly<JWK>;
  thumbprint: string;
}

interface Index {
  byKid: Map<string, TrustKey>;
  /** The single eligible key, for tokens without `kid`. */
  only?: TrustKey;
}

export interface KeySet {
  /** Looks a key up for one purpose; `kid` undefined selects the only eligible key. */
  find(purpose: KeyPurpose, kid: string | undefined): TrustKey | undefined;
  /** Usable keys in the set (for status and tests). */
  readonly size: number;
}

/** What a parsed document holds before indexing: the usable keys and the bundle's metadata. */
export interface ParsedKeySet {
  keys: JWK[];
  /** Keys skipped as unusable, by index in `keys` of the document, with the reason: for logs, never key material. */
  skipped: string[];
  /** SPIFFE `spiffe_sequence`, when present. */
  sequence?: number;
  /** SPIFFE `spiffe_refresh_hint` in seconds, when present. */
  refreshHintSeconds?: number;
}

const PURPOSE_USE: Record<KeyPurpose, string> = { wit: 'wit-svid', 'jwt-svid': 'jwt-svid', 'access-token': 'sig' };
const SPIFFE_USES = new Set(['wit-svid', 'jwt-svid', 'sig']);

/** Parses the text of a JWK Set or SPIFFE bundle. Fails only when the document itself is unusable. */
export function parseKeySet(text: string, format: KeySetFormat): Result<ParsedKeySet, 'ERR_KEY_SET_INVALID'> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail('ERR_KEY_SET_INVALID', 'not JSON');
  }
  return parseKeySetDocument(doc, format);
}

/** parseKeySet over an already parsed document (a set kept in the shared cache is checked again on the way in). */
export function parseKeySetDocument(doc: unknown, format: KeySetFormat): Result<ParsedKeySet, 'ERR_KEY_SET_INVALID'> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('ERR_KEY_SET_INVALID', 'not a JSON object');
  const set = doc as Record<string, unknown>;
  if (!Array.isArray(set.keys)) return fail('ERR_KEY_SET_INVALID', 'has no "keys" array');
  if (set.keys.length > MAX_TRUST_DOMAIN_KEYS * 4) return fail('ERR_KEY_SET_INVALID', `lists ${set.keys.length} keys, limit ${MAX_TRUST_DOMAIN_KEYS * 4}`);
  const parsed: ParsedKeySet = { keys: [], skipped: [] };
  if (format === 'spiffe-bundle') {
    if (set.spiffe_sequence !== undefined) {
      if (!Number.isSafeInteger(set.spiffe_sequence) || (set.spiffe_sequence as number) < 0) return fail('ERR_KEY_SET_INVALID', 'spiffe_sequence is not a non-negative integer');
      parsed.sequence = set.spiffe_sequence as number;
    }
    if (set.spiffe_refresh_hint !== undefined) {
      if (!Number.isSafeInteger(set.spiffe_refresh_hint) || (set.spiffe_refresh_hint as number) < 0) return fail('ERR_KEY_SET_INVALID', 'spiffe_refresh_hint is not a non-negative integer');
      parsed.refreshHintSeconds = set.spiffe_refresh_hint as number;
    }
  }
  set.keys.forEach((entry: unknown, i: number) => {
    const use = typeof entry === 'object' && entry !== null ? (entry as { use?: unknown }).use : undefined;
    // SPIFFE bundle §4.2.2: a missing or unknown `use` MUST make the client ignore the element; x509-svid
    // entries are CA certificates for mTLS, not JWS keys.
    if (format === 'spiffe-bundle' && (typeof use !== 'string' || !SPIFFE_USES.has(use))) {
      parsed.skipped.push(`keys[${i}]: use ${typeof use === 'string' ? JSON.stringify(use.slice(0, 32)) : 'absent'} is not a JWS signing use`);
      return;
    }
    const checked = trustAnchorJwk.safeParse(entry);
    if (!checked.success) {
      const first = checked.error.issues[0];
      parsed.skipped.push(`keys[${i}]: ${first ? `${first.path.join('.') || 'key'} ${first.message}` : 'unusable'}`);
      return;
    }
    parsed.keys.push(checked.data as JWK);
  });
  if (parsed.keys.length > MAX_TRUST_DOMAIN_KEYS) return fail('ERR_KEY_SET_INVALID', `has ${parsed.keys.length} usable keys, limit ${MAX_TRUST_DOMAIN_KEYS}`);
  return ok(parsed);
}

/** Builds the lookup index over validated public keys (inline config keys or a parsed document). */
export async function buildKeySet(keys: readonly JWK[], format: KeySetFormat): Promise<KeySet> {
  const counts = new Map<string, number>();
  for (const k of keys) if (typeof k.kid === 'string') counts.set(k.kid, (counts.get(k.kid) ?? 0) + 1);
  const trustKeys = await Promise.all(
    keys.map(async (k): Promise<[JWK, TrustKey]> => {
      const jwk: JWK = { ...publicJwk(k) };
      if (k.kid !== undefined) jwk.kid = k.kid;
      if (k.alg !== undefined) jwk.alg = k.alg;
      return [k, { jwk: Object.freeze(jwk), thumbprint: await jwkThumbprint(jwk) }];
    }),
  );
  const indexes = new Map<KeyPurpose, Index>();
  for (const purpose of ['wit', 'jwt-svid', 'access-token'] as const) {
    const eligible = trustKeys.filter(([k]) => eligibleFor(k.use, purpose, format));
    const byKid = new Map<string, TrustKey>();
    for (const [k, key] of eligible) if (typeof k.kid === 'string' && counts.get(k.kid) === 1) byKid.set(k.kid, key);
    const index: Index = { byKid };
    if (eligible.length === 1) index.only = eligible[0]![1];
    indexes.set(purpose, index);
  }
  return {
    find(purpose, kid) {
      const index = indexes.get(purpose)!;
      return kid === undefined ? index.only : index.byKid.get(kid);
    },
    size: trustKeys.length,
  };
}

function eligibleFor(use: unknown, purpose: KeyPurpose, format: KeySetFormat): boolean {
  if (use === PURPOSE_USE[purpose] || use === 'sig') return true;
  return use === undefined && format === 'jwks';
}
