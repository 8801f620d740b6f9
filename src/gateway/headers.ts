/**
 * Header hygiene at the trust boundary, in both directions.
 * - Hop-by-hop fields (RFC 9110 §7.6.1) and the fields `Connection` names are never forwarded.
 * - Inbound credentials are never forwarded upstream: the gateway consumes them and, in later stages,
 *   mints its own (MCP authorization spec: token passthrough is forbidden).
 * - Forwarding fields (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`) are set from trusted config and the
 *   runtime's view of the connection, never copied from the caller.
 */

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Credentials a caller may present; none of them crosses the gateway. */
const INBOUND_CREDENTIALS = ['authorization', 'cookie', 'dpop', 'workload-identity-token', 'workload-proof-token', 'signature', 'signature-input', 'txn-token', 'client-cert', 'client-cert-chain'];

/**
 * Caller-supplied forwarding and client-address fields; replaced by the gateway's own. On Workers the edge
 * sets `CF-Connecting-IP`, which the entry reads as the client address; upstreams get it as X-Forwarded-For.
 */
const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip'];

function dropHopByHop(headers: Headers): void {
  const named = headers.get('connection');
  if (named) for (const name of named.split(',')) headers.delete(name.trim());
  for (const name of HOP_BY_HOP) headers.delete(name);
}

export interface ForwardContext {
  requestId: string;
  /** The gateway's configured public origin. */
  publicUrl: URL;
  /** Mount path of the route, sent as `X-Forwarded-Prefix` so upstreams can build public URLs. */
  prefix: string;
  clientAddress?: string;
}

export function upstreamRequestHeaders(inbound: Headers, ctx: ForwardContext): Headers {
  const headers = new Headers(inbound);
  dropHopByHop(headers);
  for (const name of INBOUND_CREDENTIALS) headers.delete(name);
  for (const name of FORWARDING) headers.delete(name);
  // Cloudflare's `CF-*` request fields describe the caller's edge connection; a caller elsewhere can forge
  // them, and on Cloudflare they describe the hop into the gateway, not facts the upstream should rely on.
  const cf: string[] = [];
  headers.forEach((_, name) => { if (name.startsWith('cf-')) cf.push(name); });
  for (const name of cf) headers.delete(name);
  headers.delete('host'); // derived from the upstream URL by fetch
  // Ask for identity: a compressed body would be decoded by fetch-based ports (see fetchSend) and
  // re-compressed by nobody, so compression between gateway and upstream buys nothing.
  headers.set('accept-encoding', 'identity');
  headers.set('x-request-id', ctx.requestId);
  headers.set('x-forwarded-host', ctx.publicUrl.host);
  headers.set('x-forwarded-proto', ctx.publicUrl.protocol.slice(0, -1));
  if (ctx.prefix !== '/') headers.set('x-forwarded-prefix', ctx.prefix);
  if (ctx.clientAddress) headers.set('x-forwarded-for', ctx.clientAddress);
  return headers;
}

export function downstreamResponseHeaders(upstream: Headers, requestId: string): Headers {
  const headers = new Headers(upstream);
  dropHopByHop(headers);
  headers.set('x-request-id', requestId);
  if (headers.get('content-type')?.startsWith('text/event-stream')) {
    // Keep intermediaries (nginx and friends) from buffering the stream (MCP transports, SSE).
    headers.set('x-accel-buffering', 'no');
  }
  return headers;
}

/** Bytes of header names and values plus ": " and CRLF per field, as they would appear on HTTP/1.1. */
export function headerBytes(headers: Headers): { bytes: number; count: number } {
  let bytes = 0;
  let count = 0;
  headers.forEach((value, name) => {
    bytes += name.length + value.length + 4;
    count++;
  });
  return { bytes, count };
}
