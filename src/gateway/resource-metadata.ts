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
 * With `signedMetadata`, `jwks_uri` names the gateway's JWK Set and `signed_metadata` (§2.2) carries the same values
 * signed with the gateway's identity key, `iss` the resource's origin.
 *
 * Does NOT: serve the root `/.well-known/oauth-protected-resource` for routes mounted elsewhere (a resource's
 * metadata lives only at its own derived URL).
 */
import type { OAuthRouteConfig } from '../config/schema.ts';
import { DEFAULT_DPOP_ALGORITHMS } from '../verify/dpop.ts';
import { preflightResponse } from './cors.ts';
import type { MetadataSigner } from '../mint/metadata-signer.ts';

/** RFC 9728 §3: the well-known URI suffix, registered in §8.3. */
export const WELL_KNOWN_PRM = '/.well-known/oauth-protected-resource';

/** The metadata URL of `resource` (§3.1: the well-known segment between the host and the path). */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${WELL_KNOWN_PRM}${url.pathname === '/' ? '' : url.pathname}`;
}

/** Where the gateway publishes its own JWK Set (the key of `signed_metadata`): RFC 9728 `jwks_uri`. */
export const GATEWAY_JWKS_PATH = '/.well-known/jwks.json';

export interface ResourceMetadata {
  resource: string;
  jwks_uri?: string;
  signed_metadata?: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  dpop_signing_alg_values_supported?: string[];
  dpop_bound_access_tokens_required?: boolean;
  resource_name?: string;
  resource_documentation?: string;
}

/**
 * The metadata document of one route. With `signedMetadata`, it names the gateway's JWK Set as `jwks_uri`; the
 * `signed_metadata` JWT itself is added per identity key by `withSignedMetadata`.
 */
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
  if (config.signedMetadata) doc.jwks_uri = `${new URL(resource).origin}${GATEWAY_JWKS_PATH}`;
  return doc;
}

/** Re-signed at most this often: `iat` says how fresh the statement is, and signing costs a Web Crypto call. */
const RESIGN_MS = 60 * 60_000;

/**
 * A signer of one document's `signed_metadata` (RFC 9728 §2.2): the document's values (never `signed_metadata`
 * itself, which §2.2 says SHOULD NOT be a claim) with `iss` = the resource's origin, under the gateway's current
 * identity key; kept per key for RESIGN_MS.
 */
export function withSignedMetadata(doc: ResourceMetadata): (signer: MetadataSigner, now: number) => Promise<ResourceMetadata> {
  let held: { kid: string; until: number; jwt: Promise<string> } | undefined;
  const claims = { ...doc, iss: new URL(doc.resource).origin };
  return async (signer, now) => {
    if (!held || held.kid !== signer.publicJwk.kid || now >= held.until) {
      const jwt = signer.sign(claims, Math.floor(now / 1000));
      held = { kid: signer.publicJwk.kid, until: now + RESIGN_MS, jwt };
      jwt.catch(() => {
        if (held?.jwt === jwt) held = undefined;
      });
    }
    return { ...doc, signed_metadata: await held.jwt };
  };
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
