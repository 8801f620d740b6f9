import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, ConfigError, parseConfig, parseConfigText } from '../../src/config/index.ts';
import { configJsonSchema } from '../../src/config/json-schema.ts';
import { MAX_CONFIG_BYTES } from '../../src/limits.ts';

const route = { path: '/mcp', protocol: 'mcp', upstream: 'http://127.0.0.1:8788/mcp', public: true };
const valid = { publicUrl: 'https://gw.example', routes: [route] };

function problems(input: unknown) {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('GatewayConfig', () => {
  it('accepts a minimal public route and a service-binding upstream', () => {
    const result = parseConfig({ ...valid, routes: [route, { path: '/svc', protocol: 'http', upstream: { service: 'DEMO' }, public: true }] });
    expect(result.ok).toBe(true);
  });

  it('refuses unknown keys at every depth, naming each key', () => {
    const found = problems({ ...valid, extra: 1, limits: { maxBodyBytes: 10, bogus: 2 }, routes: [{ ...route, tls: true }] });
    expect(found).toEqual(expect.arrayContaining([
      { path: 'extra', message: 'unknown key' },
      { path: 'limits.bogus', message: 'unknown key' },
      { path: 'routes[0].tls', message: 'unknown key' },
    ]));
  });

  it('fails closed: a route without auth must say public: true', () => {
    const { public: _, ...unmarked } = route;
    expect(problems({ ...valid, routes: [unmarked] })).toEqual([{ path: 'routes[0].auth', message: expect.stringContaining('routes fail closed') }]);
  });

  it('refuses public routes that also carry auth, and auth blocks naming no credential', () => {
    expect(problems({ ...valid, routes: [{ ...route, auth: {} }] }).map((p) => p.path)).toEqual(['routes[0].public', 'routes[0].auth']);
    const { public: _, ...closed } = route;
    expect(problems({ ...valid, routes: [{ ...closed, auth: {} }] })).toEqual([{ path: 'routes[0].auth', message: 'names no credential: add "wit", "jwtSvid", "mtls" and/or "oauth"' }]);
  });

  it('lists every problem at once, by path', () => {
    const found = problems({
      publicUrl: 'https://gw.example/base',
      routes: [
        { path: '/a/', protocol: 'mcp', upstream: 'ftp://x', public: true },
        { path: '/b', protocol: 'grpc', upstream: 'http://u:p@x/', public: true },
        { path: '/b', protocol: 'http', upstream: 'http://x/?q=1', public: true },
        { path: '/healthz', protocol: 'http', upstream: 'http://x/', public: true },
        { path: '/x/../y', protocol: 'http', upstream: 'not a url', public: true },
      ],
    });
    expect(found.map((p) => p.path)).toEqual(expect.arrayContaining([
      'publicUrl', 'routes[0].path', 'routes[0].upstream', 'routes[1].protocol', 'routes[1].upstream',
      'routes[2].upstream', 'routes[2].path', 'routes[3].path', 'routes[4].path', 'routes[4].upstream',
    ]));
    expect(found.find((p) => p.path === 'routes[2].path')?.message).toBe('duplicates routes[1].path "/b"');
    expect(found.find((p) => p.path === 'routes[3].path')?.message).toContain('served by the gateway itself');
  });

  it('refuses non-positive and non-integer limits, and timeouts a timer cannot hold', () => {
    expect(problems({ ...valid, limits: { maxBodyBytes: 0, upstreamTimeoutMs: 1.5 } }).map((p) => p.path)).toEqual(['limits.maxBodyBytes', 'limits.upstreamTimeoutMs']);
    expect(problems({ ...valid, limits: { upstreamTimeoutMs: 2 ** 31 } }).map((p) => p.path)).toEqual(['limits.upstreamTimeoutMs']);
  });

  it('keeps header limits gateway-wide: they apply before a route is chosen', () => {
    expect(problems({ ...valid, routes: [{ ...route, limits: { maxHeaderBytes: 100 } }] })).toEqual([{ path: 'routes[0].limits.maxHeaderBytes', message: 'unknown key' }]);
    expect(parseConfig({ ...valid, routes: [{ ...route, limits: { maxBodyBytes: 100, upstreamTimeoutMs: 5 } }] }).ok).toBe(true);
  });

  it('needs at least one route', () => {
    expect(problems({ publicUrl: 'https://gw.example', routes: [] }).map((p) => p.path)).toEqual(['routes']);
  });

  it('parses JSON text, refusing malformed and oversized documents', () => {
    expect(parseConfigText(JSON.stringify(valid)).ok).toBe(true);
    const bad = parseConfigText('{\n  "clientSecret": hunter2\n}');
    expect(bad.ok === false && bad.problems[0]?.message).toBe('not valid JSON');
    expect(JSON.stringify(bad)).not.toContain('hunter2'); // the engine's message quotes the input
    const big = parseConfigText(' '.repeat(MAX_CONFIG_BYTES + 1));
    expect(big.ok === false && big.problems[0]?.message).toBe(`larger than ${MAX_CONFIG_BYTES} bytes`);
  });

  it('assertConfig throws a ConfigError whose message lists each problem on its own line', () => {
    let error: unknown;
    try {
      assertConfig({ publicUrl: 'x', routes: [{ ...route, public: false }] }, 'test.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.split('\n')[0]).toBe('invalid test.json:');
    expect(message).toContain('  - publicUrl: must be an absolute URL');
    expect(message).toContain('  - routes[0].auth: required');
    expect(message).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('the published JSON Schema is the one generated from the zod schema (npm run schema)', () => {
    const published = JSON.parse(readFileSync(new URL('../../schema/portcullis.config.schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(configJsonSchema());
    expect(published.additionalProperties).toBe(false);
  });
});

describe('GatewayConfig: trustDomains and route credentials', () => {
  const TD = 'spiffe://dev.portcullis.local';
  let ec: { kty: string; crv: string; x: string; y: string; d: string };
  let rsa1024: { kty: string; n: string; e: string };
  const { public: _, ...closed } = route;
  const td = () => ({ jwks: { keys: [{ kty: ec.kty, crv: ec.crv, x: ec.x, y: ec.y, kid: 'k1' }] } });
  const withDomains = (trustDomains: unknown, routes: unknown[] = [{ ...closed, auth: { wit: { trustDomains: [TD] } } }]) => ({ ...valid, trustDomains, routes });

  beforeAll(async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    ec = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as typeof ec;
    const small = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    rsa1024 = (await crypto.subtle.exportKey('jwk', small.publicKey)) as typeof rsa1024;
  });

  it('keeps a configured WPT audience to its own route (valid.publicUrl is https://gw.example)', () => {
    const wit = (audience: string) => ({ wit: { trustDomains: [TD], audience } });
    const routes = (a: string, b: string) => [{ ...closed, path: '/mcp', auth: wit(a) }, { ...closed, path: '/api', auth: wit(b) }];
    expect(parseConfig(withDomains({ [TD]: td() }, routes('https://gw.example/mcp', 'https://gw.example/api/v1'))).ok).toBe(true);
    expect(problems(withDomains({ [TD]: td() }, routes('https://gw.example/api', 'https://gw.example/api/x')))).toEqual([
      { path: 'routes[0].auth.wit.audience', message: 'names a URL that routes[1] serves' },
    ]);
    expect(problems(withDomains({ [TD]: td() }, routes('https://alias.example/x', 'https://alias.example/x')))).toEqual([
      { path: 'routes[1].auth.wit.audience', message: 'duplicates routes[0].auth.wit.audience' },
    ]);
    expect(problems(withDomains({ [TD]: td() }, routes('https://gw.example/nowhere', 'https://gw.example/api')))).toEqual([
      { path: 'routes[0].auth.wit.audience', message: 'names a URL on publicUrl that no route serves' },
    ]);
  });

  it('accepts a WIT+WPT route and a JWT-SVID route over an inline JWK Set, with defaults filled in', () => {
    const result = parseConfig(withDomains({ [TD]: td(), 'wimse://example.com': td() }, [
      { ...closed, auth: { wit: { trustDomains: [TD, 'wimse://example.com'] }, jwtSvid: { trustDomains: [TD] } } },
      { ...closed, path: '/legacy', auth: { wit: { trustDomains: [TD], carriage: 'header', audience: 'https://alias.example/mcp', maxWptLifetimeSeconds: 60 } } },
    ]));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.trustDomains?.[TD]?.algorithms).toEqual(['ES256']);
    expect(result.config.routes[0]?.auth?.wit?.carriage).toBe('authorization');
    expect(result.config.routes[1]?.auth?.wit).toMatchObject({ carriage: 'header', audience: 'https://alias.example/mcp' });
  });

  it('accepts a pasted SPIFFE bundle: use values, spiffe_sequence and spiffe_refresh_hint, extra JWK members', () => {
    const jwk = { kty: ec.kty, crv: ec.crv, x: ec.x, y: ec.y };
    const bundle = { keys: [{ ...jwk, kid: 'w', use: 'wit-svid', x5t: 'abc' }, { ...jwk, kid: 'j', use: 'jwt-svid', alg: 'ES256' }], spiffe_sequence: 12, spiffe_refresh_hint: 300 };
    expect(parseConfig(withDomains({ [TD]: { jwks: bundle, profile: 'wit-svid' } })).ok).toBe(true);
  });

  it('refuses keys that are not canonical trust domain origins, by path', () => {
    const found = problems(withDomains({ [TD]: td(), 'spiffe://Dev.local': td(), 'spiffe://dev.local/ns': td(), 'https://dev.local': td(), 'wimse://dev.local.': td() }));
    expect(found).toEqual([
      { path: 'trustDomains["spiffe://Dev.local"]', message: 'not a canonical trust domain: the trust domain has uppercase letters' },
      { path: 'trustDomains["spiffe://dev.local/ns"]', message: expect.stringContaining('must be a trust domain origin') },
      { path: 'trustDomains["https://dev.local"]', message: expect.stringContaining('must be a trust domain origin') },
      { path: 'trustDomains["wimse://dev.local."]', message: 'not a canonical trust domain: a wimse trust domain ends with a dot' },
    ]);
  });

  it('refuses private key members, keys without kid, repeated kids, and keys of the wrong shape, without echoing key material', () => {
    const pub = { kty: ec.kty, crv: ec.crv, x: ec.x, y: ec.y };
    const keys = [
      { ...pub, kid: 'a', d: ec.d },
      { ...pub },
      { ...pub, kid: 'a' },
      { ...pub, kid: 'c', y: ec.y.slice(4) },
      { ...rsa1024, kid: 'r' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 's' },
      { ...pub, kid: 'e', alg: 'ES384' },
      { ...pub, kid: 'f', use: 'enc' },
      { ...pub, kid: 'g', key_ops: ['sign'] },
    ];
    const result = parseConfig(withDomains({ [TD]: { jwks: { keys } } }));
    const found = problems(withDomains({ [TD]: { jwks: { keys } } }));
    const at = (i: number) => found.filter((p) => p.path.startsWith(`trustDomains["${TD}"].jwks.keys[${i}]`)).map((p) => p.path.slice(`trustDomains["${TD}"].jwks.keys[${i}]`.length));
    expect(at(0)).toEqual(['.d']);
    expect(at(1)).toEqual(['.kid']);
    expect(at(2)).toEqual([]); // repeated kid: checked once every key has the right shape (next test)
    expect(at(3)).toEqual(['.y']);
    expect(at(4)).toEqual(['.n']);
    expect(at(5)).toEqual(['.kty']);
    expect(at(6)).toEqual(['.alg']); // does not fit P-256
    expect(at(7)).toEqual(['.use']);
    expect(at(8)).toEqual(['.key_ops']);
    expect(JSON.stringify(result)).not.toContain(ec.d);
    expect(JSON.stringify(result)).not.toContain(ec.x);
  });

  it('refuses a repeated kid, and keys no configured algorithm can use', () => {
    const pub = { kty: ec.kty, crv: ec.crv, x: ec.x, y: ec.y };
    const found = problems(withDomains({ [TD]: { jwks: { keys: [{ ...pub, kid: 'a' }, { ...pub, kid: 'a' }, { ...pub, kid: 'b', alg: 'ES256' }, { ...pub, kid: 'c' }] }, algorithms: ['EdDSA'] } }));
    const base = `trustDomains["${TD}"].jwks.keys`;
    expect(found).toEqual([
      { path: `${base}[0]`, message: 'the key fits none of algorithms' },
      { path: `${base}[1].kid`, message: 'duplicates jwks.keys[0].kid' },
      { path: `${base}[1]`, message: 'the key fits none of algorithms' },
      { path: `${base}[2].alg`, message: '"ES256" is not in algorithms, so this key could never verify' },
      { path: `${base}[3]`, message: 'the key fits none of algorithms' },
    ]);
  });

  it('refuses an empty key set, symmetric or unknown algorithms, and out-of-bounds policy numbers', () => {
    const found = problems(withDomains({ [TD]: { jwks: { keys: [] }, algorithms: ['HS256', 'none'], clockSkewSeconds: 301, maxWitLifetimeSeconds: 0, maxJwtSvidLifetimeSeconds: 86_401, issuers: [] } }));
    const base = `trustDomains["${TD}"]`;
    expect(found.map((p) => p.path)).toEqual([`${base}.jwks.keys`, `${base}.algorithms[0]`, `${base}.algorithms[1]`, `${base}.issuers`, `${base}.clockSkewSeconds`, `${base}.maxWitLifetimeSeconds`, `${base}.maxJwtSvidLifetimeSeconds`]);
  });

  it('checks the wit-svid profile: spiffe:// domains only, RS/ES/PS algorithms only', () => {
    const found = problems(withDomains({ [TD]: { ...td(), profile: 'wit-svid', algorithms: ['ES256', 'EdDSA'] }, 'wimse://example.com': { ...td(), profile: 'wit-svid' } }));
    expect(found).toEqual([
      { path: `trustDomains["${TD}"].algorithms`, message: 'the wit-svid profile allows RS/ES/PS algorithms only, not EdDSA' },
      { path: 'trustDomains["wimse://example.com"].profile', message: 'the wit-svid profile needs a spiffe:// trust domain' },
    ]);
  });

  it('cross-checks routes against trustDomains, reported by path', () => {
    const found = problems(withDomains({ [TD]: td(), 'wimse://example.com': td(), 'spiffe://ed.example': { jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: ec.x, kid: 'e' }] }, algorithms: ['EdDSA'] } }, [
      { ...closed, auth: { wit: { trustDomains: [TD, 'spiffe://unknown.example'] }, jwtSvid: { trustDomains: ['wimse://example.com', 'spiffe://ed.example'] } } },
      { ...closed, path: '/b', auth: { wit: { trustDomains: [TD, TD] } } },
    ]));
    expect(found).toEqual([
      { path: 'routes[1].auth.wit.trustDomains', message: 'must not repeat a trust domain' },
      { path: 'routes[0].auth.wit.trustDomains[1]', message: '"spiffe://unknown.example" is not defined in trustDomains' },
      { path: 'routes[0].auth.jwtSvid.trustDomains[0]', message: 'JWT-SVIDs come from spiffe:// trust domains only' },
      { path: 'routes[0].auth.jwtSvid.trustDomains[1]', message: expect.stringContaining('has no RS/ES/PS algorithm') },
    ]);
    // A route naming a trust domain when there is no trustDomains block at all.
    expect(problems({ ...valid, routes: [{ ...closed, auth: { wit: { trustDomains: [TD] } } }] })).toEqual([{ path: 'routes[0].auth.wit.trustDomains[0]', message: `"${TD}" is not defined in trustDomains` }]);
  });

  it('checks route credential blocks: strict, an absolute audience URL, bounded proof lifetime, a carriage it knows', () => {
    const found = problems(withDomains({ [TD]: td() }, [{ ...closed, auth: { wit: { trustDomains: [], carriage: 'cookie', audience: '/mcp', maxWptLifetimeSeconds: 3601, extra: 1 }, jwtSvid: { trustDomains: [TD], audience: '' } } }]));
    expect(found.map((p) => p.path).sort()).toEqual([
      'routes[0].auth.jwtSvid.audience',
      'routes[0].auth.wit.audience',
      'routes[0].auth.wit.carriage',
      'routes[0].auth.wit.extra',
      'routes[0].auth.wit.maxWptLifetimeSeconds',
      'routes[0].auth.wit.trustDomains',
    ]);
  });
});

describe('GatewayConfig: authorizationServers and auth.oauth', () => {
  const AS = 'https://as.example';
  const AS2 = 'https://as2.example';
  const jwk = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'a1' };
  const introspection = { endpoint: 'https://as.example/introspect', clientId: 'gw', clientSecretEnv: 'SECRET' };
  const servers = { [AS]: { jwks: { keys: [jwk] } }, [AS2]: { jwks: { keys: [jwk] } } };
  const td = { 'spiffe://dev.test': { jwks: { keys: [jwk] } } };
  const closed = { path: '/api', protocol: 'http', upstream: 'http://127.0.0.1:8788/' };
  const cfg = (auth: Record<string, unknown>, extra: Record<string, unknown> = {}, r: Record<string, unknown> = {}) => ({ ...valid, trustDomains: td, authorizationServers: servers, routes: [{ ...closed, ...r, auth }], ...extra });
  const oauth = (o: Record<string, unknown> = {}) => ({ authorizationServers: [AS], ...o });

  it('accepts an oauth route and fills in its defaults', () => {
    const result = parseConfig(cfg({ oauth: oauth() }));
    expect(result.ok && result.config.routes[0]!.auth!.oauth).toMatchObject({ dpop: 'allowed', dpopNonce: false, withWorkload: false });
  });

  it('refuses each rule of auth.oauth, by path', () => {
    const cases: Array<[unknown, string, string | RegExp]> = [
      [cfg({ oauth: oauth(), jwtSvid: { trustDomains: ['spiffe://dev.test'] } }), 'routes[0].auth.jwtSvid', 'cannot be combined with oauth: both are Authorization: Bearer tokens'],
      [cfg({ oauth: oauth({ tools: { t: { scopes: ['a'] } } }) }), 'routes[0].auth.oauth.tools', 'only on "protocol": "mcp" routes'],
      [cfg({ oauth: oauth({ methods: { 'tools/list': { scopes: ['a'] } } }) }), 'routes[0].auth.oauth.methods', 'only on "protocol": "mcp" or "a2a" routes'],
      [cfg({ oauth: oauth() }, {}, { protocol: 'a2a' }), 'routes[0].auth.oauth.authorizationServers[0]', `authorizationServers["${AS}"].tokenEndpoint is needed: the Agent Card declares the OAuth client credentials flow with it`],
      [cfg({ oauth: oauth() }, {}, { protocol: 'mcp', a2a: {} }), 'routes[0].a2a', 'only on "protocol": "a2a" routes'],
      [cfg({ oauth: oauth({ methods: { 'tasks/cancel': { scopes: ['a'] } } }) }, { authorizationServers: { [AS]: { jwks: { keys: [jwk] }, tokenEndpoint: 'https://as.example/token' } } }, { protocol: 'a2a' }), 'routes[0].auth.oauth.methods["tasks/cancel"]', 'an A2A 0.3 name: use the 1.0 name "CancelTask" (it covers both versions and bindings)'],
      [cfg({ oauth: oauth({ methods: { cancelTask: { scopes: ['a'] } } }) }, { authorizationServers: { [AS]: { jwks: { keys: [jwk] }, tokenEndpoint: 'https://as.example/token' } } }, { protocol: 'a2a' }), 'routes[0].auth.oauth.methods.cancelTask', /^not an A2A 1.0 method \(SendMessage, /],
      [cfg({ wit: { trustDomains: ['spiffe://dev.test'] } }, {}, { protocol: 'a2a', a2a: { skills: { s: { scopes: ['a'] } } } }), 'routes[0].a2a.skills', 'needs auth.oauth: skill scopes are access token scopes'],
      [cfg({ wit: { trustDomains: ['spiffe://dev.test'] } }, { agentCards: { keyRotationSeconds: 900 } }, { protocol: 'a2a', a2a: { card: { maxAgeSeconds: 901 } } }), 'routes[0].a2a.card.maxAgeSeconds', 'must not exceed agentCards.keyRotationSeconds (900): a cached card must still verify'],
      [cfg({ wit: { trustDomains: ['spiffe://dev.test'] } }, {}, { protocol: 'a2a', a2a: { pushNotifications: { allowedUrls: ['http://hooks.example/'] } } }), 'routes[0].a2a.pushNotifications.allowedUrls[0]', 'must use https (push notifications carry the caller\'s credentials to this URL)'],
      [cfg({ wit: { trustDomains: ['spiffe://dev.test'] } }, {}, { protocol: 'a2a', a2a: { pushNotifications: { allowedUrls: ['https://HOOKS.example/a'] } } }), 'routes[0].a2a.pushNotifications.allowedUrls[0]', 'must be written in normal form (https://hooks.example/a)'],
      [cfg({ oauth: oauth({ dpop: 'disabled', dpopNonce: true }) }), 'routes[0].auth.oauth.dpopNonce', 'needs DPoP: set dpop to "allowed" or "required"'],
      [cfg({ oauth: oauth({ withWorkload: true }) }), 'routes[0].auth.oauth.withWorkload', 'needs auth.wit (the workload credential that comes with the access token)'],
      [cfg({ oauth: oauth({ withWorkload: true }), wit: { trustDomains: ['spiffe://dev.test'] } }), 'routes[0].auth.wit.carriage', /must be "header" with oauth.withWorkload/],
      [cfg({ oauth: oauth({ withWorkload: true, dpop: 'required' }), wit: { trustDomains: ['spiffe://dev.test'], carriage: 'header' } }), 'routes[0].auth.oauth.dpop', /^cannot be "required" with withWorkload unless auth.wit.proofs includes "http-sig"/],
      [cfg({ oauth: oauth({ authorizationServers: ['https://nobody.example'] }) }), 'routes[0].auth.oauth.authorizationServers[0]', '"https://nobody.example" is not defined in authorizationServers'],
      [
        cfg({ oauth: oauth({ authorizationServers: [AS, AS2] }) }, { authorizationServers: { [AS]: { jwks: { keys: [jwk] }, introspection }, [AS2]: { jwks: { keys: [jwk] }, introspection } } }),
        'routes[0].auth.oauth.authorizationServers',
        /^at most one of these may introspect tokens/,
      ],
      [cfg({ oauth: oauth({ resource: 'https://other.example/api' }) }), 'routes[0].auth.oauth.resource', /^must be on publicUrl's origin/],
    ];
    for (const [input, path, message] of cases) {
      const found = problems(input);
      expect(found, path).toContainEqual({ path, message: typeof message === 'string' ? message : expect.stringMatching(message) });
    }
  });

  it('accepts an A2A OAuth route whose authorization server names its token endpoint, with per-method scopes', () => {
    const result = parseConfig(cfg({ oauth: oauth({ methods: { SendMessage: { scopes: ['a2a:send'] } } }) }, { authorizationServers: { [AS]: { jwks: { keys: [jwk] }, tokenEndpoint: 'https://as.example/token' } } }, { protocol: 'a2a' }));
    expect(result.ok).toBe(true);
    expect(result.ok && result.config.routes[0]!.a2a).toBeUndefined();
  });

  it('refuses two routes with one resource identifier', () => {
    const input = { ...valid, authorizationServers: servers, routes: [{ ...closed, auth: { oauth: oauth() } }, { ...closed, path: '/b', auth: { oauth: oauth({ resource: 'https://gw.example/api' }) } }] };
    expect(problems(input)).toEqual([{ path: 'routes[1].auth.oauth.resource', message: 'routes[0] has the same resource identifier: a token for one would be accepted by both' }]);
  });

  it('refuses an authorization server with both jwks and jwksUri, and a plain-http issuer off loopback', () => {
    const both = problems(cfg({ oauth: oauth() }, { authorizationServers: { [AS]: { jwks: { keys: [jwk] }, jwksUri: 'https://as.example/jwks' } } }));
    expect(both).toEqual([{ path: expect.stringContaining('authorizationServers'), message: 'set at most one of jwks and jwksUri' }]);
    const plain = problems({ ...valid, authorizationServers: { 'http://as.example': { jwks: { keys: [jwk] } } }, routes: [route] });
    expect(plain).toEqual([{ path: expect.stringContaining('authorizationServers'), message: expect.stringMatching(/^must be https \(plain http only to a loopback host\)/) }]);
    expect(parseConfig({ ...valid, authorizationServers: { 'http://127.0.0.1:9000': { jwks: { keys: [jwk] } } }, routes: [route] }).ok).toBe(true);
  });
});
