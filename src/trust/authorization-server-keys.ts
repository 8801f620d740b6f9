/**
 * Token signing keys and the introspection endpoint of the OAuth authorization servers in
 * `config.authorizationServers`, for the gateway as a resource server.
 *
 * Spec: RFC 9068 §4 (a JWT access token is verified with "the keys provided by the authorization server"); RFC 8414
 * §2 (metadata: `issuer`, `jwks_uri`, `introspection_endpoint`), §3.1 (the well-known URL: `/.well-known/oauth-
 * authorization-server` inserted between the host and the path of the issuer, a terminating `/` of the path removed),
 * §3.3 (the document's `issuer` MUST be identical to the issuer the URL was built from, else it MUST NOT be used);
 * OpenID Connect Discovery 1.0 §4 (`issuer` + `/.well-known/openid-configuration`, tried only when the RFC 8414 URL
 * answers 404), §4.3 (same exact-issuer rule); RFC 7517 §4.2 (`use`: keys marked `enc` are not signing keys).
 *
 * Each issuer has one key source, chosen by its config:
 *  - inline `jwks`: indexed once, on first use (like a trust domain's inline keys, key-source.ts);
 *  - `jwksUri`: kept by a RemoteKeySet (remote-key-set.ts: background refresh, refetch on an unknown `kid` at most
 *    once per cooldown, last-known keys through an outage of at most `maxStaleSeconds`, then fail closed; a copy
 *    shared across isolates through `state.cache` under a key naming the issuer and the URL);
 *  - neither: the same RemoteKeySet, whose every load (refresh or unknown `kid`) first re-reads the RFC 8414 metadata
 *    and then fetches its `jwks_uri`, which must pass fetchUrlProblem (https, or http to a loopback host; no
 *    credentials or fragment). The shared copy's key names the issuer and "RFC 8414 metadata" as the source.
 * The introspection endpoint is the configured one, else the metadata's `introspection_endpoint` (same URL rules),
 * read from a metadata copy kept with the key-set rules (served from memory, refreshed in the background every
 * `refreshSeconds`, shared across isolates, last-known through `maxStaleSeconds`, failed loads retried no more often
 * than `unknownKidCooldownSeconds`). Every fetch is bounded like a key set's (key-source-load.ts: timeout, no
 * redirects, 200 only, at most MAX_KEY_SET_BYTES, strict UTF-8).
 *
 * Keys qualify when their `use` is absent or `sig` (KeyPurpose 'access-token', key-set.ts); `enc` keys, keys without
 * `kid`, private members or unusable parameters are skipped.
 *
 * Does NOT: fetch a URL named in a token (locations come from config and from the metadata of a configured issuer
 * only), check that a key fits a token's `alg` (the verifier does), use any other metadata member (scopes, grant
 * types, endpoints other than introspection), or verify signed metadata (RFC 8414 §2.1 `signed_metadata`: ignored).
 */
import type { JWK } from 'jose';
import type { AuthorizationServerConfig } from '../config/authorization-servers.ts';
import { fetchUrlProblem } from '../config/trust-domains.ts';
import { describe } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { DEFAULT_KEY_MAX_STALE_SECONDS, DEFAULT_KEY_REFRESH_SECONDS, DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { Cache } from '../state/ports.ts';
import type { TrustKeyPorts } from './key-source.ts';
import { fetchKeySetText, type KeyFetch } from './key-source-load.ts';
import { buildKeySet, type KeySet, type TrustKey } from './key-set.ts';
import { KeySourceUnavailableError, RemoteKeySet, type Background } from './remote-key-set.ts';

export type { Background } from './remote-key-set.ts';

export interface AuthorizationServerKeys {
  /**
   * Token signing key of `issuer` by `kid` (or the only key when `kid` is undefined); `undefined` when none (or the
   * issuer is not configured); throws KeySourceUnavailableError when the source can't be had (caller answers 503).
   */
  key(issuer: string, kid: string | undefined, background?: Background): Promise<TrustKey | undefined>;
  /**
   * The introspection endpoint: configured, else `introspection_endpoint` from the RFC 8414 metadata (`undefined`
   * when the metadata has none, or the issuer is not configured); throws KeySourceUnavailableError when metadata is
   * needed and unavailable, or names an endpoint the gateway must not call.
   */
  introspectionEndpoint(issuer: string, background?: Background): Promise<string | undefined>;
}

/** The metadata members the gateway reads, each either a usable URL or the reason it is not. */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwksUri?: string;
  jwksUriProblem?: string;
  introspectionEndpoint?: string;
  introspectionEndpointProblem?: string;
}

/** RFC 8414 §3.1 well-known URL of `issuer`, and the OpenID Connect Discovery fallback. */
export function metadataUrls(issuer: string): { oauth: string; openid: string } {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  return {
    oauth: `${url.origin}/.well-known/oauth-authorization-server${path}`,
    openid: `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
  };
}

/** Checks a parsed metadata document against the issuer it was fetched for (RFC 8414 §3.3) and reads its URLs. */
export function parseAuthorizationServerMetadata(doc: unknown, issuer: string): Result<AuthorizationServerMetadata, 'ERR_AS_METADATA_INVALID'> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('ERR_AS_METADATA_INVALID', 'is not a JSON object');
  const members = doc as Record<string, unknown>;
  // §3.3: identical, character for character; no normalisation (a trailing slash, case or port differs).
  if (members.issuer !== issuer) return fail('ERR_AS_METADATA_INVALID', `names issuer ${describe(members.issuer)}, not the configured ${JSON.stringify(issuer)} (RFC 8414 §3.3)`);
  const metadata: AuthorizationServerMetadata = { issuer };
  const url = (value: unknown): { value?: string; problem?: string } => {
    if (value === undefined) return {};
    if (typeof value !== 'string') return { problem: `is ${describe(value)}, expected a URL` };
    const problem = fetchUrlProblem(value);
    return problem ? { problem } : { value };
  };
  const jwks = url(members.jwks_uri);
  if (jwks.value !== undefined) metadata.jwksUri = jwks.value;
  if (jwks.problem !== undefined) metadata.jwksUriProblem = jwks.problem;
  const introspection = url(members.introspection_endpoint);
  if (introspection.value !== undefined) metadata.introspectionEndpoint = introspection.value;
  if (introspection.problem !== undefined) metadata.introspectionEndpointProblem = introspection.problem;
  return ok(metadata);
}

/** Runs work that may outlive the request; without a runtime hook it just runs. */
const detached: Background = (pending) => {
  pending.catch(() => {});
};

interface IssuerSource {
  key(kid: string | undefined, background: Background): Promise<TrustKey | undefined>;
  introspectionEndpoint(background: Background): Promise<string | undefined>;
}

export function authorizationServerKeys(servers: Readonly<Record<string, AuthorizationServerConfig>>, ports: TrustKeyPorts): AuthorizationServerKeys {
  const warn = ports.warn ?? ((line) => console.error(JSON.stringify(line)));
  const fetchImpl: KeyFetch = ports.fetch ?? ((url, init) => fetch(url, init));
  const sources = new Map<string, IssuerSource>();
  for (const [issuer, as] of Object.entries(servers)) sources.set(issuer, issuerSource(issuer, as, ports, fetchImpl, warn));
  return {
    key: async (issuer, kid, background = detached) => (Object.hasOwn(servers, issuer) ? sources.get(issuer)?.key(kid, background) : undefined),
    introspectionEndpoint: async (issuer, background = detached) => (Object.hasOwn(servers, issuer) ? sources.get(issuer)?.introspectionEndpoint(background) : undefined),
  };
}

function issuerSource(issuer: string, as: AuthorizationServerConfig, ports: TrustKeyPorts, fetchImpl: KeyFetch, warn: (line: Record<string, unknown>) => void): IssuerSource {
  const refreshMs = (as.refreshSeconds ?? DEFAULT_KEY_REFRESH_SECONDS) * 1000;
  const cooldownMs = (as.unknownKidCooldownSeconds ?? DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS) * 1000;
  const maxStaleMs = (as.maxStaleSeconds ?? DEFAULT_KEY_MAX_STALE_SECONDS) * 1000;
  const issuerWarn = (line: Record<string, unknown>) => warn({ ...line, issuer });
  // Created for every issuer, loaded only when used (keys from metadata, or an introspection endpoint not configured).
  const metadata = new MetadataSource({
    issuer,
    fetch: fetchImpl,
    cache: ports.cache,
    cacheKey: cachedKey(['as-metadata', issuer, 'rfc8414']),
    now: ports.now,
    refreshMs,
    retryMs: cooldownMs,
    maxStaleMs,
    warn: issuerWarn,
  });

  let key: IssuerSource['key'];
  if (as.jwks !== undefined) {
    let indexed: Promise<KeySet> | undefined;
    const keys = as.jwks.keys as JWK[];
    key = async (kid) => (await (indexed ??= buildKeySet(keys, 'jwks'))).find('access-token', kid);
  } else {
    const jwksUri = as.jwksUri;
    const load = jwksUri !== undefined
      ? () => fetchKeySetText(fetchImpl, jwksUri)
      : async () => {
          // RFC 8414: the metadata is re-read on every load of the set, so a moved jwks_uri is followed.
          const md = await metadata.fetchNow();
          if (md.jwksUriProblem !== undefined) throw new Error(`metadata jwks_uri ${md.jwksUriProblem}`);
          if (md.jwksUri === undefined) throw new Error('metadata has no jwks_uri');
          return fetchKeySetText(fetchImpl, md.jwksUri);
        };
    const source = jwksUri ?? 'rfc8414-metadata';
    const remote = new RemoteKeySet({
      location: jwksUri ?? `RFC 8414 metadata of ${issuer}`,
      // Names the issuer and the source: a changed URL (or a switch to discovery) must not serve the old copy.
      cacheKey: cachedKey(['as-keys', issuer, source]),
      format: 'jwks',
      load,
      cache: ports.cache,
      now: ports.now,
      refreshMs,
      unknownKidCooldownMs: cooldownMs,
      maxStaleMs,
      warn: issuerWarn,
    });
    key = (kid, background) => remote.find('access-token', kid, background);
  }

  const configured = as.introspection?.endpoint;
  return {
    key,
    introspectionEndpoint: async (background) => {
      if (configured !== undefined) return configured;
      const md = await metadata.get(background);
      if (md.introspectionEndpointProblem !== undefined) {
        throw new KeySourceUnavailableError(`introspection_endpoint in the metadata of ${issuer} ${md.introspectionEndpointProblem}`);
      }
      return md.introspectionEndpoint;
    },
  };
}

/** A cache key naming `parts` (issuer and source), hashed once. */
function cachedKey(parts: string[]): () => Promise<string> {
  let key: Promise<string> | undefined;
  return () => (key ??= sha256b64url(JSON.stringify(parts.slice(1))).then((h) => `${parts[0]}:${h}`));
}

/**
 * Fetches the metadata document: the RFC 8414 well-known URL, and only when that answers 404 the OpenID Connect
 * Discovery URL. Both with fetchKeySetText's bounds, asking for JSON. Throws with a reason naming the URL (config).
 */
async function fetchMetadata(fetchImpl: KeyFetch, issuer: string): Promise<{ parsed: AuthorizationServerMetadata; raw: Record<string, unknown> }> {
  const urls = metadataUrls(issuer);
  let status = 0;
  // The same bounded load as a key set; only the Accept header differs, and the status is kept to spot a 404.
  const asJson: KeyFetch = async (url, init) => {
    const response = await fetchImpl(url, { ...init, headers: { accept: 'application/json' } });
    status = response.status;
    return response;
  };
  let text: string;
  try {
    text = await fetchKeySetText(asJson, urls.oauth);
  } catch (error) {
    if (status !== 404) throw new Error(`${urls.oauth} ${reason(error)}`);
    status = 0;
    try {
      text = await fetchKeySetText(asJson, urls.openid);
    } catch (fallbackError) {
      throw new Error(`${urls.oauth} answered 404, and ${urls.openid} ${reason(fallbackError)}`);
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('the metadata is not JSON');
  }
  const parsed = parseAuthorizationServerMetadata(doc, issuer);
  if (!parsed.ok) throw new Error(`the metadata ${parsed.detail}`);
  const members = doc as Record<string, unknown>;
  // Only the members read here are kept (and shared): the rest of the document is never used.
  const raw: Record<string, unknown> = { issuer: members.issuer };
  if (members.jwks_uri !== undefined) raw.jwks_uri = members.jwks_uri;
  if (members.introspection_endpoint !== undefined) raw.introspection_endpoint = members.introspection_endpoint;
  return { parsed: parsed.value, raw };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface MetadataSourceOptions {
  issuer: string;
  fetch: KeyFetch;
  cache: Cache;
  cacheKey: () => Promise<string>;
  now: () => number;
  refreshMs: number;
  /** After a failed load, no new attempt (through `get`) before this many ms. */
  retryMs: number;
  maxStaleMs: number;
  warn: (line: Record<string, unknown>) => void;
}

/** The shared copy: the members read, as fetched (checked again on the way in), and when. */
interface SharedMetadata {
  doc: Record<string, unknown>;
  fetchedAt: number;
  refreshAt: number;
}

interface LoadedMetadata {
  metadata: AuthorizationServerMetadata;
  fetchedAt: number;
  refreshAt: number;
}

/** One issuer's metadata, kept with the rules of a RemoteKeySet (see the module comment). */
class MetadataSource {
  readonly #o: MetadataSourceOptions;
  #current: LoadedMetadata | undefined;
  #pending: Promise<AuthorizationServerMetadata> | undefined;
  #retryAt = 0;
  #lastFailure = 'not loaded yet';

  constructor(options: MetadataSourceOptions) {
    this.#o = options;
  }

  /** The metadata in use: from memory, refreshed in the background when due; throws when none is usable. */
  async get(background: Background): Promise<AuthorizationServerMetadata> {
    const now = this.#o.now();
    let current = this.#usable(now);
    if (!current) {
      if (now >= this.#retryAt) await this.#refresh(true).catch(() => {});
      current = this.#usable(this.#o.now());
      if (!current) throw new KeySourceUnavailableError(`no usable metadata for ${this.#o.issuer}: ${this.#lastFailure}`);
    } else if (now >= current.refreshAt && now >= this.#retryAt) {
      background(this.#refresh(true).catch(() => {}));
    }
    return current.metadata;
  }

  /** Fetches the document now (a key-set load re-reads it); throws when that fails. */
  fetchNow(): Promise<AuthorizationServerMetadata> {
    return this.#refresh(false);
  }

  #usable(now: number): LoadedMetadata | undefined {
    const current = this.#current;
    return current && now < current.fetchedAt + this.#o.maxStaleMs ? current : undefined;
  }

  /** One load at a time per isolate; concurrent callers share it. */
  #refresh(preferShared: boolean): Promise<AuthorizationServerMetadata> {
    if (this.#pending) return this.#pending;
    const run = this.#load(preferShared).finally(() => {
      if (this.#pending === run) this.#pending = undefined;
    });
    this.#pending = run;
    return run;
  }

  async #load(preferShared: boolean): Promise<AuthorizationServerMetadata> {
    const now = this.#o.now();
    const cacheKey = await this.#o.cacheKey();
    if (preferShared) {
      // Another isolate's copy, newer than ours and not yet due, saves the fetch.
      const shared = await this.#o.cache.get<SharedMetadata>(cacheKey).catch(() => undefined);
      if (isSharedMetadata(shared) && shared.fetchedAt > (this.#current?.fetchedAt ?? Number.NEGATIVE_INFINITY) && now < shared.refreshAt) {
        const parsed = parseAuthorizationServerMetadata(shared.doc, this.#o.issuer);
        if (parsed.ok) {
          this.#current = { metadata: parsed.value, fetchedAt: shared.fetchedAt, refreshAt: shared.refreshAt };
          return parsed.value;
        }
      }
    }
    try {
      const { parsed, raw } = await fetchMetadata(this.#o.fetch, this.#o.issuer);
      const copy: SharedMetadata = { doc: raw, fetchedAt: now, refreshAt: now + this.#o.refreshMs };
      this.#current = { metadata: parsed, fetchedAt: now, refreshAt: copy.refreshAt };
      this.#retryAt = 0;
      await this.#o.cache.set(cacheKey, copy, this.#o.maxStaleMs).catch(() => {});
      return parsed;
    } catch (error) {
      this.#retryAt = now + this.#o.retryMs;
      this.#lastFailure = reason(error);
      this.#o.warn({ event: 'as_metadata_load_failed', reason: this.#lastFailure, servingStale: this.#usable(now) !== undefined });
      throw error;
    }
  }
}

function isSharedMetadata(value: unknown): value is SharedMetadata {
  const v = value as SharedMetadata;
  return typeof v === 'object' && v !== null && typeof v.doc === 'object' && v.doc !== null && typeof v.fetchedAt === 'number' && typeof v.refreshAt === 'number';
}
