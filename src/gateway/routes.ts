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

/** The upstream URL for a request: the upstream base path joined with the rest of the path, plus the query. */
export function upstreamUrl(base: URL, rest: string, search: string): URL {
  const url = new URL(base);
  if (rest) url.pathname = base.pathname.endsWith('/') ? base.pathname + rest.slice(1) : base.pathname + rest;
  url.search = search;
  return url;
}
