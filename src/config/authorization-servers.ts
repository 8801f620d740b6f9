/**
 * The `authorizationServers` block: the OAuth authorization servers whose access tokens routes accept, keyed by
 * issuer identifier (RFC 8414 §2: an https URL without query or fragment; plain http only on a loopback host, for
 * local stacks). For each: where its token signing keys come from, how its opaque tokens are introspected, and the
 * policy its JWT access tokens are checked with (RFC 9068 §4).
 *
 * Keys: inline `jwks`, a configured `jwksUri`, or, when neither is set, the `jwks_uri` of the issuer's RFC 8414
 * metadata (fetched from the well-known URL derived from the issuer, whose `issuer` must equal it exactly: §3.3).
 * A fetched set is kept like a trust domain's (src/trust/remote-key-set.ts). Never a URL named in a token.
 *
 * Introspection (RFC 7662; RFC 9701 signed responses): the endpoint is configured or read from the metadata; the
 * gateway authenticates with client_secret_basic / client_secret_post, the secret read from an environment variable
 * (a Workers secret), never from the config file.
 */
import * as z from 'zod';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import {
  DEFAULT_ACCESS_TOKEN_MAX_LIFETIME_SECONDS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_INTROSPECTION_CACHE_SECONDS,
  DEFAULT_KEY_MAX_STALE_SECONDS,
  DEFAULT_KEY_REFRESH_SECONDS,
  DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS,
  MAX_ACCESS_TOKEN_LIFETIME_LIMIT_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_INTROSPECTION_CACHE_SECONDS,
  MAX_KEY_MAX_STALE_SECONDS,
  MAX_KEY_REFRESH_SECONDS,
  MAX_TRUST_DOMAIN_KEYS,
  MIN_KEY_REFRESH_SECONDS,
} from '../limits.ts';
import { fetchUrlProblem, trustAnchorJwk } from './trust-domains.ts';

const asUrl = (options: { allowQuery: boolean }) =>
  z.string().max(2048).superRefine((value, ctx) => {
    const problem = fetchUrlProblem(value, options);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** An issuer identifier: an AS URL without query (RFC 8414 §2). */
export const issuerIdentifier = asUrl({ allowQuery: false });

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

const introspectionSchema = z
  .strictObject({
    endpoint: asUrl({ allowQuery: true }).optional().describe('The RFC 7662 introspection endpoint. Default: introspection_endpoint from the issuer\'s RFC 8414 metadata.'),
    clientId: z.string().min(1).max(256).describe('The gateway\'s client_id at this authorization server.'),
    clientSecretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(128).describe('Name of the environment variable (a Workers secret) holding the client secret. Never put the secret in the config.'),
    authMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic').describe('How the gateway authenticates to the endpoint (RFC 6749 §2.3.1). Default client_secret_basic.'),
    response: z.enum(['json', 'jwt']).default('json').describe('json: the RFC 7662 JSON answer. jwt: ask for and require the RFC 9701 signed answer (application/token-introspection+jwt), verified with this issuer\'s keys.'),
    cacheSeconds: seconds(0, MAX_INTROSPECTION_CACHE_SECONDS).default(DEFAULT_INTROSPECTION_CACHE_SECONDS).describe(`Seconds an active answer is reused (never past the token's exp); 0 asks every time. Revocation signals flush it. Default ${DEFAULT_INTROSPECTION_CACHE_SECONDS}.`),
  })
  .describe('Introspect opaque (non-JWT) access tokens at this authorization server (RFC 7662).');

export const authorizationServerSchema = z
  .strictObject({
    jwks: z
      .strictObject({ keys: z.array(trustAnchorJwk).min(1, 'must list at least one key').max(MAX_TRUST_DOMAIN_KEYS) })
      .optional()
      .describe('Inline JWK Set of the server\'s token signing keys. At most one of jwks and jwksUri; with neither, jwks_uri comes from the RFC 8414 metadata.'),
    jwksUri: asUrl({ allowQuery: true }).optional().describe('The server\'s JWK Set URL, when not taken from its RFC 8414 metadata.'),
    tokenEndpoint: asUrl({ allowQuery: true }).optional().describe('The server\'s token endpoint. Only stated to callers (the client credentials flow of A2A Agent Cards); the gateway never calls it. Needed by A2A routes that accept its tokens.'),
    refreshSeconds: seconds(MIN_KEY_REFRESH_SECONDS, MAX_KEY_REFRESH_SECONDS).optional().describe(`Seconds between background refreshes of fetched keys and metadata. Default ${DEFAULT_KEY_REFRESH_SECONDS}.`),
    unknownKidCooldownSeconds: seconds(1, 3600).optional().describe(`A token naming an unknown kid triggers a refetch at most this often. Default ${DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS}.`),
    maxStaleSeconds: seconds(60, MAX_KEY_MAX_STALE_SECONDS).optional().describe(`Last-known keys keep verifying this long while the source fails; then tokens of this issuer fail closed (503). Default ${DEFAULT_KEY_MAX_STALE_SECONDS}.`),
    algorithms: z.array(z.enum(ASYMMETRIC_JWS_ALGORITHMS)).min(1).max(ASYMMETRIC_JWS_ALGORITHMS.length).default(['RS256', 'ES256']).describe('JWS algorithms accepted for access token (and RFC 9701 answer) signatures. Default ["RS256", "ES256"] (RFC 9068 §2.1: RS256 MUST be supported).'),
    clockSkewSeconds: z.number().int().min(0).max(MAX_CLOCK_SKEW_SECONDS).optional().describe(`Seconds of clock difference tolerated on exp/nbf/iat. Default ${DEFAULT_CLOCK_SKEW_SECONDS}.`),
    maxTokenLifetimeSeconds: z.number().int().positive().max(MAX_ACCESS_TOKEN_LIFETIME_LIMIT_SECONDS).optional().describe(`Longest JWT access token lifetime (exp - iat) accepted. Default ${DEFAULT_ACCESS_TOKEN_MAX_LIFETIME_SECONDS}.`),
    introspection: introspectionSchema.optional(),
  })
  .superRefine((as, ctx) => {
    if (as.jwks !== undefined && as.jwksUri !== undefined) ctx.addIssue({ code: 'custom', message: 'set at most one of jwks and jwksUri' });
    const seen = new Map<string, number>();
    (as.jwks?.keys ?? []).forEach((jwk, i) => {
      const first = seen.get(jwk.kid);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i, 'kid'], message: `duplicates jwks.keys[${first}].kid` });
      else seen.set(jwk.kid, i);
    });
  });

export const authorizationServersSchema = z
  .record(issuerIdentifier, authorizationServerSchema)
  .describe('OAuth authorization servers whose access tokens routes accept (auth.oauth), keyed by issuer identifier (RFC 8414): keys, introspection and token policy.');

export type AuthorizationServerConfig = z.output<typeof authorizationServerSchema>;
export type IntrospectionConfig = NonNullable<AuthorizationServerConfig['introspection']>;
