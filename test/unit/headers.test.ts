import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, headerBytes, upstreamRequestHeaders } from '../../src/gateway/headers.ts';

const ctx = { requestId: 'rid-1', publicUrl: new URL('https://gw.example:8443'), prefix: '/mcp', clientAddress: '10.0.0.7' };

describe('upstreamRequestHeaders', () => {
  const inbound = new Headers({
    connection: 'keep-alive, x-private-hop',
    'x-private-hop': '1',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    upgrade: 'websocket',
    'proxy-authorization': 'Basic c2VjcmV0',
    authorization: 'Bearer secret-token',
    cookie: 'session=abc',
    dpop: 'proof',
    'workload-identity-token': 'wit',
    'workload-proof-token': 'wpt',
    signature: 'sig=:AA==:',
    'signature-input': 'sig=()',
    'txn-token': 'txn',
    'client-cert': ':MIIB:',
    'client-cert-chain': ':MIIC:',
    forwarded: 'for=6.6.6.6',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'http',
    'x-forwarded-prefix': '/evil',
    'x-real-ip': '6.6.6.6',
    'cf-connecting-ip': '6.6.6.6',
    'true-client-ip': '6.6.6.6',
    'x-client-ip': '6.6.6.6',
    'cf-ipcountry': 'XX',
    'cf-ray': 'forged',
    host: 'gw.example',
    'accept-encoding': 'gzip, br',
    'mcp-protocol-version': '2025-11-25',
    'mcp-session-id': 'abc',
    'content-type': 'application/json',
  });
  const out = upstreamRequestHeaders(inbound, ctx);

  it('removes hop-by-hop fields, including those named by Connection', () => {
    for (const name of ['connection', 'x-private-hop', 'keep-alive', 'te', 'upgrade', 'proxy-authorization']) expect(out.has(name), name).toBe(false);
  });

  it('never forwards inbound credentials', () => {
    for (const name of ['authorization', 'cookie', 'dpop', 'workload-identity-token', 'workload-proof-token', 'signature', 'signature-input', 'txn-token', 'client-cert', 'client-cert-chain']) expect(out.has(name), name).toBe(false);
  });

  it('sets forwarding fields from trusted values only', () => {
    expect(out.get('x-forwarded-host')).toBe('gw.example:8443');
    expect(out.get('x-forwarded-proto')).toBe('https');
    expect(out.get('x-forwarded-prefix')).toBe('/mcp');
    expect(out.get('x-forwarded-for')).toBe('10.0.0.7');
    expect(out.has('forwarded')).toBe(false);
    for (const name of ['x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-client-ip', 'cf-ipcountry', 'cf-ray']) expect(out.has(name), name).toBe(false);
    expect(out.has('host')).toBe(false);
  });

  it('carries the request id and protocol headers, and asks for an identity encoding', () => {
    expect(out.get('x-request-id')).toBe('rid-1');
    expect(out.get('mcp-protocol-version')).toBe('2025-11-25');
    expect(out.get('mcp-session-id')).toBe('abc');
    expect(out.get('accept-encoding')).toBe('identity');
  });

  it('omits X-Forwarded-Prefix for a root mount and X-Forwarded-For when the runtime gives no address', () => {
    const root = upstreamRequestHeaders(new Headers({ 'x-forwarded-for': '1.1.1.1' }), { requestId: 'r', publicUrl: ctx.publicUrl, prefix: '/' });
    expect(root.has('x-forwarded-prefix')).toBe(false);
    expect(root.has('x-forwarded-for')).toBe(false);
  });
});

describe('downstreamResponseHeaders', () => {
  it('drops hop-by-hop fields, stamps the request id and disables buffering of SSE', () => {
    const out = downstreamResponseHeaders(new Headers({ 'content-type': 'text/event-stream', connection: 'close', 'transfer-encoding': 'chunked', 'mcp-session-id': 's' }), 'rid');
    expect(out.has('connection')).toBe(false);
    expect(out.has('transfer-encoding')).toBe(false);
    expect(out.get('x-request-id')).toBe('rid');
    expect(out.get('x-accel-buffering')).toBe('no');
    expect(out.get('mcp-session-id')).toBe('s');
  });

  it('passes Content-Encoding through: the body is whatever the upstream port delivered', () => {
    const out = downstreamResponseHeaders(new Headers({ 'content-encoding': 'gzip', 'content-length': '10', 'content-type': 'application/json' }), 'rid');
    expect(out.get('content-encoding')).toBe('gzip');
    expect(out.get('content-length')).toBe('10');
    expect(out.has('x-accel-buffering')).toBe(false);
  });
});

describe('headerBytes', () => {
  it('counts fields and bytes as on HTTP/1.1', () => {
    expect(headerBytes(new Headers({ a: 'bc', de: 'f' }))).toEqual({ bytes: 1 + 2 + 4 + 2 + 1 + 4, count: 2 });
  });
});
