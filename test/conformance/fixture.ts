/**
 * The fixture upstream for the conformance suite: a plain node:http server that sits behind the gateway,
 * answers in whatever way a test asks for (query parameter `fx`), and records what reached it, keyed by
 * the `X-Request-ID` the gateway sent. Tests read the records over HTTP from `/__fixture/records/<id>`
 * (they run in vitest workers, the fixture runs in the main process).
 *
 * Key sets for `keySource.url` trust domains (test/conformance/key-sources.test.ts), which the tests change at
 * run time over HTTP:
 *   PUT /__fixture/key-sets/<name>            publish the request body (a JWK Set or SPIFFE bundle) as <name>; 204
 *   GET /__fixture/key-sets/<name>            200 with the published document (404 before the first PUT); counted
 *   GET /__fixture/key-sets/<name>/fetches    200 {"fetches": N}: how many GETs of <name> the fixture has answered
 *
 * An OAuth authorization server (test/conformance/oauth.test.ts), issuer `<fixture url>/as`, when startFixture is given
 * its public signing key:
 *   GET  /.well-known/oauth-authorization-server/as   RFC 8414 metadata (issuer, jwks_uri, introspection_endpoint)
 *   GET  /as/jwks                                     the JWK Set of that one key
 *   POST /as/introspect                               RFC 7662: the answer a test stored for the form's `token`,
 *                                                     else {"active": false}; the request is recorded per token
 *   PUT  /__fixture/introspection/<token>             store the request body (JSON) as the answer for <token>; 204
 *                                                     (`?signature=bad`: /as2 signs its JWT answer with a stray key)
 *   GET  /__fixture/introspection/<token>/requests    200 [{path, authorization, contentType, accept, body}] of the
 *                                                     introspection requests for <token>, oldest first
 * With `as2Key` (a private JWK), more authorization servers for test/conformance/oauth.test.ts, each with its
 * metadata at /.well-known/oauth-authorization-server/<name>:
 *   /as2        its own key (JWK Set at /as2/jwks); /as2/introspect answers RFC 9701: the stored answer as
 *               `token_introspection` of an application/token-introspection+jwt signed with that key (typ
 *               token-introspection+jwt, iss the issuer, aud the form's client_id, iat)
 *   /as-down    /as-down/introspect answers 500 (its requests are recorded like /as's)
 *   /as-wrong   its metadata names the issuer of /as (RFC 8414 §3.3 forbids using it)
 *
 * Upstream behaviours (any path, unless noted):
 *   (none)                          200 JSON echo of method, path and body size, after the whole body arrived
 *   fx=sse&n=N&gap=MS               text/event-stream with N events MS apart (n=0: forever, until closed)
 *   fx=sleep&ms=MS                  200 after MS (nothing if the request goes away first)
 *   fx=status&code=N                status N with a JSON-RPC error body
 *   fx=redirect                     302 to /base/landed
 *   fx=hop                          200 with hop-by-hop response fields that must not reach the caller
 *   path /mcp-up: GET -> 405 + JSON-RPC error; POST method "tools/list" -> result, opening the legacy session
 *                 `session` (query; default "fixture-session"); "stream/test" -> SSE;
 *                 any other method -> 404 + JSON-RPC -32601
 *
 * An A2A agent (test/conformance/a2a.test.ts) at /a2a-up and any path below it. Its base is the request path up to
 * `/.well-known/`, `/jsonrpc`, `/jsonrpc-v03` or `/rest/` (so routes with upstream /a2a-up/<x> get cards of their own):
 *   GET  <base>/.well-known/agent-card.json   a 1.0 card (a2aFixtureCard): interfaces JSONRPC 1.0 <base>/jsonrpc,
 *                                             JSONRPC 0.3 <base>/jsonrpc-v03, HTTP+JSON 1.0 <base>/rest, GRPC
 *                                             <base>/grpc and JSONRPC 1.0 on another host (A2A_FOREIGN_URL); an
 *                                             upstream API-key scheme; skill "echo"; with a strong ETag, and 304 on
 *                                             If-None-Match naming it. Counted per base:
 *   GET  /__fixture/a2a-cards/<base>          200 {"fetches": N, "notModified": M, "ifNoneMatch": [...]}: the card
 *                                             GETs of <base> (URL-encoded) answered, how many with 304, and each
 *                                             If-None-Match received (null when absent)
 *   POST, a JSON-RPC body (an object with a `jsonrpc` member; any body on /a2a-up itself):
 *        "GetExtendedAgentCard" / 0.3 "agent/getAuthenticatedExtendedCard" -> result: the extended card (skills
 *        A2A_FIXTURE_SKILLS); "SendStreamingMessage" / 0.3 "message/stream" -> SSE of N JSON-RPC results (query `n`,
 *        default 3, 0: forever; `gap` ms, default 100), recorded in sseWrittenAt like fx=sse; any other method ->
 *        200 result {"echoed": <method>} (the recording echo)
 *   GET  <base>/rest/extendedAgentCard       the extended card as a bare JSON object (the HTTP+JSON binding)
 *   anything else (REST calls such as POST <base>/rest/message:send): the default JSON echo
 * A base ending in `/gzip` sends every card and JSON-RPC answer gzip-compressed (content-encoding gzip) whatever the
 * request's Accept-Encoding, as some upstreams do: node:http and Deno's fetch hand such bytes through undecoded.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { importJWK, SignJWT } from 'jose';

export interface FixtureRecord {
  id: string;
  method: string;
  /** Path and query as received. */
  url: string;
  /** Field names lower-cased; repeated fields joined by ", " (node:http's view). */
  headers: Record<string, string>;
  /** Field names exactly as they came over the wire. */
  rawHeaderNames: string[];
  body: string;
  /** The request body ended normally. */
  bodyComplete: boolean;
  /** The request or its response stream went away before the response was finished. */
  aborted: boolean;
  receivedAt: number;
  /** Wall-clock times at which each SSE event was written. */
  sseWrittenAt: number[];
}

export interface Fixture {
  url: string;
  port: number;
  records: Map<string, FixtureRecord>;
  close(): Promise<void>;
}

export const MCP_METHOD_NOT_FOUND_BODY = (id: unknown) => JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
export const MCP_METHOD_NOT_ALLOWED_BODY = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Method not allowed.' } });

const KEY_SETS = '/__fixture/key-sets/';
const INTROSPECTION = '/__fixture/introspection/';
const A2A_CARDS = '/__fixture/a2a-cards/';

/** The A2A agent's path, and where its card is served below each base. */
export const A2A_UP = '/a2a-up';
export const A2A_CARD_PATH = '/.well-known/agent-card.json';
/** An interface of the fixture agent on another host: not the gateway's to front. */
export const A2A_FOREIGN_URL = 'https://agents.elsewhere.conformance.test/a2a/jsonrpc';
/** Skills of the public card (the first) and of the extended card (all three). */
export const A2A_FIXTURE_SKILLS = ['echo', 'reports', 'admin'] as const;

/** How often the card of one base was fetched (A2A_CARDS). */
interface CardFetches {
  fetches: number;
  notModified: number;
  ifNoneMatch: Array<string | null>;
}

/** One introspection request as the fixture authorization server received it. */
export interface IntrospectionRecord {
  /** The introspection endpoint's path (`/as/introspect`, `/as2/introspect`, ...). */
  path: string;
  authorization: string | null;
  contentType: string | null;
  accept: string | null;
  body: string;
}

export interface FixtureOptions {
  /** The authorization server's public signing key (JWK with kid and alg); without it no AS is served. */
  asJwk?: JsonWebKey & { kid: string };
  /** The private signing key (JWK with kid) of the /as2 authorization server; without it /as2, /as-down and /as-wrong are not served. */
  as2Key?: JsonWebKey & { kid: string };
}

/** The authorization servers the fixture can serve, by issuer path segment. */
const AS_NAMES = /^\/(?:\.well-known\/oauth-authorization-server\/)?(as|as2|as-down|as-wrong)(?:\/|$)/;

interface IntrospectionState {
  answers: Map<string, { body: string; badSignature: boolean }>;
  requests: Map<string, IntrospectionRecord[]>;
}

export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const records = new Map<string, FixtureRecord>();
  const keySets = new Map<string, { document: string; fetches: number }>();
  const introspection: IntrospectionState = { answers: new Map(), requests: new Map() };
  const cardFetches = new Map<string, CardFetches>();
  let anonymous = 0;
  let origin = '';

  const server: Server = createServer((req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://fixture.invalid');

    if (url.pathname.startsWith('/__fixture/records/')) {
      const record = records.get(decodeURIComponent(url.pathname.slice('/__fixture/records/'.length)));
      res.writeHead(record ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(record ?? null));
      return;
    }

    if (url.pathname.startsWith(A2A_CARDS)) {
      const counts = cardFetches.get(decodeURIComponent(url.pathname.slice(A2A_CARDS.length))) ?? { fetches: 0, notModified: 0, ifNoneMatch: [] };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(counts));
      return;
    }

    if (url.pathname.startsWith(KEY_SETS)) {
      serveKeySet(req, res, url.pathname.slice(KEY_SETS.length).split('/'), keySets);
      return;
    }

    const asName = AS_NAMES.exec(url.pathname)?.[1];
    if (options.asJwk && (url.pathname.startsWith(INTROSPECTION) || asName === 'as' || (options.as2Key && asName !== undefined))) {
      serveAuthorizationServer(req, res, url, origin, options, introspection);
      return;
    }

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const id = headers['x-request-id'] ?? `anonymous-${++anonymous}`;
    const record: FixtureRecord = {
      id,
      method: req.method ?? '',
      url: req.url ?? '',
      headers,
      rawHeaderNames: req.rawHeaders.filter((_, i) => i % 2 === 0),
      body: '',
      bodyComplete: false,
      aborted: false,
      receivedAt: Date.now(),
      sseWrittenAt: [],
    };
    records.set(id, record);

    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { record.body += chunk; });
    const bodyDone = new Promise<void>((resolve) => {
      req.on('end', () => { record.bodyComplete = true; resolve(); });
    });
    req.on('close', () => { if (!record.bodyComplete) record.aborted = true; });
    res.on('close', () => { if (!res.writableFinished) record.aborted = true; });

    void respond(req, res, url, record, bodyDone, { origin, cardFetches });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function respond(req: IncomingMessage, res: ServerResponse, url: URL, record: FixtureRecord, bodyDone: Promise<void>, a2a: { origin: string; cardFetches: Map<string, CardFetches> }): Promise<void> {
  const fx = url.searchParams.get('fx');
  const json = (status: number, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(body);
  };

  if (fx === 'sse') {
    const n = Number(url.searchParams.get('n') ?? '5');
    const gap = Number(url.searchParams.get('gap') ?? '200');
    sse(res, record, n, gap);
    return;
  }
  if (fx === 'sleep') {
    const timer = setTimeout(() => json(200, '{"slept":true}'), Number(url.searchParams.get('ms') ?? '1000'));
    res.on('close', () => clearTimeout(timer));
    return;
  }

  await bodyDone;
  if (res.destroyed) return;

  if (fx === 'status') {
    json(Number(url.searchParams.get('code')), JSON.stringify({ jsonrpc: '2.0', id: 7, error: { code: -32001, message: 'fixture status' } }));
    return;
  }
  if (fx === 'redirect') {
    res.writeHead(302, { location: '/base/landed', 'content-length': '0' });
    res.end();
    return;
  }
  if (fx === 'gzip') {
    // Compressed whatever the request asked for, with repeated Set-Cookie fields.
    const zipped = gzipSync(JSON.stringify({ compressed: true, text: 'x'.repeat(200) }));
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': zipped.byteLength, 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] });
    res.end(zipped);
    return;
  }
  if (fx === 'hop') {
    res.writeHead(200, {
      'content-type': 'text/plain',
      connection: 'x-hop-named',
      'x-hop-named': 'must-not-pass',
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'Basic realm="upstream"',
      trailer: 'x-checksum',
      upgrade: 'h2c',
      'x-end-to-end': 'passes',
    });
    res.end('hop');
    return;
  }

  if (url.pathname === '/mcp-up') {
    if (req.method !== 'POST') {
      json(405, MCP_METHOD_NOT_ALLOWED_BODY, { allow: 'POST' });
      return;
    }
    let message: { id?: unknown; method?: string } = {};
    try { message = JSON.parse(record.body) as typeof message; } catch { /* an empty or broken body is answered as unknown */ }
    if (message.method === 'tools/list') {
      json(200, JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result: { tools: [] } }), { 'mcp-session-id': url.searchParams.get('session') ?? 'fixture-session' });
    } else if (message.method === 'stream/test') {
      const last = JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result: {} });
      sse(res, record, 2, 50, (i) => (i === 2 ? last : `event-${i}`));
    } else {
      json(404, MCP_METHOD_NOT_FOUND_BODY(message.id ?? null));
    }
    return;
  }

  if (url.pathname === A2A_UP || url.pathname.startsWith(`${A2A_UP}/`)) {
    if (respondA2a(req, res, url, record, a2a.origin, a2a.cardFetches, json)) return;
  }

  const statusParam = url.searchParams.get('status');
  json(statusParam ? Number(statusParam) : 200, JSON.stringify({ method: req.method, path: url.pathname, search: url.search, bodyBytes: Buffer.byteLength(record.body) }), {
    'x-upstream': 'fixture',
    'x-upstream-multi': 'one',
  });
}

/** The base of an A2A request path: up to its card path or interface path (A2A_UP otherwise). */
function a2aBase(pathname: string): string {
  const at = ['/.well-known/', '/jsonrpc-v03', '/jsonrpc', '/rest/'].map((tail) => pathname.indexOf(tail)).filter((i) => i >= 0);
  return at.length > 0 ? pathname.slice(0, Math.min(...at)) : A2A_UP;
}

/** The fixture agent's 1.0 card with interfaces under `base` (an absolute URL), and the extended card's skills when `extended`. */
export function a2aFixtureCard(base: string, extended: boolean): Record<string, unknown> {
  const skill = (id: string) => ({ id, name: `Skill ${id}`, description: `The fixture's ${id} skill.`, tags: [id] });
  return {
    name: 'Conformance fixture agent',
    description: 'The A2A upstream of the conformance suite.',
    supportedInterfaces: [
      { url: `${base}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: `${base}/jsonrpc-v03`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      { url: `${base}/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
      { url: `${base}/grpc`, protocolBinding: 'GRPC', protocolVersion: '1.0' },
      { url: A2A_FOREIGN_URL, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
    ],
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: true, extendedAgentCard: true },
    // How to reach the upstream itself: the gateway replaces it with what the route enforces.
    securitySchemes: { upstreamKey: { apiKeySecurityScheme: { location: 'header', name: 'X-Upstream-Key' } } },
    securityRequirements: [{ schemes: { upstreamKey: { list: [] } } }],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: (extended ? A2A_FIXTURE_SKILLS : A2A_FIXTURE_SKILLS.slice(0, 1)).map(skill),
  };
}

/** The A2A agent (header comment); false when the request gets the default echo. */
function respondA2a(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  record: FixtureRecord,
  origin: string,
  cardFetches: Map<string, CardFetches>,
  plainJson: (status: number, body: string, extra?: Record<string, string>) => void,
): boolean {
  const base = a2aBase(url.pathname);
  const json = base.endsWith('/gzip')
    ? (status: number, body: string, extra: Record<string, string> = {}) => {
        const bytes = gzipSync(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': bytes.length, ...extra });
        res.end(bytes);
      }
    : plainJson;
  if (req.method === 'GET' && url.pathname === `${base}${A2A_CARD_PATH}`) {
    const body = JSON.stringify(a2aFixtureCard(`${origin}${base}`, false));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    const counts = cardFetches.get(base) ?? { fetches: 0, notModified: 0, ifNoneMatch: [] };
    cardFetches.set(base, counts);
    counts.fetches++;
    const asked = req.headers['if-none-match'] ?? null;
    counts.ifNoneMatch.push(asked);
    if (asked !== null && asked.split(',').some((tag) => tag.trim() === etag)) {
      counts.notModified++;
      res.writeHead(304, { etag });
      res.end();
      return true;
    }
    json(200, body, { etag, 'cache-control': 'max-age=60' });
    return true;
  }
  if (req.method === 'GET' && url.pathname === `${base}/rest/extendedAgentCard`) {
    json(200, JSON.stringify(a2aFixtureCard(`${origin}${base}`, true)));
    return true;
  }
  if (req.method !== 'POST') return false;
  let message: unknown;
  try { message = JSON.parse(record.body); } catch { /* not JSON */ }
  const rpc = typeof message === 'object' && message !== null && !Array.isArray(message) && 'jsonrpc' in message ? (message as { id?: unknown; method?: unknown }) : undefined;
  if (!rpc && url.pathname !== A2A_UP) return false;
  const id = rpc?.id ?? null;
  const method = rpc?.method ?? null;
  if (method === 'GetExtendedAgentCard' || method === 'agent/getAuthenticatedExtendedCard') {
    json(200, JSON.stringify({ jsonrpc: '2.0', id, result: a2aFixtureCard(`${origin}${base}`, true) }));
  } else if (method === 'SendStreamingMessage' || method === 'message/stream') {
    const n = Number(url.searchParams.get('n') ?? '3');
    const gap = Number(url.searchParams.get('gap') ?? '100');
    sse(res, record, n, gap, (i) => JSON.stringify({ jsonrpc: '2.0', id, result: { statusUpdate: { taskId: 'fixture-task', seq: i } } }));
  } else {
    json(200, JSON.stringify({ jsonrpc: '2.0', id, result: { echoed: method } }));
  }
  return true;
}

/** The fixture authorization servers (issuers `${origin}/as`, and with `as2Key` /as2, /as-down, /as-wrong) and their test control endpoints. */
function serveAuthorizationServer(req: IncomingMessage, res: ServerResponse, url: URL, origin: string, options: FixtureOptions, state: IntrospectionState): void {
  const answer = (status: number, body?: string, type = 'application/json') => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => { body += chunk; });
  req.on('end', () => {
    void (async () => {
      const metadata = /^\/\.well-known\/oauth-authorization-server\/([a-z0-9-]+)$/.exec(url.pathname)?.[1];
      if (metadata !== undefined && req.method === 'GET') {
        const issuer = `${origin}/${metadata}`;
        // /as-wrong publishes the metadata of /as: a different issuer than the URL was built from.
        const named = metadata === 'as-wrong' ? `${origin}/as` : issuer;
        return answer(200, JSON.stringify({ issuer: named, jwks_uri: `${named}/jwks`, introspection_endpoint: `${named}/introspect` }));
      }
      const jwks = /^\/(as|as2)\/jwks$/.exec(url.pathname)?.[1];
      if (jwks !== undefined && req.method === 'GET') {
        const key = jwks === 'as' ? options.asJwk! : publicJwk(options.as2Key!);
        return answer(200, JSON.stringify({ keys: [key] }));
      }
      const endpoint = /^\/(as|as2|as-down)\/introspect$/.exec(url.pathname)?.[1];
      if (endpoint !== undefined && req.method === 'POST') {
        const form = new URLSearchParams(body);
        const token = form.get('token') ?? '';
        const list = state.requests.get(token) ?? [];
        list.push({ path: url.pathname, authorization: req.headers.authorization ?? null, contentType: req.headers['content-type'] ?? null, accept: req.headers.accept ?? null, body });
        state.requests.set(token, list);
        if (endpoint === 'as-down') return answer(500, '{"error":"server_error"}');
        const stored = state.answers.get(token);
        if (endpoint === 'as') return answer(200, stored?.body ?? '{"active":false}');
        const jwt = await introspectionJwt(`${origin}/as2`, form.get('client_id') ?? '', stored?.body ?? '{"active":false}', options.as2Key!, stored?.badSignature === true);
        return answer(200, jwt, 'application/token-introspection+jwt');
      }
      if (url.pathname.startsWith(INTROSPECTION)) {
        const [token = '', tail] = url.pathname.slice(INTROSPECTION.length).split('/').map(decodeURIComponent);
        if (req.method === 'PUT' && tail === undefined) {
          state.answers.set(token, { body, badSignature: url.searchParams.get('signature') === 'bad' });
          return answer(204);
        }
        if (req.method === 'GET' && tail === 'requests') return answer(200, JSON.stringify(state.requests.get(token) ?? []));
      }
      answer(404, '{}');
    })().catch(() => answer(500, '{"error":"fixture"}'));
  });
}

/** The public half of a private EC JWK, with its kid, alg and use. */
function publicJwk(jwk: JsonWebKey & { kid: string }): JsonWebKey & { kid: string } {
  const { kty, crv, x, y, kid } = jwk;
  return { kty, crv, x, y, kid, alg: 'ES256', use: 'sig' } as JsonWebKey & { kid: string };
}

/** An RFC 9701 §5 answer: `answer` (JSON text) as token_introspection, signed with `key`, or under its kid with a fresh stray key. */
async function introspectionJwt(issuer: string, clientId: string, answer: string, key: JsonWebKey & { kid: string }, stray: boolean): Promise<string> {
  const signing = stray
    ? ((await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])) as CryptoKeyPair).privateKey
    : ((await importJWK({ ...key, alg: 'ES256' } as never, 'ES256')) as CryptoKey);
  return new SignJWT({ iss: issuer, aud: clientId, iat: Math.floor(Date.now() / 1000), token_introspection: JSON.parse(answer) as Record<string, unknown> })
    .setProtectedHeader({ alg: 'ES256', typ: 'token-introspection+jwt', kid: key.kid })
    .sign(signing);
}

/** The key-set control endpoint: publish (PUT), serve (GET) and count fetches of the documents named in `keySets`. */
function serveKeySet(req: IncomingMessage, res: ServerResponse, [name = '', tail]: string[], keySets: Map<string, { document: string; fetches: number }>): void {
  const answer = (status: number, body?: string, type = 'application/json') => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const entry = keySets.get(name);
  if (req.method === 'PUT' && tail === undefined) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      keySets.set(name, { document: body, fetches: entry?.fetches ?? 0 });
      answer(204);
    });
    return;
  }
  if (req.method !== 'GET') return answer(405, '{}');
  if (tail === 'fetches') return answer(200, JSON.stringify({ fetches: entry?.fetches ?? 0 }));
  if (tail !== undefined || !entry) return answer(404, '{}');
  entry.fetches++;
  answer(200, entry.document, 'application/jwk-set+json');
}

/** Writes `n` SSE events `gap` ms apart (forever when n is 0), then ends; stops when the stream closes. `data(i)`: event i's data (1-based). */
function sse(res: ServerResponse, record: FixtureRecord, n: number, gap: number, data: (i: number) => string = (i) => `event-${i}`): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const write = () => {
    if (res.destroyed) return;
    i++;
    res.write(`id: ${i}\ndata: ${data(i)}\n\n`);
    record.sseWrittenAt.push(Date.now());
    if (n !== 0 && i >= n) res.end();
  };
  write();
  const timer = setInterval(() => {
    if (res.destroyed || res.writableEnded) { clearInterval(timer); return; }
    write();
  }, gap);
  res.on('close', () => clearInterval(timer));
}
