/**
 * The gateway config the conformance suite runs with, generated for one fixture upstream. Each route
 * exercises one setting; the tests name routes by these paths.
 */
export const PUBLIC_URL = 'https://gateway.example.test';

/** Gateway-wide header limits, low enough that the gateway (not the runtime's HTTP parser) refuses. */
export const MAX_HEADER_COUNT = 40;
export const MAX_HEADER_BYTES = 8 * 1024;
/** The `/small` and `/mcp` routes' body limits. */
export const SMALL_BODY_BYTES = 1024;
export const MCP_BODY_BYTES = 4096;
/** The `/slow` and `/mcp-slow` routes' wait for upstream response headers. */
export const SHORT_TIMEOUT_MS = 300;

/** The trust domain the WIMSE routes accept, its issuer allowlist and key id; keys are generated per run. */
export const TRUST_DOMAIN = 'spiffe://conformance.test';
export const ISSUER = 'https://issuer.conformance.test';
export const ISSUER_KID = 'conf-1';
/** Configured in trustDomains, but accepted by no route. */
export const OTHER_TRUST_DOMAIN = 'wimse://other.conformance.test';
export const OTHER_KID = 'other-1';
/** The conformance trust domain's WIT lifetime limit (seconds). */
export const MAX_WIT_LIFETIME = 3600;

/**
 * The gateway's own identity (test/conformance/gateway-identity.test.ts): a WIT for GATEWAY_ID minted by the global
 * setup with the conformance issuer key, handed to the gateway in the variable IDENTITY_ENV (process environment on
 * node, deno and bun; `--var` on workerd). UP_SIG_AUDIENCE is the `/up-sig` route's configured upstream audience.
 */
export const GATEWAY_ID = `${TRUST_DOMAIN}/gateway`;
export const IDENTITY_ENV = 'PORTCULLIS_IDENTITY';
export const UP_SIG_AUDIENCE = 'https://upstream.conformance.test/api';

/**
 * Trust domains whose keys come from a `keySource` (test/conformance/key-sources.test.ts), one per route:
 * a JWK Set the tests publish on the fixture (key set name `url`), a SPIFFE bundle likewise (`bundle`), a URL that
 * answers 500, a closed loopback port, and a file beside the config file (node, deno and bun only: workerd
 * refuses file sources, so its config leaves that trust domain and route out).
 */
export const KEYS_URL_TRUST_DOMAIN = 'spiffe://keys-url.conformance.test';
export const KEYS_BUNDLE_TRUST_DOMAIN = 'spiffe://keys-bundle.conformance.test';
export const KEYS_DOWN_TRUST_DOMAIN = 'wimse://keys-down.conformance.test';
export const KEYS_DEAD_TRUST_DOMAIN = 'wimse://keys-dead.conformance.test';
export const KEYS_FILE_TRUST_DOMAIN = 'spiffe://keys-file.conformance.test';
/** Fixture key set names (PUT/GET /__fixture/key-sets/<name>). */
export const KEY_SET_URL = 'url';
export const KEY_SET_BUNDLE = 'bundle';
/** The `/keys-url` source's unknown-kid cooldown (seconds): the tests wait it out once. */
export const KEYS_URL_COOLDOWN_SECONDS = 1;
/** The key file of KEYS_FILE_TRUST_DOMAIN, beside the config file, and its key's kid. */
export const KEY_FILE = 'trust-keys.jwks.json';
export const FILE_KID = 'file-1';

/** The `/sig-short` route's `httpSignature.maxLifetimeSeconds` (the default is DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS). */
export const SHORT_SIG_LIFETIME = 30;

/**
 * mTLS (test/conformance/mtls.test.ts): a spiffe:// trust domain whose X.509 bundle is one root CA generated per run
 * by the global setup (its private key goes to the tests, which issue leaves and an intermediate under it). The
 * `/mtls` route believes RFC 9440 Client-Cert fields from a loopback peer, as each runtime reports it (node, deno
 * and bun: the socket's peer; workerd: CF-Connecting-IP, which wrangler dev's proxy sets from the socket's peer
 * when the client sends none); `/mtls-untrusted` trusts only an address no test connects from.
 */
export const MTLS_TRUST_DOMAIN = 'spiffe://mtls.conformance.test';
/** Subject CN of the per-run root CA (leaves name it as their issuer). */
export const MTLS_ROOT_NAME = 'Conformance mTLS Root';
export const LOOPBACK_PROXIES = ['127.0.0.1', '::ffff:127.0.0.1', '::1'];
export const UNTRUSTED_PROXY = '192.0.2.1';

/**
 * OAuth resource server (test/conformance/oauth.test.ts): an authorization server on the fixture, issuer
 * `${fixtureUrl}${AS_PATH}` (RFC 8414 metadata at /.well-known/oauth-authorization-server/as, its JWK Set at
 * /as/jwks, RFC 7662 introspection at /as/introspect), whose ES256 signing key (kid AS_KID) the global setup
 * generates. The gateway authenticates to its introspection endpoint as AS_CLIENT_ID with a per-run secret it reads
 * from the variable AS_SECRET_ENV. Routes: `/oauth` (http, scope "read", Bearer or DPoP), `/oauth-mcp` (mcp, scope
 * "read", admin_tool needs "admin", mfa_tool needs acr "mfa" within OAUTH_MAX_AGE seconds), `/oauth-dpop` (DPoP
 * only, server nonces).
 */
export const AS_PATH = '/as';
export const AS_KID = 'as-1';
export const AS_CLIENT_ID = 'portcullis:conformance gateway';
export const AS_SECRET_ENV = 'PORTCULLIS_AS_SECRET';
export const OAUTH_MAX_AGE = 60;
/** `/oauth-es256`: a route accepting DPoP proofs signed with ES256 only. */
export const ES256_ONLY = ['ES256'];

/**
 * More fixture authorization servers (test/conformance/oauth.test.ts), one route each (a route may have only one
 * introspecting server):
 *   AS2_PATH       its own ES256 key (AS2_KID, generated by the global setup; the fixture signs with it), RFC 9701 JWT
 *                  introspection answers, client_secret_post as AS2_CLIENT_ID: route `/oauth-jwt`
 *   AS_DOWN_PATH   its introspection endpoint (from its metadata) answers 500: route `/oauth-as-down`
 *   AS_DEAD_PATH   its configured introspection endpoint is a closed loopback port: route `/oauth-as-dead`
 *   AS_WRONG_PATH  its RFC 8414 metadata names another issuer (that of AS_PATH): route `/oauth-as-wrong`
 * All use the secret in AS_SECRET_ENV.
 */
export const AS2_PATH = '/as2';
export const AS2_KID = 'as2-1';
export const AS2_CLIENT_ID = 'portcullis:conformance post';
export const AS_DOWN_PATH = '/as-down';
export const AS_DEAD_PATH = '/as-dead';
export const AS_WRONG_PATH = '/as-wrong';

/**
 * Workload + user (test/conformance/oauth-combined.test.ts): `/oauth-wimse` needs a WIT of the conformance trust
 * domain (with a -01 WPT in Workload-Proof-Token, or a WIMSE HTTP signature) AND an access token of AS_PATH
 * (Bearer or DPoP, scope "read").
 */
export const COMBINED_PATH = '/oauth-wimse';

/**
 * Transaction Tokens (test/conformance/txn-token.test.ts): the gateway mints a Txn-Token with aud TXN_TRUST_DOMAIN
 * and lifetime TXN_LIFETIME for the upstream of `/wimse-txn` (http, WIT + WPT, default scope "route:/wimse-txn")
 * and of `/oauth-mcp-txn` (mcp, access tokens of AS_PATH, TXN_TOOL needs scopes TXN_TOOL_SCOPES, no route scope),
 * and publishes its signing keys at /.well-known/jwks.json.
 */
export const TXN_TRUST_DOMAIN = 'txn.conformance.test';
export const TXN_LIFETIME = 90;
export const TXN_WIT_PATH = '/wimse-txn';
export const TXN_OAUTH_PATH = '/oauth-mcp-txn';
export const TXN_TOOL = 'deploy_tool';
export const TXN_TOOL_SCOPES = ['deploy', 'admin'];

/**
 * The Transaction Token Service (test/conformance/tts.test.ts): `transactionTokens.service` at TTS_PATH, requesters
 * authenticate with a WIT of the conformance trust domain (WPT audience PUBLIC_URL + TTS_PATH) and only TTS_REQUESTER
 * may ask; subject access tokens come from AS_PATH with aud TTS_SUBJECT_AUDIENCE (the default: publicUrl's origin).
 */
export const TTS_PATH = '/txn-token';
export const TTS_REQUESTER = `${TRUST_DOMAIN}/ns/conformance/sa/tts-requester`;
export const TTS_SUBJECT_AUDIENCE = new URL(PUBLIC_URL).origin;

/**
 * Chaining across domains and gateways (test/conformance/txn-chaining.test.ts), all on the TTS at TTS_PATH and
 * TXN_PEER_PATH:
 * - Federation: FEDERATION_ISSUER's JWT authorization grants (its ES256 key, kid FEDERATION_KID, generated by the
 *   global setup, inline in the config) become Txn-Tokens at the TTS; aud = FEDERATION_AUDIENCE (grantAudience's
 *   default), sub transcribed with FEDERATION_PREFIX, at most FEDERATION_SCOPES.
 * - Peer gateways: route TXN_PEER_PATH (WIT + WPT, txnToken) replaces the Txn-Token of TXN_PEER (a workload of the
 *   conformance trust domain) verified with the JWK Set the tests publish on the fixture as key set KEY_SET_PEER.
 * - Secondary credentials: TTS_REQUESTER exchanges its WIT for a JWT aimed at RELYING_PARTY.
 */
export const FEDERATION_ISSUER = 'https://as.federated.conformance.test/auth';
export const FEDERATION_KID = 'fed-1';
export const FEDERATION_PREFIX = 'fed.conformance:';
export const FEDERATION_SCOPES = ['orders.read', 'orders.write'];
export const FEDERATION_AUDIENCE = `${new URL(PUBLIC_URL).origin}${TTS_PATH}`;
export const TXN_PEER_PATH = '/txn-peer';
export const TXN_PEER = `${TRUST_DOMAIN}/ns/edge/sa/peer-gateway`;
export const KEY_SET_PEER = 'peer';
export const RELYING_PARTY = 'https://legacy.conformance.test/api';

/**
 * A2A (test/conformance/a2a.test.ts), all to the fixture agent at /a2a-up (fixture.ts), beside the public `/a2a`:
 *   A2A_WIT_PATH         WIT + WPT of the conformance trust domain; its card is served without credentials
 *   A2A_OAUTH_PATH       access tokens of AS_PATH with scope "read"; SendMessage also needs A2A_SEND_SCOPE and
 *                        GetExtendedAgentCard A2A_CARD_SCOPE (auth.oauth.methods); the extended card's skills
 *                        A2A_SKILL_SCOPES (a2a.skills); push notification URLs under A2A_PUSH_PREFIX only
 *   A2A_REVALIDATE_PATH  public, upstream /a2a-up/revalidate (a card of its own), a2a.card.maxAgeSeconds 0: the
 *                        gateway revalidates the card (If-None-Match) on every request
 *   A2A_GZIP_PATH        public, upstream /a2a-up/gzip, whose every JSON answer is gzip-compressed, asked or not
 * AS_PATH's tokenEndpoint (AS_TOKEN_PATH below its issuer) is stated in the OAuth route's card; the fixture does
 * not serve it.
 */
export const A2A_WIT_PATH = '/a2a-wit';
export const A2A_OAUTH_PATH = '/a2a-oauth';
export const A2A_REVALIDATE_PATH = '/a2a-revalidate';
export const A2A_REVALIDATE_UPSTREAM = '/a2a-up/revalidate';
export const A2A_GZIP_PATH = '/a2a-gzip';
export const A2A_SEND_SCOPE = 'a2a.send';
export const A2A_CARD_SCOPE = 'a2a.card';
export const A2A_SKILL_SCOPES = { reports: ['reports.read'], admin: ['admin'] };
export const A2A_PUSH_PREFIX = 'https://hooks.conformance.test/a2a/';
export const AS_TOKEN_PATH = '/token';

/** Public JWKs (with kid) of the two trust domains, and the mTLS trust domain's root CA (PEM), generated by the global setup. */
export interface TrustKeys {
  issuer: JsonWebKey;
  other: JsonWebKey;
  x509Root: string;
  /** Public JWK of FEDERATION_ISSUER's grant signing key. */
  federation: JsonWebKey;
}

/** `keySource.file` trust domain and its route; `upstream` is where the route forwards to. */
export function keyFileConfig(upstream: string) {
  return {
    trustDomains: { [KEYS_FILE_TRUST_DOMAIN]: { keySource: { file: KEY_FILE } } },
    routes: [{ path: '/keys-file', protocol: 'http', upstream, auth: { wit: { trustDomains: [KEYS_FILE_TRUST_DOMAIN] } } }],
  };
}

/** A complete config whose only trust domain reads its keys from a file: valid, but not servable on Workers. */
export const KEY_FILE_CONFIG = { publicUrl: PUBLIC_URL, audit: { sink: 'none' }, ...keyFileConfig('http://127.0.0.1:1/') };
/** The problem path a Worker reports for KEY_FILE_CONFIG. */
export const KEY_FILE_PROBLEM_PATH = `trustDomains["${KEYS_FILE_TRUST_DOMAIN}"].keySource.file`;

/** `withKeyFile`: include the `keySource.file` trust domain and route (not on workerd). */
export function conformanceConfig(fixtureUrl: string, deadPort: number, keys: TrustKeys, withKeyFile: boolean) {
  const dead = `http://127.0.0.1:${deadPort}`;
  const wit = { wit: { trustDomains: [TRUST_DOMAIN] } };
  const keyFile = withKeyFile ? keyFileConfig(`${fixtureUrl}/base`) : { trustDomains: {}, routes: [] };
  const keySets = `${fixtureUrl}/__fixture/key-sets`;
  const asIssuer = `${fixtureUrl}${AS_PATH}`;
  return {
    publicUrl: PUBLIC_URL,
    audit: { sink: 'none' },
    limits: { maxHeaderCount: MAX_HEADER_COUNT, maxHeaderBytes: MAX_HEADER_BYTES },
    identity: { workloadId: GATEWAY_ID, env: IDENTITY_ENV },
    transactionTokens: {
      trustDomain: TXN_TRUST_DOMAIN,
      lifetimeSeconds: TXN_LIFETIME,
      service: {
        path: TTS_PATH, auth: wit, requesters: [TTS_REQUESTER], authorizationServers: [asIssuer],
        // test/conformance/txn-chaining.test.ts
        federation: { [FEDERATION_ISSUER]: { jwks: { keys: [{ ...keys.federation, kid: FEDERATION_KID }] }, scopes: FEDERATION_SCOPES, subject: { prefix: FEDERATION_PREFIX } } },
        relyingParties: { [RELYING_PARTY]: {} },
      },
    },
    trustDomains: {
      [TRUST_DOMAIN]: { jwks: { keys: [{ ...keys.issuer, kid: ISSUER_KID }] }, issuers: [ISSUER], maxWitLifetimeSeconds: MAX_WIT_LIFETIME },
      [OTHER_TRUST_DOMAIN]: { jwks: { keys: [{ ...keys.other, kid: OTHER_KID }] } },
      [KEYS_URL_TRUST_DOMAIN]: { keySource: { url: `${keySets}/${KEY_SET_URL}`, unknownKidCooldownSeconds: KEYS_URL_COOLDOWN_SECONDS } },
      [KEYS_BUNDLE_TRUST_DOMAIN]: { keySource: { url: `${keySets}/${KEY_SET_BUNDLE}`, format: 'spiffe-bundle' } },
      [KEYS_DOWN_TRUST_DOMAIN]: { keySource: { url: `${fixtureUrl}/keys-down?fx=status&code=500` } },
      [KEYS_DEAD_TRUST_DOMAIN]: { keySource: { url: `${dead}/jwks.json` } },
      [MTLS_TRUST_DOMAIN]: { x509Authorities: [keys.x509Root] },
      ...keyFile.trustDomains,
    },
    authorizationServers: {
      [asIssuer]: { tokenEndpoint: `${asIssuer}${AS_TOKEN_PATH}`, introspection: { clientId: AS_CLIENT_ID, clientSecretEnv: AS_SECRET_ENV } },
      [`${fixtureUrl}${AS2_PATH}`]: { introspection: { clientId: AS2_CLIENT_ID, clientSecretEnv: AS_SECRET_ENV, authMethod: 'client_secret_post', response: 'jwt' } },
      [`${fixtureUrl}${AS_DOWN_PATH}`]: { introspection: { clientId: AS_CLIENT_ID, clientSecretEnv: AS_SECRET_ENV } },
      [`${fixtureUrl}${AS_DEAD_PATH}`]: { introspection: { endpoint: `${dead}/introspect`, clientId: AS_CLIENT_ID, clientSecretEnv: AS_SECRET_ENV } },
      [`${fixtureUrl}${AS_WRONG_PATH}`]: {},
    },
    routes: [
      { path: '/svc', protocol: 'http', upstream: `${fixtureUrl}/base`, public: true },
      { path: '/mcp', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, public: true, limits: { maxBodyBytes: MCP_BODY_BYTES } },
      { path: '/mcp-slow', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, public: true, limits: { upstreamTimeoutMs: SHORT_TIMEOUT_MS } },
      { path: '/mcp-down', protocol: 'mcp', upstream: `${dead}/mcp`, public: true },
      { path: '/a2a', protocol: 'a2a', upstream: `${fixtureUrl}/a2a-up`, public: true },
      // The A2A front (test/conformance/a2a.test.ts).
      { path: A2A_WIT_PATH, protocol: 'a2a', upstream: `${fixtureUrl}/a2a-up`, auth: wit },
      {
        path: A2A_OAUTH_PATH, protocol: 'a2a', upstream: `${fixtureUrl}/a2a-up`,
        auth: { oauth: { authorizationServers: [asIssuer], scopes: ['read'], methods: { SendMessage: { scopes: [A2A_SEND_SCOPE] }, GetExtendedAgentCard: { scopes: [A2A_CARD_SCOPE] } } } },
        a2a: { skills: Object.fromEntries(Object.entries(A2A_SKILL_SCOPES).map(([skill, scopes]) => [skill, { scopes }])), pushNotifications: { allowedUrls: [A2A_PUSH_PREFIX] } },
      },
      { path: A2A_REVALIDATE_PATH, protocol: 'a2a', upstream: `${fixtureUrl}${A2A_REVALIDATE_UPSTREAM}`, public: true, a2a: { card: { maxAgeSeconds: 0 } } },
      { path: A2A_GZIP_PATH, protocol: 'a2a', upstream: `${fixtureUrl}/a2a-up/gzip`, public: true },
      { path: '/slow', protocol: 'http', upstream: `${fixtureUrl}/base`, public: true, limits: { upstreamTimeoutMs: SHORT_TIMEOUT_MS } },
      { path: '/down', protocol: 'http', upstream: `${dead}/`, public: true },
      { path: '/small', protocol: 'http', upstream: `${fixtureUrl}/base`, public: true, limits: { maxBodyBytes: SMALL_BODY_BYTES } },
      // WIMSE workload authentication (test/conformance/wimse.test.ts).
      { path: '/wimse', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: wit },
      { path: '/mcp-wimse', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, auth: wit },
      { path: '/wimse-01', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [TRUST_DOMAIN], carriage: 'header' } } },
      { path: '/sig', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [TRUST_DOMAIN], proofs: ['http-sig'] } }, limits: { maxBodyBytes: SMALL_BODY_BYTES } },
      { path: '/mcp-sig', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, auth: { wit: { trustDomains: [TRUST_DOMAIN], proofs: ['wpt', 'http-sig'] } } },
      { path: '/sig-short', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [TRUST_DOMAIN], proofs: ['http-sig'], httpSignature: { maxLifetimeSeconds: SHORT_SIG_LIFETIME } } } },
      { path: '/sig-06', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [TRUST_DOMAIN], proofs: ['http-sig'], httpSignature: { version: '06' } } } },
      { path: '/svid', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { jwtSvid: { trustDomains: [TRUST_DOMAIN] } } },
      // The gateway's own identity (test/conformance/gateway-identity.test.ts); `/sig` signs responses when asked.
      { path: '/sig-always', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [TRUST_DOMAIN], proofs: ['http-sig'], httpSignature: { signResponses: 'always' } } } },
      { path: '/up-wpt', protocol: 'http', upstream: `${fixtureUrl}/up-wpt`, public: true, upstreamAuth: { proof: 'wpt' } },
      { path: '/up-sig', protocol: 'http', upstream: `${fixtureUrl}/up-sig`, public: true, upstreamAuth: { proof: 'http-sig', audience: UP_SIG_AUDIENCE }, limits: { maxBodyBytes: SMALL_BODY_BYTES } },
      // Trust domain keys from a keySource (test/conformance/key-sources.test.ts).
      { path: '/keys-url', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [KEYS_URL_TRUST_DOMAIN] } } },
      { path: '/keys-bundle', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [KEYS_BUNDLE_TRUST_DOMAIN] } } },
      { path: '/keys-down', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [KEYS_DOWN_TRUST_DOMAIN] } } },
      { path: '/keys-dead', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { wit: { trustDomains: [KEYS_DEAD_TRUST_DOMAIN] } } },
      // mTLS with RFC 9440 fields from a trusted proxy (test/conformance/mtls.test.ts).
      { path: '/mtls', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { mtls: { trustDomains: [MTLS_TRUST_DOMAIN], certificate: 'rfc9440', trustedProxies: LOOPBACK_PROXIES } } },
      { path: '/mtls-untrusted', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { mtls: { trustDomains: [MTLS_TRUST_DOMAIN], certificate: 'rfc9440', trustedProxies: [UNTRUSTED_PROXY] } } },
      // OAuth resource server (test/conformance/oauth.test.ts).
      { path: '/oauth', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [asIssuer], scopes: ['read'], dpop: 'allowed' } } },
      {
        path: '/oauth-mcp', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`,
        auth: { oauth: { authorizationServers: [asIssuer], scopes: ['read'], tools: { admin_tool: { scopes: ['admin'] }, mfa_tool: { acrValues: ['mfa'], maxAge: OAUTH_MAX_AGE } } } },
      },
      { path: '/oauth-dpop', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [asIssuer], scopes: ['read'], dpop: 'required', dpopNonce: true } } },
      { path: '/oauth-es256', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [asIssuer], scopes: ['read'], dpop: 'allowed', dpopAlgorithms: ES256_ONLY } } },
      { path: '/oauth-jwt', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [`${fixtureUrl}${AS2_PATH}`], scopes: ['read'] } } },
      { path: '/oauth-as-down', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [`${fixtureUrl}${AS_DOWN_PATH}`] } } },
      { path: '/oauth-as-dead', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [`${fixtureUrl}${AS_DEAD_PATH}`] } } },
      { path: '/oauth-as-wrong', protocol: 'http', upstream: `${fixtureUrl}/base`, auth: { oauth: { authorizationServers: [`${fixtureUrl}${AS_WRONG_PATH}`] } } },
      // Workload + user (test/conformance/oauth-combined.test.ts).
      {
        path: COMBINED_PATH, protocol: 'http', upstream: `${fixtureUrl}/base`,
        auth: {
          wit: { trustDomains: [TRUST_DOMAIN], carriage: 'header', proofs: ['wpt', 'http-sig'] },
          oauth: { authorizationServers: [asIssuer], scopes: ['read'], dpop: 'allowed', withWorkload: true },
        },
      },
      // Transaction Tokens for the upstream (test/conformance/txn-token.test.ts).
      { path: TXN_WIT_PATH, protocol: 'http', upstream: `${fixtureUrl}/base`, auth: wit, txnToken: {} },
      {
        path: TXN_OAUTH_PATH, protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, txnToken: {},
        auth: { oauth: { authorizationServers: [asIssuer], tools: { [TXN_TOOL]: { scopes: TXN_TOOL_SCOPES } } } },
      },
      // Peer gateways' Txn-Tokens replaced (test/conformance/txn-chaining.test.ts).
      { path: TXN_PEER_PATH, protocol: 'http', upstream: `${fixtureUrl}/base`, auth: wit, txnToken: { peers: [{ workloadId: TXN_PEER, jwksUrl: `${keySets}/${KEY_SET_PEER}` }] } },
      ...keyFile.routes,
    ],
  };
}

/** A config with three problems the gateway must list, each with its path. */
export const INVALID_CONFIG = {
  publicUrl: PUBLIC_URL,
  bogusKey: true,
  routes: [
    { path: '/closed', protocol: 'http', upstream: 'http://127.0.0.1:1/' },
    { path: '/bad-url', protocol: 'http', upstream: 'not a url', public: true },
  ],
};
export const INVALID_CONFIG_PATHS = ['bogusKey', 'routes[0].auth', 'routes[1].upstream'];
