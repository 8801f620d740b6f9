/** Matching a request path to a mounted route, and mapping it onto the upstream's URL space. */
import type { RouteConfig } from '../config/schema.ts';

export interface RouteMatch {
  route: RouteConfig;
  /** The request path below the mount, starting with `/`, or empty when the path is the mount itself. */
  rest: string;
}

/** Longest-prefix matcher at segment boundaries: `/mcp` serves `/mcp` and `/mcp/x`, never `/mcpx`. */
export function routeMatcher(routes: readonly RouteConfig[]): (path: string) => RouteMatch | undefined {
  const ordered = [...routes].sort((a, b) => b.path.length - a.path.length);
  return (path) => {
    for (const route of ordered) {
      if (route.path === '/') return { route, rest: path };
      if (path === route.path) return { route, rest: '' };
      if (path.startsWith(route.path) && path.charCodeAt(route.path.length) === 47 /* "/" */) {
        return { route, rest: path.slice(route.path.length) };
      }
    }
    return undefined;
  };
}

/**
 * Encoded `/` and `\` and encoded control characters: an upstream that decodes them (some do, before
 * normalising `..`) would see a different path than the gateway routed, so such paths are refused.
 */
const AMBIGUOUS_ENCODING = /%(2f|5c|[01][0-9a-f]|7f)/i;

/**
 * The upstream URL for a request: the upstream base path joined with the rest of the (still encoded)
 * request path, plus the query. `undefined` when the rest is ambiguous or the result would leave the base.
 */
export function upstreamUrl(base: URL, rest: string, search: string): URL | undefined {
  if (AMBIGUOUS_ENCODING.test(rest)) return undefined;
  const url = new URL(base);
  if (rest) url.pathname = base.pathname.endsWith('/') ? base.pathname + rest.slice(1) : base.pathname + rest;
  url.search = search;
  // Defence in depth: whatever the URL parser made of the join, it must stay below the base path.
  const root = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  if (url.pathname !== base.pathname && !url.pathname.startsWith(root)) return undefined;
  return url;
}
