/**
 * The authentication stage: turns the credentials a request presents into a Principal, or into a refusal with a
 * stable code, the status and the `WWW-Authenticate` challenges for the wire (rendered by errors.ts).
 *
 * WIT + WPT (draft-ietf-wimse-workload-creds-02 §3, §5.1; draft-ietf-wimse-wpt-02 §2, §3; -01 carriage per route):
 *   1. credentials.ts picks and extracts the fields (exactly one of each, no lists).
 *   2. The trust domain is read from the WIT's `sub` (parsed, not trusted) and must be one the route accepts; its
 *      policy (algorithms, issuers, lifetimes, skew) and keys come from `config.trustDomains` through the
 *      TrustKeySource port, by `kid`: never from a URL or key in a token. A WIT from any other trust domain fails
 *      at the key step (ERR_WIT_KEY_NOT_FOUND) after the verifier's earlier checks.
 *   3. verifyWit, unless the per-isolate hot cache (keyed by the token itself) or `state.cache` (keyed by its
 *      hash and a hash of the trustDomains config, so changed keys or policy never serve old results) holds
 *      the VerifiedWit; both keep it until the WIT's `exp`.
 *   4. verifyWpt with the route's audience (configured, default publicUrl + mount; or the request's URL on
 *      publicUrl: never Host), the WPT lifetime limit, `Txn-Token` for `tth`, the -01 access token for `ath`, and
 *      `state.replay` (Durable Objects on Workers). Proofs are never cached. No `oth` token is understood yet, so
 *      a proof naming one is refused (wpt-02 §2 step 12).
 * JWT-SVID (SPIFFE JWT-SVID §3, Appendix A): the trust domain from `sub` likewise (spiffe:// only), audience the
 * route's configured one (default publicUrl + mount), verifyJwtSvid. Not cached (a cheap bearer check, and the
 * route-specific audience would have to be part of the key).
 * X509-SVID (mTLS, only when no application-layer credential is presented): the leaf's trust domain is read once
 * (leafTrustDomain, leaf only, not trusted), must be one the route accepts (else ERR_X509_TRUST_DOMAIN_MISMATCH),
 * and the chain is verified once against that trust domain's bundle. Successes are kept per isolate, keyed by the
 * SHA-256 of the length-framed chain DER, until min(validUntil, now + X509_SVID_CACHE_MAX_TTL_MS); a hit still
 * needs its trust domain accepted on the route. Failures are never cached.
 *
 * Does NOT: revoke, authorize, or decide what the upstream receives (credentials are stripped by headers.ts).
 */
import { ASYMMETRIC_JWS_ALGORITHMS, SPIFFE_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { parseCompactJwt } from '../crypto/jws.ts';
import type { GatewayConfig, RouteConfig, TrustDomainConfig } from '../config/schema.ts';
import type { Principal } from '../identity/principal.ts';
import { parseWorkloadId, workloadOrigin } from '../identity/workload-id.ts';
import { HOT_WIT_CACHE_ENTRIES, MAX_JWT_SVID_BYTES, MAX_WIT_BYTES, X509_SVID_CACHE_ENTRIES, X509_SVID_CACHE_MAX_TTL_MS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { ExpiringMap } from '../state/memory.ts';
import type { StatePorts } from '../state/ports.ts';
import type { Background, TrustKey, TrustKeySource } from '../trust/key-source.ts';
import { wptFailureStatus, type WitErrorCode } from '../verify/errors.ts';
import { verifyJwtSvid, type JwtSvidPolicy } from '../verify/jwt-svid.ts';
import { verifyWit, type VerifiedWit, type WitPolicy } from '../verify/wit.ts';
import { verifyWimseSignature, type VerifiedWimseSignature } from '../verify/wimse-signature.ts';
import { verifyWpt } from '../verify/wpt.ts';
import { parseX509Bundle } from '../x509/bundle.ts';
import { leafTrustDomain, verifyX509Svid, type VerifiedX509Svid } from '../x509/verify-svid.ts';
import { presentedCertificate } from './client-certificate.ts';
import { extractCredentials, type Accepts, type Carriage } from './credentials.ts';
import { oauthRoute, type OAuthPorts, type OAuthRoute } from './oauth.ts';
import { defaultResource } from '../config/schema.ts';
import type { AuthErrorCode } from './errors.ts';

export type AuthOutcome =
  | {
      ok: true;
      principal: Principal;
      /** With an HTTP signature: what it established (its nonce and whether a signed response was asked for). */
      signature?: VerifiedWimseSignature;
      /** Response fields to add (a fresh `DPoP-Nonce`). */
      headers?: Record<string, string>;
    }
  | {
      ok: false;
      code: AuthErrorCode | 'ERR_BODY_TOO_LARGE';
      /** For the audit event only. */
      detail: string;
      /** Overrides the code's table status (WPT failures with the -01 carriage are 400). */
      status?: number;
      challenges: string[];
      /** Further response fields (`DPoP-Nonce`). */
      headers?: Record<string, string>;
    };

/**
 * Authenticates one request on one route; `path` is the request path as sent (for the target-URI audience);
 * `background` receives work that may outlive the response (a key set refresh; `waitUntil` on Workers).
 */
export type RouteAuthenticator = ((request: Request, path: string, extras?: AuthExtras) => Promise<AuthOutcome>) & {
  /** The route's OAuth side, when it accepts access tokens: per-operation scope and step-up checks, metadata. */
  oauth?: OAuthRoute;
};

/** The outcome of reading a signed request's body (bounded by the route's limit). */
export type BodyRead = { ok: true; body: Uint8Array<ArrayBuffer> | undefined } | { ok: false; code: 'ERR_BODY_TOO_LARGE'; detail: string };

export interface AuthExtras {
  background?: Background;
  /** The connection's peer address, to decide whether RFC 9440 Client-Cert fields come from a trusted proxy. */
  clientAddress?: string;
  /** Reads the request body whole (bounded), for an HTTP signature's Content-Digest; called only once the WIT verified. */
  readBody?: () => Promise<BodyRead>;
}

export interface AuthenticateDeps {
  config: GatewayConfig;
  publicUrl: URL;
  keys: TrustKeySource;
  state: StatePorts;
  /** Epoch milliseconds. */
  now: () => number;
  /** Access token checking, for routes with `auth.oauth`. */
  oauth?: OAuthPorts;
}

/**
 * Part of the shared WIT cache key (state.cache outlives deployments on Workers): bump it whenever verifyWit's
 * rules change, so a WIT accepted under older rules is verified again rather than served from the cache.
 */
const WIT_CACHE_RULES = 'wit-rules-2026-11-29d';

/** A cached WIT remembers the trust anchor key that verified it: a hit counts only while that key is still trusted. */
type CachedWit = VerifiedWit & { anchorThumbprint: string };

/** Policy for a WIT whose trust domain the route does not accept: every algorithm, so the key step reports it. */
const UNKNOWN_DOMAIN_WIT_POLICY: WitPolicy = { algorithms: ASYMMETRIC_JWS_ALGORITHMS };
const UNKNOWN_DOMAIN_SVID_POLICY: JwtSvidPolicy = { algorithms: SPIFFE_JWS_ALGORITHMS };

/** Returns a factory of per-route authenticators sharing the WIT cache namespace; `undefined` for public routes. */
export function authenticators(deps: AuthenticateDeps): (route: RouteConfig) => RouteAuthenticator | undefined {
  const domains: Record<string, TrustDomainConfig> = deps.config.trustDomains ?? {};
  let namespace: Promise<string> | undefined;
  // The policy a cached WIT passed depends on the trust domains and on this gateway's own audience (a WIT's
  // `aud`): gateways with another publicUrl sharing a store must not take each other's results.
  const cacheNamespace = () => (namespace ??= sha256b64url(JSON.stringify([WIT_CACHE_RULES, deps.publicUrl.origin, domains])).then((h) => h.slice(0, 22)));
  // In front of state.cache, per isolate and keyed by the token itself: a hit costs no digest (on Node each
  // Web Crypto call is a thread-pool hop) and, on Workers, no Durable Object round trip.
  // A WIT that carries `aud` must name the gateway itself (its public origin): the same on every route, so
  // cached WITs stay valid for all routes that accept their trust domain.
  const gatewayAudiences = [deps.publicUrl.origin, `${deps.publicUrl.origin}/`];
  const hotWits = new ExpiringMap<CachedWit>({ maxEntries: HOT_WIT_CACHE_ENTRIES, maxKeyLength: MAX_WIT_BYTES, now: deps.now });
  // Verified client certificate chains, shared by all routes: a result depends only on the chain and on its trust
  // domain's bundle and skew (config, fixed for this gateway); each route checks it accepts the trust domain.
  const verifiedChains = new ExpiringMap<VerifiedX509Svid>({ maxEntries: X509_SVID_CACHE_ENTRIES, now: deps.now });

  return (route) => {
    const auth = route.auth;
    if (!auth) return undefined;
    const origin = deps.publicUrl.origin;
    const mountAudience = `${origin}${route.path}`;
    const witConfig = auth.wit;
    const svidConfig = auth.jwtSvid;
    const carriage: Carriage = witConfig?.carriage ?? 'authorization';
    const accepts: Accepts = {};
    const proofs = new Set(witConfig?.proofs ?? []);
    if (witConfig) accepts.wit = { carriage, wpt: proofs.has('wpt'), httpSig: proofs.has('http-sig') };
    if (svidConfig) accepts.jwtSvid = true;
    const witDomains = new Set(witConfig?.trustDomains ?? []);
    const svidDomains = new Set(svidConfig?.trustDomains ?? []);
    const mtlsConfig = auth.mtls;
    // Each accepted trust domain's X.509 bundle by trust domain name, parsed once (config validation has checked it parses).
    const bundles = new Map((mtlsConfig?.trustDomains ?? []).flatMap((origin) => {
      const parsed = parseX509Bundle((domains[origin]?.x509Authorities ?? []).join('\n'));
      const name = origin.slice('spiffe://'.length);
      return parsed.ok ? [[name, { origin, bundle: parsed.value }] as const] : [];
    }));

    const oauthConfig = auth.oauth;
    if (oauthConfig && !deps.oauth) throw new TypeError(`route ${route.path} accepts access tokens, and no OAuth ports were given`);
    const oauth = oauthConfig ? oauthRoute(oauthConfig, oauthConfig.resource ?? defaultResource(deps.publicUrl.href, route.path)!, deps.oauth!) : undefined;
    // RFC 9110 §11.6.1: a 401 names every scheme the route accepts. The -01 carriage defines no scheme; `WPT`
    // (registered by -02) still tells the caller that a workload proof is expected. Bearer / DPoP come first: MCP
    // clients read only the first challenge (mcp-a2a notes §1.4).
    const wptChallenge = proofs.has('wpt') ? ['WPT'] : [];
    const bearerChallenge = svidConfig ? ['Bearer'] : [];
    const missingChallenges = [...(oauth?.missingChallenges ?? []), ...wptChallenge, ...bearerChallenge];
    const refuse = (code: AuthErrorCode, detail: string, family: 'wit' | 'wpt' | 'http-sig' | 'jwt-svid' | 'none'): AuthOutcome => {
      switch (family) {
        case 'wit':
        case 'http-sig':
          return { ok: false, code, detail, challenges: [] };
        case 'wpt':
          if (isInfrastructure(code)) return { ok: false, code, detail, challenges: [] };
          return carriage === 'authorization'
            ? { ok: false, code, detail, status: wptFailureStatus('authorization'), challenges: missingChallenges }
            : { ok: false, code, detail, status: wptFailureStatus('header'), challenges: [] };
        case 'jwt-svid':
          if (isInfrastructure(code)) return { ok: false, code, detail, challenges: [] };
          return { ok: false, code, detail, challenges: ['Bearer error="invalid_token"', ...wptChallenge] };
        case 'none':
          // A route that takes only HTTP signatures has no authentication scheme to challenge with (a 401 needs
          // one, RFC 9110 §15.5.2): the draft's 400 says what is missing instead.
          if (missingChallenges.length === 0) return { ok: false, code: proofs.has('http-sig') ? 'ERR_HTTPSIG_MISSING' : 'ERR_CLIENT_CERT_MISSING', detail, challenges: [] };
          return { ok: false, code, detail, challenges: missingChallenges };
      }
    };

    /**
     * A cached WIT counts while its trust domain is accepted here and the key that verified it is still the
     * trust domain's key under that kid (a key rotated out at a remote source stops serving cached results).
     */
    const cachedProblem = async (hit: CachedWit, background: Background | undefined): Promise<Result<VerifiedWit, WitErrorCode> | 'stale' | undefined> => {
      const hitOrigin = workloadOrigin(hit.subject);
      if (!witDomains.has(hitOrigin)) return fail('ERR_WIT_KEY_NOT_FOUND', `trust domain ${hitOrigin} is not accepted on this route`);
      const anchor = await deps.keys.key(hitOrigin, hit.keyId, 'wit', background).catch(() => undefined);
      return anchor?.thumbprint === hit.anchorThumbprint ? undefined : 'stale';
    };

    /** The verified WIT, from the cache or the verifier; `cacheWrite` settles when a fresh result is stored. */
    const verifiedWit = async (token: string, background: Background | undefined): Promise<{ result: Result<VerifiedWit, WitErrorCode>; tokenHash?: string; cacheWrite?: Promise<void> }> => {
      const now = deps.now();
      const hot = token.length <= MAX_WIT_BYTES ? hotWits.get(token) : undefined;
      if (hot) {
        const problem = await cachedProblem(hot, background);
        // Entries are stored under the exact token they were verified from, so tokenHash is that token's hash.
        if (problem === undefined) return { result: ok(hot), tokenHash: hot.tokenHash };
        if (problem !== 'stale') return { result: problem };
        hotWits.delete(token);
      }
      const hash = token.length <= MAX_WIT_BYTES ? await sha256b64url(token) : undefined;
      const cacheKey = hash === undefined ? undefined : `wit:${await cacheNamespace()}:${hash}`;
      if (cacheKey !== undefined && !hot) {
        const hit = await deps.state.cache.get<CachedWit>(cacheKey).catch(() => undefined);
        if (hit && hit.tokenHash === hash && typeof hit.expiresAt === 'number' && hit.expiresAt > now && hit.subject && typeof hit.subjectHash === 'string' && typeof hit.anchorThumbprint === 'string') {
          const problem = await cachedProblem(hit, background);
          if (problem === undefined) {
            hotWits.set(token, hit, hit.expiresAt - now);
            return { result: ok(hit), tokenHash: hash };
          }
          if (problem !== 'stale') return { result: problem };
        }
      }
      const claimed = claimedOrigin(token, MAX_WIT_BYTES);
      const td = claimed !== undefined && witDomains.has(claimed) ? domains[claimed] : undefined;
      let anchor: TrustKey | undefined;
      const result = await verifyWit(token, {
        keys: async (_name, kid, subject) => {
          if (!td || workloadOrigin(subject) !== claimed) return undefined;
          anchor = await deps.keys.key(claimed, kid, 'wit', background);
          return anchor?.jwk;
        },
        policy: td ? witPolicy(td, gatewayAudiences) : UNKNOWN_DOMAIN_WIT_POLICY,
        now: deps.now,
      });
      if (!result.ok) {
        if (result.code === 'ERR_WIT_KEY_NOT_FOUND' && !td && claimed !== undefined) return { result: fail(result.code, `trust domain ${claimed} is not accepted on this route`) };
        return { result };
      }
      const ttl = result.value.expiresAt - now;
      if (cacheKey === undefined || ttl <= 0 || !anchor) return { result, ...(hash ? { tokenHash: hash } : {}) };
      const entry: CachedWit = { ...result.value, anchorThumbprint: anchor.thumbprint };
      // Awaited by the caller after the proof check, so the two overlap; a failed write only costs a re-verify later.
      hotWits.set(token, entry, ttl);
      return { result, ...(hash ? { tokenHash: hash } : {}), cacheWrite: deps.state.cache.set(cacheKey, entry, ttl).catch(() => {}) };
    };

    /** mTLS (X509-SVID): the presented chain validated once, against the bundle of the leaf's trust domain. */
    const certificateOutcome = async (chain: Uint8Array[]): Promise<AuthOutcome> => {
      const cacheKey = await chainHash(chain);
      let svid = verifiedChains.get(cacheKey);
      if (!svid) {
        const name = leafTrustDomain(chain);
        if (!name.ok) return refuse(name.code, name.detail, 'wit');
        const accepted = bundles.get(name.value);
        if (!accepted) {
          if (bundles.size === 0) return refuse('ERR_X509_UNTRUSTED', 'no trust domain accepts client certificates here', 'wit');
          return refuse('ERR_X509_TRUST_DOMAIN_MISMATCH', 'the SPIFFE ID is in a trust domain this route does not accept', 'wit');
        }
        const now = deps.now();
        const verified = await verifyX509Svid(chain, { trustDomain: name.value, bundle: accepted.bundle, now: () => now, clockSkewSeconds: domains[accepted.origin]?.clockSkewSeconds });
        if (!verified.ok) return refuse(verified.code, verified.detail, 'wit');
        svid = verified.value;
        const ttl = Math.min(svid.validUntil - now, X509_SVID_CACHE_MAX_TTL_MS);
        if (ttl > 0) verifiedChains.set(cacheKey, svid, ttl);
      } else if (!bundles.has(svid.trustDomain)) {
        return refuse('ERR_X509_TRUST_DOMAIN_MISMATCH', 'the SPIFFE ID is in a trust domain this route does not accept', 'wit');
      }
      return {
        ok: true,
        principal: {
          workloadId: svid.spiffeId.uri,
          trustDomain: workloadOrigin(svid.spiffeId),
          credential: 'x509-svid',
          keyThumbprint: svid.thumbprint,
          expiresAt: new Date(svid.notAfter).toISOString(),
          tokenHash: svid.thumbprint,
        },
      };
    };

    const workloadAuth = async (request: Request, path: string, extras: AuthExtras = {}): Promise<AuthOutcome> => {
      const { background } = extras;
      const presented = extractCredentials(request.headers, accepts);
      if (!presented.ok && presented.code === 'ERR_CREDENTIALS_MISSING' && mtlsConfig) {
        // No application-layer credential: the TLS client certificate, when the route takes one.
        const chain = presentedCertificate(request, mtlsConfig, extras.clientAddress);
        if (!chain.ok) return refuse(chain.code, chain.detail, 'wit');
        if (chain.value) return certificateOutcome(chain.value);
      }
      if (!presented.ok) {
        const code = presented.code;
        const family = code === 'ERR_WIT_MALFORMED' || code === 'ERR_WIT_MISSING' ? 'wit'
          : code === 'ERR_HTTPSIG_MISSING' ? 'http-sig'
          : code === 'ERR_WPT_MALFORMED' || code === 'ERR_WPT_MISSING' ? 'wpt'
          : code === 'ERR_JWT_SVID_MALFORMED' ? 'jwt-svid' : 'none';
        return refuse(code, presented.detail, family);
      }
      const creds = presented.value;

      if (creds.kind === 'jwt-svid') {
        const claimed = claimedOrigin(creds.token, MAX_JWT_SVID_BYTES);
        const td = claimed !== undefined && svidDomains.has(claimed) ? domains[claimed] : undefined;
        const result = await verifyJwtSvid(creds.token, {
          keys: async (_name, kid, subject) => (td && workloadOrigin(subject) === claimed ? (await deps.keys.key(claimed, kid, 'jwt-svid', background))?.jwk : undefined),
          audience: svidConfig?.audience ?? mountAudience,
          policy: td ? svidPolicy(td) : UNKNOWN_DOMAIN_SVID_POLICY,
          now: deps.now,
        });
        if (!result.ok) {
          const detail = result.code === 'ERR_JWT_SVID_KEY_NOT_FOUND' && !td && claimed !== undefined ? `trust domain ${claimed} is not accepted on this route` : result.detail;
          return refuse(result.code, detail, 'jwt-svid');
        }
        const svid = result.value;
        const principal: Principal = {
          workloadId: svid.subject.uri,
          trustDomain: workloadOrigin(svid.subject),
          credential: 'jwt-svid',
          expiresAt: new Date(svid.expiresAt).toISOString(),
          tokenHash: svid.tokenHash,
        };
        if (svid.issuer !== undefined) principal.issuer = svid.issuer;
        return { ok: true, principal };
      }

      const { result: wit, tokenHash, cacheWrite } = await verifiedWit(creds.wit, background);
      if (!wit.ok) return refuse(wit.code, wit.detail, 'wit');
      const subjectOrigin = workloadOrigin(wit.value.subject);
      const td = domains[subjectOrigin];
      const audiences = [witConfig?.audience ?? mountAudience];
      const target = `${origin}${path}`;
      if (!audiences.includes(target)) audiences.push(target);
      const principal: Principal = {
        workloadId: wit.value.subject.uri,
        trustDomain: subjectOrigin,
        credential: creds.kind,
        keyThumbprint: wit.value.confirmationThumbprint,
        expiresAt: new Date(wit.value.expiresAt).toISOString(),
        tokenHash: wit.value.tokenHash,
      };
      if (wit.value.issuer !== undefined) principal.issuer = wit.value.issuer;

      if (creds.kind === 'wit+http-sig') {
        const read = extras.readBody ? await extras.readBody() : ({ ok: true, body: undefined } as const);
        if (!read.ok) {
          await cacheWrite;
          return { ok: false, code: read.code, detail: read.detail, challenges: [] };
        }
        const signed = await verifyWimseSignature({
          wit: wit.value,
          message: { method: request.method, url: request.url, headers: request.headers },
          ...(read.body ? { body: read.body } : {}),
          audience: audiences,
          version: witConfig?.httpSignature?.version ?? '07',
          replay: deps.state.replay,
          policy: { maxLifetimeSeconds: witConfig?.httpSignature?.maxLifetimeSeconds, clockSkewSeconds: td?.clockSkewSeconds },
          now: deps.now,
        });
        await cacheWrite;
        if (!signed.ok) return isInfrastructure(signed.code) ? { ok: false, code: signed.code, detail: signed.detail, challenges: [] } : refuse(signed.code, signed.detail, 'http-sig');
        return { ok: true, principal, signature: signed.value };
      }

      const proofContext: Parameters<typeof verifyWpt>[1] = {
        wit: wit.value,
        witToken: creds.wit,
        // Hashed from creds.wit above for the cache lookup: verifyWpt need not digest the WIT again.
        ...(tokenHash ? { witTokenHash: tokenHash } : {}),
        audience: audiences,
        carriage: creds.carriage,
        replay: deps.state.replay,
        policy: { maxLifetimeSeconds: witConfig?.maxWptLifetimeSeconds, clockSkewSeconds: td?.clockSkewSeconds },
        now: deps.now,
      };
      if (creds.accessToken !== undefined) proofContext.accessToken = creds.accessToken;
      if (creds.txnToken !== undefined) proofContext.txnToken = creds.txnToken;
      const proof = await verifyWpt(creds.proof, proofContext);
      await cacheWrite;
      if (!proof.ok) return refuse(proof.code, proof.detail, 'wpt');
      return { ok: true, principal };
    };

    if (!oauth) return workloadAuth;
    /**
     * With `auth.oauth`: every credential presented is verified. An access token alone authenticates (unless
     * `withWorkload`); a workload credential with a token gives a principal holding both (the acting workload and
     * the user). A -01 WPT binds a Bearer token through `ath`; an HTTP signature covers Authorization (the
     * verifiers check both), so the token cannot be swapped under the workload's proof.
     */
    const authenticate: RouteAuthenticator = async (request, path, extras = {}) => {
      const tokenPresented = oauth.presents(request);
      const workloadPresented = presentsWorkload(request.headers, accepts);
      if (!workloadPresented && oauthConfig!.withWorkload) {
        if (!tokenPresented) return { ok: false, code: 'ERR_CREDENTIALS_MISSING', detail: 'no credential presented', challenges: missingChallenges };
        return { ok: false, code: 'ERR_WORKLOAD_CREDENTIAL_MISSING', detail: 'an access token without the workload credential this route also requires', challenges: wptChallenge };
      }
      if (!workloadPresented) {
        // Nothing at the application layer: an mTLS route may still take the client certificate.
        if (!tokenPresented && mtlsConfig) return workloadAuth(request, path, extras);
        const user = await oauth.authenticate(request, path, extras.background);
        if (!user.ok) return user.code === 'ERR_CREDENTIALS_MISSING' ? { ...user, challenges: missingChallenges } : user;
        const principal: Principal = { credential: 'access-token', issuer: user.user.issuer, expiresAt: user.user.expiresAt, tokenHash: user.user.tokenHash, user: user.user };
        if (user.user.dpopJkt !== undefined) principal.keyThumbprint = user.user.dpopJkt;
        return user.headers ? { ok: true, principal, headers: user.headers } : { ok: true, principal };
      }
      // The proof extractCredentials will verify: a WPT whenever one is sent (then signature fields are ignored).
      const wptSent = accepts.wit?.wpt === true && (carriage === 'header' ? request.headers.has('workload-proof-token') : /^wpt /i.test(request.headers.get('authorization') ?? ''));
      if (tokenPresented && wptSent && /^dpop /i.test(request.headers.get('authorization') ?? '')) {
        // wpt-01 §3.1 binds a Bearer token (ath); a DPoP token beside a WPT would be bound to nothing the WPT covers.
        return oauth.invalidRequest('a DPoP token with a WPT: a WPT binds Bearer tokens only (use an HTTP signature with DPoP)');
      }
      const workload = await workloadAuth(request, path, extras);
      if (!workload.ok || (!tokenPresented && !oauthConfig!.withWorkload)) return workload;
      const user = await oauth.authenticate(request, path, extras.background);
      if (!user.ok) return user;
      const principal: Principal = { ...workload.principal, user: user.user };
      const outcome: AuthOutcome = { ...workload, principal };
      if (user.headers) outcome.headers = user.headers;
      return outcome;
    };
    authenticate.oauth = oauth;
    return authenticate;
  };
}

/** Whether the request carries a workload credential at the application layer (a WIT, or a WIMSE signature). */
function presentsWorkload(headers: Headers, accepts: Accepts): boolean {
  if (!accepts.wit) return false;
  return headers.has('workload-identity-token') || (accepts.wit.httpSig && (headers.has('signature') || headers.has('signature-input'))) || (accepts.wit.carriage === 'authorization' && /^wpt /i.test(headers.get('authorization') ?? ''));
}

/**
 * The verified-chain cache key: base64url(SHA-256) over each certificate's DER preceded by its length (4 bytes, big
 * endian), so that two chains cut differently from the same bytes never share a key.
 */
async function chainHash(chain: readonly Uint8Array[]): Promise<string> {
  const framed = new Uint8Array(chain.reduce((sum, der) => sum + 4 + der.length, 0));
  const view = new DataView(framed.buffer);
  let offset = 0;
  for (const der of chain) {
    view.setUint32(offset, der.length);
    framed.set(der, offset + 4);
    offset += 4 + der.length;
  }
  return sha256b64url(framed);
}

/** Codes for failures of the gateway's own ports (503), which carry no challenge. */
function isInfrastructure(code: AuthErrorCode): boolean {
  return code === 'ERR_WPT_REPLAY_STORE_FAILED' || code === 'ERR_HTTPSIG_REPLAY_STORE_FAILED' || code === 'ERR_WIT_KEY_SOURCE_FAILED' || code === 'ERR_JWT_SVID_KEY_SOURCE_FAILED';
}

/**
 * The trust domain origin a token claims in `sub`, read without trusting it (only to choose which trust domain's
 * policy and keys to verify it with; the verifier re-derives it from the same `sub`). Undefined when unreadable.
 */
function claimedOrigin(token: string, maxBytes: number): string | undefined {
  if (token.length > maxBytes) return undefined;
  const parsed = parseCompactJwt(token);
  if (!parsed.ok || typeof parsed.value.claims.sub !== 'string') return undefined;
  const id = parseWorkloadId(parsed.value.claims.sub);
  return id.ok ? workloadOrigin(id.value) : undefined;
}

function witPolicy(td: TrustDomainConfig, audiences: readonly string[]): WitPolicy {
  return {
    audiences,
    algorithms: td.algorithms,
    confirmationAlgorithms: td.confirmationAlgorithms,
    profile: td.profile,
    issuers: td.issuers,
    maxLifetimeSeconds: td.maxWitLifetimeSeconds,
    clockSkewSeconds: td.clockSkewSeconds,
  };
}

function svidPolicy(td: TrustDomainConfig): JwtSvidPolicy {
  return { algorithms: td.algorithms, issuers: td.issuers, maxLifetimeSeconds: td.maxJwtSvidLifetimeSeconds, clockSkewSeconds: td.clockSkewSeconds };
}
