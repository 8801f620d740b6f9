/**
 * The `trustDomains` block of the config: for each trust domain the gateway accepts workloads from, the trust
 * anchor keys and the policy its credentials are checked with (draft-ietf-wimse-workload-creds-02 §3: "Consumers
 * MUST bind each trust domain to an authorized issuer (or set of issuers) and to the corresponding trust anchors
 * ... distributed via a secure out-of-band mechanism" — here, the config).
 *
 * Checked here: the key is a trust domain origin (`spiffe://td` or `wimse://td`, canonical, no path; see
 * src/identity/trust-domain.ts); the key set is an inline RFC 7517 JWK Set of PUBLIC signature keys, each with a
 * `kid` unique in the set, a key type and curve this project verifies with, coordinates of the right length, RSA
 * moduli of at least 2048 bits, no private or symmetric members, `use` (when present) `sig` or a SPIFFE bundle use
 * (`wit-svid`, `jwt-svid`), and an `alg` (when present) that fits the key and is in `algorithms`.
 * NOT checked here: that the coordinates lie on the curve (the key is imported on first use, and a key that does
 * not import fails that request as ERR_*_SIGNATURE_INVALID), and cross-field rules that need the whole document
 * (routes naming trust domains, SPIFFE-only profiles): src/config/schema.ts.
 *
 * Keys are inline (`jwks`) or kept elsewhere (`keySource`: a JWKS URL, a SPIFFE bundle endpoint or a file); a
 * fetched set is checked key by key when it arrives (src/trust/key-set.ts), with the same per-key rules.
 */
import * as z from 'zod';
import { ASYMMETRIC_JWS_ALGORITHMS, keyMismatch, privateMembers, SPIFFE_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import { isLoopbackHost } from '../client/transport.ts';
import { checkTrustDomainName } from '../identity/trust-domain.ts';
import { parseX509Bundle } from '../x509/bundle.ts';
import type { WorkloadIdScheme } from '../identity/workload-id.ts';
import {
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_KEY_MAX_STALE_SECONDS,
  DEFAULT_KEY_REFRESH_SECONDS,
  DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS,
  MAX_KEY_MAX_STALE_SECONDS,
  MAX_KEY_REFRESH_SECONDS,
  MIN_KEY_REFRESH_SECONDS,
  DEFAULT_JWT_SVID_MAX_LIFETIME_SECONDS,
  DEFAULT_WIT_MAX_LIFETIME_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_CONFIG_LIST_ENTRIES,
  MAX_JWT_SVID_LIFETIME_LIMIT_SECONDS,
  MAX_KID_LENGTH,
  MAX_X509_BUNDLE_CERTIFICATES,
  MAX_X509_PEM_BLOCK_CHARS,
  MAX_TRUST_DOMAIN_KEYS,
  MAX_WIT_LIFETIME_LIMIT_SECONDS,
} from '../limits.ts';

/** `spiffe://name` or `wimse://name`: a canonical trust domain origin, without path, port or userinfo. */
const ORIGIN_SHAPE = /^(spiffe|wimse):\/\/[^/?#]+$/;

export const trustDomainOrigin = z
  .string()
  .regex(ORIGIN_SHAPE, 'must be a trust domain origin: spiffe://<name> or wimse://<name>, without a path')
  .superRefine((value, ctx) => {
    if (!ORIGIN_SHAPE.test(value)) return; // reported by the regex
    const [scheme, name] = value.split('://') as [WorkloadIdScheme, string];
    const checked = checkTrustDomainName(scheme, name);
    if (!checked.ok) ctx.addIssue({ code: 'custom', message: `not a canonical trust domain: ${checked.detail}` });
  });

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url without padding');

/** Octets a base64url string without padding decodes to. */
const octets = (value: string) => Math.floor((value.length * 3) / 4);

const EC_COORDINATE_OCTETS: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };
const MIN_RSA_MODULUS_OCTETS = 256; // 2048 bits (RFC 7518 §3.3, §3.5)

/**
 * One public key of a JWK Set. Loose on purpose: a JWK may carry members this project does not use (`x5c`,
 * `x5t#S256`, ...), which are ignored; private members are refused explicitly below.
 */
export const trustAnchorJwk = z
  .looseObject({
    kty: z.enum(['EC', 'RSA', 'OKP']).describe('Key type; EC (P-256/384/521), RSA (>= 2048 bits) or OKP (Ed25519).'),
    kid: z.string().min(1).max(MAX_KID_LENGTH).describe('Key id, unique in the set: WITs and JWT-SVIDs select their key by it.'),
    use: z.enum(['sig', 'wit-svid', 'jwt-svid']).optional().describe('Absent or sig: any credential; wit-svid / jwt-svid (SPIFFE bundles): that credential only.'),
    alg: z.enum(ASYMMETRIC_JWS_ALGORITHMS).optional().describe('When present, the only algorithm this key verifies.'),
    key_ops: z.array(z.string()).optional(),
    crv: z.string().optional(),
    x: base64url.optional(),
    y: base64url.optional(),
    n: base64url.optional(),
    e: base64url.optional(),
  })
  .superRefine((jwk, ctx) => {
    for (const member of privateMembers(jwk)) {
      ctx.addIssue({ code: 'custom', path: [member], message: 'private or symmetric key member: a trust domain lists public keys only (remove it, and treat the key as exposed)' });
    }
    if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) ctx.addIssue({ code: 'custom', path: ['key_ops'], message: 'must include "verify"' });
    const need = (member: 'crv' | 'x' | 'y' | 'n' | 'e') => {
      if (jwk[member] === undefined) ctx.addIssue({ code: 'custom', path: [member], message: `required for kty ${jwk.kty}` });
      return jwk[member];
    };
    const refuse = (member: 'y' | 'n' | 'e' | 'x' | 'crv') => {
      if (jwk[member] !== undefined) ctx.addIssue({ code: 'custom', path: [member], message: `not a member of a kty ${jwk.kty} key` });
    };
    if (jwk.kty === 'EC') {
      const crv = need('crv');
      const size = crv === undefined ? undefined : EC_COORDINATE_OCTETS[crv];
      if (crv !== undefined && size === undefined) ctx.addIssue({ code: 'custom', path: ['crv'], message: 'must be P-256, P-384 or P-521' });
      for (const member of ['x', 'y'] as const) {
        const value = need(member);
        if (value !== undefined && size !== undefined && octets(value) !== size) ctx.addIssue({ code: 'custom', path: [member], message: `must encode ${size} octets for ${crv}` });
      }
      refuse('n');
      refuse('e');
    } else if (jwk.kty === 'OKP') {
      const crv = need('crv');
      if (crv !== undefined && crv !== 'Ed25519') ctx.addIssue({ code: 'custom', path: ['crv'], message: 'must be Ed25519' });
      const x = need('x');
      if (x !== undefined && octets(x) !== 32) ctx.addIssue({ code: 'custom', path: ['x'], message: 'must encode 32 octets for Ed25519' });
      refuse('y');
      refuse('n');
      refuse('e');
    } else if (jwk.kty === 'RSA') {
      const n = need('n');
      need('e');
      if (n !== undefined && octets(n) < MIN_RSA_MODULUS_OCTETS) ctx.addIssue({ code: 'custom', path: ['n'], message: 'RSA keys must be at least 2048 bits' });
      refuse('crv');
      refuse('x');
      refuse('y');
    }
    if (jwk.alg !== undefined) {
      const mismatch = keyMismatch(jwk, jwk.alg);
      if (mismatch) ctx.addIssue({ code: 'custom', path: ['alg'], message: mismatch });
    }
  });

const algorithmList = z.array(z.enum(ASYMMETRIC_JWS_ALGORITHMS)).min(1).max(ASYMMETRIC_JWS_ALGORITHMS.length);

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * A key set kept outside the config: fetched from a URL (a JWKS endpoint, or a SPIFFE bundle endpoint with the
 * https_web profile) or read from a file (Node, Deno and Bun; e.g. the bundle a SPIRE agent writes). The URL is
 * configuration: a key source is never taken from a token (workload-creds-02 §3). https only; plain http to a
 * loopback host alone, for local stacks. Caching and refresh: src/trust/remote-key-set.ts.
 */
const keySourceSchema = z
  .strictObject({
    url: z.string().max(2048).optional().describe('https URL of a JWK Set or SPIFFE bundle (http only for localhost / 127.0.0.0/8 / [::1]).'),
    file: z.string().min(1).max(4096).optional().describe('Path of a JWK Set or SPIFFE bundle file, relative to the config file. Not available on Workers.'),
    format: z.enum(['jwks', 'spiffe-bundle']).default('jwks').describe('jwks: RFC 7517 JWK Set (keys without use verify any credential). spiffe-bundle: SPIFFE bundle (use required: wit-svid, jwt-svid; spiffe_refresh_hint honoured).'),
    refreshSeconds: seconds(MIN_KEY_REFRESH_SECONDS, MAX_KEY_REFRESH_SECONDS).optional().describe(`Seconds between background refreshes. Default ${DEFAULT_KEY_REFRESH_SECONDS}; a SPIFFE bundle's spiffe_refresh_hint takes precedence (clamped to ${MIN_KEY_REFRESH_SECONDS}..${MAX_KEY_REFRESH_SECONDS}).`),
    unknownKidCooldownSeconds: seconds(1, 3600).optional().describe(`A token naming an unknown kid triggers a refetch at most this often. Default ${DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS}.`),
    maxStaleSeconds: seconds(60, MAX_KEY_MAX_STALE_SECONDS).optional().describe(`Last-known keys keep verifying this long after the last successful fetch while the source fails; then the trust domain fails closed. Default ${DEFAULT_KEY_MAX_STALE_SECONDS}.`),
  })
  .superRefine((source, ctx) => {
    if ((source.url === undefined) === (source.file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of url and file' });
      return;
    }
    if (source.url === undefined) return;
    const problem = fetchUrlProblem(source.url);
    if (problem) ctx.addIssue({ code: 'custom', path: ['url'], message: problem });
  });

/**
 * Why `value` cannot be a URL the gateway fetches trust material from (a key source, an authorization server's
 * issuer, `jwks_uri` or introspection endpoint), or undefined: absolute, https (plain http only to a loopback
 * host), no credentials or fragment, and no query unless `allowQuery`.
 */
export function fetchUrlProblem(value: string, { allowQuery = true }: { allowQuery?: boolean } = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.hash) return 'must not have a fragment';
  if (!allowQuery && url.search) return 'must not have a query';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must be https (plain http only to a loopback host): keys and answers fetched in clear text could be replaced on the way';
}

const SPIFFE_ALGS = new Set<string>(SPIFFE_JWS_ALGORITHMS);

export const trustDomainSchema = z
  .strictObject({
    keySource: keySourceSchema.optional().describe('Where the trust domain\'s keys come from, when not inline in jwks.'),
    x509Authorities: z
      .array(z.string().min(1).max(MAX_X509_PEM_BLOCK_CHARS))
      .min(1)
      .max(MAX_X509_BUNDLE_CERTIFICATES)
      .optional()
      .describe('PEM CA certificates of the trust domain\'s X.509 bundle (SPIFFE x509-svid authorities): client certificates on mtls routes are path-validated against them.'),
    jwks: z
      .strictObject({
        keys: z.array(trustAnchorJwk).min(1, 'must list at least one key').max(MAX_TRUST_DOMAIN_KEYS),
        spiffe_sequence: z.number().int().nonnegative().optional().describe('Kept from a pasted SPIFFE bundle; unused.'),
        spiffe_refresh_hint: z.number().int().nonnegative().optional().describe('Kept from a pasted SPIFFE bundle; unused.'),
      })
      .optional()
      .describe('Inline JWK Set (RFC 7517) of the trust domain\'s public signing keys; a SPIFFE bundle\'s JWK Set fits. Exactly one of jwks and keySource.'),
    algorithms: algorithmList.default(['ES256']).describe('JWS algorithms accepted for WIT and JWT-SVID signatures of this trust domain. Default ["ES256"]. JWT-SVIDs use only the SPIFFE ones (RS/ES/PS).'),
    confirmationAlgorithms: algorithmList.optional().describe('Algorithms accepted for a WIT\'s cnf.jwk.alg, i.e. for proofs (WPT). Default: algorithms.'),
    issuers: z.array(z.string().min(1).max(2048)).min(1).max(MAX_CONFIG_LIST_ENTRIES).optional().describe('When set, iss is required and must be one of these (workload-creds-02 §9.1).'),
    profile: z.literal('wit-svid').optional().describe('Check WITs against the SPIFFE WIT-SVID profile as well (kid required, RS/ES/PS only, no aud). spiffe:// trust domains only.'),
    clockSkewSeconds: z.number().int().min(0).max(MAX_CLOCK_SKEW_SECONDS).optional().describe(`Seconds of clock difference tolerated on exp/nbf/iat. Default ${DEFAULT_CLOCK_SKEW_SECONDS}.`),
    maxWitLifetimeSeconds: z.number().int().positive().max(MAX_WIT_LIFETIME_LIMIT_SECONDS).optional().describe(`Longest WIT lifetime accepted. Default ${DEFAULT_WIT_MAX_LIFETIME_SECONDS}.`),
    maxJwtSvidLifetimeSeconds: z.number().int().positive().max(MAX_JWT_SVID_LIFETIME_LIMIT_SECONDS).optional().describe(`Longest JWT-SVID lifetime accepted. Default ${DEFAULT_JWT_SVID_MAX_LIFETIME_SECONDS}.`),
  })
  .superRefine((td, ctx) => {
    if (td.jwks !== undefined && td.keySource !== undefined) ctx.addIssue({ code: 'custom', message: 'set exactly one of jwks (inline keys) and keySource (a URL or file)' });
    if (td.jwks === undefined && td.keySource === undefined && td.x509Authorities === undefined) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of jwks (inline keys) and keySource (a URL or file), and/or x509Authorities (for mTLS)' });
    }
    if (td.x509Authorities !== undefined) {
      const bundle = parseX509Bundle(td.x509Authorities.join('\n'));
      if (!bundle.ok) ctx.addIssue({ code: 'custom', path: ['x509Authorities'], message: bundle.detail });
    }
    const seen = new Map<string, number>();
    (td.jwks?.keys ?? []).forEach((jwk, i) => {
      const first = seen.get(jwk.kid);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i, 'kid'], message: `duplicates jwks.keys[${first}].kid` });
      else seen.set(jwk.kid, i);
      if (jwk.alg !== undefined && !td.algorithms.includes(jwk.alg)) {
        ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i, 'alg'], message: `"${jwk.alg}" is not in algorithms, so this key could never verify` });
      } else if (jwk.alg === undefined && td.algorithms.every((alg) => keyMismatch(jwk, alg) !== undefined)) {
        ctx.addIssue({ code: 'custom', path: ['jwks', 'keys', i], message: 'the key fits none of algorithms' });
      }
    });
    if (td.profile === 'wit-svid') {
      for (const field of ['algorithms', 'confirmationAlgorithms'] as const) {
        const off = (td[field] ?? []).filter((alg) => !SPIFFE_ALGS.has(alg));
        if (off.length > 0) ctx.addIssue({ code: 'custom', path: [field], message: `the wit-svid profile allows RS/ES/PS algorithms only, not ${off.join(', ')}` });
      }
    }
  });

export const trustDomainsSchema = z
  .record(trustDomainOrigin, trustDomainSchema)
  .describe('Trust domains whose workloads may authenticate, keyed by origin (spiffe://name or wimse://name): their keys and credential policy.');

export type TrustDomainConfig = z.output<typeof trustDomainSchema>;
export type TrustDomainJwk = NonNullable<TrustDomainConfig['jwks']>['keys'][number];
export type KeySourceConfig = NonNullable<TrustDomainConfig['keySource']>;

/** Whether the trust domain's algorithms leave any for JWT-SVIDs (SPIFFE allows RS/ES/PS only). */
export function hasSpiffeAlgorithm(td: { algorithms?: readonly string[] }): boolean {
  return (td.algorithms ?? ['ES256']).some((alg) => SPIFFE_ALGS.has(alg));
}
