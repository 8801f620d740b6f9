import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../../src/config/index.ts';
import { routeMatcher, upstreamUrl } from '../../src/gateway/routes.ts';

const r = (path: string): RouteConfig => ({ path, protocol: 'http', upstream: 'http://u/', public: true });

describe('routeMatcher', () => {
  const match = routeMatcher([r('/a'), r('/a/b'), r('/mcp')]);

  it('matches at segment boundaries only', () => {
    expect(match('/mcp')).toMatchObject({ route: { path: '/mcp' }, rest: '' });
    expect(match('/mcp/')).toMatchObject({ route: { path: '/mcp' }, rest: '/' });
    expect(match('/mcp/x/y')).toMatchObject({ route: { path: '/mcp' }, rest: '/x/y' });
    expect(match('/mcpx')).toBeUndefined();
    expect(match('/')).toBeUndefined();
  });

  it('prefers the longest mount', () => {
    expect(match('/a/b/c')).toMatchObject({ route: { path: '/a/b' }, rest: '/c' });
    expect(match('/a/bc')).toMatchObject({ route: { path: '/a' }, rest: '/bc' });
  });

  it('a root mount catches what nothing else does', () => {
    const withRoot = routeMatcher([r('/'), r('/a')]);
    expect(withRoot('/zzz')).toMatchObject({ route: { path: '/' }, rest: '/zzz' });
    expect(withRoot('/a/1')).toMatchObject({ route: { path: '/a' }, rest: '/1' });
  });
});

describe('upstreamUrl', () => {
  it('joins the upstream base path with the rest of the request path, keeping the query', () => {
    expect(upstreamUrl(new URL('http://u:1/base'), '/x/y', '?q=1')?.href).toBe('http://u:1/base/x/y?q=1');
    expect(upstreamUrl(new URL('http://u:1/base/'), '/x', '')?.href).toBe('http://u:1/base/x');
    expect(upstreamUrl(new URL('http://u:1/base'), '', '?a')?.href).toBe('http://u:1/base?a');
    expect(upstreamUrl(new URL('http://u:1/'), '/x', '')?.href).toBe('http://u:1/x');
    expect(upstreamUrl(new URL('http://u:1/base'), '/a%20b/%C3%A9', '')?.href).toBe('http://u:1/base/a%20b/%C3%A9');
  });

  it('refuses encoded separators and control characters that an upstream could decode into another path', () => {
    for (const rest of ['/..%5Cmcp', '/..%5c..%5cadmin', '/..%2Fadmin', '/.%09./admin', '/%2e%0a%2e/admin', '/a%00', '/a%7F']) {
      expect(upstreamUrl(new URL('http://u:1/a2a'), rest, ''), rest).toBeUndefined();
    }
  });

  it('refuses a join that leaves the base path', () => {
    expect(upstreamUrl(new URL('http://u:1/base'), '/../admin', '')).toBeUndefined();
    expect(upstreamUrl(new URL('http://u:1/base'), '/./x', '')?.href).toBe('http://u:1/base/x');
  });
});
