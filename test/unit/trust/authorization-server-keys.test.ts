/**
 * Authorization-server keys and endpoints (src/trust/authorization-server-keys.ts): RFC 8414 metadata discovery
 * (well-known URL with the path inserted, exact issuer match, OIDC fallback on 404 only, jwks_uri URL rules), keys from
 * inline jwks / jwksUri / metadata with the remote key-set rules, and the introspection endpoint. Fake fetch, real keys.
 */
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { authorizationServerSchema, type AuthorizationServerConfig } from '../../../src/config/authorization-servers.ts';
import { memoryCache } from '../../../src/state/memory.ts';
import type { Cache } from '../../../src/state/ports.ts';
import { authorizationServerKeys, metadataUrls, parseAuthorizationServerMetadata, type AuthorizationServerKeys } from '../../../src/trust/authorization-server-keys.ts';
import type { Background } from '../../../src/trust/remote-key-set.ts';
import { KeySourceUnavailableError } from '../../../src/trust/remote-key-set.ts';
import { generateKey } from '../verify/mint.ts';

const ISS = 'https://as.example/tenant';
const WELL_KNOWN = 'https://as.example/.well-known/oauth-authorization-server/tenant';
const OIDC = 'https://as.example/tenant/.well-known/openid-configuration';
const JWKS = 'https://as.example/tenant/jwks';
const INTROSPECT = 'https://as.example/tenant/introspect';

let k1: JWK;
let k2: JWK;

beforeAll(async () => {
  k1 = { ...(await generateKey('ES256')).publicJwk, kid: 'k1' };
  k2 = { ...(await generateKey('ES256')).publicJwk, kid: 'k2' };
});

const config = (input: Record<string, unknown> = {}): AuthorizationServerConfig => authorizationServerSchema.parse(input);

interface Origin {
  /** Answers by URL: a body (200) or a status. */
  routes: Map<string, { status: number; body?: string }>;
  fetched: string[];
  accepts: string[];
  down: boolean;
}

function harness(servers: Record<string, AuthorizationServerConfig>, shared: Cache = memoryCache(), origin?: Origin) {
  const clock = { now: 1_000_000 };
  const o: Origin = origin ?? { routes: new Map(), fetched: [], accepts: [], down: false };
  const warnings: Record<string, unknown>[] = [];
  const background: Promise<unknown>[] = [];
  const keys: AuthorizationServerKeys = authorizationServerKeys(servers, {
    cache: shared,
    now: () => clock.now,
    warn: (line) => warnings.push(line),
    fetch: async (url, init) => {
      expect(init.redirect).toBe('manual');
      expect(init.method).toBe('GET');
      o.fetched.push(url);
      o.accepts.push(String((init.headers as Record<string, string>).accept));
      if (o.down) throw new TypeError('network down');
      const route = o.routes.get(url);
      return new Response(route?.body ?? 'not found', { status: route?.status ?? 404 });
    },
  });
  const bg: Background = (p) => void background.push(p);
  const settle = () => Promise.all(background.splice(0));
  return { clock, origin: o, keys, bg, settle, warnings };
}

const metadata = (members: Record<string, unknown> = {}) => ({ status: 200, body: JSON.stringify({ issuer: ISS, jwks_uri: JWKS, introspection_endpoint: INTROSPECT, ...members }) });
const jwks = (...keys: JWK[]) => ({ status: 200, body: JSON.stringify({ keys }) });

describe('RFC 8414 well-known URLs', () => {
  it('inserts the well-known path between host and path (§3.1), dropping a terminating slash', () => {
    expect(metadataUrls('https://as.example/tenant')).toEqual({ oauth: WELL_KNOWN, openid: OIDC });
    expect(metadataUrls('https://as.example/tenant/')).toEqual({ oauth: WELL_KNOWN, openid: OIDC });
    expect(metadataUrls('https://as.example')).toEqual({ oauth: 'https://as.example/.well-known/oauth-authorization-server', openid: 'https://as.example/.well-known/openid-configuration' });
    expect(metadataUrls('http://127.0.0.1:8080/a/b').oauth).toBe('http://127.0.0.1:8080/.well-known/oauth-authorization-server/a/b');
  });

  it('requires the document issuer to equal the configured one exactly (§3.3)', () => {
    expect(parseAuthorizationServerMetadata({ issuer: ISS }, ISS).ok).toBe(true);
    for (const issuer of [`${ISS}/`, 'https://AS.example/tenant', 'https://other.example/tenant', undefined, 42]) {
      const parsed = parseAuthorizationServerMetadata({ issuer }, ISS);
      expect(parsed.ok ? 'ok' : parsed.code).toBe('ERR_AS_METADATA_INVALID');
    }
    expect(parseAuthorizationServerMetadata([ISS], ISS).ok).toBe(false);
  });
});

describe('keys from the RFC 8414 metadata', () => {
  it('fetches the metadata at the inserted well-known URL, then its jwks_uri, and serves from memory after', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(WELL_KNOWN, metadata());
    h.origin.routes.set(JWKS, jwks(k1));
    expect((await h.keys.key(ISS, 'k1', h.bg))?.jwk.kid).toBe('k1');
    expect((await h.keys.key(ISS, undefined, h.bg))?.jwk.kid).toBe('k1'); // the only key
    expect(h.origin.fetched).toEqual([WELL_KNOWN, JWKS]);
    expect(h.origin.accepts[0]).toBe('application/json');
    expect(h.origin.accepts[1]).toContain('application/jwk-set+json');
  });

  it('refuses a document whose issuer differs from the configured one: the load fails, closed', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(WELL_KNOWN, metadata({ issuer: 'https://evil.example/tenant' }));
    h.origin.routes.set(JWKS, jwks(k1));
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(KeySourceUnavailableError);
    expect(h.origin.fetched).toEqual([WELL_KNOWN]); // the jwks_uri of a foreign document is never fetched
    expect(h.warnings).toContainEqual(expect.objectContaining({ event: 'key_set_load_failed', issuer: ISS, reason: expect.stringContaining('RFC 8414 §3.3') }));
  });

  it('falls back to OpenID Connect discovery only when the RFC 8414 URL answers 404', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(OIDC, metadata());
    h.origin.routes.set(JWKS, jwks(k1));
    expect((await h.keys.key(ISS, 'k1', h.bg))?.jwk.kid).toBe('k1');
    expect(h.origin.fetched).toEqual([WELL_KNOWN, OIDC, JWKS]);
  });

  it('does not fall back on another failure (500)', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(WELL_KNOWN, { status: 500 });
    h.origin.routes.set(OIDC, metadata());
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(/answered 500/);
    expect(h.origin.fetched).toEqual([WELL_KNOWN]);
  });

  it('refuses a jwks_uri over plain http to a non-loopback host, and accepts it to a loopback host', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(WELL_KNOWN, metadata({ jwks_uri: 'http://as.example/tenant/jwks' }));
    h.origin.routes.set('http://as.example/tenant/jwks', jwks(k1));
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(/must be https/);
    expect(h.origin.fetched).toEqual([WELL_KNOWN]);

    const local = 'http://127.0.0.1:9000';
    const l = harness({ [local]: config() });
    l.origin.routes.set(`${local}/.well-known/oauth-authorization-server`, { status: 200, body: JSON.stringify({ issuer: local, jwks_uri: `${local}/jwks` }) });
    l.origin.routes.set(`${local}/jwks`, jwks(k1));
    expect((await l.keys.key(local, 'k1', l.bg))?.jwk.kid).toBe('k1');
  });

  it('fails the load when the metadata has no jwks_uri', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(WELL_KNOWN, metadata({ jwks_uri: undefined }));
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(/no jwks_uri/);
  });

  it('refetches metadata and keys for an unknown kid, at most once per cooldown, following a moved jwks_uri', async () => {
    const h = harness({ [ISS]: config({ unknownKidCooldownSeconds: 30 }) });
    h.origin.routes.set(WELL_KNOWN, metadata());
    h.origin.routes.set(JWKS, jwks(k1));
    await h.keys.key(ISS, 'k1', h.bg);
    const moved = 'https://keys.as.example/v2';
    h.origin.routes.set(WELL_KNOWN, metadata({ jwks_uri: moved }));
    h.origin.routes.set(moved, jwks(k1, k2));
    expect((await h.keys.key(ISS, 'k2', h.bg))?.jwk.kid).toBe('k2');
    expect(h.origin.fetched).toEqual([WELL_KNOWN, JWKS, WELL_KNOWN, moved]);
    expect(await h.keys.key(ISS, 'junk', h.bg)).toBeUndefined();
    expect(h.origin.fetched).toHaveLength(4); // within the cooldown
  });

  it('throws KeySourceUnavailableError when the source is down and nothing was loaded', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.down = true;
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(KeySourceUnavailableError);
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(KeySourceUnavailableError);
    expect(h.origin.fetched).toEqual([WELL_KNOWN]); // failed loads are not retried on every request
  });

  it('keeps last-known keys through an outage of at most maxStaleSeconds', async () => {
    const h = harness({ [ISS]: config({ refreshSeconds: 60, maxStaleSeconds: 600 }) });
    h.origin.routes.set(WELL_KNOWN, metadata());
    h.origin.routes.set(JWKS, jwks(k1));
    await h.keys.key(ISS, 'k1', h.bg);
    h.origin.down = true;
    h.clock.now += 599_000;
    expect((await h.keys.key(ISS, 'k1', h.bg))?.jwk.kid).toBe('k1');
    await h.settle();
    h.clock.now += 1_000;
    await expect(h.keys.key(ISS, 'k1', h.bg)).rejects.toThrow(KeySourceUnavailableError);
  });

  it('skips enc keys and keys for another use; a sig key qualifies', async () => {
    const h = harness({ [ISS]: config() });
    h.origin.routes.set(WELL_KNOWN, metadata());
    h.origin.routes.set(JWKS, jwks({ ...k1, use: 'enc' }, { ...k2, use: 'sig' }));
    expect(await h.keys.key(ISS, 'k1', h.bg)).toBeUndefined();
    expect((await h.keys.key(ISS, 'k2', h.bg))?.jwk.kid).toBe('k2');
    expect((await h.keys.key(ISS, undefined, h.bg))?.jwk.kid).toBe('k2');
    const w = harness({ [ISS]: config() });
    w.origin.routes.set(WELL_KNOWN, metadata());
    w.origin.routes.set(JWKS, jwks({ ...k1, use: 'wit-svid' }));
    expect(await w.keys.key(ISS, 'k1', w.bg)).toBeUndefined();
  });

  it('shares loaded keys and metadata across isolates through state.cache, under keys naming issuer and source', async () => {
    const shared = memoryCache();
    const written: string[] = [];
    const recording: Cache = { get: (k) => shared.get(k), set: (k, v, t) => (written.push(k), shared.set(k, v, t)), delete: (k) => shared.delete(k) };
    const servers = { [ISS]: config({ introspection: { clientId: 'gw', clientSecretEnv: 'AS_SECRET' } }) };
    const a = harness(servers, recording);
    a.origin.routes.set(WELL_KNOWN, metadata());
    a.origin.routes.set(JWKS, jwks(k1));
    await a.keys.key(ISS, 'k1', a.bg);
    expect(await a.keys.introspectionEndpoint(ISS, a.bg)).toBe(INTROSPECT);
    expect(written.some((k) => k.startsWith('as-keys:'))).toBe(true);
    expect(written.some((k) => k.startsWith('as-metadata:'))).toBe(true);
    const b = harness(servers, recording, { ...a.origin, fetched: [], accepts: [] });
    expect((await b.keys.key(ISS, 'k1', b.bg))?.jwk.kid).toBe('k1');
    expect(await b.keys.introspectionEndpoint(ISS, b.bg)).toBe(INTROSPECT);
    expect(b.origin.fetched).toEqual([]);
    // Another source for the same issuer does not take that copy.
    const c = harness({ [ISS]: config({ jwksUri: 'https://as.example/other-jwks' }) }, recording, { ...a.origin, fetched: [], accepts: [] });
    c.origin.routes.set('https://as.example/other-jwks', jwks(k2));
    expect(await c.keys.key(ISS, 'k1', c.bg)).toBeUndefined();
    expect(c.origin.fetched).toContain('https://as.example/other-jwks');
  });
});

describe('keys from config', () => {
  it('indexes inline jwks once and fetches nothing', async () => {
    const h = harness({ [ISS]: config({ jwks: { keys: [k1, k2] } }) });
    expect((await h.keys.key(ISS, 'k2', h.bg))?.jwk.kid).toBe('k2');
    expect(await h.keys.key(ISS, undefined, h.bg)).toBeUndefined(); // two keys: no guessing
    expect(await h.keys.key(ISS, 'k3', h.bg)).toBeUndefined();
    expect(h.origin.fetched).toEqual([]);
  });

  it('fetches a configured jwksUri directly, without metadata', async () => {
    const h = harness({ [ISS]: config({ jwksUri: JWKS }) });
    h.origin.routes.set(JWKS, jwks(k1));
    expect((await h.keys.key(ISS, 'k1', h.bg))?.jwk.kid).toBe('k1');
    expect(h.origin.fetched).toEqual([JWKS]);
  });

  it('answers undefined for an issuer that is not configured', async () => {
    const h = harness({ [ISS]: config({ jwks: { keys: [k1] } }) });
    expect(await h.keys.key('https://other.example', 'k1', h.bg)).toBeUndefined();
    expect(await h.keys.key('toString', 'k1', h.bg)).toBeUndefined();
    expect(await h.keys.introspectionEndpoint('https://other.example', h.bg)).toBeUndefined();
  });
});

describe('introspection endpoint', () => {
  const introspection = { clientId: 'gw', clientSecretEnv: 'AS_SECRET' };

  it('returns the configured endpoint without fetching anything', async () => {
    const h = harness({ [ISS]: config({ jwks: { keys: [k1] }, introspection: { ...introspection, endpoint: 'https://as.example/i?tenant=1' } }) });
    expect(await h.keys.introspectionEndpoint(ISS, h.bg)).toBe('https://as.example/i?tenant=1');
    expect(h.origin.fetched).toEqual([]);
  });

  it('reads introspection_endpoint from the metadata (with inline keys too), once', async () => {
    const h = harness({ [ISS]: config({ jwks: { keys: [k1] }, introspection }) });
    h.origin.routes.set(WELL_KNOWN, metadata());
    expect(await h.keys.introspectionEndpoint(ISS, h.bg)).toBe(INTROSPECT);
    expect(await h.keys.introspectionEndpoint(ISS, h.bg)).toBe(INTROSPECT);
    expect(h.origin.fetched).toEqual([WELL_KNOWN]);
  });

  it('is undefined when the metadata names none', async () => {
    const h = harness({ [ISS]: config({ introspection }) });
    h.origin.routes.set(WELL_KNOWN, metadata({ introspection_endpoint: undefined }));
    expect(await h.keys.introspectionEndpoint(ISS, h.bg)).toBeUndefined();
  });

  it('throws KeySourceUnavailableError when the metadata is unavailable, or names an endpoint over plain http', async () => {
    const h = harness({ [ISS]: config({ introspection }) });
    h.origin.down = true;
    await expect(h.keys.introspectionEndpoint(ISS, h.bg)).rejects.toThrow(KeySourceUnavailableError);
    const p = harness({ [ISS]: config({ introspection }) });
    p.origin.routes.set(WELL_KNOWN, metadata({ introspection_endpoint: 'http://as.example/introspect' }));
    await expect(p.keys.introspectionEndpoint(ISS, p.bg)).rejects.toThrow(KeySourceUnavailableError);
  });

  it('refreshes the metadata in the background when due, serving the current endpoint meanwhile', async () => {
    const h = harness({ [ISS]: config({ introspection, refreshSeconds: 60 }) });
    h.origin.routes.set(WELL_KNOWN, metadata());
    await h.keys.introspectionEndpoint(ISS, h.bg);
    h.origin.routes.set(WELL_KNOWN, metadata({ introspection_endpoint: 'https://as.example/v2/introspect' }));
    h.clock.now += 61_000;
    expect(await h.keys.introspectionEndpoint(ISS, h.bg)).toBe(INTROSPECT);
    await h.settle();
    expect(await h.keys.introspectionEndpoint(ISS, h.bg)).toBe('https://as.example/v2/introspect');
  });
});
