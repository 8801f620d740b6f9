/**
 * The one GatewayConfig: its shape, defaults and cross-field rules. Every object is strict (unknown keys are
 * errors, DESIGN principle 4) and every route fails closed: it needs an `auth` block unless it says
 * `public: true`, and an auth block must name at least one credential. Routes name trust domains that the
 * top-level `trustDomains` block defines (keys and policy: trust-domains.ts); that cross-reference is checked
 * here, reported by path. The JSON Schema in `schema/portcullis.config.schema.json` is generated from this file.
 */
import * as z from 'zod';
import { routeMatcher } from '../gateway/routes.ts';
import { DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS, DEFAULT_WPT_MAX_LIFETIME_SECONDS, MAX_CONFIG_LIST_ENTRIES, MAX_HTTP_SIG_LIFETIME_LIMIT_SECONDS, MAX_WPT_LIFETIME_LIMIT_SECONDS } from '../limits.ts';
import { isLoopbackHost } from '../client/transport.ts';
import { parseWorkloadId } from '../identity/workload-id.ts';
import { hasSpiffeAlgorithm, trustDomainOrigin, trustDomainsSchema } from './trust-domains.ts';

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
  })
  .describe('Credentials this route accepts; a request must present one of them. With both wit and jwtSvid, either authenticates.');

const route = z
  .strictObject({
    path: mountPath.describe('Path prefix served by this route, matched at segment boundaries; the longest match wins.'),
    protocol: z.enum(['mcp', 'a2a', 'http']).describe('What the upstream speaks: shapes errors (JSON-RPC on mcp) and protocol handling.'),
    upstream,
    public: z.boolean().optional().describe('Serve without authentication. Required (true) when the route has no auth block.'),
    auth: auth.optional(),
    upstreamAuth: z
      .strictObject({
        proof: z.enum(['wpt', 'http-sig']).describe('How the gateway proves its own identity (the top-level identity) to the upstream: its WIT with a WPT, or with a WIMSE HTTP signature (which covers the body: it is read whole, up to maxBodyBytes).'),
        audience: httpUrl.optional().describe('The WPT aud / wimse-aud the upstream expects. Default: the upstream URL of the request, without query.'),
      })
      .optional()
      .describe('Authenticate the gateway itself to the upstream. The caller\'s credentials are never forwarded either way.'),
    limits: routeLimits.optional().describe('Overrides of the gateway body and timeout limits for this route.'),
  })
  .superRefine((r, ctx) => {
    if (r.public === true && r.auth) ctx.addIssue({ code: 'custom', path: ['public'], message: 'a public route must not also have an auth block' });
    if (r.public !== true && !r.auth) ctx.addIssue({ code: 'custom', path: ['auth'], message: 'required: the route has no auth block and is not marked "public": true (routes fail closed)' });
    if (r.upstreamAuth && typeof r.upstream === 'string' && !secureTransport(r.upstream)) {
      // workload-creds-02 §9: the WIT and its proof travel over TLS (plain http only to a loopback host).
      ctx.addIssue({ code: 'custom', path: ['upstreamAuth'], message: 'the gateway\'s WIT and proof go to https upstreams only (or http to a loopback host)' });
    }
    if (r.auth && r.auth.wit === undefined && r.auth.jwtSvid === undefined && r.auth.mtls === undefined) ctx.addIssue({ code: 'custom', path: ['auth'], message: 'names no credential: add "wit", "jwtSvid" and/or "mtls"' });
  });

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
    audit: z
      .strictObject({ sink: z.enum(['stdout', 'none']).default('stdout').describe('Where audit events go: JSON lines on stdout, or nowhere.') })
      .optional(),
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
      audienceProblems(cfg.publicUrl, routes, ctx);
      identityProblems(cfg.identity !== undefined, routes, ctx);
    },
    { when: () => true }, // report cross-route problems together with all the others
  )
  .describe('Portcullis gateway configuration.');

/** Routes that sign with, or present, the gateway's own identity need one configured. */
function identityProblems(hasIdentity: boolean, routes: unknown[], ctx: z.RefinementCtx): void {
  if (hasIdentity) return;
  routes.forEach((r, i) => {
    if (!isRecord(r)) return;
    if (r.upstreamAuth !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'upstreamAuth'], message: 'needs the top-level identity (the gateway\'s own WIT and key)' });
    const sig = isRecord(r.auth) && isRecord(r.auth.wit) && isRecord(r.auth.wit.httpSignature) ? r.auth.wit.httpSignature : undefined;
    if (sig?.signResponses === 'always') ctx.addIssue({ code: 'custom', path: ['routes', i, 'auth', 'wit', 'httpSignature', 'signResponses'], message: 'needs the top-level identity (the gateway\'s own WIT and key) to sign with' });
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type RouteConfig = GatewayConfig['routes'][number];
export type LimitsConfig = z.output<typeof limits>;
export type Protocol = RouteConfig['protocol'];
export type RouteAuthConfig = NonNullable<RouteConfig['auth']>;
export type { TrustDomainConfig, TrustDomainJwk } from './trust-domains.ts';
