/**
 * RFC 9728 protected resource metadata (src/gateway/resource-metadata.ts): the document's fields and the well-known
 * path derived from each OAuth route's resource, served through createGateway.
 */
import { describe, expect, it } from 'vitest';
import { assertConfig, createGateway, memorySink, type GatewayConfigInput } from '../../src/index.ts';
import { resourceMetadata, resourceMetadataUrl } from '../../src/gateway/resource-metadata.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../../src/verify/dpop.ts';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { generateSigningKey } from '../../src/mint/keys.ts';
import { mintWit } from '../../src/mint/wit.ts';
import { ConfigError } from '../../src/config/load.ts';

const PUBLIC = 'https://gw.example';
const AS = 'https://as.example';
const AS2 = 'https://as2.example';
const JWK = { kty: 'EC' as const, crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'a1' };

const config: GatewayConfigInput = {
  publicUrl: PUBLIC,
  authorizationServers: { [AS]: { jwks: { keys: [JWK] } }, [AS2]: { jwks: { keys: [JWK] } } },
  routes: [
    { path: '/', protocol: 'http', upstream: 'http://up.internal/', auth: { oauth: { authorizationServers: [AS], dpop: 'disabled' } } },
    {
      path: '/mcp/v1',
      protocol: 'mcp',
      upstream: 'http://up.internal/mcp',
      auth: { oauth: { authorizationServers: [AS, AS2], scopes: ['mcp'], tools: { deploy: { scopes: ['deploy', 'mcp'] } }, methods: { 'resources/read': { scopes: ['files'] } }, dpop: 'required', dpopAlgorithms: ['ES256'], resourceName: 'Tools', resourceDocumentation: 'https://docs.example/tools' } },
    },
    { path: '/listed', protocol: 'http', upstream: 'http://up.internal/', auth: { oauth: { authorizationServers: [AS], scopes: ['a'], scopesSupported: ['a', 'b'] } } },
    { path: '/open', protocol: 'http', upstream: 'http://up.internal/', public: true },
  ],
};

const oauthOf = (i: number) => assertConfig(config).routes[i]!.auth!.oauth!;

describe('the metadata document (RFC 9728 §2)', () => {
  it('omits empty fields; dpop "disabled" advertises no DPoP field', () => {
    expect(resourceMetadata(oauthOf(0), PUBLIC)).toEqual({ resource: PUBLIC, authorization_servers: [AS], bearer_methods_supported: ['header'] });
  });

  it('defaults scopes_supported to the union of route, tool and method scopes; dpop "required" sets both DPoP fields', () => {
    expect(resourceMetadata(oauthOf(1), `${PUBLIC}/mcp/v1`)).toEqual({
      resource: `${PUBLIC}/mcp/v1`,
      authorization_servers: [AS, AS2],
      scopes_supported: ['mcp', 'deploy', 'files'],
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: true,
      resource_name: 'Tools',
      resource_documentation: 'https://docs.example/tools',
    });
  });

  it('takes configured scopesSupported as given; dpop "allowed" lists the default algorithms without requiring DPoP', () => {
    const doc = resourceMetadata(oauthOf(2), `${PUBLIC}/listed`);
    expect(doc.scopes_supported).toEqual(['a', 'b']);
    expect(doc.dpop_signing_alg_values_supported).toEqual([...DEFAULT_DPOP_ALGORITHMS]);
    expect(doc).not.toHaveProperty('dpop_bound_access_tokens_required');
  });

  it('derives the well-known URL between host and path (§3.1)', () => {
    expect(resourceMetadataUrl(PUBLIC)).toBe(`${PUBLIC}/.well-known/oauth-protected-resource`);
    expect(resourceMetadataUrl(`${PUBLIC}/`)).toBe(`${PUBLIC}/.well-known/oauth-protected-resource`);
    expect(resourceMetadataUrl(`${PUBLIC}/mcp/v1`)).toBe(`${PUBLIC}/.well-known/oauth-protected-resource/mcp/v1`);
  });
});

describe('served through createGateway', () => {
  const setup = () => {
    const audit = memorySink();
    const seen: string[] = [];
    const gw = createGateway(config, { audit, fetch: async (url) => { seen.push(String(url)); return new Response('ok'); } });
    return { gw, audit, seen };
  };
  const get = (path: string, init: RequestInit = {}) => new Request(`http://127.0.0.1${path}`, init);

  it('serves a route at "/" at the bare well-known path and a nested route below it, never reaching the upstream', async () => {
    const { gw, seen } = setup();
    const root = await gw.fetch(get('/.well-known/oauth-protected-resource'));
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('application/json');
    expect(root.headers.get('access-control-allow-origin')).toBe('*');
    expect(root.headers.get('x-request-id')).toBeTruthy();
    expect(await root.json()).toMatchObject({ resource: PUBLIC, authorization_servers: [AS] });
    const nested = await gw.fetch(get('/.well-known/oauth-protected-resource/mcp/v1', { headers: { host: 'evil.example' } }));
    expect(await nested.json()).toMatchObject({ resource: `${PUBLIC}/mcp/v1`, dpop_bound_access_tokens_required: true });
    expect(seen).toEqual([]);
  });

  it('the challenge of a route names the URL that serves its document', async () => {
    const { gw } = setup();
    const res = await gw.fetch(get('/mcp/v1', { method: 'POST', body: '{}' }));
    const named = /resource_metadata="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
    expect(named).toBe(`${PUBLIC}/.well-known/oauth-protected-resource/mcp/v1`);
    expect((await gw.fetch(get(new URL(named!).pathname))).status).toBe(200);
  });

  it('answers HEAD without a body, OPTIONS as a CORS preflight, other methods with 405', async () => {
    const { gw } = setup();
    const head = await gw.fetch(get('/.well-known/oauth-protected-resource/listed', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const options = await gw.fetch(get('/.well-known/oauth-protected-resource/listed', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'mcp-protocol-version' } }));
    expect(options.status).toBe(204);
    expect(options.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
    expect(options.headers.get('access-control-allow-headers')).toBe('mcp-protocol-version');
    const post = await gw.fetch(get('/.well-known/oauth-protected-resource/listed', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('answers 404 for every other path below the well-known prefix, even with a route at "/" (an upstream\'s metadata would name other authorization servers)', async () => {
    const { gw } = setup();
    for (const path of ['/.well-known/oauth-protected-resource/open', '/.well-known/oauth-protected-resource/mcp']) {
      const res = await gw.fetch(get(path));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'ERR_ROUTE_NOT_FOUND' });
    }
  });
});

describe('signed_metadata (RFC 9728 §2.2) with the gateway\'s identity key', () => {
  const get = (path: string) => new Request(`http://127.0.0.1${path}`);
  const signedConfig = (identity: boolean): GatewayConfigInput => ({
    publicUrl: PUBLIC,
    authorizationServers: { [AS]: { jwks: { keys: [JWK] } } },
    ...(identity ? { identity: { env: 'GW_IDENTITY' } } : {}),
    routes: [{ path: '/mcp', protocol: 'mcp', upstream: 'http://up.internal/mcp', auth: { oauth: { authorizationServers: [AS], scopes: ['mcp'], signedMetadata: true } } }],
  });

  it('names the gateway JWK Set as jwks_uri and carries the same values as a JWT with iss, verifiable with that set', async () => {
    const issuerKey = { ...(await generateSigningKey('ES256')), kid: 'i1' };
    const minted = await mintWit({ issuerKey, subject: 'spiffe://gw.example/gateway', ttlSeconds: 600 });
    const gw = createGateway(signedConfig(true), { audit: memorySink(), readEnv: () => JSON.stringify({ wit: minted.wit, key: minted.key }) });
    const res = await gw.fetch(get('/.well-known/oauth-protected-resource/mcp'));
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown> & { signed_metadata: string };
    expect(doc.jwks_uri).toBe(`${PUBLIC}/.well-known/jwks.json`);
    const jwksRes = await gw.fetch(get('/.well-known/jwks.json'));
    expect(jwksRes.status).toBe(200);
    const jwks = (await jwksRes.json()) as JSONWebKeySet;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', use: 'sig', alg: 'ES256' });
    const { payload, protectedHeader } = await jwtVerify(doc.signed_metadata, createLocalJWKSet(jwks), { issuer: PUBLIC });
    expect(protectedHeader.kid).toBe(jwks.keys[0]!.kid);
    const { signed_metadata: _jwt, ...plain } = doc;
    const { iss: _iss, iat, ...signedValues } = payload;
    expect(signedValues).toEqual(plain);
    expect(typeof iat).toBe('number');
    expect(payload).not.toHaveProperty('signed_metadata');
    // Signed once per key, not per request.
    const again = (await (await gw.fetch(get('/.well-known/oauth-protected-resource/mcp'))).json()) as { signed_metadata: string };
    expect(again.signed_metadata).toBe(doc.signed_metadata);
  });

  it('needs the top-level identity (config error), and answers 503 when the identity cannot be loaded', async () => {
    expect(() => createGateway(signedConfig(false), { audit: memorySink() })).toThrow(ConfigError);
    const gw = createGateway(signedConfig(true), { audit: memorySink(), readEnv: () => undefined });
    const res = await gw.fetch(get('/.well-known/oauth-protected-resource/mcp'));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'ERR_OWN_IDENTITY_UNAVAILABLE' });
    expect((await gw.fetch(get('/.well-known/jwks.json'))).status).toBe(503);
  });
});
