/**
 * The streaming proxy: one upstream exchange, bodies passed through as streams in both directions.
 * - The wait for response headers is bounded (504); a response that has started streams for as long as
 *   the upstream keeps it open (SSE, MCP `subscriptions/listen`).
 * - A caller that goes away aborts the upstream request (MCP 2026-07-28: closing the stream cancels).
 * - Redirects are passed back to the caller, never followed by the gateway.
 * Header policy lives in headers.ts; this module only moves bytes and classifies failures.
 */
import { limitBody } from './body-limit.ts';
import type { ErrorCode } from './errors.ts';

/** What the proxy hands to an upstream port: the arguments of `fetch(url, init)`. */
export interface UpstreamInit {
  method: string;
  headers: Headers;
  /** Streamed; or bytes already read whole (a signed request whose digest was checked). */
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  signal: AbortSignal;
  redirect: 'manual';
  /** Required by the Fetch standard for stream bodies; ignored by workerd. */
  duplex?: 'half';
}

/**
 * Sends a request to an upstream: the runtime's fetch, a Workers service binding's, or the Node port.
 * Takes fetch's arguments rather than a Request: building a Request per call costs tens of microseconds
 * on Node, and every port's underlying API accepts (url, init).
 */
export type UpstreamSend = (url: URL, init: UpstreamInit) => Promise<UpstreamResponse>;

/**
 * What an upstream port answers: the parts of a Response the proxy reads. A fetch Response fits; the Node
 * port returns a plain object, because on Node every extra Response object the body passes through costs
 * a full undici Response (the gateway builds the one it returns itself).
 */
export interface UpstreamResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

export interface ProxyRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Applied while streaming when the body had no Content-Length (declared lengths are checked earlier). */
  maxBodyBytes: number;
}

export type ProxyResult = { ok: true; response: UpstreamResponse } | { ok: false; code: ErrorCode | 'ERR_CLIENT_CLOSED'; detail: string };

/**
 * An upstream port over a fetch-like function (the runtime's fetch, a Workers service binding). The fetch
 * of workerd, Node and Bun decodes a compressed body but keeps `Content-Encoding` and `Content-Length`,
 * which would then describe bytes the caller never gets; they are dropped here, where the decoding happens.
 * Deno's fetch leaves the body encoded when the request named its own Accept-Encoding (the gateway always
 * does): its entry passes `{ decodesBodies: false }` and the fields stay.
 */
export function fetchSend(fetchLike: (url: URL, init: RequestInit) => Promise<Response>, { decodesBodies = true } = {}): UpstreamSend {
  return async (url, init) => {
    const response = await fetchLike(url, init as RequestInit);
    if (!decodesBodies || !response.headers.has('content-encoding')) return response;
    const headers = new Headers(response.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    return { status: response.status, statusText: response.statusText, headers, body: response.body };
  };
}

export async function proxy(send: UpstreamSend, req: ProxyRequest): Promise<ProxyResult> {
  // One controller for both reasons to stop: cheaper than AbortSignal.any, which costs ~20 us per call on Node.
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; abort.abort(new Error('upstream timeout')); }, req.timeoutMs);
  const onCallerGone = () => abort.abort(req.signal.reason);
  if (req.signal.aborted) onCallerGone();
  else req.signal.addEventListener('abort', onCallerGone, { once: true });
  // Runtimes report a failed body stream as a generic fetch error, so the limit is remembered here. The
  // exchange is also aborted: workerd ends the upstream request cleanly when its body stream errors, so
  // without the abort the upstream would take a truncated body for a complete one.
  let exceeded = false;
  const body = req.body instanceof ReadableStream && !req.headers.has('content-length')
    ? limitBody(req.body, req.maxBodyBytes, () => { exceeded = true; abort.abort(new RangeError('request body over the limit')); })
    : req.body;
  try {
    const init: UpstreamInit = { method: req.method, headers: req.headers, body, signal: abort.signal, redirect: 'manual' };
    if (body instanceof ReadableStream) init.duplex = 'half';
    const response = await send(req.url, init);
    if (!Number.isInteger(response.status) || response.status < 200 || response.status > 599) {
      // 1xx and out-of-range codes cannot be relayed as a final response (a Response would refuse them).
      response.body?.cancel().catch(() => {});
      return { ok: false, code: 'ERR_UPSTREAM_INVALID', detail: `upstream status ${response.status}` };
    }
    if (exceeded) {
      // The upstream answered although the body was cut short: its answer is for a truncated request.
      response.body?.cancel().catch(() => {});
      return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: `streamed body exceeded ${req.maxBodyBytes} bytes` };
    }
    return { ok: true, response };
  } catch (error) {
    if (req.signal.aborted) return { ok: false, code: 'ERR_CLIENT_CLOSED', detail: 'caller closed the connection' };
    if (timedOut) return { ok: false, code: 'ERR_UPSTREAM_TIMEOUT', detail: `no response headers within ${req.timeoutMs} ms` };
    if (exceeded) return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: `streamed body exceeded ${req.maxBodyBytes} bytes` };
    return { ok: false, code: 'ERR_UPSTREAM_UNREACHABLE', detail: describe(error) };
  } finally {
    // Once headers are in, only the caller can stop the stream; the timer no longer applies.
    clearTimeout(timer);
  }
}

/** A short, non-secret description of a network failure (no URLs with possible credentials, no bodies). */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return [(error as Error)?.name, cause?.code].filter(Boolean).join(': ') || 'fetch failed';
}
