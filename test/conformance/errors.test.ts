/** Conformance: gateway-generated errors (status, stable code, shape per protocol) and upstream errors. */
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, MAX_HEADER_COUNT, MCP_BODY_BYTES, SMALL_BODY_BYTES } from './config.ts';
import { expectJsonRpcError, expectProblem, json, record, recorded, requestId, send, waitFor } from './client.ts';
import { target } from './context.ts';
import { MCP_METHOD_NOT_ALLOWED_BODY, MCP_METHOD_NOT_FOUND_BODY } from './fixture.ts';
import type { Runtime } from './runtimes.ts';

/** `count` extra header fields of a few bytes each. */
function manyHeaders(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-filler-${i}`, 'v']));
}

const MCP_JSON = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe(`gateway errors on an http route (${target().runtime})`, () => {
  it('answers 504 ERR_UPSTREAM_TIMEOUT when the upstream is slower than the route timeout, and cancels it', async () => {
    const id = requestId('timeout');
    const started = Date.now();
    const res = await send('/slow/x?fx=sleep&ms=5000', { headers: { 'x-request-id': id } });
    expectProblem(res, 504, 'ERR_UPSTREAM_TIMEOUT');
    // The route waits 300 ms; the margin is for a loaded 2-core machine (wrangler bundling in parallel).
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(await waitFor(async () => (await record(id))?.aborted, 5_000), 'the upstream request was cancelled').toBe(true);
  });

  it('answers 502 ERR_UPSTREAM_UNREACHABLE when nothing listens upstream', async () => {
    expectProblem(await send('/down/x'), 502, 'ERR_UPSTREAM_UNREACHABLE');
  });

  it('answers 404 problem+json ERR_ROUTE_NOT_FOUND for an unknown path', async () => {
    const res = await send('/no/such/route');
    expectProblem(res, 404, 'ERR_ROUTE_NOT_FOUND');
    expect(json(res.body)).toMatchObject({ type: 'about:blank', title: expect.any(String) });
  });

  it('answers 413 ERR_BODY_TOO_LARGE for a declared Content-Length over the limit, sending nothing upstream', async () => {
    const id = requestId('413-declared');
    const res = await send('/small/up', { method: 'POST', headers: { 'x-request-id': id }, body: 'x'.repeat(SMALL_BODY_BYTES + 1) });
    expectProblem(res, 413, 'ERR_BODY_TOO_LARGE');
    expect(await record(id)).toBeNull();
  });

  it('passes a declared body exactly at the limit', async () => {
    const res = await send('/small/up', { method: 'POST', body: 'x'.repeat(SMALL_BODY_BYTES) });
    expect(res.status).toBe(200);
    expect(json(res.body).bodyBytes).toBe(SMALL_BODY_BYTES);
  });

  it('answers 413 ERR_BODY_TOO_LARGE for a chunked body that grows over the limit', async () => {
    const chunk = 'y'.repeat(400);
    const res = await send('/small/up', { method: 'POST', chunked: true, body: [chunk, chunk, chunk, chunk] });
    expectProblem(res, 413, 'ERR_BODY_TOO_LARGE');
  });

  it('passes a chunked body under the limit', async () => {
    const id = requestId('chunked-ok');
    const res = await send('/small/up', { method: 'POST', chunked: true, headers: { 'x-request-id': id }, body: ['a'.repeat(500), 'b'.repeat(500)] });
    expect(res.status).toBe(200);
    expect((await recorded(id)).body).toBe('a'.repeat(500) + 'b'.repeat(500));
  });

  it(`answers 431 ERR_HEADERS_TOO_LARGE for more than ${MAX_HEADER_COUNT} header fields`, async () => {
    const id = requestId('431-count');
    const res = await send('/svc/h', { headers: { 'x-request-id': id, ...manyHeaders(MAX_HEADER_COUNT + 5) } });
    expectProblem(res, 431, 'ERR_HEADERS_TOO_LARGE');
    expect(await record(id)).toBeNull();
  });

  it(`answers 431 ERR_HEADERS_TOO_LARGE for more than ${MAX_HEADER_BYTES} header bytes`, async () => {
    const id = requestId('431-bytes');
    const res = await send('/svc/h', { headers: { 'x-request-id': id, 'x-big': 'b'.repeat(MAX_HEADER_BYTES + 100) } });
    expectProblem(res, 431, 'ERR_HEADERS_TOO_LARGE');
    expect(await record(id)).toBeNull();
  });

  it('refuses headers beyond what the runtime itself parses, and forwards nothing', async () => {
    // 64 KiB is past the runtimes' own parser limits except workerd's, so the runtime answers first:
    // - node: its parser answers 431 (no body) and closes the socket while the client may still be
    //   writing, so the client can see a reset instead of the answer;
    // - bun: its parser answers 431 (no body);
    // - deno: its HTTP server (hyper) answers 400 with no body (runtime difference);
    // - workerd: the request reaches the gateway, which answers 431 ERR_HEADERS_TOO_LARGE.
    const expected: Record<Runtime, unknown[]> = {
      node: [431, 'ECONNRESET', 'EPIPE'],
      bun: [431],
      deno: [400],
      workerd: [431],
    };
    const id = requestId('431-huge');
    const outcome = await send('/svc/h', { headers: { 'x-request-id': id, 'x-huge': 'h'.repeat(64 * 1024) } }).then(
      (res) => res.status,
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    expect(outcome).toBeOneOf(expected[target().runtime]);
    expect(await record(id)).toBeNull();
  });
});

describe(`gateway errors on the mcp route are JSON-RPC (${target().runtime})`, () => {
  it('504 ERR_UPSTREAM_TIMEOUT', async () => {
    const res = await send('/mcp-slow?fx=sleep&ms=5000', { method: 'POST', headers: MCP_JSON, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expectJsonRpcError(res, 504, 'ERR_UPSTREAM_TIMEOUT');
  });

  it('502 ERR_UPSTREAM_UNREACHABLE', async () => {
    const res = await send('/mcp-down', { method: 'POST', headers: MCP_JSON, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expectJsonRpcError(res, 502, 'ERR_UPSTREAM_UNREACHABLE');
  });

  it('413 ERR_BODY_TOO_LARGE for a declared length', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { pad: 'p'.repeat(MCP_BODY_BYTES) } } });
    expectJsonRpcError(await send('/mcp', { method: 'POST', headers: MCP_JSON, body }), 413, 'ERR_BODY_TOO_LARGE');
  });

  it('413 ERR_BODY_TOO_LARGE for a chunked body', async () => {
    const chunk = 'p'.repeat(1500);
    expectJsonRpcError(await send('/mcp', { method: 'POST', headers: MCP_JSON, chunked: true, body: ['{"pad":"', chunk, chunk, chunk, chunk, '"}'] }), 413, 'ERR_BODY_TOO_LARGE');
  });

  it('431 ERR_HEADERS_TOO_LARGE', async () => {
    const res = await send('/mcp', { method: 'POST', headers: { ...MCP_JSON, ...manyHeaders(MAX_HEADER_COUNT + 5) }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expectJsonRpcError(res, 431, 'ERR_HEADERS_TOO_LARGE');
  });

  it('the a2a route keeps problem+json for the same error', async () => {
    const res = await send('/a2a', { method: 'POST', headers: { 'content-type': 'application/json', ...manyHeaders(MAX_HEADER_COUNT + 5) }, body: '{}' });
    expectProblem(res, 431, 'ERR_HEADERS_TOO_LARGE');
  });
});

describe(`upstream answers on the mcp route pass through unchanged (${target().runtime})`, () => {
  it("the upstream's 404 with a JSON-RPC body", async () => {
    const res = await send('/mcp', { method: 'POST', headers: MCP_JSON, body: '{"jsonrpc":"2.0","id":5,"method":"no/such/method"}' });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe(MCP_METHOD_NOT_FOUND_BODY(5));
  });

  it.each(['GET', 'DELETE'])("the upstream's 405 with a JSON-RPC body (%s)", async (method) => {
    const res = await send('/mcp', { method, headers: { accept: 'text/event-stream', 'mcp-session-id': 'fixture-session' } });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.body).toBe(MCP_METHOD_NOT_ALLOWED_BODY);
  });

  it('a path below the MCP mount is proxied, never answered by the gateway', async () => {
    const id = requestId('mcp-sub');
    const res = await send('/mcp/sub/path?q=1', { method: 'POST', headers: { ...MCP_JSON, 'x-request-id': id }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(res.status).toBe(200);
    expect((await recorded(id)).url).toBe('/mcp-up/sub/path?q=1');
  });

  it('a result, with Mcp-Session-Id, and the MCP request fields reach the upstream', async () => {
    const id = requestId('mcp-ok');
    const mcpHeaders = {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/list',
      'mcp-session-id': 'fixture-session',
      'mcp-param-region': 'eu',
      'last-event-id': '42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const res = await send('/mcp', { method: 'POST', headers: { ...MCP_JSON, 'x-request-id': id, ...mcpHeaders }, body: '{"jsonrpc":"2.0","id":9,"method":"tools/list"}' });
    expect(res.status).toBe(200);
    expect(res.headers['mcp-session-id']).toBe('fixture-session');
    expect(json(res.body)).toEqual({ jsonrpc: '2.0', id: 9, result: { tools: [] } });
    const seen = await recorded(id);
    expect(seen.headers).toMatchObject({ ...mcpHeaders, accept: MCP_JSON.accept, 'content-type': 'application/json' });
  });
});
