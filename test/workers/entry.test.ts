/** The Workers entry (src/runtime/workers.ts) inside workerd: health, service-binding proxying, bad config. */
import { env, exports } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import worker, { checkEnv, type WorkersEnv } from '../../src/runtime/workers.ts';
import { WORKERS_TEST_CONFIG } from './fixtures.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Calls the entry directly with an env of the test's choosing. */
async function call(request: Request, callEnv: WorkersEnv): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, callEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('Workers entry', () => {
  it('answers GET /healthz', async () => {
    const response = await exports.default.fetch('https://gateway.example/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('proxies a route to its service binding with forwarding headers and the request id', async () => {
    const response = await exports.default.fetch('https://gateway.example/svc/a/b?x=1', {
      method: 'POST',
      body: '{"jsonrpc":"2.0"}',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'req-123',
        'cf-connecting-ip': '203.0.113.9',
        'x-forwarded-for': '10.6.6.6',
        authorization: 'Bearer not-for-upstream',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req-123');
    const seen = (await response.json()) as { method: string; path: string; search: string; body: string; headers: Record<string, string> };
    expect(seen).toMatchObject({ method: 'POST', path: '/base/a/b', search: '?x=1', body: '{"jsonrpc":"2.0"}' });
    expect(seen.headers).toMatchObject({
      'x-request-id': 'req-123',
      'x-forwarded-host': 'gateway.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-prefix': '/svc',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('issues a request id when the caller sends none', async () => {
    const response = await exports.default.fetch('https://gateway.example/svc/');
    const seen = (await response.json()) as { headers: Record<string, string> };
    expect(seen.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-request-id')).toBe(seen.headers['x-request-id']);
  });

  it('accepts the config as a JSON object var', async () => {
    const response = await call(new Request('https://gateway.example/svc/obj'), { ...env, PORTCULLIS_CONFIG: WORKERS_TEST_CONFIG });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { path: string }).path).toBe('/base/obj');
  });

  it('falls back to per-isolate memory state, with a warning, when PORTCULLIS_STATE is not bound', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { PORTCULLIS_STATE: _omitted, ...rest } = env;
    const config = JSON.stringify({ ...WORKERS_TEST_CONFIG, limits: { maxHeaderCount: 99 } }); // a new text: a new gateway
    const response = await call(new Request('https://gateway.example/healthz'), { ...rest, PORTCULLIS_CONFIG: config });
    expect(response.status).toBe(200);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('PORTCULLIS_STATE is not bound'));
  });
});

describe('invalid PORTCULLIS_CONFIG', () => {
  const bad = JSON.stringify({
    publicUrl: 'ftp://gateway.example/path',
    bogus: true,
    routes: [
      { path: '/a/', protocol: 'mcp', upstream: { service: 'NOPE' } },
      { path: '/b', protocol: 'http', upstream: { service: 'UPSTREAM' }, public: true },
    ],
  });

  it('lists every problem by path: schema and missing bindings together', () => {
    const checked = checkEnv({ ...env, PORTCULLIS_CONFIG: bad });
    expect(checked.ok).toBe(false);
    const paths = checked.ok ? [] : checked.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['publicUrl', 'bogus', 'routes[0].path', 'routes[0].auth', 'routes[0].upstream.service']));
    expect(paths).not.toContain('routes[1].upstream.service'); // UPSTREAM is bound
  });

  it('refuses a WIT route without the shared replay store (PORTCULLIS_STATE)', () => {
    const { PORTCULLIS_STATE: _omitted, ...rest } = env;
    const withWit = JSON.stringify({
      publicUrl: 'https://gateway.example',
      trustDomains: { 'spiffe://td.example': { jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] } } },
      routes: [{ path: '/w', protocol: 'mcp', upstream: 'https://up.example/', auth: { wit: { trustDomains: ['spiffe://td.example'] } } }],
    });
    const checked = checkEnv({ ...rest, PORTCULLIS_CONFIG: withWit });
    expect(checked.ok ? [] : checked.problems).toEqual([{ path: 'routes[0].auth.wit', message: expect.stringContaining('PORTCULLIS_STATE') }]);
    expect(checkEnv({ ...env, PORTCULLIS_CONFIG: withWit }).ok).toBe(true);
  });

  it('reports a missing variable and text that is not JSON', () => {
    const { PORTCULLIS_CONFIG: _omitted, ...rest } = env;
    const missing = checkEnv(rest);
    expect(missing.ok || missing.problems[0]?.message).toMatch(/PORTCULLIS_CONFIG is not set/);
    const notJson = checkEnv({ ...env, PORTCULLIS_CONFIG: '{"publicUrl":' });
    expect(notJson.ok || notJson.problems[0]?.message).toMatch(/not valid JSON/);
  });

  it('refuses every request with a 503 that names no config detail, and logs the problems once', async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const badEnv = { ...env, PORTCULLIS_CONFIG: bad };
    for (const path of ['/healthz', '/b/x']) {
      const response = await call(new Request(`https://gateway.example${path}`), badEnv);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ status: 503, code: 'ERR_CONFIG_INVALID' });
      for (const leak of ['ftp:', 'bogus', 'NOPE', 'routes']) expect(text).not.toContain(leak);
    }
    expect(error).toHaveBeenCalledTimes(1);
    const logged = String(error.mock.calls[0]?.[0]);
    for (const path of ['publicUrl', 'bogus', 'routes[0].path', 'routes[0].auth', 'routes[0].upstream.service']) {
      expect(logged).toContain(`- ${path}:`);
    }
  });

  it('serves again once the config is valid', async () => {
    const response = await exports.default.fetch('https://gateway.example/healthz');
    expect(response.status).toBe(200);
  });
});
