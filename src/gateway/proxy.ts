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

/** Sends a request to an upstream: the runtime's fetch, or a Workers service binding's. */
export type UpstreamSend = (request: Request) => Promise<Response>;

export interface ProxyRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** Aborts when the caller goes away. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Applied while streaming when the body had no Content-Length (declared lengths are checked earlier). */
  maxBodyBytes: number;
}

export type ProxyResult = { ok: true; response: Response } | { ok: false; code: ErrorCode | 'ERR_CLIENT_CLOSED'; detail: string };

export async function proxy(send: UpstreamSend, req: ProxyRequest): Promise<ProxyResult> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('upstream timeout')), req.timeoutMs);
  // Runtimes report a failed body stream as a generic fetch error, so the limit is remembered here.
  let exceeded = false;
  const body = req.body && !req.headers.has('content-length')
    ? limitBody(req.body, req.maxBodyBytes, () => { exceeded = true; })
    : req.body;
  try {
    const upstreamRequest = new Request(req.url, {
      method: req.method,
      headers: req.headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.any([req.signal, timeout.signal]),
      // Streams as request bodies need half duplex (Fetch standard); workerd ignores the member.
      ...(body ? { duplex: 'half' } : {}),
    } as RequestInit);
    const response = await send(upstreamRequest);
    return { ok: true, response };
  } catch (error) {
    if (req.signal.aborted) return { ok: false, code: 'ERR_CLIENT_CLOSED', detail: 'caller closed the connection' };
    if (timeout.signal.aborted) return { ok: false, code: 'ERR_UPSTREAM_TIMEOUT', detail: `no response headers within ${req.timeoutMs} ms` };
    if (exceeded) return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: `streamed body exceeded ${req.maxBodyBytes} bytes` };
    return { ok: false, code: 'ERR_UPSTREAM_UNREACHABLE', detail: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** A short, non-secret description of a network failure (no URLs with possible credentials, no bodies). */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return [(error as Error)?.name, cause?.code].filter(Boolean).join(': ') || 'fetch failed';
}
