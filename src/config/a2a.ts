/**
 * `routes[].a2a` (protocol "a2a" routes): where the route's Agent Card comes from, whether and how the upstream's
 * own card signature is checked, which skills each caller sees in the extended card, and which push notification
 * URLs callers may register. Every member has a default (`A2A_DEFAULTS`), so an A2A route without the block serves the upstream's
 * card, rewritten and signed by the gateway, and refuses every push notification URL (fail closed).
 * Cross-field rules (a2a only on a2a routes; skill scopes need auth.oauth): src/config/schema.ts.
 */
import * as z from 'zod';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import { DEFAULT_A2A_CARD_MAX_AGE_SECONDS, MAX_A2A_CARD_MAX_AGE_SECONDS, MAX_CONFIG_LIST_ENTRIES, MAX_TRUST_DOMAIN_KEYS, MIN_TXN_KEY_ROTATION_MS } from '../limits.ts';
import { fetchUrlProblem, trustAnchorJwk } from './trust-domains.ts';

const scopeToken = z.string().min(1).max(256).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be an RFC 6749 scope-token (printable ASCII, no space, quote or backslash)');

/** A push notification URL prefix: https only (the agent calls it, carrying the caller's credentials), in normal form. */
const pushUrlPrefix = z.string().max(2048).superRefine((value, ctx) => {
  const problem = !/^https:\/\//i.test(value) ? 'must use https (push notifications carry the caller\'s credentials to this URL)' : fetchUrlProblem(value, { allowQuery: false });
  if (problem) return void ctx.addIssue({ code: 'custom', message: problem });
  const normal = new URL(value).href;
  if (normal !== value) ctx.addIssue({ code: 'custom', message: `must be written in normal form (${normal})` });
});

export const a2aRouteSchema = z
  .strictObject({
    card: z
      .strictObject({
        inline: z
          .record(z.string(), z.unknown())
          .optional()
          .describe('The Agent Card in the A2A 1.0 (or 0.3) JSON shape, served instead of the upstream\'s and checked at start. Its interface URLs must be absolute URLs below the route\'s upstream URL (or the gateway mount) and are rewritten like the upstream\'s; its securitySchemes are replaced.'),
        upstreamPath: z
          .string()
          .regex(/^(\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+$/, 'must be a path such as "/.well-known/agent-card.json"')
          .default('/.well-known/agent-card.json')
          .describe('Where the upstream serves its card, below the route\'s upstream URL. Default "/.well-known/agent-card.json".'),
        maxAgeSeconds: z
          .number()
          .int()
          .min(0)
          .max(MAX_A2A_CARD_MAX_AGE_SECONDS)
          .default(DEFAULT_A2A_CARD_MAX_AGE_SECONDS)
          .describe(`Seconds the gateway reuses a fetched card before revalidating it with the upstream (If-None-Match), and the max-age it sends callers. Default ${DEFAULT_A2A_CARD_MAX_AGE_SECONDS}.`),
      })
      .prefault({})
      .describe('The Agent Card served at <mount>/.well-known/agent-card.json (and the legacy agent.json).'),
    upstreamSignature: z
      .strictObject({
        jwks: z
          .strictObject({ keys: z.array(trustAnchorJwk).min(1, 'must list at least one key').max(MAX_TRUST_DOMAIN_KEYS) })
          .describe('Pinned public keys of the upstream\'s card signatures (chosen by kid; a jku in the signature is never fetched).'),
        algorithms: z.array(z.enum(ASYMMETRIC_JWS_ALGORITHMS)).min(1).max(ASYMMETRIC_JWS_ALGORITHMS.length).default(['ES256', 'EdDSA', 'PS256', 'RS256']).describe('JWS algorithms accepted. Default ES256, EdDSA, PS256, RS256.'),
        onInvalid: z.enum(['refuse', 'flag']).default('refuse').describe('A card without a valid signature: "refuse" (the card is not served, 502) or "flag" (served, re-signed by the gateway unless sign is false, and the failure audited). Default "refuse".'),
      })
      .optional()
      .describe('Verify the upstream\'s own card signature (A2A §8.4) before rewriting it: at least one signature must verify with a pinned key. An unsigned card counts as invalid.'),
    sign: z.boolean().default(true).describe('Sign served cards (A2A §8.4) with the gateway\'s rotating card key, published at /.well-known/jwks.json. Default true.'),
    skills: z
      .record(z.string().min(1).max(256), z.strictObject({ scopes: z.array(scopeToken).min(1).max(MAX_CONFIG_LIST_ENTRIES).describe('Scopes the caller\'s access token must all carry.') }))
      .optional()
      .describe('Per skill id: the scopes a caller needs to see the skill in the authenticated extended card (and stated as the skill\'s security requirement in every card). Skills not listed are shown to every caller the a2aSkillPolicy hook (if any) allows. The public card is not filtered. Needs auth.oauth.'),
    pushNotifications: z
      .strictObject({
        allowedUrls: z
          .array(pushUrlPrefix)
          .min(1)
          .max(MAX_CONFIG_LIST_ENTRIES)
          .describe('URL prefixes a push notification URL must start with (compared after URL parsing: same origin, path at a segment boundary).'),
      })
      .optional()
      .describe('Push notification URLs callers may register (SendMessage configuration, CreateTaskPushNotificationConfig). Without this block every push notification URL is refused: the agent would call it, from inside the network.'),
  })
  .describe('The A2A front of this route (protocol "a2a" only): Agent Card serving and signing, extended card filtering, push notification URLs.');

export type A2aRouteConfig = z.output<typeof a2aRouteSchema>;

/** What a protocol "a2a" route without an `a2a` block gets. */
export const A2A_DEFAULTS: A2aRouteConfig = a2aRouteSchema.parse({});

export const agentCardKeysSchema = z
  .strictObject({
    keyRotationSeconds: z.number().int().min(MIN_TXN_KEY_ROTATION_MS / 1000).max(30 * 24 * 60 * 60).default(24 * 60 * 60).describe('Seconds between rotations of the card signing key (ES256, generated by the gateway, kept in its state store, published at /.well-known/jwks.json with the previous and next key). Default 86400.'),
  })
  .describe('The keys the gateway signs Agent Cards with.');
