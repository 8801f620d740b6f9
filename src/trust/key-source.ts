/**
 * Trust-anchor keys for the trust domains of `config.trustDomains` (draft-ietf-wimse-workload-creds-02 §3: keys
 * for the trust domain of `sub`, distributed out of band; SPIFFE Workload API §6: the bundle of the subject's
 * trust domain). The gateway asks this port for a key; verifiers never see a URL or a key carried in a token.
 *
 * Each trust domain has one source: its inline `jwks` (indexed once, on first use), or its `keySource` (a URL or
 * a file, kept by a RemoteKeySet with background refresh, refetch on an unknown `kid`, last-known keys through a
 * bounded outage, and a copy shared across isolates through `state.cache`). Selection rules: key-set.ts.
 *
 * Does NOT: check that a key imports for the token's `alg` (the verifier does, through the key import cache).
 */
import type { KeySourceConfig, TrustDomainConfig } from '../config/trust-domains.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { DEFAULT_KEY_MAX_STALE_SECONDS, DEFAULT_KEY_REFRESH_SECONDS, DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS } from '../limits.ts';
import type { Cache } from '../state/ports.ts';
import { fetchKeySetText, readKeySetFile, type KeyFetch, type ReadTextFile } from './key-source-load.ts';
import { buildKeySet, type KeyPurpose, type KeySet, type TrustKey } from './key-set.ts';
import { RemoteKeySet, type Background } from './remote-key-set.ts';

export type { KeyPurpose, TrustKey } from './key-set.ts';
export type { Background } from './remote-key-set.ts';

/** Where trust-anchor keys come from. `trustDomain` is an origin: `spiffe://td` or `wimse://td`. */
export interface TrustKeySource {
  /**
   * The key with `kid` (or the trust domain's only eligible key when `kid` is undefined) for `purpose`, or
   * `undefined`. Throws when the trust domain's keys cannot be had at all (the caller fails closed). Work that
   * may outlive the request (a background refresh) is handed to `background`.
   */
  key(trustDomain: string, kid: string | undefined, purpose: KeyPurpose, background?: Background): Promise<TrustKey | undefined>;
}

export interface TrustKeyPorts {
  /** Shared across isolates on Workers (Durable Object); holds copies of loaded remote sets. */
  cache: Cache;
  /** For `keySource.url`. Default: the global fetch. */
  fetch?: KeyFetch;
  /** For `keySource.file`, resolving paths against the config file's folder. Absent on Workers. */
  readFile?: ReadTextFile;
  /** Epoch milliseconds. */
  now: () => number;
  /** Failed loads and skipped keys, one object per event. Default: a JSON line on stderr (console.error). */
  warn?: (line: Record<string, unknown>) => void;
}

/** Runs work that may outlive the request; without a runtime hook it just runs. */
const detached: Background = (pending) => {
  pending.catch(() => {});
};

export function trustKeySource(trustDomains: Readonly<Record<string, TrustDomainConfig>> = {}, ports: TrustKeyPorts): TrustKeySource {
  const sources = new Map<string, (purpose: KeyPurpose, kid: string | undefined, background: Background) => Promise<TrustKey | undefined>>();
  const warn = ports.warn ?? ((line) => console.error(JSON.stringify(line)));
  for (const [origin, td] of Object.entries(trustDomains)) {
    if (td.keySource) {
      const remote = remoteKeySet(origin, td.keySource, ports, warn);
      sources.set(origin, (purpose, kid, background) => remote.find(purpose, kid, background));
    } else {
      let indexed: Promise<KeySet> | undefined;
      const keys = td.jwks?.keys ?? [];
      sources.set(origin, async (purpose, kid) => (await (indexed ??= buildKeySet(keys, 'jwks'))).find(purpose, kid));
    }
  }
  return {
    key: async (trustDomain, kid, purpose, background = detached) => sources.get(trustDomain)?.(purpose, kid, background),
  };
}

/** Why these trust domains cannot be served with these ports (a file source without a file reader), or none. */
export function keySourceProblems(trustDomains: Readonly<Record<string, TrustDomainConfig>> = {}, ports: { readFile?: ReadTextFile }): { path: string; message: string }[] {
  return Object.entries(trustDomains)
    .filter(([, td]) => td.keySource?.file !== undefined && !ports.readFile)
    .map(([origin]) => ({ path: `trustDomains["${origin}"].keySource.file`, message: 'this runtime cannot read files (Workers): use keySource.url or inline jwks' }));
}

function remoteKeySet(origin: string, source: KeySourceConfig, ports: TrustKeyPorts, warn: (line: Record<string, unknown>) => void): RemoteKeySet {
  const location = source.url ?? `file ${source.file}`;
  const fetchImpl: KeyFetch = ports.fetch ?? ((url, init) => fetch(url, init));
  const load = source.url !== undefined
    ? () => fetchKeySetText(fetchImpl, source.url!)
    : () => readKeySetFile(ports.readFile!, source.file!);
  let cacheKey: Promise<string> | undefined;
  return new RemoteKeySet({
    location,
    // Names the source, not the trust domain alone: a changed URL or format must not serve the old copy.
    cacheKey: () => (cacheKey ??= sha256b64url(JSON.stringify([origin, source.format, location])).then((h) => `trust-keys:${h}`)),
    format: source.format,
    load,
    cache: ports.cache,
    now: ports.now,
    refreshMs: (source.refreshSeconds ?? DEFAULT_KEY_REFRESH_SECONDS) * 1000,
    unknownKidCooldownMs: (source.unknownKidCooldownSeconds ?? DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS) * 1000,
    maxStaleMs: (source.maxStaleSeconds ?? DEFAULT_KEY_MAX_STALE_SECONDS) * 1000,
    warn: (line) => warn({ ...line, trustDomain: origin }),
  });
}
