/** Conformance: what a proxied request and its response look like on both sides of the gateway. */
import { describe, expect, it } from 'vitest';
import { json, record, recorded, requestId, send } from './client.ts';
import { target } from './context.ts';

describe(`proxying (${target().runtime})`, () => {
  it('maps the path below the mount onto the upstream base path and keeps the query', async () => {
    const id = requestId('map');
    const res = await send('/svc/a/b?x=1&y=two', { headers: { 'x-request-id': id } });
    expect(res.status).toBe(200);
    expect(json(res.body)).toEqual({ method: 'GET', path: '/base/a/b', search: '?x=1&y=two', bodyBytes: 0 });
    expect((await recorded(id)).url).toBe('/base/a/b?x=1&y=two');
  });

  it('maps the mount itself onto the upstream base path', async () => {
    const id = requestId('mount');
    const res = await send('/svc', { headers: { 'x-request-id': id } });
    expect(res.status).toBe(200);
    expect((await recorded(id)).url).toBe('/base');
  });

  it('matches mounts at segment boundaries only (/svcx is not /svc)', async () => {
    const id = requestId('svcx');
    const res = await send('/svcx/a', { headers: { 'x-request-id': id } });
    expect(res.status).toBe(404);
    expect(json(res.body).code).toBe('ERR_ROUTE_NOT_FOUND');
    expect(await record(id)).toBeNull();
  });

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('forwards the %s method', async (method) => {
    const id = requestId(`method-${method}`);
    const body = method === 'GET' ? undefined : '{"hello":"world"}';
    const res = await send('/svc/m', { method, headers: { 'x-request-id': id, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body } : {}) });
    expect(res.status).toBe(200);
    const seen = await recorded(id);
    expect(seen.method).toBe(method);
    if (body) {
      expect(seen.body).toBe(body);
      expect(seen.headers['content-type']).toBe('application/json');
    }
  });

  it('passes a request body through byte for byte', async () => {
    const id = requestId('body');
    const body = `${'ü€ binary-ish \u0000 text '.repeat(200)}end`;
    const res = await send('/svc/upload', { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'text/plain; charset=utf-8' }, body });
    expect(res.status).toBe(200);
    expect(json(res.body).bodyBytes).toBe(Buffer.byteLength(body));
    const seen = await recorded(id);
    expect(seen.body).toBe(body);
    expect(seen.bodyComplete).toBe(true);
  });

  it("returns the upstream's status, headers and body", async () => {
    const res = await send('/svc/created?status=201');
    expect(res.status).toBe(201);
    expect(res.headers['x-upstream']).toBe('fixture');
    expect(res.headers['x-upstream-multi']).toBe('one');
    expect(res.headers['content-type']).toBe('application/json');
    expect(json(res.body)).toMatchObject({ path: '/base/created' });
  });

  it('returns upstream redirects to the caller instead of following them', async () => {
    const id = requestId('redirect');
    const res = await send('/svc/go?fx=redirect', { headers: { 'x-request-id': id } });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/base/landed');
    // Following would have sent a second request carrying the same request id to /base/landed.
    expect((await recorded(id)).url).toBe('/base/go?fx=redirect');
  });

  it('proxies the a2a route', async () => {
    const id = requestId('a2a');
    const res = await send('/a2a', { method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":3,"method":"SendMessage","params":{}}' });
    expect(res.status).toBe(200);
    expect(json(res.body)).toEqual({ jsonrpc: '2.0', id: 3, result: { echoed: 'SendMessage' } });
    expect((await recorded(id)).url).toBe('/a2a-up');
  });

  it('answers /healthz itself with 200 {"status":"ok"}', async () => {
    const res = await send('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(json(res.body)).toEqual({ status: 'ok' });
  });

  it('delivers a compressed upstream body that decodes to what the upstream sent', async () => {
    // Content-Encoding must describe the bytes the caller gets: kept with the gzip bytes (Node port), or
    // dropped together with the encoding when the runtime's fetch has decoded the body.
    const res = await fetch(`${target().gatewayUrl}/svc/z?fx=gzip`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ compressed: true, text: 'x'.repeat(200) });
  });

  it('keeps repeated Set-Cookie fields apart', async () => {
    const res = await send('/svc/z?fx=gzip');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  });
});
