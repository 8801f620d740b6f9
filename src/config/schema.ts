/**
 * The one GatewayConfig: its shape, defaults and cross-field rules. Every object is strict (unknown keys are
 * errors, DESIGN principle 4) and every route fails closed: it needs an `auth` block unless it says
 * `public: true`, and an auth block must name at least one credential. Routes name trust domains that the
 * top-level `trustDomains` block defines (keys and policy: trust-domains.ts); that cross-reference is checked
 * here, reported by path. The JSON Schema in `schema/portcullis.config.schema.json` is generated from this file.
 */
import * as z from 'zod';
import { routeMatcher } from '../gateway/routes.ts';
import {
  DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS,
  DEFAULT_TXN_KEY_ROTATION_MS,
  DEFAULT_TXN_TOKEN_LIFETIME_SECONDS,
  DEFAULT_WPT_MAX_LIFETIME_SECONDS,
  MAX_CONFIG_LIST_ENTRIES,
  MAX_HTTP_SIG_LIFETIME_LIMIT_SECONDS,
  MAX_TXN_TOKEN_LIFETIME_SECONDS,
  MAX_WPT_LIFETIME_LIMIT_SECONDS,
  MIN_TXN_KEY_ROTATION_MS,
} from '../limits.ts';
import { isLoopbackHost } from '../client/transport.ts';
import { parseWorkloadId, workloadOrigin } from '../identity/workload-id.ts';
import { fetchUrlProblem, hasSpiffeAlgorithm, trustDomainOrigin, trustDomainsSchema } from './trust-domains.ts';
import { authorizationServersSchema, issuerIdentifier } from './authorization-servers.ts';
import { federationSchema } from './federation.ts';
import { a2aRouteSchema, agentCardKeysSchema } from './a2a.ts';
import { A2A_LEGACY_METHOD_NAMES, A2A_METHOD_NAMES } from '../protocols/a2a-request.ts';
import { relyingPartiesSchema, relyingPartyProblems } from './relying-parties.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../verify/dpop.ts';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../crypto/algorithms.ts';

const positiveInt = z.number().int().positive();

/** setTimeout's largest delay (2^31 - 1 ms); beyond it runtimes fire at once, which would time out every request. */
const MAX_TIMER_MS = 2_147_483_647;

const routeLimitFields = {
  maxBodyBytes: positiveInt.optional().describe('Request body bytes; larger bodies get 413.'),
  upstreamTimeoutMs: positiveInt.max(MAX_TIMER_MS).optional().describe('Milliseconds to wait for upstream response headers; then 504.'),
};

/** Header limits apply before routing, so only the gateway-wide block has them. */
const limits = z.strictObject({
  maxHeaderBytes: positiveInt.optional().describe('Total bytes of request header names and values; larger requests get 431.'),
  maxHeaderCount: positiveInt.optional().describe('Distinct request header field names (repeated fields are combined and count towards maxHeaderBytes); more get 431.'),
  ...routeLimitFields,
});

const routeLimits = z.strictObject(routeLimitFields);

/** An absolute http(s) URL without credentials, query or fragment. */
const httpUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must use http or https' });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials' });
  if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
});

/** A mount path: `/` or `/seg(/seg)*`, without a trailing slash, dot segments or wildcards. */
const mountPath = z
  .string()
  .regex(/^\/$|^(\/[A-Za-z0-9._~!$&'()+,;=:@-]+)+$/, 'must be "/" or "/segment[/segment...]" with no trailing slash')
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), 'must not contain "." or ".." segments');

const upstream = z.union([
  httpUrl.describe('Base URL of the upstream; the request path below the mount is appended to its path.'),
  z.strictObject({
    service: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).describe('Name of a Workers service binding to call instead of a URL.'),
    url: httpUrl.optional().describe('Base URL given to the bound service (its host is nominal). Default http://upstream/.'),
  }),
]);

/** A route's list of accepted trust domains: each must be a key of the top-level `trustDomains`. */
const routeTrustDomains = z
  .array(trustDomainOrigin)
  .min(1)
  .max(MAX_CONFIG_LIST_ENTRIES)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a trust domain')
  .describe('Trust domains (keys of the top-level trustDomains) whose workloads this route accepts.');

/** RFC 6749 §3.3 scope-token. */
const scopeToken = z.string().min(1).max(256).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be an RFC 6749 scope-token (printable ASCII, no space, quote or backslash)');
const scopeList = z
  .array(scopeToken)
  .max(MAX_CONFIG_LIST_ENTRIES)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a scope');

/** RFC 9470 step-up requirements, and the scopes, one operation (a route, an MCP tool or method) needs. */
const requirementFields = {
  scopes: scopeList.optional().describe('Scopes the access token must all carry (else 403 insufficient_scope naming every scope needed).'),
  acrValues: z.array(z.string().min(1).max(256).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).min(1).max(MAX_CONFIG_LIST_ENTRIES).optional().describe('The token\'s acr must be one of these (RFC 9470: else 401 insufficient_user_authentication with acr_values).'),
  maxAge: z.number().int().min(0).max(365 * 24 * 60 * 60).optional().describe('Seconds since the user last authenticated (the token\'s auth_time) at most (RFC 9470: else 401 insufficient_user_authentication with max_age).'),
};
const operationRequirement = z.strictObject(requirementFields);

const oauth = z
  .strictObject({
    authorizationServers: z
      .array(issuerIdentifier)
      .min(1)
      .max(MAX_CONFIG_LIST_ENTRIES)
      .refine((list) => new Set(list).size === list.length, 'must not repeat an issuer')
      .describe('Issuers (keys of the top-level authorizationServers) whose access tokens this route accepts; advertised as authorization_servers in its RFC 9728 metadata.'),
    resource: httpUrl.optional().describe('This route\'s resource identifier (RFC 8707, RFC 9728): the access token\'s aud must contain it. Default: publicUrl + the route path. Never taken from the request.'),
    ...requirementFields,
    tools: z.record(z.string().min(1).max(128), operationRequirement).optional().describe('MCP routes: extra requirements per tool (tools/call by params.name), added to the route\'s own.'),
    methods: z.record(z.string().min(1).max(128).regex(/^[A-Za-z0-9_/.-]+$/), operationRequirement).optional().describe('MCP and A2A routes: extra requirements per method, added to the route\'s own: MCP JSON-RPC methods (e.g. "resources/read"); A2A methods by their 1.0 names (e.g. "SendMessage", "GetExtendedAgentCard"), whichever binding or protocol version the call uses.'),
    scopesSupported: scopeList.optional().describe('scopes_supported in the RFC 9728 metadata. Default: every scope the route, its tools and its methods require.'),
    dpop: z.enum(['allowed', 'required', 'disabled']).default('allowed').describe('DPoP (RFC 9449): "allowed" (Bearer or DPoP; a DPoP-bound token must come with its proof), "required" (DPoP only), "disabled" (Bearer only). Default "allowed".'),
    dpopNonce: z.boolean().default(false).describe('Require a server-issued nonce in DPoP proofs (RFC 9449 §9): a proof without the current one gets 401 use_dpop_nonce with a DPoP-Nonce field.'),
    dpopAlgorithms: z.array(z.enum(ASYMMETRIC_JWS_ALGORITHMS)).min(1).max(ASYMMETRIC_JWS_ALGORITHMS.length).optional().describe(`JWS algorithms accepted for DPoP proofs; advertised as dpop_signing_alg_values_supported. Default ${JSON.stringify(DEFAULT_DPOP_ALGORITHMS)}.`),
    withWorkload: z.boolean().default(false).describe('Require a workload credential (auth.wit) AND an access token on every request: the WIT with an HTTP signature that covers Authorization (Bearer or DPoP), or with a -01 WPT (carriage "header") whose ath binds a Bearer token. Default false: any one credential.'),
    signedMetadata: z.boolean().default(false).describe('Add signed_metadata to the RFC 9728 metadata (§2.2): a JWT of the metadata values with iss = publicUrl, signed with the gateway\'s identity key, which the gateway publishes at /.well-known/jwks.json (the metadata\'s jwks_uri). Needs the top-level identity.'),
    resourceName: z.string().min(1).max(256).optional().describe('resource_name in the RFC 9728 metadata.'),
    resourceDocumentation: httpUrl.optional().describe('resource_documentation in the RFC 9728 metadata.'),
  })
  .describe('Accept OAuth 2.0 access tokens (RFC 6750 Bearer, RFC 9449 DPoP): JWT (RFC 9068) or opaque (introspected, RFC 7662), issued for this route\'s resource. The route publishes RFC 9728 metadata at /.well-known/oauth-protected-resource + its path.');

/**
 * Credentials a route can require. Each later capability adds its key here; an empty block is refused. With
 * more than one credential the route accepts any one of them: WPT-02 puts the proof in `Authorization`, so a
 * request cannot carry a WIT+WPT and a bearer JWT-SVID at once, and "both" could never be satisfied.
 */
const auth = z
  .strictObject({
    wit: z
      .strictObject({
        trustDomains: routeTrustDomains,
        carriage: z
          .enum(['authorization', 'header'])
          .default('authorization')
          .describe('Where the proof travels: "authorization" (draft-ietf-wimse-wpt-02, `Authorization: WPT <jwt>`, the default) or "header" (-01, `Workload-Proof-Token`).'),
        audience: httpUrl.optional().describe('The WPT `aud` this route accepts. Default: publicUrl + the route path. The request\'s own URL on publicUrl (path as sent, no query) is accepted too; Host is never used.'),
        maxWptLifetimeSeconds: positiveInt.max(MAX_WPT_LIFETIME_LIMIT_SECONDS).optional().describe(`Longest proof lifetime accepted (exp - now, exp - iat). Default ${DEFAULT_WPT_MAX_LIFETIME_SECONDS}.`),
        proofs: z
          .array(z.enum(['wpt', 'http-sig']))
          .min(1)
          .max(2)
          .refine((list) => new Set(list).size === list.length, 'must not repeat a proof')
          .default(['wpt'])
          .describe('Proofs of possession accepted with the WIT: "wpt" (Workload Proof Token) and/or "http-sig" (WIMSE HTTP Message Signature, RFC 9421). Default ["wpt"].'),
        httpSignature: z
          .strictObject({
            version: z.enum(['07', '06']).default('07').describe('draft-ietf-wimse-http-signature revision: "07" (@path, @query; default) or "06" (@request-target).'),
            maxLifetimeSeconds: positiveInt.max(MAX_HTTP_SIG_LIFETIME_LIMIT_SECONDS).optional().describe(`Longest expires - created accepted. Default ${DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS}.`),
            signResponses: z
              .enum(['requested', 'always'])
              .default('requested')
              .describe('Sign the response to a signed request with the gateway\'s identity: when the request asks (wimse-sign-response, the default), or always. Needs the top-level identity.'),
          })
          .optional()
          .describe('Options of the "http-sig" proof. A signed request\'s body is read (up to the route\'s maxBodyBytes, else 413) to check its Content-Digest, then forwarded.'),
      })
      .superRefine((w, ctx) => {
        if (w.httpSignature !== undefined && !w.proofs.includes('http-sig')) ctx.addIssue({ code: 'custom', path: ['httpSignature'], message: 'set only when proofs includes "http-sig"' });
      })
      .optional()
      .describe('Accept a WIMSE Workload Identity Token (`Workload-Identity-Token`) with a proof of possession: a Workload Proof Token and/or an HTTP Message Signature.'),
    mtls: z
      .strictObject({
        trustDomains: routeTrustDomains,
        certificate: z
          .enum(['cloudflare', 'rfc9440'])
          .describe('Where the verified TLS client certificate comes from: "cloudflare" (Workers: request.cf.tlsClientAuth, RFC 9440 form) or "rfc9440" (Client-Cert / Client-Cert-Chain fields set by a TLS-terminating proxy in trustedProxies).'),
        trustedProxies: z
          .array(z.string().min(1).max(64))
          .min(1)
          .max(MAX_CONFIG_LIST_ENTRIES)
          .optional()
          .describe('Peer addresses (as the runtime reports them, e.g. "127.0.0.1") of the proxies whose Client-Cert fields are believed. Required with "rfc9440"; from anyone else the fields are ignored.'),
      })
      .superRefine((m, ctx) => {
        if (m.certificate === 'rfc9440' && m.trustedProxies === undefined) ctx.addIssue({ code: 'custom', path: ['trustedProxies'], message: 'required with "rfc9440": any client can send Client-Cert fields' });
        if (m.certificate === 'cloudflare' && m.trustedProxies !== undefined) ctx.addIssue({ code: 'custom', path: ['trustedProxies'], message: 'only with "rfc9440"' });
      })
      .optional()
      .describe('Accept an X509-SVID TLS client certificate (mutual TLS), path-validated against the trust domain\'s x509Authorities. Used when the request presents no application-layer credential.'),
    jwtSvid: z
      .strictObject({
        trustDomains: routeTrustDomains,
        audience: z.string().min(1).max(2048).optional().describe('The value that must be among the JWT-SVID\'s aud. Default: publicUrl + the route path.'),
      })
      .optional()
      .describe('Accept a SPIFFE JWT-SVID as `Authorization: Bearer` (a bearer token: prefer wit). spiffe:// trust domains only.'),
    oauth: oauth.optional(),
  })
  .describe('Credentials this route accepts; a request must present one of them. With both wit and jwtSvid, either authenticates.');

/** A URL the gateway sends credentials to (a token endpoint) or names an authorization server by: fetchUrlProblem's rules. */
const egressUrl = (allowQuery: boolean) =>
  z.string().max(2048).superRefine((url, ctx) => {
    const problem = fetchUrlProblem(url, { allowQuery });
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128);

/** Identity chaining across trust domains (draft-ietf-oauth-identity-chaining-17), the client side: src/gateway/egress.ts. */
const egress = z
  .strictObject({
    homeAuthorizationServer: z
      .strictObject({
        tokenEndpoint: egressUrl(true).describe('Token endpoint of the authorization server that issued the callers\' access tokens (this trust domain\'s): the token exchange (RFC 8693) is sent here.'),
        clientId: z.string().min(1).max(256).describe('The gateway\'s client_id there.'),
        clientSecretEnv: envName.describe('Environment variable (a Workers secret) holding the client secret (client_secret_basic). Never put the secret in the config.'),
      })
      .describe('Where the caller\'s access token is exchanged for a JWT authorization grant addressed to the foreign authorization server.'),
    foreignAuthorizationServer: z
      .strictObject({
        issuer: egressUrl(false).describe('Issuer identifier of the other trust domain\'s authorization server: the `resource` of the token exchange, hence the grant\'s aud.'),
        tokenEndpoint: egressUrl(true).describe('Its token endpoint: the grant is presented there (RFC 7523 jwt-bearer).'),
        clientId: z.string().min(1).max(256).optional().describe('The gateway\'s client_id there, when it authenticates (client_secret_basic); with clientSecretEnv.'),
        clientSecretEnv: envName.optional().describe('Environment variable holding that client secret; with clientId.'),
      })
      .refine((f) => (f.clientId === undefined) === (f.clientSecretEnv === undefined), 'set clientId and clientSecretEnv together, or neither')
      .describe('The authorization server of the upstream\'s trust domain, which trusts the home authorization server\'s grants.'),
    resource: httpUrl.optional().describe('The foreign resource (RFC 8707): aud of the foreign access token. Default: the route\'s upstream URL.'),
    scope: scopeList.min(1).optional().describe('Scopes asked for at both steps. Default: those of the caller\'s token (the home server\'s choice).'),
  })
  .describe('Call an upstream in another trust domain: per caller, exchange the caller\'s access token at the home authorization server for a JWT authorization grant, present it at the foreign authorization server for an access token, and send that as Authorization: Bearer (cached until shortly before it expires). Needs auth.oauth; not with txnToken (Txn-Tokens stay in their trust domain) or upstreamAuth.');

const route = z
  .strictObject({
    path: mountPath.describe('Path prefix served by this route, matched at segment boundaries; the longest match wins.'),
    protocol: z.enum(['mcp', 'a2a', 'http']).describe('What the upstream speaks: shapes errors (JSON-RPC on mcp) and protocol handling.'),
    upstream,
    public: z.boolean().optional().describe('Serve without authentication. Required (true) when the route has no auth block.'),
    auth: auth.optional(),
    txnToken: z
      .strictObject({
        scope: scopeList.min(1).optional().describe('The Txn-Token scope for calls that carry none of their own (a workload credential, an operation that required no scope and a token without one). Default ["route:<path>"].'),
        peers: z
          .array(
            z.strictObject({
              workloadId: z
                .string()
                .max(2048)
                .superRefine((id, ctx) => {
                  const parsed = parseWorkloadId(id);
                  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `not a canonical workload identifier: ${parsed.detail}` });
                })
                .describe('The peer gateway\'s workload identifier, exactly as its WIT or X509-SVID names it (auth.wit / auth.mtls authenticate it).'),
              jwksUrl: z
                .string()
                .max(2048)
                .superRefine((url, ctx) => {
                  const problem = fetchUrlProblem(url);
                  if (problem) ctx.addIssue({ code: 'custom', message: problem });
                })
                .describe('The peer\'s Txn-Token JWK Set (https, or http to a loopback host), e.g. its /.well-known/jwks.json; kept in memory and the state cache, refreshed in the background.'),
            }),
          )
          .min(1)
          .max(MAX_CONFIG_LIST_ENTRIES)
          .refine((list) => new Set(list.map((p) => p.workloadId)).size === list.length, 'must not repeat a workloadId')
          .optional()
          .describe('Peer gateways (other External Endpoints of transactionTokens.trustDomain) whose own Txn-Token this route accepts: from an authenticated peer, a single Txn-Token field is verified (its keys, aud = trustDomain exactly, not expired) and replaced, keeping txn, sub and tctx, with scope narrowed to what this call was authorized with, exp no later than the original\'s, req_wl the peer and the call chain in rctx.req_wl_chain. From anyone else a Txn-Token is dropped. Needs auth.wit or auth.mtls.'),
      })
      .optional()
      .describe('Send the upstream a Transaction Token minted per request (draft-ietf-oauth-transaction-tokens) in the Txn-Token field: sub (the user, else the workload), req_wl (the workload, else the OAuth client), scope (what this call was authorized with), rctx, tctx. Needs the top-level transactionTokens and an auth block.'),
    upstreamAuth: z
      .strictObject({
        proof: z.enum(['wpt', 'http-sig']).describe('How the gateway proves its own identity (the top-level identity) to the upstream: its WIT with a WPT, or with a WIMSE HTTP signature (which covers the body: it is read whole, up to maxBodyBytes).'),
        audience: httpUrl.optional().describe('The WPT aud / wimse-aud the upstream expects. Default: the upstream URL of the request, without query.'),
      })
      .optional()
      .describe('Authenticate the gateway itself to the upstream. The caller\'s credentials are never forwarded either way.'),
    egress: egress.optional(),
    a2a: a2aRouteSchema.optional(),
    limits: routeLimits.optional().describe('Overrides of the gateway body and timeout limits for this route.'),
  })
  .superRefine((r, ctx) => {
    if (r.public === true && r.auth) ctx.addIssue({ code: 'custom', path: ['public'], message: 'a public route must not also have an auth block' });
    if (r.public !== true && !r.auth) ctx.addIssue({ code: 'custom', path: ['auth'], message: 'required: the route has no auth block and is not marked "public": true (routes fail closed)' });
    if (r.upstreamAuth && typeof r.upstream === 'string' && !secureTransport(r.upstream)) {
      // workload-creds-02 §9: the WIT and its proof travel over TLS (plain http only to a loopback host).
      ctx.addIssue({ code: 'custom', path: ['upstreamAuth'], message: 'the gateway\'s WIT and proof go to https upstreams only (or http to a loopback host)' });
    }
    if (r.txnToken && !r.auth) ctx.addIssue({ code: 'custom', path: ['txnToken'], message: 'needs an auth block: a public route has no caller to name' });
    if (r.txnToken?.peers) txnPeerProblems(r.auth, r.txnToken.peers, ctx);
    if (r.auth && r.auth.wit === undefined && r.auth.jwtSvid === undefined && r.auth.mtls === undefined && r.auth.oauth === undefined) ctx.addIssue({ code: 'custom', path: ['auth'], message: 'names no credential: add "wit", "jwtSvid", "mtls" and/or "oauth"' });
    const o = r.auth?.oauth;
    if (o) oauthRouteProblems(r.protocol, r.auth!, o, ctx);
    if (r.a2a && r.protocol !== 'a2a') ctx.addIssue({ code: 'custom', path: ['a2a'], message: 'only on "protocol": "a2a" routes' });
    if (r.a2a?.skills && !o) ctx.addIssue({ code: 'custom', path: ['a2a', 'skills'], message: 'needs auth.oauth: skill scopes are access token scopes' });
    if (r.egress) {
      // The subject token of the exchange is the caller's access token: only an OAuth route has one.
      if (!o) ctx.addIssue({ code: 'custom', path: ['egress'], message: 'needs auth.oauth: the caller\'s access token is what is exchanged' });
      if (r.txnToken) ctx.addIssue({ code: 'custom', path: ['egress'], message: 'cannot be combined with txnToken: Txn-Tokens are not sent across the trust domain boundary' });
      if (r.upstreamAuth) ctx.addIssue({ code: 'custom', path: ['egress'], message: 'cannot be combined with upstreamAuth: the foreign access token occupies Authorization' });
      if (typeof r.upstream === 'string' && !secureTransport(r.upstream)) ctx.addIssue({ code: 'custom', path: ['egress'], message: 'the foreign access token goes to https upstreams only (or http to a loopback host)' });
      if (typeof r.upstream !== 'string' && r.egress.resource === undefined) ctx.addIssue({ code: 'custom', path: ['egress', 'resource'], message: 'required with a service binding upstream (its URL is nominal)' });
    }
  });

/** Peers are workloads: the route must authenticate workloads (wit or mtls) of each peer's trust domain. */
function txnPeerProblems(auth: { wit?: { trustDomains: string[] }; mtls?: { trustDomains: string[] } } | undefined, peers: { workloadId: string }[], ctx: z.RefinementCtx): void {
  if (auth?.wit === undefined && auth?.mtls === undefined) {
    ctx.addIssue({ code: 'custom', path: ['txnToken', 'peers'], message: 'needs auth.wit or auth.mtls: a peer gateway is a workload that authenticates with its own credential' });
    return;
  }
  const accepted = new Set([...(auth.wit?.trustDomains ?? []), ...(auth.mtls?.trustDomains ?? [])]);
  peers.forEach((peer, j) => {
    const parsed = parseWorkloadId(peer.workloadId);
    if (parsed.ok && !accepted.has(workloadOrigin(parsed.value))) ctx.addIssue({ code: 'custom', path: ['txnToken', 'peers', j, 'workloadId'], message: `trust domain ${workloadOrigin(parsed.value)} is not among auth.wit / auth.mtls trustDomains` });
  });
}

/** Rules of auth.oauth that depend on the rest of the route. */
function oauthRouteProblems(protocol: string, auth: { wit?: { carriage: string; proofs: string[] }; jwtSvid?: unknown }, o: z.output<typeof oauth>, ctx: z.RefinementCtx): void {
  const at = (...path: (string | number)[]) => ['auth', 'oauth', ...path];
  // Both read `Authorization: Bearer`: a bearer JWT-SVID and a bearer access token could not be told apart.
  if (auth.jwtSvid !== undefined) ctx.addIssue({ code: 'custom', path: ['auth', 'jwtSvid'], message: 'cannot be combined with oauth: both are Authorization: Bearer tokens' });
  if (protocol !== 'mcp' && o.tools !== undefined) ctx.addIssue({ code: 'custom', path: at('tools'), message: 'only on "protocol": "mcp" routes' });
  if (protocol === 'http' && o.methods !== undefined) ctx.addIssue({ code: 'custom', path: at('methods'), message: 'only on "protocol": "mcp" or "a2a" routes' });
  if (protocol === 'a2a') {
    // A name the front never produces would protect nothing: A2A calls are matched by their 1.0 names only.
    for (const name of Object.keys(o.methods ?? {})) {
      if (A2A_METHOD_NAMES.has(name)) continue;
      const v1 = A2A_LEGACY_METHOD_NAMES.get(name);
      ctx.addIssue({ code: 'custom', path: at('methods', name), message: v1 ? `an A2A 0.3 name: use the 1.0 name "${v1}" (it covers both versions and bindings)` : `not an A2A 1.0 method (${[...A2A_METHOD_NAMES].join(', ')})` });
    }
  }
  if (o.dpop === 'disabled') {
    if (o.dpopNonce) ctx.addIssue({ code: 'custom', path: at('dpopNonce'), message: 'needs DPoP: set dpop to "allowed" or "required"' });
    if (o.dpopAlgorithms !== undefined) ctx.addIssue({ code: 'custom', path: at('dpopAlgorithms'), message: 'needs DPoP: set dpop to "allowed" or "required"' });
  }
  if (o.withWorkload) {
    const wit = auth.wit;
    if (!wit) ctx.addIssue({ code: 'custom', path: at('withWorkload'), message: 'needs auth.wit (the workload credential that comes with the access token)' });
    // wpt-02 puts the proof in Authorization, where the access token must go: only the -01 carriage leaves it free.
    else if (wit.proofs.includes('wpt') && wit.carriage === 'authorization') ctx.addIssue({ code: 'custom', path: ['auth', 'wit', 'carriage'], message: 'must be "header" with oauth.withWorkload: the -02 WPT occupies Authorization, which carries the access token' });
    // A DPoP token is never accepted beside a WPT (two proofs of possession, one of them unbound to the other):
    // with DPoP required, only an HTTP signature can carry the workload credential.
    else if (o.dpop === 'required' && !wit.proofs.includes('http-sig')) ctx.addIssue({ code: 'custom', path: at('dpop'), message: 'cannot be "required" with withWorkload unless auth.wit.proofs includes "http-sig": a DPoP token is refused beside a WPT' });
  }
}

function secureTransport(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname));
  } catch {
    return true; // reported by the upstream's own check
  }
}

/** Paths the gateway answers itself; a route may not shadow them. */
export const RESERVED_PATHS = ['/healthz', '/.well-known'] as const;

export const gatewayConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors.'),
    publicUrl: httpUrl
      .refine((u) => { try { return new URL(u).pathname === '/'; } catch { return true; } }, 'must be an origin with no path')
      .describe('The origin callers use to reach the gateway. Sets X-Forwarded-Host/Proto upstream; never taken from Host.'),
    limits: limits.optional().describe('Gateway-wide limits; routes may override them.'),
    trustDomains: trustDomainsSchema.optional(),
    authorizationServers: authorizationServersSchema.optional(),
    audit: z
      .strictObject({ sink: z.enum(['stdout', 'none']).default('stdout').describe('Where audit events go: JSON lines on stdout, or nowhere.') })
      .optional(),
    transactionTokens: z
      .strictObject({
        trustDomain: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').describe('aud of every Txn-Token: the trust domain the upstreams belong to (they accept no Txn-Token for another).'),
        lifetimeSeconds: z.number().int().min(1).max(MAX_TXN_TOKEN_LIFETIME_SECONDS).default(DEFAULT_TXN_TOKEN_LIFETIME_SECONDS).describe(`Txn-Token lifetime: one call's duration ("minutes or less"). Default ${DEFAULT_TXN_TOKEN_LIFETIME_SECONDS}.`),
        keyRotationSeconds: z.number().int().min(MIN_TXN_KEY_ROTATION_MS / 1000).max(30 * 24 * 60 * 60).default(DEFAULT_TXN_KEY_ROTATION_MS / 1000).describe(`Seconds between signing key rotations; keys are generated by the gateway, kept in its state store and published at /.well-known/jwks.json. Default ${DEFAULT_TXN_KEY_ROTATION_MS / 1000}.`),
        external: z
          .strictObject({
            tokenEndpoint: egressUrl(true).describe('Token endpoint of the trust domain\'s Transaction Token Service (https, or http to a loopback host): the Txn-Token Request (RFC 8693) is POSTed here.'),
            clientId: z.string().min(1).max(256).describe('The gateway\'s client_id at that TTS.'),
            clientSecretEnv: envName.describe('Environment variable (a Workers secret) holding the client secret (client_secret_basic). Never put the secret in the config.'),
            jwksUrl: egressUrl(false).optional().describe('The TTS\'s Txn-Token JWK Set (https, or http to a loopback host). Recommended: each returned Txn-Token is then verified (signature, typ, aud = trustDomain, not expired, scope within what was asked) before the upstream sees it.'),
          })
          .optional()
          .describe('Obtain each Txn-Token from this external Transaction Token Service instead of minting it: per request, a token exchange with subject_token = the caller\'s access token (else its WIT or JWT-SVID), audience = trustDomain, scope, request_context (rctx) and request_details (tctx). Never cached. The gateway then holds no Txn-Token keys (keyRotationSeconds and lifetimeSeconds are unused, the JWKS publishes none). Not with service (a trust domain has one TTS); routes with txnToken may not use peers or accept mtls (an X509-SVID is no subject token).'),
        service: z
          .strictObject({
            path: mountPath.default('/txn-token').describe('Where the token endpoint is served (POST only). Must not be a route mount, under a route other than "/", or under /healthz or /.well-known. Default "/txn-token".'),
            auth: auth
              .refine((a) => a.oauth === undefined && a.jwtSvid === undefined, 'only wit and/or mtls: requesters are workloads that authenticate with a proof of possession (mutual authentication)')
              .refine((a) => a.wit !== undefined || a.mtls !== undefined, 'needs wit and/or mtls')
              .describe('How requesting workloads authenticate (the shape of a route\'s auth block, wit and/or mtls only). A WPT\'s default audience is publicUrl + path.'),
            requesters: z
              .array(z.string().min(1).max(2048))
              .min(1)
              .max(MAX_CONFIG_LIST_ENTRIES)
              .refine((list) => new Set(list).size === list.length, 'must not repeat a requester')
              .describe('Who may ask for Txn-Tokens: workload identifiers (exact) or trust domain origins (spiffe://td, any workload of that domain). Others get 400 unauthorized_client.'),
            subjectAudience: z.string().min(1).max(2048).optional().describe('The resource an access token exchanged here must be issued for (its aud must contain it). Default: publicUrl\'s origin.'),
            authorizationServers: z
              .array(issuerIdentifier)
              .max(MAX_CONFIG_LIST_ENTRIES)
              .refine((list) => new Set(list).size === list.length, 'must not repeat an issuer')
              .default([])
              .describe('Issuers (keys of the top-level authorizationServers) whose access tokens may be subject tokens. Default none: only Txn-Tokens (replacement) are accepted.'),
            federation: federationSchema.optional(),
            grantAudience: z.string().min(1).max(2048).optional().describe('The identifier a JWT authorization grant must name in aud (RFC 7523 §3 item 3; identity-chaining §2.4). Default: the service URL, publicUrl\'s origin + path. Needs federation.'),
            relyingParties: relyingPartiesSchema.optional(),
          })
          .superRefine(relyingPartyProblems)
          .optional()
          .describe('Serve a Transaction Token Service endpoint (RFC 8693 token exchange profiled by draft-ietf-oauth-transaction-tokens): authenticated workloads exchange an access token, or a Txn-Token for a replacement, for a Txn-Token of trustDomain signed with the gateway\'s keys.'),
      })
      .optional()
      .describe('Mint Transaction Tokens for upstreams (routes with txnToken) and, with service, for other workloads.'),
    agentCards: agentCardKeysSchema.optional(),
    identity: z
      .strictObject({
        workloadId: z.string().max(2048).optional().describe('The WIT\'s sub must be this identifier (a check that the right credential was deployed).'),
        file: z.string().min(1).max(4096).optional().describe('Path (relative to the config file) of a JSON document { "wit": ..., "key": <private JWK> }, as `portcullis mint-wit` prints; re-read at half the WIT\'s lifetime. Node, Deno, Bun.'),
        env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128).optional().describe('Name of an environment variable (a Workers secret) holding that JSON document.'),
      })
      .superRefine((id, ctx) => {
        if ((id.file === undefined) === (id.env === undefined)) ctx.addIssue({ code: 'custom', message: 'set exactly one of file and env' });
        if (id.workloadId !== undefined) {
          const parsed = parseWorkloadId(id.workloadId);
          if (!parsed.ok) ctx.addIssue({ code: 'custom', path: ['workloadId'], message: `not a canonical workload identifier: ${parsed.detail}` });
        }
      })
      .optional()
      .describe('The gateway\'s own workload identity (a WIT and its key): signs responses and authenticates the gateway to upstreams.'),
    routes: z.array(route).min(1).describe('Mounted upstreams.'),
  })
  .superRefine(
    (cfg, ctx) => {
      // Runs even when other parts failed (see `when`), so the input may be malformed: read it defensively.
      const routes: unknown[] = Array.isArray(cfg.routes) ? cfg.routes : [];
      const seen = new Map<string, number>();
      routes.forEach((r, i) => {
        const path = (r as { path?: unknown } | null)?.path;
        if (typeof path !== 'string') return;
        const first = seen.get(path);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'path'], message: `duplicates routes[${first}].path "${path}"` });
        else seen.set(path, i);
        const reserved = RESERVED_PATHS.find((p) => path === p || path.startsWith(`${p}/`));
        if (reserved) ctx.addIssue({ code: 'custom', path: ['routes', i, 'path'], message: `"${reserved}" is served by the gateway itself` });
      });
      trustDomainProblems(cfg, routes, ctx);
      oauthProblems(cfg, routes, ctx);
      audienceProblems(cfg.publicUrl, routes, ctx);
      identityProblems(cfg.identity !== undefined, routes, ctx);
      txnServiceProblems(cfg, routes, ctx);
      txnExternalProblems(cfg, routes, ctx);
      a2aProblems(cfg, routes, ctx);
      if (cfg.transactionTokens === undefined) {
        routes.forEach((r, i) => {
          if (isRecord(r) && r.txnToken !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'txnToken'], message: 'needs the top-level transactionTokens (the trust domain and keys Txn-Tokens are minted for)' });
        });
      }
    },
    { when: () => true }, // report cross-route problems together with all the others
  )
  .describe('Portcullis gateway configuration.');

/**
 * An external TTS (transactionTokens.external, gateway/txn-external.ts) is the trust domain's one TTS: the gateway
 * serves none itself. Its routes' callers must present a token to be the subject_token, and a peer's Txn-Token is
 * not replaced by the gateway (it holds no Txn-Token keys).
 */
function txnExternalProblems(cfg: { transactionTokens?: unknown }, routes: unknown[], ctx: z.RefinementCtx): void {
  const txn = isRecord(cfg.transactionTokens) ? cfg.transactionTokens : undefined;
  if (!txn || txn.external === undefined) return;
  if (txn.service !== undefined) ctx.addIssue({ code: 'custom', path: ['transactionTokens', 'external'], message: 'cannot be combined with service: a trust domain has one Transaction Token Service, and with external it is not the gateway' });
  routes.forEach((r, i) => {
    if (!isRecord(r) || !isRecord(r.txnToken)) return;
    if (r.txnToken.peers !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'txnToken', 'peers'], message: 'not with transactionTokens.external: the gateway holds no Txn-Token keys to replace a peer\'s token with' });
    if (isRecord(r.auth) && r.auth.mtls !== undefined && !(isRecord(r.auth.oauth) && r.auth.oauth.withWorkload === true)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'mtls'], message: 'not with txnToken and transactionTokens.external: an X509-SVID is no token the gateway can send the TTS as subject_token' });
  });
}

/**
 * A2A routes: a card states the OAuth flow callers use, so each authorization server of an A2A OAuth route needs its
 * token endpoint; a signed card must outlive no client's cache of it (the signing key stays published one rotation
 * period after it stops signing: txn/key-ring.ts).
 */
function a2aProblems(cfg: { authorizationServers?: unknown; agentCards?: unknown }, routes: unknown[], ctx: z.RefinementCtx): void {
  const servers = isRecord(cfg.authorizationServers) ? cfg.authorizationServers : {};
  const rotation = isRecord(cfg.agentCards) && typeof cfg.agentCards.keyRotationSeconds === 'number' ? cfg.agentCards.keyRotationSeconds : 24 * 60 * 60;
  routes.forEach((r, i) => {
    if (!isRecord(r) || r.protocol !== 'a2a') return;
    const oauth = isRecord(r.auth) && isRecord(r.auth.oauth) ? r.auth.oauth : undefined;
    const issuers = Array.isArray(oauth?.authorizationServers) ? oauth.authorizationServers : [];
    issuers.forEach((issuer, j) => {
      const server = typeof issuer === 'string' ? servers[issuer] : undefined;
      if (isRecord(server) && server.tokenEndpoint === undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'oauth', 'authorizationServers', j], message: `authorizationServers["${issuer}"].tokenEndpoint is needed: the Agent Card declares the OAuth client credentials flow with it` });
    });
    const card = isRecord(r.a2a) && isRecord(r.a2a.card) ? r.a2a.card : undefined;
    if (typeof card?.maxAgeSeconds === 'number' && card.maxAgeSeconds > rotation) ctx.addIssue({ code: 'custom', path: ['routes', i, 'a2a', 'card', 'maxAgeSeconds'], message: `must not exceed agentCards.keyRotationSeconds (${rotation}): a cached card must still verify` });
  });
}

/** Routes that sign with, or present, the gateway's own identity need one configured. */
function identityProblems(hasIdentity: boolean, routes: unknown[], ctx: z.RefinementCtx): void {
  if (hasIdentity) return;
  routes.forEach((r, i) => {
    if (!isRecord(r)) return;
    if (r.upstreamAuth !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstreamAuth'], message: 'needs the top-level identity (the gateway\'s own WIT and key)' });
    const sig = isRecord(r.auth) && isRecord(r.auth.wit) && isRecord(r.auth.wit.httpSignature) ? r.auth.wit.httpSignature : undefined;
    if (sig?.signResponses === 'always') ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'wit', 'httpSignature', 'signResponses'], message: 'needs the top-level identity (the gateway\'s own WIT and key) to sign with' });
    const oauth = isRecord(r.auth) && isRecord(r.auth.oauth) ? r.auth.oauth : undefined;
    if (oauth?.signedMetadata === true) ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'oauth', 'signedMetadata'], message: 'needs the top-level identity (the gateway\'s own WIT and key) to sign with' });
  });
}

/**
 * A configured WPT audience on the gateway's own origin must be served by its route: a proof made for a URL
 * another route serves would be accepted on both (wpt-02 §3: the audience scopes a proof to one recipient).
 * Two routes configured with one audience are refused for the same reason.
 */
function audienceProblems(publicUrl: unknown, routes: unknown[], ctx: z.RefinementCtx): void {
  if (typeof publicUrl !== 'string' || !routes.every((r) => isRecord(r) && typeof r.path === 'string')) return;
  let origin: string;
  try {
    origin = new URL(publicUrl).origin;
  } catch {
    return;
  }
  const match = routeMatcher(routes as RouteConfig[]);
  const claimed = new Map<string, number>();
  routes.forEach((r, i) => {
    const audience = isRecord(r) && isRecord(r.auth) && isRecord(r.auth.wit) ? r.auth.wit.audience : undefined;
    if (typeof audience !== 'string') return;
    const at = ['routes', i, 'auth', 'wit', 'audience'];
    const first = claimed.get(audience);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: at, message: `duplicates routes[${first}].auth.wit.audience` });
    else claimed.set(audience, i);
    if (!audience.startsWith(`${origin}/`)) return;
    const served = match(audience.slice(origin.length).split(/[?#]/)[0]!)?.route;
    if (served !== r) ctx.addIssue({ code: 'custom', path: at, message: served ? `names a URL that routes[${routes.indexOf(served)}] serves` : 'names a URL on publicUrl that no route serves' });
  });
}

/**
 * The Transaction Token Service: its path is the gateway's own (no route mount, reserved path or route other than "/"
 * above it), its trust domains and requesters are defined, its authorization servers exist (one may introspect).
 */
function txnServiceProblems(cfg: { trustDomains?: unknown; authorizationServers?: unknown; transactionTokens?: unknown }, routes: unknown[], ctx: z.RefinementCtx): void {
  const service = isRecord(cfg.transactionTokens) && isRecord(cfg.transactionTokens.service) ? cfg.transactionTokens.service : undefined;
  if (!service) return;
  const at = (...rest: (string | number)[]) => ['transactionTokens', 'service', ...rest];
  const trustDomain = isRecord(cfg.transactionTokens) ? cfg.transactionTokens.trustDomain : undefined;
  // A relying-party token for the trust domain itself would be a second kind of token aimed at the Txn-Tokens' audience.
  if (typeof trustDomain === 'string' && isRecord(service.relyingParties) && Object.hasOwn(service.relyingParties, trustDomain)) {
    ctx.addIssue({ code: 'custom', path: at('relyingParties', trustDomain), message: 'must not be the trust domain itself (the audience of Txn-Tokens)' });
  }
  const domains = isRecord(cfg.trustDomains) ? cfg.trustDomains : {};
  const path = typeof service.path === 'string' ? service.path : '/txn-token';
  const reserved = RESERVED_PATHS.find((p) => path === p || path.startsWith(`${p}/`));
  if (reserved) ctx.addIssue({ code: 'custom', path: at('path'), message: `"${reserved}" is served by the gateway itself` });
  if (routes.every((r) => isRecord(r) && typeof r.path === 'string')) {
    const served = routeMatcher(routes as RouteConfig[])(path)?.route;
    if (served && served.path !== '/') ctx.addIssue({ code: 'custom', path: at('path'), message: `collides with routes[${routes.indexOf(served)}] ("${served.path}")` });
  }
  const auth = isRecord(service.auth) ? service.auth : {};
  const accepted = new Set<string>();
  for (const kind of ['wit', 'mtls'] as const) {
    const block = auth[kind];
    const list = isRecord(block) && Array.isArray(block.trustDomains) ? block.trustDomains : [];
    list.forEach((origin: unknown, j) => {
      if (typeof origin !== 'string') return;
      accepted.add(origin);
      const td = Object.hasOwn(domains, origin) ? domains[origin] : undefined;
      const where = at('auth', kind, 'trustDomains', j);
      if (!isRecord(td)) ctx.addIssue({ code: 'custom', path: where, message: `"${origin}" is not defined in trustDomains` });
      else if (kind === 'mtls' && (!origin.startsWith('spiffe://') || td.x509Authorities === undefined)) ctx.addIssue({ code: 'custom', path: where, message: 'X509-SVIDs need a spiffe:// trust domain with x509Authorities' });
      else if (kind === 'wit' && td.jwks === undefined && td.keySource === undefined) ctx.addIssue({ code: 'custom', path: where, message: `trustDomains["${origin}"] has no JWS keys (jwks or keySource) to verify tokens with` });
    });
  }
  const requesters = Array.isArray(service.requesters) ? service.requesters : [];
  requesters.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') return;
    // A workload identifier, or a trust domain origin (scheme://td, no path); either within an accepted trust domain.
    const parsed = parseWorkloadId(entry);
    const origin = parsed.ok ? workloadOrigin(parsed.value) : /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/.test(entry) ? entry : undefined;
    if (origin === undefined) ctx.addIssue({ code: 'custom', path: at('requesters', i), message: `neither a workload identifier nor a trust domain origin: ${parsed.ok ? '' : parsed.detail}` });
    else if (!accepted.has(origin)) ctx.addIssue({ code: 'custom', path: at('requesters', i), message: `trust domain ${origin} is not among auth.wit / auth.mtls trustDomains` });
  });
  const servers = isRecord(cfg.authorizationServers) ? cfg.authorizationServers : {};
  const issuers = Array.isArray(service.authorizationServers) ? service.authorizationServers : [];
  issuers.forEach((issuer: unknown, j) => {
    if (typeof issuer === 'string' && !Object.hasOwn(servers, issuer)) ctx.addIssue({ code: 'custom', path: at('authorizationServers', j), message: `"${issuer}" is not defined in authorizationServers` });
  });
  const introspecting = issuers.filter((issuer: unknown) => typeof issuer === 'string' && isRecord(servers[issuer]) && servers[issuer].introspection !== undefined);
  if (introspecting.length > 1) ctx.addIssue({ code: 'custom', path: at('authorizationServers'), message: 'at most one of these may introspect tokens: an opaque token must go only to the server that issued it' });
  if (service.grantAudience !== undefined && service.federation === undefined) ctx.addIssue({ code: 'custom', path: at('grantAudience'), message: 'needs federation (the issuers whose grants name it)' });
}

/** Routes name trust domains the top-level block defines; SPIFFE-only features need spiffe:// domains. */
function trustDomainProblems(cfg: { trustDomains?: unknown }, routes: unknown[], ctx: z.RefinementCtx): void {
  const domains = isRecord(cfg.trustDomains) ? cfg.trustDomains : {};
  for (const [origin, td] of Object.entries(domains)) {
    if (isRecord(td) && td.profile === 'wit-svid' && !origin.startsWith('spiffe://')) {
      ctx.addIssue({ code: 'custom', path: ['trustDomains', origin, 'profile'], message: 'the wit-svid profile needs a spiffe:// trust domain' });
    }
  }
  routes.forEach((r, i) => {
    const auth = isRecord(r) && isRecord(r.auth) ? r.auth : undefined;
    for (const kind of ['wit', 'jwtSvid', 'mtls'] as const) {
      const block = auth?.[kind];
      const list = isRecord(block) && Array.isArray(block.trustDomains) ? block.trustDomains : [];
      list.forEach((origin: unknown, j) => {
        if (typeof origin !== 'string') return;
        const path = ['routes', i, 'auth', kind, 'trustDomains', j];
        const td = Object.hasOwn(domains, origin) ? domains[origin] : undefined;
        if (!isRecord(td)) {
          ctx.addIssue({ code: 'custom', path, message: `"${origin}" is not defined in trustDomains` });
        } else if (kind === 'jwtSvid' && !origin.startsWith('spiffe://')) {
          ctx.addIssue({ code: 'custom', path, message: 'JWT-SVIDs come from spiffe:// trust domains only' });
        } else if (kind === 'jwtSvid' && !hasSpiffeAlgorithm(td as { algorithms?: string[] })) {
          ctx.addIssue({ code: 'custom', path, message: `trustDomains["${origin}"].algorithms has no RS/ES/PS algorithm, which JWT-SVIDs need` });
        } else if (kind === 'mtls' && !origin.startsWith('spiffe://')) {
          ctx.addIssue({ code: 'custom', path, message: 'X509-SVIDs come from spiffe:// trust domains only' });
        } else if (kind === 'mtls' && td.x509Authorities === undefined) {
          ctx.addIssue({ code: 'custom', path, message: `trustDomains["${origin}"] has no x509Authorities to validate client certificates with` });
        } else if (kind !== 'mtls' && td.jwks === undefined && td.keySource === undefined) {
          ctx.addIssue({ code: 'custom', path, message: `trustDomains["${origin}"] has no JWS keys (jwks or keySource) to verify tokens with` });
        }
      });
    }
  });
}

/**
 * Routes name authorization servers the top-level block defines; two routes never share a resource identifier (a
 * token for one would be accepted by the other, RFC 8707 §2); an introspecting server's secret must be named.
 */
function oauthProblems(cfg: { authorizationServers?: unknown; publicUrl?: unknown }, routes: unknown[], ctx: z.RefinementCtx): void {
  const servers = isRecord(cfg.authorizationServers) ? cfg.authorizationServers : {};
  const resources = new Map<string, number>();
  routes.forEach((r, i) => {
    const o = isRecord(r) && isRecord(r.auth) && isRecord(r.auth.oauth) ? r.auth.oauth : undefined;
    if (!o) return;
    const list = Array.isArray(o.authorizationServers) ? o.authorizationServers : [];
    list.forEach((issuer: unknown, j) => {
      if (typeof issuer === 'string' && !Object.hasOwn(servers, issuer)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'oauth', 'authorizationServers', j], message: `"${issuer}" is not defined in authorizationServers` });
    });
    // Opaque tokens go to exactly one server: sending a token to an authorization server that did not issue it
    // would hand it to a third party (RFC 7662 §4).
    const introspecting = list.filter((issuer: unknown) => typeof issuer === 'string' && Object.hasOwn(servers, issuer) && isRecord(servers[issuer]) && servers[issuer].introspection !== undefined);
    if (introspecting.length > 1) ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'oauth', 'authorizationServers'], message: 'at most one of these may introspect tokens: an opaque token must go only to the server that issued it' });
    const resource = typeof o.resource === 'string' ? o.resource : typeof cfg.publicUrl === 'string' && isRecord(r) && typeof r.path === 'string' ? defaultResource(cfg.publicUrl, r.path) : undefined;
    if (resource === undefined) return;
    // The gateway serves the resource's RFC 9728 metadata, which lives on the resource's own origin (§3.1).
    if (typeof o.resource === 'string' && typeof cfg.publicUrl === 'string' && URL.canParse(o.resource) && URL.canParse(cfg.publicUrl) && new URL(o.resource).origin !== new URL(cfg.publicUrl).origin) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'oauth', 'resource'], message: 'must be on publicUrl\'s origin: the gateway serves its metadata there (RFC 9728 §3.1)' });
    }
    const first = resources.get(resource);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'oauth', 'resource'], message: `routes[${first}] has the same resource identifier: a token for one would be accepted by both` });
    else resources.set(resource, i);
  });
}

/** A route's default resource identifier: publicUrl's origin + the mount path (the origin alone for "/"). */
export function defaultResource(publicUrl: string, path: string): string | undefined {
  try {
    const origin = new URL(publicUrl).origin;
    return path === '/' ? origin : `${origin}${path}`;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type RouteConfig = GatewayConfig['routes'][number];
export type LimitsConfig = z.output<typeof limits>;
export type Protocol = RouteConfig['protocol'];
export type RouteAuthConfig = NonNullable<RouteConfig['auth']>;
export type OAuthRouteConfig = NonNullable<RouteAuthConfig['oauth']>;
export type TxnServiceConfig = NonNullable<NonNullable<GatewayConfig['transactionTokens']>['service']>;
export type OperationRequirement = z.output<typeof operationRequirement>;
export type { AuthorizationServerConfig, IntrospectionConfig } from './authorization-servers.ts';
export type { TrustDomainConfig, TrustDomainJwk } from './trust-domains.ts';
