/**
 * RFC 9728 protected resource metadata for every route that accepts access tokens (`auth.oauth`), served at the
 * well-known URL derived from the route's resource identifier (§3.1: `/.well-known/oauth-protected-resource`
 * inserted between the host and the path, so `/mcp` publishes at `/.well-known/oauth-protected-resource/mcp`).
 *
 * The document (§2): `resource` from config (never from the request's Host or scheme; §3.3 requires it to equal
 * the URL the client used), `authorization_servers`, `scopes_supported`, `bearer_methods_supported` (`header`
 * only: tokens in the query are refused, bodies are not read for tokens), DPoP fields (RFC 9449 §5.1 names them
 * for AS metadata; RFC 9728 §2 registers `dpop_signing_alg_values_supported` and `dpop_bound_access_tokens_required`)
 * when DPoP is accepted, and `resource_name` / `resource_documentation` when configured. Fields without a value are
 * omitted (§3.2). Answers GET and HEAD with 200, OPTIONS (a CORS preflight: browser MCP clients send
 * `MCP-Protocol-Version`) with 204, anything else with 405; always `Access-Control-Allow-Origin: *` (public data).
 *
 * Does NOT: sign the metadata (`signed_metadata`, §2.2), or serve the root `/.well-known/oauth-protected-resource`
 * for routes mounted elsewhere (a resource's metadata lives only at its own derived URL).
 */
import type { OAuthRouteConfig } from '../config/schema.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../verify/dpop.ts';
import { preflightResponse } from './cors.ts';

/** RFC 9728 §3: the well-known URI suffix, registered in §8.3. */
export const WELL_KNOWN_PRM = '/.well-known/oauth-protected-resource';

/** The metadata URL of `resource` (§3.1: the well-known segment between the host and the path). */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${WELL_KNOWN_PRM}${url.pathname === '/' ? '' : url.pathname}`;
}

export interface ResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  resource_name?: string;
  resource_documentation?: string;
}

/** The metadata document of one route. */
export function resourceMetadata(config: OAuthRouteConfig, resource: string): ResourceMetadata {
  const scopes = config.scopesSupported ?? [
    ...new Set([...(config.scopes ?? []), ...Object.values(config.tools ?? {}).flatMap((t) => t.scopes ?? []), ...Object.values(config.methods ?? {}).flatMap((m) => m.scopes ?? [])]),
  ];
  const doc: ResourceMetadata = { resource, authorization_servers: [...config.authorizationServers], bearer_methods_supported: ['header'] };
  if (scopes.length > 0) doc.scopes_supported = scopes;
  if (config.dpop !== 'disabled') doc.dpop_signing_alg_values_supported = [...(config.dpopAlgorithms ?? DEFAULT_DPOP_ALGORITHMS)];
  if (config.dpop === 'required') doc.dpop_bound_access_tokens_required = true;
  if (config.resourceName !== undefined) doc.resource_name = config.resourceName;
  if (config.resourceDocumentation !== undefined) doc.resource_documentation = config.resourceDocumentation;
  return doc;
}

const CORS = { 'access-control-allow-origin': '*' };
const ALLOW = 'GET, HEAD, OPTIONS';

/** The response to a request for a metadata document at its well-known path. */
export function serveResourceMetadata(request: Request, doc: ResourceMetadata, requestId: string): Response {
  const common = { ...CORS, 'x-request-id': requestId };
  if (request.method === 'OPTIONS') return preflightResponse(request, ALLOW, requestId);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { ...common, allow: ALLOW } });
  }
  // Metadata changes only with the config; an hour of caching spares clients a round trip per connection.
  const headers = { ...common, 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' };
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(doc), { status: 200, headers });
}
