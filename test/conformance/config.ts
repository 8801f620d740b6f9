/**
 * The gateway config the conformance suite runs with, generated for one fixture upstream. Each route
 * exercises one setting; the tests name routes by these paths.
 */
export const PUBLIC_URL = 'https://gateway.example.test';

/** Gateway-wide header limits, low enough that the gateway (not the runtime's HTTP parser) refuses. */
export const MAX_HEADER_COUNT = 40;
export const MAX_HEADER_BYTES = 8 * 1024;
/** The `/small` and `/mcp` routes' body limits. */
export const SMALL_BODY_BYTES = 1024;
export const MCP_BODY_BYTES = 4096;
/** The `/slow` and `/mcp-slow` routes' wait for upstream response headers. */
export const SHORT_TIMEOUT_MS = 300;

export function conformanceConfig(fixtureUrl: string, deadPort: number) {
  const dead = `http://127.0.0.1:${deadPort}`;
  return {
    publicUrl: PUBLIC_URL,
    audit: { sink: 'none' },
    limits: { maxHeaderCount: MAX_HEADER_COUNT, maxHeaderBytes: MAX_HEADER_BYTES },
    routes: [
      { path: '/svc', protocol: 'http', upstream: `${fixtureUrl}/base`, public: true },
      { path: '/mcp', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, public: true, limits: { maxBodyBytes: MCP_BODY_BYTES } },
      { path: '/mcp-slow', protocol: 'mcp', upstream: `${fixtureUrl}/mcp-up`, public: true, limits: { upstreamTimeoutMs: SHORT_TIMEOUT_MS } },
      { path: '/mcp-down', protocol: 'mcp', upstream: `${dead}/mcp`, public: true },
      { path: '/a2a', protocol: 'a2a', upstream: `${fixtureUrl}/a2a-up`, public: true },
      { path: '/slow', protocol: 'http', upstream: `${fixtureUrl}/base`, public: true, limits: { upstreamTimeoutMs: SHORT_TIMEOUT_MS } },
      { path: '/down', protocol: 'http', upstream: `${dead}/`, public: true },
      { path: '/small', protocol: 'http', upstream: `${fixtureUrl}/base`, public: true, limits: { maxBodyBytes: SMALL_BODY_BYTES } },
    ],
  };
}

/** A config with three problems the gateway must list, each with its path. */
export const INVALID_CONFIG = {
  publicUrl: PUBLIC_URL,
  bogusKey: true,
  routes: [
    { path: '/closed', protocol: 'http', upstream: 'http://127.0.0.1:1/' },
    { path: '/bad-url', protocol: 'http', upstream: 'not a url', public: true },
  ],
};
export const INVALID_CONFIG_PATHS = ['bogusKey', 'routes[0].auth', 'routes[1].upstream'];
