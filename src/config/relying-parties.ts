/**
 * `transactionTokens.service.relyingParties`: the systems the Transaction Token Service issues secondary credentials
 * for (the A2A auth framework draft's "credential exchange": an agent exchanges its primary credential, its WIT, for
 * "a credential targeted to a specific relying party", e.g. a proprietary or legacy system that takes no WIT, X.509
 * or Txn-Token). Keyed by the identifier the token names in `aud` (the RFC 8693 `audience` a requester asks for). Per
 * relying party: the token lifetime, the scopes a requester may ask for, and a narrower allow-list of requesters.
 * Cross-field rules (each requester within service.requesters; a WIT to exchange): relyingPartyProblems, run by the
 * service block in src/config/schema.ts. The exchange itself: src/gateway/tts.ts, src/txn/exchange.ts.
 */
import * as z from 'zod';
import { parseWorkloadId, workloadOrigin } from '../identity/workload-id.ts';
import { DEFAULT_RELYING_PARTY_TOKEN_LIFETIME_SECONDS, MAX_CONFIG_LIST_ENTRIES, MAX_RELYING_PARTY_TOKEN_LIFETIME_SECONDS } from '../limits.ts';

const scopeToken = z.string().min(1).max(256).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be an RFC 6749 scope-token (printable ASCII, no space, quote or backslash)');
const unique = <T>(list: T[]) => new Set(list).size === list.length;

export const relyingPartySchema = z.strictObject({
  lifetimeSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_RELYING_PARTY_TOKEN_LIFETIME_SECONDS)
    .default(DEFAULT_RELYING_PARTY_TOKEN_LIFETIME_SECONDS)
    .describe(`Lifetime of a token for this relying party, in seconds (never past the requester's WIT exp, nor keyRotationSeconds − 300). Default ${DEFAULT_RELYING_PARTY_TOKEN_LIFETIME_SECONDS}, at most ${MAX_RELYING_PARTY_TOKEN_LIFETIME_SECONDS}.`),
  scopes: z
    .array(scopeToken)
    .min(1)
    .max(MAX_CONFIG_LIST_ENTRIES)
    .refine(unique, 'must not repeat a scope')
    .optional()
    .describe('Scopes a requester may ask for (a request names a subset in `scope`; the token\'s `scope` claim is what was asked). Default none: tokens carry no scope and a request naming one gets invalid_scope.'),
  requesters: z
    .array(z.string().min(1).max(2048))
    .min(1)
    .max(MAX_CONFIG_LIST_ENTRIES)
    .refine(unique, 'must not repeat a requester')
    .optional()
    .describe('Who may obtain tokens for this relying party: workload identifiers or trust domain origins, each within service.requesters. Default: every service requester. Others get 400 unauthorized_client.'),
});

export const relyingPartiesSchema = z
  .record(z.string().min(1).max(2048).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'), relyingPartySchema)
  .refine((record) => Object.keys(record).length > 0, 'must name at least one relying party')
  .describe('Secondary credentials: an authenticated requester exchanges its own WIT (subject_token, subject_token_type urn:ietf:params:oauth:token-type:jwt) for a JWT aimed at one of these relying parties (requested_token_type urn:ietf:params:oauth:token-type:jwt, audience = the key here): iss = publicUrl\'s origin, sub = the workload, aud = the relying party, signed with the Txn-Token keys published at /.well-known/jwks.json. Needs auth.wit.');

export type RelyingPartyConfig = z.output<typeof relyingPartySchema>;

/** The service fields relyingPartyProblems reads (before or after parsing). */
interface ServiceShape {
  auth?: { wit?: unknown };
  requesters?: unknown;
  relyingParties?: Record<string, { requesters?: unknown } | undefined>;
}

/**
 * Cross-field rules of `service.relyingParties`: the exchanged credential is a WIT, so the service needs auth.wit;
 * a relying party's requesters narrow service.requesters (each a workload identifier or trust domain origin that a
 * service requester covers: itself, or its trust domain origin), since a requester outside those never gets that far.
 */
export function relyingPartyProblems(service: ServiceShape, ctx: z.RefinementCtx): void {
  const parties = service.relyingParties;
  if (parties === undefined) return;
  if (service.auth?.wit === undefined) ctx.addIssue({ code: 'custom', path: ['relyingParties'], message: 'needs auth.wit: the credential exchanged is the requester\'s WIT' });
  const allowed = new Set(Array.isArray(service.requesters) ? service.requesters.filter((r): r is string => typeof r === 'string') : []);
  for (const [audience, party] of Object.entries(parties)) {
    const list = Array.isArray(party?.requesters) ? party.requesters : [];
    list.forEach((entry: unknown, i) => {
      if (typeof entry !== 'string') return;
      const parsed = parseWorkloadId(entry);
      const origin = parsed.ok ? workloadOrigin(parsed.value) : /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+$/.test(entry) ? entry : undefined;
      const where = ['relyingParties', audience, 'requesters', i];
      if (origin === undefined) ctx.addIssue({ code: 'custom', path: where, message: 'neither a workload identifier nor a trust domain origin' });
      else if (!allowed.has(entry) && !allowed.has(origin)) ctx.addIssue({ code: 'custom', path: where, message: 'not within service.requesters (a relying party\'s requesters narrow them)' });
    });
  }
}

/** Whether a requester (its workload identifier and trust domain origin) is allowed for a relying party. */
export function relyingPartyAllows(party: RelyingPartyConfig, workloadId: string, trustDomain: string | undefined): boolean {
  if (party.requesters === undefined) return true;
  return party.requesters.includes(workloadId) || (trustDomain !== undefined && party.requesters.includes(trustDomain));
}
