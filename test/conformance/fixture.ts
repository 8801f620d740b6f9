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
 *   GET  /__fixture/introspection/<token>/requests    200 [{authorization, contentType, body}] of the introspection
 *                                                     requests for <token>, oldest first
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
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

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

/** One introspection request as the fixture authorization server received it. */
export interface IntrospectionRecord {
  authorization: string | null;
  contentType: string | null;
  accept: string | null;
  body: string;
}

export interface FixtureOptions {
  /** The authorization server's public signing key (JWK with kid and alg); without it no AS is served. */
  asJwk?: JsonWebKey & { kid: string };
}

export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const records = new Map<string, FixtureRecord>();
  const keySets = new Map<string, { document: string; fetches: number }>();
  const introspection = { answers: new Map<string, string>(), requests: new Map<string, IntrospectionRecord[]>() };
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

    if (url.pathname.startsWith(KEY_SETS)) {
      serveKeySet(req, res, url.pathname.slice(KEY_SETS.length).split('/'), keySets);
      return;
    }

    if (options.asJwk && (url.pathname.startsWith(INTROSPECTION) || url.pathname === '/.well-known/oauth-authorization-server/as' || url.pathname.startsWith('/as/'))) {
      serveAuthorizationServer(req, res, url, origin, options.asJwk, introspection);
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

    void respond(req, res, url, record, bodyDone);
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

async function respond(req: IncomingMessage, res: ServerResponse, url: URL, record: FixtureRecord, bodyDone: Promise<void>): Promise<void> {
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
      sse(res, record, 2, 50, JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result: {} }));
    } else {
      json(404, MCP_METHOD_NOT_FOUND_BODY(message.id ?? null));
    }
    return;
  }

  if (url.pathname === '/a2a-up') {
    let message: { id?: unknown; method?: string } = {};
    try { message = JSON.parse(record.body) as typeof message; } catch { /* answered below */ }
    json(200, JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result: { echoed: message.method ?? null } }));
    return;
  }

  const statusParam = url.searchParams.get('status');
  json(statusParam ? Number(statusParam) : 200, JSON.stringify({ method: req.method, path: url.pathname, search: url.search, bodyBytes: Buffer.byteLength(record.body) }), {
    'x-upstream': 'fixture',
    'x-upstream-multi': 'one',
  });
}

/** The fixture authorization server (issuer `${origin}/as`) and its test control endpoints. */
function serveAuthorizationServer(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  origin: string,
  jwk: JsonWebKey,
  state: { answers: Map<string, string>; requests: Map<string, IntrospectionRecord[]> },
): void {
  const answer = (status: number, body?: string) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => { body += chunk; });
  req.on('end', () => {
    const issuer = `${origin}/as`;
    if (url.pathname === '/.well-known/oauth-authorization-server/as' && req.method === 'GET') {
      return answer(200, JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, introspection_endpoint: `${issuer}/introspect` }));
    }
    if (url.pathname === '/as/jwks' && req.method === 'GET') return answer(200, JSON.stringify({ keys: [jwk] }));
    if (url.pathname === '/as/introspect' && req.method === 'POST') {
      const token = new URLSearchParams(body).get('token') ?? '';
      const list = state.requests.get(token) ?? [];
      list.push({ authorization: req.headers.authorization ?? null, contentType: req.headers['content-type'] ?? null, accept: req.headers.accept ?? null, body });
      state.requests.set(token, list);
      return answer(200, state.answers.get(token) ?? '{"active":false}');
    }
    if (url.pathname.startsWith(INTROSPECTION)) {
      const [token = '', tail] = url.pathname.slice(INTROSPECTION.length).split('/').map(decodeURIComponent);
      if (req.method === 'PUT' && tail === undefined) {
        state.answers.set(token, body);
        return answer(204);
      }
      if (req.method === 'GET' && tail === 'requests') return answer(200, JSON.stringify(state.requests.get(token) ?? []));
    }
    answer(404, '{}');
  });
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

/** Writes `n` SSE events `gap` ms apart (forever when n is 0), then ends; stops when the stream closes. */
function sse(res: ServerResponse, record: FixtureRecord, n: number, gap: number, last?: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const write = () => {
    if (res.destroyed) return;
    i++;
    const data = last && i === n ? last : `event-${i}`;
    res.write(`id: ${i}\ndata: ${data}\n\n`);
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
