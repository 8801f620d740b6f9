/**
 * `transactionTokens.service.federation`: the foreign trust domains whose JWT authorization grants (RFC 7523 §2.1,
 * draft-ietf-oauth-identity-chaining-17 §2.4) the Transaction Token Service turns into local Txn-Tokens, keyed by
 * the grant issuer (`iss`, compared as a simple string: RFC 7523 §3 item 1). Per issuer: its signing keys (an
 * inline JWK Set or a `jwksUri`, exactly one; the key rules of trust domains and authorization servers), the
 * algorithms, the most a grant may obtain (`scopes`), the claims transcription of the subject, the grant lifetime
 * limit and whether `jti` is required. Cross-field rules (grantAudience needs federation): src/config/schema.ts.
 */
import type { JWK } from 'jose';
import * as z from 'zod';
import { ASYMMETRIC_JWS_ALGORITHMS, keyMismatch } from '../crypto/algorithms.ts';
import { DEFAULT_GRANT_MAX_LIFETIME_SECONDS, MAX_CONFIG_LIST_ENTRIES, MAX_GRANT_LIFETIME_LIMIT_SECONDS, MAX_TRUST_DOMAIN_KEYS } from '../limits.ts';
import { issuerIdentifier } from './authorization-servers.ts';
import { fetchUrlProblem, trustAnchorJwk } from './trust-domains.ts';

const scopeToken = z.string().min(1).max(256).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be an RFC 6749 scope-token (printable ASCII, no space, quote or backslash)');

export const federatedIssuerSchema = z
  .strictObject({
    jwks: z
      .strictObject({ keys: z.array(trustAnchorJwk).min(1, 'must list at least one key').max(MAX_TRUST_DOMAIN_KEYS) })
      .optional()
      .describe('Inline JWK Set of the issuer\'s grant signing keys. Exactly one of jwks and jwksUri.'),
    jwksUri: z
      .string()
      .max(2048)
      .superRefine((value, ctx) => {
        const problem = fetchUrlProblem(value, { allowQuery: true });
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('The issuer\'s JWK Set URL (https, or http to a loopback host), kept like an authorization server\'s keys: refreshed in the background, refetched on an unknown kid, shared across isolates. Exactly one of jwks and jwksUri.'),
    algorithms: z
      .array(z.enum(ASYMMETRIC_JWS_ALGORITHMS))
      .min(1)
      .max(ASYMMETRIC_JWS_ALGORITHMS.length)
      .refine((list) => new Set(list).size === list.length, 'must not repeat an algorithm')
      .default(['ES256', 'RS256'])
      .describe('JWS algorithms accepted for this issuer\'s grants. Default ["ES256", "RS256"] (RFC 7523 §5: RS256 is mandatory to implement).'),
    scopes: z
      .array(scopeToken)
      .min(1)
      .max(MAX_CONFIG_LIST_ENTRIES)
      .refine((list) => new Set(list).size === list.length, 'must not repeat a scope')
      .describe('The most a grant from this issuer may obtain: the Txn-Token scope is within these AND within the grant\'s own scope claim (a grant without one obtains nothing: invalid_scope).'),
    subject: z
      .strictObject({
        prefix: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional().describe('Prepended to the grant\'s sub, so foreign subjects cannot collide with local ones (e.g. "a.example:"). Default: none.'),
      })
      .optional()
      .describe('Claims transcription of the subject (identity-chaining §2.5): the Txn-Token sub = prefix + the grant\'s sub. Default: the grant\'s sub unchanged.'),
    maxLifetimeSeconds: z.number().int().positive().max(MAX_GRANT_LIFETIME_LIMIT_SECONDS).optional().describe(`Longest grant lifetime accepted (exp - iat, or exp - now without iat). Default ${DEFAULT_GRANT_MAX_LIFETIME_SECONDS}.`),
    requireJti: z.boolean().default(true).describe('Refuse grants without jti (default true). Every presented jti is single use either way (identity-chaining §5); false accepts grants bounded only by their short lifetime.'),
  })
  .superRefine((entry, ctx) => {
    if ((entry.jwks === undefined) === (entry.jwksUri === undefined)) ctx.addIssue({ code: 'custom', message: 'set exactly one of jwks and jwksUri' });
    const seen = new Map<string, number>();
    (entry.jwks?.keys ?? []).forEach((jwk, i) => {
      const first = seen.get(jwk.kid);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i, 'kid'], message: `duplicates jwks.keys[${first}].kid` });
      else seen.set(jwk.kid, i);
      if (jwk.alg !== undefined && !entry.algorithms.includes(jwk.alg)) ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i, 'alg'], message: `"${jwk.alg}" is not in algorithms, so this key could never verify` });
      else if (jwk.alg === undefined && entry.algorithms.every((alg) => keyMismatch(jwk as JWK, alg) !== undefined)) ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i], message: 'the key fits none of algorithms' });
    });
  });

export const federationSchema = z
  .record(issuerIdentifier, federatedIssuerSchema)
  .refine((record) => Object.keys(record).length > 0, 'must name at least one issuer')
  .describe('Accept JWT authorization grants (RFC 7523 §2.1 grant_type urn:ietf:params:oauth:grant-type:jwt-bearer, or a token exchange with subject_token_type urn:ietf:params:oauth:token-type:jwt) from these foreign issuers, keyed by iss, and turn them into Txn-Tokens of this trust domain. The grant must name grantAudience in aud, be unexpired and single-use.');

export type FederatedIssuerConfig = z.output<typeof federatedIssuerSchema>;
