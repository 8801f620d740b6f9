import { describe, expect, it } from 'vitest';
import { ConfigError, createGateway, memorySink, type GatewayConfigInput } from '../../src/index.ts';

const base: GatewayConfigInput = {
  publicUrl: 'https://gw.example',
  limits: { maxBodyBytes: 16, upstreamTimeoutMs: 50, maxHeaderCount: 20 },
  routes: [
    { path: '/mcp', protocol: 'mcp', upstream: 'http://up.internal/mcp', public: true, limits: { maxBodyBytes: 256 } },
    { path: '/api', protocol: 'http', upstream: 'http://up.internal/', public: true },
    { path: '/svc', protocol: 'a2a', upstream: { service: 'AGENT' }, public: true },
  ],
};

/** An upstream that records what it received and answers with a function of the request. */
/**
 * An upstream that records what it received and answers with a function of the request. `signal` is the
 * one the gateway passed: a Request's own signal follows it only through a weak reference in Node, which
 * a garbage collection can cut.
 */
function upstream(answer: (req: Request, signal: AbortSignal) => Response | Promise<Response> = () => new Response('ok')) {
  const seen: Request[] = [];
  const fetch = async (url: URL | string, init?: RequestInit) => {
    const req = new Request(url, init);
    seen.push(req);
    return answer(req, init!.signal!);
  };
  return { seen, fetch };
}

function gateway(up = upstream(), services = {}) {
  const audit = memorySink();
  const gw = createGateway(base, { fetch: up.fetch, services: { AGENT: up, ...services }, audit });
  return { gw, audit, up };
}

describe('gateway pipeline (in-process)', () => {
  it('proxies to the upstream URL below the mount and records an allow event', async () => {
    const { gw, audit, up } = gateway();
    const res = await gw.fetch(new Request('http://127.0.0.1/mcp/x?y=1', { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers: { authorization: 'Bearer s3cr3t' } }), { clientAddress: '10.1.1.1' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(up.seen[0]?.url).toBe('http://up.internal/mcp/x?y=1');
    expect(up.seen[0]?.headers.has('authorization')).toBe(false);
    expect(up.seen[0]?.headers.get('x-forwarded-for')).toBe('10.1.1.1');
    expect(audit.events).toEqual([expect.objectContaining({ decision: 'allow', reason: 'PUBLIC_ROUTE', status: 200, upstreamStatus: 200, route: '/mcp', protocol: 'mcp', path: '/mcp/x', client: '10.1.1.1' })]);
    expect(JSON.stringify(audit.events)).not.toContain('s3cr3t');
  });

  it('sends service-binding routes to the bound service', async () => {
    const agent = upstream(() => new Response('from agent'));
    const { gw } = gateway(upstream(), { AGENT: agent });
    const res = await gw.fetch(new Request('http://127.0.0.1/svc/card'));
    expect(await res.text()).toBe('from agent');
    expect(agent.seen[0]?.url).toBe('http://upstream/card');
  });

  it('refuses to build when a route names a service binding that is not provided', () => {
    expect(() => createGateway(base, { services: {} })).toThrow(ConfigError);
    expect(() => createGateway(base, { services: {} })).toThrow('routes[2].upstream.service: no service binding named "AGENT"');
  });

  it('keeps a well-formed X-Request-ID and replaces a malformed one', async () => {
    const { gw, up } = gateway();
    const kept = await gw.fetch(new Request('http://127.0.0.1/api', { headers: { 'x-request-id': 'abc-123' } }));
    expect(kept.headers.get('x-request-id')).toBe('abc-123');
    expect(up.seen[0]?.headers.get('x-request-id')).toBe('abc-123');
    const replaced = await gw.fetch(new Request('http://127.0.0.1/api', { headers: { 'x-request-id': 'bad id\u0007' } }));
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(up.seen[1]?.headers.get('x-request-id')).toBe(replaced.headers.get('x-request-id'));
  });

  it('routes on the path as sent: encoded traversal never reaches another upstream path', async () => {
    const { gw, up, audit } = gateway();
    for (const path of ['/api/..%5Cmcp', '/mcp/..%2F..%2Fadmin', '/mcp/%2e%0a%2e/admin']) {
      const res = await gw.fetch(new Request(`http://127.0.0.1${path}`));
      expect(res.status, path).toBe(400);
    }
    const mcp = await gw.fetch(new Request('http://127.0.0.1/mcp/..%5Cx', { method: 'POST', body: '{}' }));
    expect(await mcp.json()).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'ERR_PATH_INVALID', status: 400 } } });
    expect(up.seen).toHaveLength(0);
    expect(audit.events.every((e) => e.reason === 'ERR_PATH_INVALID' && e.decision === 'deny')).toBe(true);
    // Dot segments are resolved by the URL parser before routing, so they select the route they lead to.
    const resolved = await gw.fetch(new Request('http://127.0.0.1/mcp/../api/x'));
    expect(resolved.status).toBe(200);
    expect(up.seen[0]?.url).toBe('http://up.internal/x');
  });

  it('answers 404 problem+json for paths no route serves', async () => {
    const { gw, audit } = gateway();
    const res = await gw.fetch(new Request('http://127.0.0.1/nope'));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 404, code: 'ERR_ROUTE_NOT_FOUND', requestId: res.headers.get('x-request-id') });
    expect(audit.events[0]).toMatchObject({ decision: 'deny', reason: 'ERR_ROUTE_NOT_FOUND' });
  });

  it('answers 431 when there are too many header fields, as JSON-RPC on MCP routes', async () => {
    const { gw, up } = gateway();
    const headers = new Headers();
    for (let i = 0; i < 25; i++) headers.set(`x-h${i}`, 'v');
    const res = await gw.fetch(new Request('http://127.0.0.1/mcp', { headers }));
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, data: { code: 'ERR_HEADERS_TOO_LARGE', status: 431 } } });
    expect(up.seen).toHaveLength(0);
  });

  it('answers 413 for a declared length over the limit without contacting the upstream', async () => {
    const { gw, up } = gateway();
    const res = await gw.fetch(new Request('http://127.0.0.1/api', { method: 'POST', body: 'x'.repeat(17), headers: { 'content-length': '17' } }));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
    expect(up.seen).toHaveLength(0);
  });

  it('answers 413 when a body without Content-Length streams past the limit', async () => {
    const up = upstream(async (req) => new Response(await req.text()));
    const { gw } = gateway(up);
    const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('x'.repeat(10))); c.enqueue(new TextEncoder().encode('y'.repeat(10))); c.close(); } });
    const res = await gw.fetch(new Request('http://127.0.0.1/api', { method: 'POST', body, duplex: 'half' } as RequestInit));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
  });

  it('answers 413 even when the upstream answers a body that was cut short at the limit', async () => {
    // workerd ends an upstream request normally when its body stream errors; the upstream then sees a
    // truncated body as complete. The gateway must not relay that answer.
    let upstreamSignal: AbortSignal | undefined;
    const up = upstream(async (req, signal) => {
      upstreamSignal = signal;
      await req.text().catch(() => '');
      return new Response('accepted a truncated body');
    });
    const { gw } = gateway(up);
    const body = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); c.enqueue(new Uint8Array(10)); c.close(); } });
    const res = await gw.fetch(new Request('http://127.0.0.1/api', { method: 'POST', body, duplex: 'half' } as RequestInit));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
    expect(upstreamSignal?.aborted).toBe(true);
  });

  it('answers 504 when the upstream sends no headers in time, and aborts the upstream request', async () => {
    let aborted = false;
    const up = upstream((_req, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => { aborted = true; reject(signal.reason); })));
    const { gw, audit } = gateway(up);
    const res = await gw.fetch(new Request('http://127.0.0.1/mcp'));
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { data: { code: 'ERR_UPSTREAM_TIMEOUT' } } });
    expect(aborted).toBe(true);
    expect(audit.events[0]).toMatchObject({ decision: 'error', reason: 'ERR_UPSTREAM_TIMEOUT', status: 504 });
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const { gw } = gateway(upstream(() => { throw new TypeError('fetch failed'); }));
    const res = await gw.fetch(new Request('http://127.0.0.1/api'));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'ERR_UPSTREAM_UNREACHABLE' });
  });

  it('answers 502 ERR_UPSTREAM_INVALID for a status that cannot be relayed, and cancels its body', async () => {
    let cancelled = false;
    const body = new ReadableStream({ cancel() { cancelled = true; } });
    const audit = memorySink();
    const gw = createGateway(base, { fetch: async () => ({ status: 999, statusText: '', headers: new Headers(), body }), services: { AGENT: upstream() }, audit });
    const res = await gw.fetch(new Request('http://127.0.0.1/api'));
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'ERR_UPSTREAM_INVALID' });
    expect(cancelled).toBe(true);
    expect(audit.events).toEqual([expect.objectContaining({ decision: 'error', reason: 'ERR_UPSTREAM_INVALID', status: 502 })]);
  });

  it('propagates a caller abort to the upstream request', async () => {
    let upstreamSignal: AbortSignal | undefined;
    const up = upstream((_req, signal) => { upstreamSignal = signal; return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))); });
    const { gw, audit } = gateway(up);
    const caller = new AbortController();
    const pending = gw.fetch(new Request('http://127.0.0.1/api', { signal: caller.signal }));
    await new Promise((r) => setTimeout(r, 5));
    caller.abort();
    const res = await pending;
    expect(upstreamSignal?.aborted).toBe(true);
    expect(res.status).toBe(499);
    expect(audit.events[0]).toMatchObject({ reason: 'ERR_CLIENT_CLOSED' });
  });

  it('passes upstream redirects and error statuses through unchanged', async () => {
    const { gw } = gateway(upstream(() => new Response('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"nope"}}', { status: 404, headers: { 'content-type': 'application/json' } })));
    const res = await gw.fetch(new Request('http://127.0.0.1/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"nope"}' }));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: -32601 } });
    const { gw: gw2 } = gateway(upstream(() => new Response(null, { status: 302, headers: { location: 'http://elsewhere/' } })));
    const redirect = await gw2.fetch(new Request('http://127.0.0.1/api'));
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('http://elsewhere/');
  });

  it('serves /healthz without touching upstreams', async () => {
    const { gw, up } = gateway();
    const res = await gw.fetch(new Request('http://127.0.0.1/healthz'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(up.seen).toHaveLength(0);
  });
});
