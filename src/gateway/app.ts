/**
 * Assembles the gateway: one Hono app whose pipeline is
 *   request id -> header limits -> gateway routes (/healthz, metadata, JWKS, the Transaction Token Service) -> route match -> authentication (authenticate.ts)
 *   -> [revocation, authorization: later stages] -> body limit -> streaming proxy -> audit event.
 * Everything runtime-specific arrives through GatewayOptions (DESIGN principle 3).
 */
import { Hono } from 'hono';
import type { AuditEvent, AuditSink } from '../audit/event.ts';
import { noopSink, stdoutSink } from '../audit/sinks.ts';
import { assertConfig, ConfigError } from '../config/load.ts';
import type { GatewayConfig, GatewayConfigInput, RouteConfig } from '../config/schema.ts';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADER_COUNT, REQUEST_ID_PATTERN, UPSTREAM_TIMEOUT_MS } from '../limits.ts';
import type { Principal } from '../identity/principal.ts';
import { memoryState } from '../state/memory.ts';
import type { StatePorts } from '../state/ports.ts';
import type { KeyFetch, ReadTextFile } from '../trust/key-source-load.ts';
import { keySourceProblems, trustKeySource, type TrustKeySource } from '../trust/key-source.ts';
import type { VerifiedWimseSignature } from '../verify/wimse-signature.ts';
import { authenticators, type BodyRead, type RouteAuthenticator } from './authenticate.ts';
import { ownIdentity, type OwnIdentitySource } from './own-identity.ts';
import { signedResponse } from './sign-response.ts';
import { presentOwnIdentity } from './upstream-auth.ts';
import { readBounded } from '../read-bounded.ts';
import { declaredLengthExceeds } from './body-limit.ts';
import { errorResponse, errorSpec, type ErrorCode, type ErrorOptions } from './errors.ts';
import { downstreamResponseHeaders, headerBytes, upstreamRequestHeaders } from './headers.ts';
import { fetchSend, proxy, type UpstreamSend } from './proxy.ts';
import { routeMatcher, upstreamUrl } from './routes.ts';
import { authorizationServerKeys } from '../trust/authorization-server-keys.ts';
import { dpopNonces } from './dpop-nonce.ts';
import { introspector } from './introspect.ts';
import { mcpFront } from './mcp-front.ts';
import { isPreflight, OAUTH_CORS, preflightResponse } from './cors.ts';
import { AGENT_CARD_KEY_RING_CACHE_KEY, txnKeyRing } from '../txn/key-ring.ts';
import { A2A_DEFAULTS } from '../config/a2a.ts';
import { agentCardService, isAgentCardPath } from './a2a-card.ts';
import { a2aFront, type A2aFront, type SkillPolicy } from './a2a-front.ts';
import { a2aBinding, type A2aBinding, type A2aRequestInfo } from '../protocols/a2a-request.ts';
import { mintTxnToken } from '../mint/txn-token.ts';
import { replacementClaims, txnClaims } from './txn-rebind.ts';
import { txnPeers, type PeerTxnCheck } from './txn-peer.ts';
import { ttsHandler } from './tts.ts';
import { egressClient } from './egress.ts';
import { txnExternal } from './txn-external.ts';
import { sha256b64url } from '../crypto/digest.ts';
import type { McpRequestInfo } from '../protocols/mcp-request.ts';
import { operationRequirement, type OAuthPorts } from './oauth.ts';
import { GATEWAY_JWKS_PATH, resourceMetadata, serveResourceMetadata, WELL_KNOWN_PRM, withSignedMetadata, type ResourceMetadata } from './resource-metadata.ts';

/** Something with a fetch method: a Workers service binding, or any in-process handler. */
export interface ServiceBinding {
  fetch(url: URL | string, init?: RequestInit): Promise<Response>;
}

export interface GatewayOptions {
  state?: StatePorts;
  /** Overrides the sink chosen by `config.audit.sink`. */
  audit?: AuditSink;
  /** Sends requests to URL upstreams; defaults to the global fetch. The Node entry passes a node:http port. */
  fetch?: UpstreamSend;
  /** Service bindings named by `upstream.service` routes (Workers `env`, or in-process handlers). */
  services?: Record<string, ServiceBinding | undefined>;
  /** Where trust-anchor keys come from. Default: each trust domain's inline `jwks` or `keySource`. */
  trustKeys?: TrustKeySource;
  /** Fetches `keySource.url` key sets, authorization server metadata and keys, introspection answers, and egress token requests. Default: the global fetch. */
  fetchKeys?: KeyFetch;
  /** Reads `keySource.file` key sets and `identity.file`, resolving relative paths against the config file. Absent on Workers. */
  readFile?: ReadTextFile;
  /** Reads `identity.env`, `introspection.clientSecretEnv` and the egress `clientSecretEnv`s: process environment variables, or a Worker's `env` (its secrets). */
  readEnv?: (name: string) => string | undefined;
  /** The gateway's own identity. Default: from `config.identity` through readFile / readEnv. */
  ownIdentity?: OwnIdentitySource;
  /** Epoch milliseconds, for credential lifetimes. Default `Date.now`. */
  now?: () => number;
  /**
   * Which skills of an A2A authenticated extended card a caller may see, asked per skill after the route's own
   * `a2a.skills` scopes allowed it (the authorization stage's hook). Default: those scopes alone decide.
   */
  a2aSkillPolicy?: SkillPolicy;
}

/** Per-request values a runtime entry passes as the second argument of `fetch`. */
export interface ConnectionInfo {
  /** The peer address of the connection, as the runtime reports it. */
  clientAddress?: string;
}

interface ResolvedRoute {
  config: RouteConfig;
  base: URL;
  send: UpstreamSend;
  maxBodyBytes: number;
  timeoutMs: number;
  /** Undefined for public routes. */
  authenticate: RouteAuthenticator | undefined;
  /** The route accepts WIMSE HTTP signatures, whose body digest needs the whole body before forwarding. */
  readsSignedBodies: boolean;
}

export interface Gateway {
  fetch(request: Request, connection?: ConnectionInfo, executionCtx?: { waitUntil(p: Promise<unknown>): void }): Response | Promise<Response>;
  readonly config: GatewayConfig;
  readonly state: StatePorts;
}

/**
 * Builds a gateway from config (validated here; throws ConfigError listing every problem) and ports.
 * Also throws ConfigError when a route names a service binding that `options.services` lacks.
 */
export function createGateway(input: GatewayConfigInput | GatewayConfig | string, options: GatewayOptions = {}): Gateway {
  const config = assertConfig(input);
  const state = options.state ?? memoryState();
  const audit = options.audit ?? (config.audit?.sink === 'none' ? noopSink() : stdoutSink());
  const publicUrl = new URL(config.publicUrl);
  const maxHeaderBytes = config.limits?.maxHeaderBytes ?? MAX_HEADER_BYTES;
  const maxHeaderCount = config.limits?.maxHeaderCount ?? MAX_HEADER_COUNT;

  const now = options.now ?? Date.now;
  const own = options.ownIdentity ?? ownIdentityFromConfig(config, options, now);
  const unservable = options.trustKeys ? [] : keySourceProblems(config.trustDomains, options);
  if (unservable.length > 0) throw new ConfigError(unservable);
  const keyPorts: Parameters<typeof trustKeySource>[1] = { cache: state.cache, now };
  if (options.fetchKeys) keyPorts.fetch = options.fetchKeys;
  if (options.readFile) keyPorts.readFile = options.readFile;
  const servers = config.authorizationServers ?? {};
  let oauth: OAuthPorts | undefined;
  const ttsService = config.transactionTokens?.service;
  if (config.routes.some((r) => r.auth?.oauth) || (ttsService && ttsService.authorizationServers.length > 0)) {
    const asKeys = authorizationServerKeys(servers, keyPorts);
    const introspects = Object.values(servers).some((s) => s.introspection !== undefined);
    const introspectPorts: Parameters<typeof introspector>[0] = { servers, keys: asKeys, cache: state.cache, now };
    if (options.readEnv) introspectPorts.readEnv = options.readEnv;
    if (options.fetchKeys) introspectPorts.fetch = options.fetchKeys;
    oauth = { servers, keys: asKeys, introspector: introspects ? introspector(introspectPorts) : undefined, replay: state.replay, nonces: dpopNonces(state.cache, now), now };
  }
  const authenticatorFor = authenticators({
    config,
    publicUrl,
    keys: options.trustKeys ?? trustKeySource(config.trustDomains, keyPorts),
    state,
    now,
    ...(oauth ? { oauth } : {}),
  });
  const routes = new Map<RouteConfig, ResolvedRoute>();
  config.routes.forEach((route, i) =>
    routes.set(route, { ...resolveRoute(route, i, config, options), authenticate: authenticatorFor(route), readsSignedBodies: route.auth?.wit?.proofs.includes('http-sig') === true }),
  );
  const match = routeMatcher(config.routes);
  // A2A routes (a2a-front.ts, a2a-card.ts): cards signed with a key ring of their own, published in the gateway JWKS.
  const a2aRoutes = config.routes.filter((r) => r.protocol === 'a2a');
  const cardKeys = a2aRoutes.some((r) => (r.a2a ?? A2A_DEFAULTS).sign)
    ? txnKeyRing(state.cache, { now, rotationMs: (config.agentCards?.keyRotationSeconds ?? 24 * 60 * 60) * 1000, cacheKey: AGENT_CARD_KEY_RING_CACHE_KEY })
    : undefined;
  const a2aFronts = new Map<RouteConfig, A2aFront>();
  for (const r of a2aRoutes) {
    const resolved = routes.get(r)!;
    const a2a = r.a2a ?? A2A_DEFAULTS;
    const card = agentCardService({ route: r, configPath: `routes[${config.routes.indexOf(r)}]`, a2a, servers, publicUrl, base: resolved.base, send: resolved.send, timeoutMs: resolved.timeoutMs, keys: a2a.sign ? cardKeys : undefined, jwksUrl: new URL(GATEWAY_JWKS_PATH, publicUrl).href, now });
    a2aFronts.set(r, a2aFront(r.path, a2a, card, options.a2aSkillPolicy));
  }
  // RFC 9728 §3.1: each OAuth route's metadata at the well-known path derived from its resource identifier.
  // With `external` the gateway mints nothing: no key ring, no Txn-Token keys in its JWKS (txn-external.ts asks the TTS).
  const txnExternalConfig = config.transactionTokens?.external;
  const txn = config.transactionTokens
    ? { config: config.transactionTokens, keys: txnExternalConfig ? undefined : txnKeyRing(state.cache, { now, rotationMs: config.transactionTokens.keyRotationSeconds * 1000 }) }
    : undefined;
  const external = txnExternalConfig
    ? txnExternal({ config: txnExternalConfig, trustDomain: config.transactionTokens!.trustDomain, cache: state.cache, now, ...(options.readEnv ? { readEnv: options.readEnv } : {}), ...(options.fetchKeys ? { fetch: options.fetchKeys } : {}) })
    : undefined;
  // Peer gateways whose own Txn-Token a route replaces (txn-peer.ts); their key sets are fetched with fetchKeys.
  const peersFor = txn && txnPeers({ trustDomain: txn.config.trustDomain, lifetimeSeconds: txn.config.lifetimeSeconds, cache: state.cache, now, ...(options.fetchKeys ? { fetch: options.fetchKeys } : {}) });
  const txnPeerChecks = new Map<RouteConfig, PeerTxnCheck>();
  for (const route of config.routes) {
    const check = peersFor?.(route.txnToken?.peers);
    if (check) txnPeerChecks.set(route, check);
  }
  // The built-in Transaction Token Service (tts.ts), answered before route matching at its own path.
  const tts = txn?.keys && ttsService ? ttsHandler({ config, service: ttsService, publicUrl, authenticatorFor, oauth, keys: txn.keys, replay: state.replay, keyPorts, now }) : undefined;
  const metadata = new Map<string, { doc: ResourceMetadata; signed?: ReturnType<typeof withSignedMetadata> }>();
  for (const route of routes.values()) {
    const o = route.authenticate?.oauth;
    if (!o) continue;
    const doc = resourceMetadata(route.config.auth!.oauth!, o.resource);
    metadata.set(new URL(o.metadataUrl).pathname, route.config.auth!.oauth!.signedMetadata ? { doc, signed: withSignedMetadata(doc) } : { doc });
  }
  // Identity chaining into other trust domains (egress.ts), for routes with `egress`.
  const egress = config.routes.some((r) => r.egress)
    ? egressClient({ cache: state.cache, now, ...(options.readEnv ? { readEnv: options.readEnv } : {}), ...(options.fetchKeys ? { fetch: options.fetchKeys } : {}) })
    : undefined;
  // One MCP front per route: a session id is bound within the route whose upstream opened it.
  const mcpFronts = new Map(config.routes.filter((r) => r.protocol === 'mcp').map((r, i) => [r, mcpFront(state.cache, r.path.length <= 128 ? r.path : `route-${i}`)] as const));

  const app = new Hono<{ Bindings: ConnectionInfo | undefined; Variables: { requestId: string; started: number; path: string; a2a?: { binding: A2aBinding; rpcId?: string | number | null }; a2aCall?: NonNullable<AuditEvent['a2a']> } }>();

  app.use(async (c, next) => {
    const inbound = c.req.header('x-request-id');
    c.set('requestId', inbound && REQUEST_ID_PATTERN.test(inbound) ? inbound : crypto.randomUUID());
    c.set('started', Date.now());
    // Routing uses the path exactly as it arrived (percent-encoding kept): a decoded path would turn
    // `..%5C` into a traversal once the upstream URL is rebuilt (WHATWG URLs read `\` as `/`).
    c.set('path', rawPathname(c.req.url));
    await next();
  });

  type Ctx = { req: { raw: Request }; env: ConnectionInfo | undefined; executionCtx: unknown; get(key: 'started'): number; get(key: 'path'): string; get(key: 'a2a'): { binding: A2aBinding; rpcId?: string | number | null } | undefined; get(key: 'a2aCall'): AuditEvent['a2a'] };
  const record = (c: Ctx, event: Omit<AuditEvent, 'time' | 'method' | 'path' | 'client' | 'durationMs'>) => {
    const req = c.req.raw;
    const started = c.get('started') ?? Date.now();
    const pending = audit.emit({
      time: new Date(started).toISOString(),
      method: req.method,
      path: c.get('path') ?? rawPathname(req.url),
      ...(c.env?.clientAddress ? { client: c.env.clientAddress } : {}),
      durationMs: Date.now() - started,
      ...event,
      ...(c.get('a2aCall') ? { a2a: c.get('a2aCall') } : {}),
    });
    if (pending) waitUntil(c, pending);
  };
  const fail = (c: Ctx, requestId: string, code: ErrorCode, detail: string, route?: RouteConfig, extra: { principal?: Principal; wire?: ErrorOptions } = {}) => {
    const spec = errorSpec(code);
    const decision = spec.decision;
    const status = extra.wire?.status ?? spec.status;
    record(c, { requestId, decision, reason: code, status, detail, ...(route ? { route: route.path, protocol: route.protocol } : {}), ...(extra.principal ? { principal: extra.principal } : {}) });
    // A2A errors take the shape of the binding the call used (JSON-RPC error object or google.rpc.Status).
    const a2aShape = route?.protocol === 'a2a' ? c.get('a2a') : undefined;
    return errorResponse(code, requestId, route?.protocol, a2aShape ? { ...extra.wire, a2a: a2aShape } : extra.wire);
  };

  app.use(async (c, next) => {
    const { bytes, count } = headerBytes(c.req.raw.headers);
    if (bytes > maxHeaderBytes || count > maxHeaderCount) {
      return fail(c, c.get('requestId'), 'ERR_HEADERS_TOO_LARGE', `${count} fields, ${bytes} bytes`, match(c.get('path'))?.route);
    }
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store', 'x-request-id': c.get('requestId') }));
  // RFC 9728 metadata of the OAuth routes. Another protected resource's metadata (from an upstream behind a "/"
  // route) would name the wrong authorization servers: the gateway alone answers below this prefix.
  app.use(async (c, next) => {
    const path = c.get('path');
    const entry = metadata.get(path);
    if (entry) {
      const requestId = c.get('requestId');
      if (!entry.signed || c.req.method === 'OPTIONS') return serveResourceMetadata(c.req.raw, entry.doc, requestId);
      // Config validation guarantees an identity wherever metadata is signed.
      let signer;
      try {
        signer = (await own!.current()).metadata;
      } catch (error) {
        return fail(c, requestId, 'ERR_OWN_IDENTITY_UNAVAILABLE', error instanceof Error ? error.message : 'identity unavailable');
      }
      return serveResourceMetadata(c.req.raw, await entry.signed(signer, now()), requestId);
    }
    if ((own || txn?.keys || cardKeys) && path === GATEWAY_JWKS_PATH) {
      // The gateway's JWK Set, public members only: the key of its signed metadata (RFC 9728 jwks_uri) and its
      // Txn-Token signing keys (current, previous and next: a verifier refetches on an unknown kid).
      const keys: unknown[] = [];
      const problems: string[] = [];
      if (own) await own.current().then((id) => keys.push(id.metadata.publicJwk), (error: unknown) => problems.push(error instanceof Error ? error.message : 'identity unavailable'));
      if (txn?.keys) await txn.keys.publicKeys().then((list) => keys.push(...list), (error: unknown) => problems.push(error instanceof Error ? error.message : 'txn keys unavailable'));
      if (cardKeys) await cardKeys.publicKeys().then((list) => keys.push(...list), (error: unknown) => problems.push(error instanceof Error ? error.message : 'card keys unavailable'));
      if (keys.length === 0) return fail(c, c.get('requestId'), own ? 'ERR_OWN_IDENTITY_UNAVAILABLE' : txn?.keys ? 'ERR_TXN_TOKEN_UNAVAILABLE' : 'ERR_A2A_CARD_SIGNING_UNAVAILABLE', problems.join('; '));
      // Short caching: a rotated-in Txn-Token key must reach verifiers before it signs (key-ring.ts publishes it early).
      return c.json({ keys }, 200, { 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=60', 'x-request-id': c.get('requestId') });
    }
    if (path === WELL_KNOWN_PRM || path.startsWith(`${WELL_KNOWN_PRM}/`)) return fail(c, c.get('requestId'), 'ERR_ROUTE_NOT_FOUND', 'no protected resource metadata at this path');
    await next();
  });

  if (tts) {
    app.use(async (c, next) => {
      if (c.get('path') !== ttsService!.path) return next();
      const requestId = c.get('requestId');
      const outcome = await tts(c.req.raw, {
        requestId,
        background: (pending) => waitUntil(c, pending),
        ...(c.env?.clientAddress ? { clientAddress: c.env.clientAddress } : {}),
      });
      record(c, { requestId, decision: outcome.decision, reason: outcome.reason, status: outcome.status, ...(outcome.detail ? { detail: outcome.detail } : {}), ...(outcome.principal ? { principal: outcome.principal } : {}) });
      return outcome.response;
    });
  }

  app.all('*', async (c) => {
    const requestId = c.get('requestId');
    const req = c.req.raw;
    const found = match(c.get('path'));
    if (!found) return fail(c, requestId, 'ERR_ROUTE_NOT_FOUND', 'no route');
    const route = routes.get(found.route)!;
    const routeTag = { route: route.config.path, protocol: route.config.protocol };
    const target = upstreamUrl(route.base, found.rest, searchOf(req.url));
    if (!target) return fail(c, requestId, 'ERR_PATH_INVALID', 'encoded separator or control character in the path', route.config);
    const oauthRoute = route.authenticate?.oauth;
    const a2a = a2aFronts.get(route.config);
    if (a2a) {
      c.set('a2a', { binding: a2aBinding(req.method, found.rest) });
      // Agent Cards are discovery documents: served by the gateway, before (and without) authentication.
      if ((req.method === 'GET' || req.method === 'HEAD') && isAgentCardPath(found.rest)) {
        const served = await a2a.card.serve(req, requestId);
        if (served.code) return fail(c, requestId, served.code, served.detail ?? '', route.config);
        record(c, { requestId, decision: 'allow', reason: 'A2A_AGENT_CARD', status: served.response!.status, ...routeTag, ...(served.detail ? { detail: served.detail } : {}) });
        return served.response!;
      }
    }
    // A browser asks before sending Authorization; the preflight carries no credential, so it is answered here.
    if (oauthRoute && isPreflight(req)) return preflightResponse(req, route.config.protocol === 'mcp' ? 'GET, POST, DELETE' : 'GET, HEAD, POST, PUT, PATCH, DELETE', requestId);

    // Authentication (config validation guarantees: no auth block means `public: true`). Revocation and
    // authorization stages come here next.
    let principal: Principal | undefined;
    let signature: VerifiedWimseSignature | undefined;
    // A request signed over its body (http-signature-07 §3.1: Content-Digest) is read whole, bounded, once its
    // WIT has verified (authenticate.ts calls readBody then, not before: no unauthenticated caller makes the
    // gateway hold a body); so is an MCP message, after authentication (mcp-front.ts). The same bytes are then
    // forwarded. Other bodies stream through untouched.
    let authHeaders: Record<string, string> | undefined;
    let signedBody: Uint8Array<ArrayBuffer> | undefined;
    let bodyUnreadable = false;
    const readBody = async (): Promise<BodyRead> => {
      if (!req.body) return { ok: true, body: undefined };
      if (declaredLengthExceeds(req.headers, route.maxBodyBytes)) return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: `declared length over ${route.maxBodyBytes}` };
      const read = await readBounded(req.body, route.maxBodyBytes).catch(() => null);
      if (read === null) {
        bodyUnreadable = true;
        return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: 'the request body could not be read' };
      }
      if (read === undefined) return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: `body over ${route.maxBodyBytes}` };
      signedBody = read;
      return { ok: true, body: read };
    };
    if (route.authenticate) {
      const outcome = await route.authenticate(req, c.get('path'), {
        background: (pending) => waitUntil(c, pending),
        ...(route.readsSignedBodies ? { readBody } : {}),
        ...(c.env?.clientAddress ? { clientAddress: c.env.clientAddress } : {}),
      });
      if (bodyUnreadable) {
        // The caller went away mid-body (the proxy's 499 convention, below).
        record(c, { requestId, decision: 'error', reason: 'ERR_CLIENT_CLOSED', status: 499, detail: 'request body not readable', route: route.config.path, protocol: route.config.protocol });
        return new Response(null, { status: 499 });
      }
      if (!outcome.ok) {
        const wire: ErrorOptions = { challenges: outcome.challenges, headers: { ...outcome.headers, ...(route.authenticate.oauth ? OAUTH_CORS : {}) } };
        if (outcome.status !== undefined) wire.status = outcome.status;
        return fail(c, requestId, outcome.code, outcome.detail, route.config, { wire });
      }
      principal = outcome.principal;
      signature = outcome.signature;
      authHeaders = outcome.headers;
    }
    const who = principal ? { principal } : {};
    if (declaredLengthExceeds(req.headers, route.maxBodyBytes)) return fail(c, requestId, 'ERR_BODY_TOO_LARGE', `declared length over ${route.maxBodyBytes}`, route.config, who);

    let mcpInfo: McpRequestInfo | undefined;
    let a2aInfo: A2aRequestInfo | undefined;
    if (route.config.protocol === 'mcp' || a2a) {
      // What the call asks for is read from its whole body (bounded), after authentication.
      let body: Uint8Array | undefined = signedBody;
      if (body === undefined && req.method === 'POST') {
        const read = await readBody();
        if (bodyUnreadable) {
          record(c, { requestId, decision: 'error', reason: 'ERR_CLIENT_CLOSED', status: 499, detail: 'request body not readable', ...routeTag, ...who });
          return new Response(null, { status: 499 });
        }
        if (!read.ok) return fail(c, requestId, read.code, read.detail, route.config, who);
        body = read.body;
      }
      if (a2a) {
        const inspected = a2a.inspect(req, found.rest, body);
        if (inspected.ok && inspected.value) {
          const call = inspected.value;
          c.set('a2a', { binding: call.binding, rpcId: call.rpcId ?? null });
          c.set('a2aCall', { ...(call.method ? { method: call.method } : {}), wireMethod: call.wireMethod, legacy: call.legacy, ...(call.taskId !== undefined ? { taskId: call.taskId } : {}) });
        }
        if (!inspected.ok) return fail(c, requestId, inspected.code, inspected.detail, route.config, who);
        a2aInfo = inspected.value;
        // The agent, not the caller, would call a push notification URL: from inside the network, with the
        // credentials the config carries (never logged: the detail names at most the URL's origin).
        const pushProblem = a2aInfo && a2a.pushProblem(a2aInfo);
        if (pushProblem) return fail(c, requestId, 'ERR_A2A_PUSH_URL_NOT_ALLOWED', pushProblem, route.config, who);
      } else {
        const inspected = await mcpFronts.get(route.config)!.inspect(req, body, principal);
        if (!inspected.ok) return fail(c, requestId, inspected.code, inspected.detail, route.config, who);
        mcpInfo = inspected.value;
      }
    }
    // Scopes and step-up per operation (RFC 6750 §3.1, RFC 9470 §3): the route's, plus its MCP tools' and methods'
    // or its A2A method's.
    const operations = mcpInfo?.calls ?? (a2aInfo?.method ? [{ method: a2aInfo.method }] : []);
    const requirement = oauthRoute ? operationRequirement(route.config.auth!.oauth!, operations) : undefined;
    if (oauthRoute && principal) {
      const problem = oauthRoute.requirementProblem(principal.user, requirement!);
      if (problem) return fail(c, requestId, problem.code, problem.detail, route.config, { ...who, wire: { challenges: problem.challenges, headers: { ...authHeaders, ...OAUTH_CORS } } });
    }

    const mustSign = signature !== undefined && (signature.signResponse || route.config.auth?.wit?.httpSignature?.signResponses === 'always');
    if (mustSign) {
      // http-signature-07 §3.4: a response that must be signed and cannot be is an error; find out before the
      // upstream acts on the request, not after.
      if (!own) return fail(c, requestId, 'ERR_RESPONSE_NOT_SIGNABLE', 'a signed response was asked for and the gateway has no identity configured', route.config, who);
      try {
        await own.current();
      } catch (error) {
        return fail(c, requestId, 'ERR_OWN_IDENTITY_UNAVAILABLE', error instanceof Error ? error.message : 'identity unavailable', route.config, who);
      }
    }
    const upstreamHeaders = upstreamRequestHeaders(req.headers, { requestId, publicUrl, prefix: route.config.path, ...(c.env?.clientAddress ? { clientAddress: c.env.clientAddress } : {}) });
    if (route.config.txnToken && principal && txn) {
      // Re-binding (txn-rebind.ts): the upstream learns the caller from a Txn-Token, never from its credentials.
      let claims = txnClaims(principal, {
        trustDomain: txn.config.trustDomain,
        route: route.config.path,
        requiredScopes: requirement?.scopes ?? [],
        defaultScope: route.config.txnToken.scope ?? [`route:${route.config.path}`],
        ...(mcpInfo ? { calls: mcpInfo.calls } : {}),
        ...(a2aInfo?.method ? { a2a: a2aInfo.taskId === undefined ? { method: a2aInfo.method } : { method: a2aInfo.method, taskId: a2aInfo.taskId } } : {}),
        ...(c.env?.clientAddress ? { clientAddress: c.env.clientAddress } : {}),
      });
      let lifetimeSeconds = txn.config.lifetimeSeconds;
      // A configured peer gateway's own Txn-Token is verified and replaced; anyone else's was dropped (headers.ts).
      const peerCheck = txnPeerChecks.get(route.config);
      const peer = peerCheck ? await peerCheck(principal, req, (pending) => waitUntil(c, pending)) : undefined;
      if (peer && !peer.ok) return fail(c, requestId, peer.code, peer.detail, route.config, who);
      if (peer?.value) {
        const replaced = replacementClaims(claims, peer.value.token);
        if (!replaced.ok) return fail(c, requestId, replaced.code, replaced.detail, route.config, who);
        claims = replaced.value;
        lifetimeSeconds = peer.value.lifetimeSeconds;
      }
      if (external) {
        // From the external TTS (txn-external.ts), per request; the caller's token is its subject_token, never logged.
        const accessToken = principal.user ? await presentedAccessToken(req.headers, principal.user.tokenHash) : undefined;
        const obtained = await external.token({ claims, principal, accessToken, headers: req.headers, background: (pending) => waitUntil(c, pending) });
        if (!obtained.ok) return fail(c, requestId, obtained.code, obtained.detail, route.config, who);
        upstreamHeaders.set('txn-token', obtained.value);
      } else {
        try {
          upstreamHeaders.set('txn-token', await mintTxnToken(claims, { key: await txn.keys!.signingKey(), lifetimeSeconds, now }));
        } catch (error) {
          return fail(c, requestId, 'ERR_TXN_TOKEN_UNAVAILABLE', error instanceof Error ? error.message : 'signing key unavailable', route.config, who);
        }
      }
    }
    if (route.config.egress && egress) {
      // The caller's access token (verified above, stripped from upstreamHeaders by headers.ts) is the subject token
      // of the exchange; the upstream in the other trust domain gets that domain's token instead. Never logged.
      const user = principal?.user;
      const presented = user ? await presentedAccessToken(req.headers, user.tokenHash) : undefined;
      if (!user || !presented) return fail(c, requestId, 'ERR_ACCESS_TOKEN_REQUIRED', 'an egress route needs the caller\'s access token', route.config, who);
      const foreign = await egress.token(route.config, presented, Date.parse(user.expiresAt));
      if (!foreign.ok) return fail(c, requestId, foreign.code, foreign.detail, route.config, who);
      upstreamHeaders.set('authorization', `Bearer ${foreign.value}`);
    }
    let upstreamBody: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null = req.method === 'GET' || req.method === 'HEAD' ? null : (signedBody ?? req.body);
    if (route.config.upstreamAuth) {
      // The gateway's own identity towards the upstream (the caller's credentials were stripped above).
      const presented = await presentOwnIdentity(route.config.upstreamAuth, { identity: own, method: req.method, target, headers: upstreamHeaders, body: upstreamBody, maxBodyBytes: route.maxBodyBytes });
      if (!presented.ok) return fail(c, requestId, presented.code, presented.detail, route.config, who);
      upstreamBody = presented.body;
    }

    const result = await proxy(route.send, {
      url: target,
      method: req.method,
      headers: upstreamHeaders,
      body: upstreamBody,
      signal: req.signal,
      timeoutMs: route.timeoutMs,
      maxBodyBytes: route.maxBodyBytes,
    });
    if (!result.ok) {
      if (result.code === 'ERR_CLIENT_CLOSED') {
        // Nobody is listening for a response; record the outcome with nginx's 499 convention.
        record(c, { requestId, decision: 'error', reason: result.code, status: 499, detail: result.detail, ...routeTag, ...who });
        return new Response(null, { status: 499 });
      }
      return fail(c, requestId, result.code, result.detail, route.config, who);
    }
    let upstream = result.response;
    let flagged: { detail: string } | Record<string, never> = {};
    if (a2a) {
      // The extended card, rewritten and signed for this caller (a2a-front.ts); any other answer as it came.
      const shown = await a2a.respond(upstream, a2aInfo, principal);
      if (!shown.ok) return fail(c, requestId, shown.code, shown.detail, route.config, who);
      upstream = shown.value.response;
      if (shown.value.detail) flagged = { detail: shown.value.detail };
    }
    const reason = principal ? 'AUTHENTICATED' : 'PUBLIC_ROUTE';
    // A session the upstream opened is bound before the caller can use it (mcp-front.ts); a failed write only means
    // the caller is asked to open a new session.
    if (mcpInfo) await mcpFronts.get(route.config)!.settle(req, mcpInfo, principal, upstream).catch(() => {});
    if (signature && mustSign) {
      const version = route.config.auth?.wit?.httpSignature?.version ?? '07';
      const signed = await signedResponse(upstream, { identity: own, request: { method: req.method, url: req.url, headers: req.headers }, requestNonce: signature.nonce, version, requestId });
      if (!signed.ok) return fail(c, requestId, signed.code, signed.detail, route.config, who);
      record(c, { requestId, decision: 'allow', reason, status: upstream.status, upstreamStatus: upstream.status, ...routeTag, ...who });
      for (const [name, value] of Object.entries(authHeaders ?? {})) signed.response.headers.set(name, value);
      return signed.response;
    }
    record(c, { requestId, decision: 'allow', reason, status: upstream.status, upstreamStatus: upstream.status, ...routeTag, ...who, ...flagged });
    const headers = downstreamResponseHeaders(upstream.headers, requestId);
    // An upstream the gateway authenticated to answers the gateway: its WIT and signature (bound to the gateway's
    // nonce) are not for the caller, who would take them as a failed response signature.
    if (route.config.upstreamAuth) for (const name of ['signature', 'signature-input', 'workload-identity-token']) headers.delete(name);
    if (oauthRoute) {
      // The upstream's own challenges name its authorization server, not the one this route's callers use.
      headers.delete('www-authenticate');
      for (const [name, value] of Object.entries(OAUTH_CORS)) headers.set(name, value);
    }
    for (const [name, value] of Object.entries(authHeaders ?? {})) headers.set(name, value);
    return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
  });

  app.onError((error, c) => {
    return fail(c, c.get('requestId') ?? crypto.randomUUID(), 'ERR_INTERNAL', error.name, match(c.get('path') ?? rawPathname(c.req.url))?.route);
  });

  return {
    config,
    state,
    fetch: (request, connection, executionCtx) => app.fetch(request, connection, executionCtx as never),
  };
}

function resolveRoute(route: RouteConfig, index: number, config: GatewayConfig, options: GatewayOptions): Omit<ResolvedRoute, 'authenticate' | 'readsSignedBodies'> {
  const limits = { ...config.limits, ...route.limits };
  const common = { config: route, maxBodyBytes: limits.maxBodyBytes ?? MAX_BODY_BYTES, timeoutMs: limits.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS };
  if (typeof route.upstream === 'string') {
    const send: UpstreamSend = options.fetch ?? fetchSend((url, init) => fetch(url, init));
    return { ...common, base: new URL(route.upstream), send };
  }
  const binding = options.services?.[route.upstream.service];
  if (!binding) throw new ConfigError([{ path: `routes[${index}].upstream.service`, message: `no service binding named "${route.upstream.service}"` }]);
  return { ...common, base: new URL(route.upstream.url ?? 'http://upstream/'), send: fetchSend((url, init) => binding.fetch(url, init)) };
}

/** The access token of `Authorization: Bearer|DPoP <token>`, only when it is the one authentication verified (its hash). */
async function presentedAccessToken(headers: Headers, tokenHash: string): Promise<string | undefined> {
  const match = /^\s*(?:bearer|dpop) +([\x21-\x7e]+)\s*$/i.exec(headers.get('authorization') ?? '');
  if (!match) return undefined;
  return (await sha256b64url(match[1]!)) === tokenHash ? match[1] : undefined;
}

/** The path of an absolute URL string as serialised (percent-encoding kept, dot segments already resolved). */
function rawPathname(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  let end = url.length;
  for (const stop of ['?', '#']) {
    const i = url.indexOf(stop, start);
    if (i >= 0 && i < end) end = i;
  }
  return url.slice(start, end);
}

/** The query part of a URL string, `?` included, without parsing the whole URL again. */
function searchOf(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return '';
  const hash = url.indexOf('#', q);
  return hash < 0 ? url.slice(q) : url.slice(q, hash);
}

function waitUntil(c: { executionCtx: unknown }, pending: Promise<unknown>): void {
  try {
    (c.executionCtx as { waitUntil(p: Promise<unknown>): void }).waitUntil(pending);
  } catch {
    // No execution context outside Workers: the promise simply runs to completion.
    pending.catch(() => {});
  }
}

/** The gateway's own identity as `config.identity` names it; a source this runtime cannot read is a config error. */
function ownIdentityFromConfig(config: GatewayConfig, options: GatewayOptions, now: () => number): OwnIdentitySource | undefined {
  const id = config.identity;
  if (!id) return undefined;
  if (id.file !== undefined) {
    const readFile = options.readFile;
    if (!readFile) throw new ConfigError([{ path: 'identity.file', message: 'this runtime cannot read files (Workers): use identity.env with a secret' }]);
    return ownIdentity(() => readFile(id.file!), { workloadId: id.workloadId, now });
  }
  const readEnv = options.readEnv;
  if (!readEnv) throw new ConfigError([{ path: 'identity.env', message: 'this runtime passes no environment to the gateway' }]);
  return ownIdentity(async () => readEnv(id.env!), { workloadId: id.workloadId, now });
}
