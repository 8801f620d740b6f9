import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertConfig, ConfigError, parseConfig, parseConfigText } from '../../src/config/index.ts';
import { configJsonSchema } from '../../src/config/json-schema.ts';
import { MAX_CONFIG_BYTES } from '../../src/limits.ts';

const route = { path: '/mcp', protocol: 'mcp', upstream: 'http://127.0.0.1:8788/mcp', public: true };
const valid = { publicUrl: 'https://gw.example', routes: [route] };

function problems(input: unknown) {
  const result = parseConfig(input);
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('GatewayConfig', () => {
  it('accepts a minimal public route and a service-binding upstream', () => {
    const result = parseConfig({ ...valid, routes: [route, { path: '/svc', protocol: 'http', upstream: { service: 'DEMO' }, public: true }] });
    expect(result.ok).toBe(true);
  });

  it('refuses unknown keys at every depth, naming each key', () => {
    const found = problems({ ...valid, extra: 1, limits: { maxBodyBytes: 10, bogus: 2 }, routes: [{ ...route, tls: true }] });
    expect(found).toEqual(expect.arrayContaining([
      { path: 'extra', message: 'unknown key' },
      { path: 'limits.bogus', message: 'unknown key' },
      { path: 'routes[0].tls', message: 'unknown key' },
    ]));
  });

  it('fails closed: a route without auth must say public: true', () => {
    const { public: _, ...unmarked } = route;
    expect(problems({ ...valid, routes: [unmarked] })).toEqual([{ path: 'routes[0].auth', message: expect.stringContaining('routes fail closed') }]);
  });

  it('refuses public routes that also carry auth, and auth blocks naming no credential', () => {
    expect(problems({ ...valid, routes: [{ ...route, auth: {} }] }).map((p) => p.path)).toEqual(['routes[0].public', 'routes[0].auth']);
  });

  it('lists every problem at once, by path', () => {
    const found = problems({
      publicUrl: 'https://gw.example/base',
      routes: [
        { path: '/a/', protocol: 'mcp', upstream: 'ftp://x', public: true },
        { path: '/b', protocol: 'grpc', upstream: 'http://u:p@x/', public: true },
        { path: '/b', protocol: 'http', upstream: 'http://x/?q=1', public: true },
        { path: '/healthz', protocol: 'http', upstream: 'http://x/', public: true },
        { path: '/x/../y', protocol: 'http', upstream: 'not a url', public: true },
      ],
    });
    expect(found.map((p) => p.path)).toEqual(expect.arrayContaining([
      'publicUrl', 'routes[0].path', 'routes[0].upstream', 'routes[1].protocol', 'routes[1].upstream',
      'routes[2].upstream', 'routes[2].path', 'routes[3].path', 'routes[4].path', 'routes[4].upstream',
    ]));
    expect(found.find((p) => p.path === 'routes[2].path')?.message).toBe('duplicates routes[1].path "/b"');
    expect(found.find((p) => p.path === 'routes[3].path')?.message).toContain('served by the gateway itself');
  });

  it('refuses non-positive and non-integer limits, and timeouts a timer cannot hold', () => {
    expect(problems({ ...valid, limits: { maxBodyBytes: 0, upstreamTimeoutMs: 1.5 } }).map((p) => p.path)).toEqual(['limits.maxBodyBytes', 'limits.upstreamTimeoutMs']);
    expect(problems({ ...valid, limits: { upstreamTimeoutMs: 2 ** 31 } }).map((p) => p.path)).toEqual(['limits.upstreamTimeoutMs']);
  });

  it('keeps header limits gateway-wide: they apply before a route is chosen', () => {
    expect(problems({ ...valid, routes: [{ ...route, limits: { maxHeaderBytes: 100 } }] })).toEqual([{ path: 'routes[0].limits.maxHeaderBytes', message: 'unknown key' }]);
    expect(parseConfig({ ...valid, routes: [{ ...route, limits: { maxBodyBytes: 100, upstreamTimeoutMs: 5 } }] }).ok).toBe(true);
  });

  it('needs at least one route', () => {
    expect(problems({ publicUrl: 'https://gw.example', routes: [] }).map((p) => p.path)).toEqual(['routes']);
  });

  it('parses JSON text, refusing malformed and oversized documents', () => {
    expect(parseConfigText(JSON.stringify(valid)).ok).toBe(true);
    const bad = parseConfigText('{\n  "clientSecret": hunter2\n}');
    expect(bad.ok === false && bad.problems[0]?.message).toBe('not valid JSON');
    expect(JSON.stringify(bad)).not.toContain('hunter2'); // the engine's message quotes the input
    const big = parseConfigText(' '.repeat(MAX_CONFIG_BYTES + 1));
    expect(big.ok === false && big.problems[0]?.message).toBe(`larger than ${MAX_CONFIG_BYTES} bytes`);
  });

  it('assertConfig throws a ConfigError whose message lists each problem on its own line', () => {
    let error: unknown;
    try {
      assertConfig({ publicUrl: 'x', routes: [{ ...route, public: false }] }, 'test.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.split('\n')[0]).toBe('invalid test.json:');
    expect(message).toContain('  - publicUrl: must be an absolute URL');
    expect(message).toContain('  - routes[0].auth: required');
    expect(message).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('the published JSON Schema is the one generated from the zod schema (npm run schema)', () => {
    const published = JSON.parse(readFileSync(new URL('../../schema/portcullis.config.schema.json', import.meta.url), 'utf8'));
    expect(published).toEqual(configJsonSchema());
    expect(published.additionalProperties).toBe(false);
  });
});
