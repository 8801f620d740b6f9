/**
 * HTTP client helpers for the conformance tests. `send` uses node:http directly because fetch refuses to
 * set several fields the suite must send (Connection, Keep-Alive, TE, Trailer, Upgrade, Host...), and
 * because it gives exact control over Content-Length and chunked bodies.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { expect } from 'vitest';
import type { FixtureRecord } from './fixture.ts';
import { target } from './context.ts';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body decoded as UTF-8. */
  body: string;
  /** `send` only: the body bytes exactly as received (after de-chunking; no content coding undone). */
  bytes?: Uint8Array<ArrayBuffer>;
}

export interface SendOptions {
  method?: string;
  /** Sent as given (names and values); node:http adds only Host and, for bodies, framing fields. */
  headers?: Record<string, string | string[]>;
  /** A string body (Content-Length unless a Transfer-Encoding header is given) or chunks written in turn. */
  body?: string | string[];
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

/** Sends one request to the gateway over a fresh connection and reads the whole response. */
export function send(path: string, options: SendOptions = {}): Promise<RawResponse> {
  const url = new URL(path, target().gatewayUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...options.headers };
    const body = options.body;
    if (typeof body === 'string' && !options.chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = httpRequest(url, { method: options.method ?? 'GET', headers, agent: false, setHost: !hasHeader(headers, 'host') }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all.toString('utf8'), bytes: new Uint8Array(all) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no response for ${path} within 15 s`)));
    if (options.chunked) req.setHeader('transfer-encoding', 'chunked');
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * Writes `head` (request line and fields, without the final blank line) verbatim on a fresh socket with
 * `Connection: close` semantics expected, and parses the status line and fields of the answer. For the
 * fields node:http refuses to send (e.g. `Trailer` on a body that is not chunked).
 */
export function sendRaw(requestLine: string, fields: Array<[string, string]>): Promise<RawResponse> {
  const url = new URL(target().gatewayUrl);
  const head = [requestLine, `Host: ${url.host}`, ...fields.map(([n, v]) => `${n}: ${v}`)].join('\r\n') + '\r\n\r\n';
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('no complete response within 15 s')));
    socket.on('connect', () => socket.write(head));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no response head: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${String(headers[name])}, ${value}`;
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
  });
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}

/** A request id unique to this test run, well-formed for the gateway. */
let counter = 0;
export function requestId(label: string): string {
  return `conf-${target().runtime}-${label}-${process.pid}-${++counter}-${Date.now().toString(36)}`;
}

/** What the fixture recorded for a request id, or null when nothing with that id reached it. */
export async function record(id: string): Promise<FixtureRecord | null> {
  const response = await fetch(`${target().fixtureUrl}/__fixture/records/${encodeURIComponent(id)}`);
  return (await response.json()) as FixtureRecord | null;
}

/** The record for `id`, which must exist. */
export async function recorded(id: string): Promise<FixtureRecord> {
  const found = await record(id);
  expect(found, `fixture record for ${id}`).not.toBeNull();
  return found!;
}

/** Polls until `check` returns a value or the timeout passes; returns the last value (possibly undefined). */
export async function waitFor<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5_000, everyMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((done) => setTimeout(done, everyMs));
  }
}

export function json(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`not JSON: ${body.slice(0, 200)}`);
  }
}

/** Asserts a gateway error in RFC 9457 problem+json shape. */
export function expectProblem(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = json(response.body);
  expect(problem).toMatchObject({ status, code });
  expect(problem.requestId).toBe(response.headers['x-request-id']);
}

/** Asserts a gateway error in the JSON-RPC shape used on MCP routes. */
export function expectJsonRpcError(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = json(response.body);
  expect(body.jsonrpc).toBe('2.0');
  expect(body.error.code).toBe(-32000);
  expect(body.error.data.code).toBe(code);
  expect(body.error.data.status).toBe(status);
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate field (challenges joined by ", ") into schemes and auth-params (quotes removed). */
export function challenges(response: RawResponse): Challenge[] {
  const value = response.headers['www-authenticate'];
  expect(value, 'WWW-Authenticate').toBeTypeOf('string');
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of value as string) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      items.push(current.trim());
      current = '';
    } else current += ch;
  }
  items.push(current.trim());
  const out: Challenge[] = [];
  for (const item of items) {
    const scheme = /^([A-Za-z][A-Za-z0-9._~+-]*)(?:\s+(.*))?$/.exec(item);
    let param = item;
    if (scheme && !item.slice(0, scheme[1]!.length + 1).includes('=')) {
      out.push({ scheme: scheme[1]!, params: {} });
      param = scheme[2] ?? '';
    }
    if (param === '') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|(\S*))$/.exec(param);
    expect(m, `auth-param ${param}`).not.toBeNull();
    expect(out.length, `auth-param before any scheme in ${String(value)}`).toBeGreaterThan(0);
    out.at(-1)!.params[m![1]!.toLowerCase()] = m![2] ?? m![3]!;
  }
  return out;
}

/** After the caller aborted the stream of request `id`: the fixture saw its response closed, and writes no more events. */
export async function expectUpstreamStreamStopped(id: string): Promise<void> {
  const aborted = await waitFor(async () => (await record(id))?.aborted, 10_000);
  expect(aborted, 'the fixture saw its response stream closed').toBe(true);
  const count = (await recorded(id)).sseWrittenAt.length;
  await new Promise((done) => setTimeout(done, 300));
  expect((await recorded(id)).sseWrittenAt.length).toBe(count);
}
