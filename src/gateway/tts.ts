/**
 * The built-in Transaction Token Service endpoint (`transactionTokens.service`): the trust domain's TTS token
 * endpoint (draft-ietf-oauth-transaction-tokens "Txn-Token Request" / "Txn-Token Response", an RFC 8693 profile),
 * served by the gateway before route matching at `service.path`.
 *
 *   1. POST only (else 405 with Allow: POST).
 *   2. Client authentication: the service's `auth` block (wit and/or mtls: the requester proves possession of its
 *      key, mutual authentication with the TTS's TLS) through the same authenticators as a route, built for a
 *      synthetic route mounted at `service.path` (a WPT's default audience is publicUrl + path). Failure: 401
 *      invalid_client with the authenticator's challenges (400 when the block has no challengeable scheme, 503 when
 *      a key source or replay store failed). The requester must then be in `requesters` (a workload identifier, or
 *      its trust domain origin): else 400 unauthorized_client.
 *   3. The body, read whole up to MAX_TTS_REQUEST_BYTES (413), checked by txn/exchange.ts.
 *   4. The subject token:
 *      - access_token: verified by an oauth.ts route checker for `subjectAudience` and `authorizationServers`: a JWT
 *        with the issuer's keys (verifyAccessToken, hot cache), else introspected at the one introspecting server.
 *        It is presented to that checker as a Bearer token, so a sender-constrained (DPoP) token is refused: the TTS
 *        cannot see the proof. Failures are invalid_grant (an expired token: ERR_TTS_SUBJECT_TOKEN_EXPIRED).
 *      - txn_token (replacement): verifyTxnToken with the gateway's own published keys and `trustDomain`, no clock
 *        skew (an expired token is refused); `txn`, `sub`, `aud` and `tctx` are kept, the lifetime never goes past
 *        the original's `exp`.
 *      Then draft rule 10: the requested scope ⊆ the subject's (invalid_scope).
 *   5. Claims (exchange.ts exchangeClaims), minted with the key ring; 200 { access_token, issued_token_type,
 *      token_type: "N_A", expires_in } with Cache-Control: no-store, never a refresh_token.
 * Federation (`service.federation`; draft-ietf-oauth-identity-chaining-17 §2.4, RFC 7523, draft-ni-cross-domain-
 * txn-token; the gateway as the entry point of its trust domain): a JWT authorization grant of a configured foreign
 * issuer, verified by txn/federation.ts (aud = grantAudience, default the service URL; single-use jti), becomes a
 * Txn-Token. Two ways in:
 *   a. RFC 7523 §2.1 `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<grant>[&scope=...]`. Client
 *      authentication is OPTIONAL for this grant: the foreign client is no workload of this trust domain and cannot
 *      hold its credentials, and the grant itself is audience-bound, short-lived and single-use (identity-chaining
 *      §5's replay mitigations). A request that presents no credential at all proceeds unauthenticated (and may not
 *      send request_context: an anonymous caller asserts nothing into rctx); one that presents the service's
 *      credentials has them verified exactly as in step 2 (invalid_client, unauthorized_client).
 *   b. Token exchange (step 2 as always) with `subject_token_type=urn:ietf:params:oauth:token-type:jwt` carrying the
 *      grant: a local workload that received a foreign grant (cross-domain-txn-token mode B) exchanges it.
 *   Scope (draft rule 10): ⊆ the grant's `scope` claim (none: invalid_scope) and ⊆ the issuer's `scopes`; the
 *   jwt-bearer grant's scope is OPTIONAL, and when absent the grant's scopes that the issuer may obtain are issued
 *   (and named in the response's `scope`, RFC 6749 §5.1). Claims: sub = prefix + the grant's sub; req_wl = the
 *   authenticated requester, else the grant's client_id, else its issuer; rctx.authn "jwt-bearer", rctx.grant_iss,
 *   rctx.req_ip; tctx from request_details; a fresh txn. Every grant failure answers invalid_grant (the audit reason
 *   is the ERR_GRANT_* code), a key source or replay store failure 503. A grant's jti is single-use through the
 *   gateway's replay store (state.replay).
 * Secondary credentials (`service.relyingParties`; the A2A auth framework draft's credential exchange: "a credential
 * targeted to a specific relying party" for a system that takes no WIT, X.509 or Txn-Token): a token exchange with
 * `requested_token_type=urn:ietf:params:oauth:token-type:jwt` and `audience` = a configured relying party (else
 * invalid_target), after steps 2–3 as always. Then:
 *   - the requester must be in the relying party's `requesters` when set (unauthorized_client);
 *   - the subject is the authenticated workload itself: `subject_token` (type jwt: RFC 8693 §3's generic JWT, no URN
 *     for a WIT being registered) must be exactly the WIT of the client authentication (its SHA-256 equals the
 *     principal's tokenHash; WIT+WPT or WIT+HTTP signature), so nothing is verified twice and no workload can obtain a
 *     token for another (invalid_grant; an mTLS-authenticated client has no WIT to present: the same refusal);
 *   - scope: what was asked, ⊆ the relying party's `scopes` (invalid_scope); none asked, none issued;
 *   - lifetime: the relying party's lifetimeSeconds, never past the WIT's exp, nor longer than keyRotationSeconds −
 *     MAX_CLOCK_SKEW_SECONDS (a key stays published at least one rotation period after it last signs);
 *   - mint/relying-party-token.ts signs with the Txn-Token key ring, so the one JWK Set at /.well-known/jwks.json
 *     serves both (typ "JWT" keeps it from ever passing as a Txn-Token); 200 { access_token, issued_token_type: jwt,
 *     token_type: "N_A", expires_in[, scope] }.
 * Errors are RFC 6749 §5.2 JSON { error, error_description } (fixed text, never input); the outcome returned to
 * app.ts carries the stable reason code, a detail and the principal for the audit event, never a token.
 */
import type { GatewayConfig, RouteConfig, TxnServiceConfig } from '../config/schema.ts';
import { defaultResource } from '../config/schema.ts';
import type { Principal } from '../identity/principal.ts';
import { MAX_TTS_REQUEST_BYTES } from '../limits.ts';
import { mintTxnToken } from '../mint/txn-token.ts';
import { readBounded } from '../read-bounded.ts';
import type { Background } from '../trust/key-source.ts';
import type { TxnKeyRing } from '../txn/key-ring.ts';
import { ACCESS_TOKEN_TYPE, exchangeClaims, grantScope, relyingPartyScope, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, parseTxnTokenRequest, requestGrantType, scopeProblem, TTS_ERRORS, TXN_TOKEN_TYPE, type ExchangeSubject, type TtsErrorCode, type TxnTokenRequest } from '../txn/exchange.ts';
import { verifyTxnToken } from '../verify/txn-token.ts';
import type { BodyRead, RouteAuthenticator } from './authenticate.ts';
import { declaredLengthExceeds } from './body-limit.ts';
import { errorSpec } from './errors.ts';
import { oauthRoute, type OAuthPorts } from './oauth.ts';
import type { AuthorizationServerConfig } from '../config/authorization-servers.ts';
import type { ReplayStore } from '../state/ports.ts';
import { authorizationServerKeys } from '../trust/authorization-server-keys.ts';
import type { TrustKeyPorts } from '../trust/key-source.ts';
import { GRANT_INFRASTRUCTURE_CODES, transcribeSubject, verifyAuthorizationGrant, type GrantIssuerPolicy } from '../txn/federation.ts';
import { relyingPartyAllows } from '../config/relying-parties.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { MAX_CLOCK_SKEW_SECONDS } from '../limits.ts';
import { mintRelyingPartyToken } from '../mint/relying-party-token.ts';

export interface TtsDeps {
  config: GatewayConfig;
  service: TxnServiceConfig;
  publicUrl: URL;
  /** The gateway's authenticator factory (authenticate.ts `authenticators(deps)`). */
  authenticatorFor: (route: RouteConfig) => RouteAuthenticator | undefined;
  /** Needed when `service.authorizationServers` is not empty. */
  oauth: OAuthPorts | undefined;
  keys: TxnKeyRing;
  now: () => number;
  /** Single use of federated grants' jti (`state.replay`). */
  replay: ReplayStore;
  /** For federation issuers' `jwksUri`: the cache shared across isolates and the fetch the gateway uses for key sets. */
  keyPorts: TrustKeyPorts;
}

export interface TtsExtras {
  requestId: string;
  clientAddress?: string;
  background?: Background;
}

/** The response, and what the audit event records. */
export interface TtsOutcome {
  response: Response;
  decision: 'allow' | 'deny' | 'error';
  reason: string;
  status: number;
  detail?: string;
  principal?: Principal;
}

/** The synthetic route the service's authenticator is built for: never matched, never proxied. */
export function ttsRoute(service: TxnServiceConfig): RouteConfig {
  return { path: service.path, protocol: 'http', upstream: 'http://tts.invalid/', auth: service.auth } as RouteConfig;
}

export function ttsHandler(deps: TtsDeps): (request: Request, extras: TtsExtras) => Promise<TtsOutcome> {
  const { service, now } = deps;
  const trustDomain = deps.config.transactionTokens!.trustDomain;
  const lifetime = deps.config.transactionTokens!.lifetimeSeconds;
  const authenticate = deps.authenticatorFor(ttsRoute(service))!;
  const subjectAudience = service.subjectAudience ?? defaultResource(deps.publicUrl.href, '/')!;
  // Subject access tokens are checked as a route checks its callers' (oauth.ts), Bearer only.
  const accessTokens =
    service.authorizationServers.length > 0 && deps.oauth
      ? oauthRoute({ authorizationServers: service.authorizationServers, dpop: 'disabled', dpopNonce: false, withWorkload: false, signedMetadata: false }, subjectAudience, deps.oauth)
      : undefined;
  const requesters = new Set(service.requesters);
  const subjectUrl = `${deps.publicUrl.origin}${service.path}`;
  // Federated issuers' keys are kept like authorization servers' (inline, or jwksUri through a RemoteKeySet).
  const federation = service.federation;
  const grantAudience = service.grantAudience ?? subjectUrl;
  const grantIssuers: Record<string, GrantIssuerPolicy> = {};
  const grantKeySources: Record<string, AuthorizationServerConfig> = {};
  for (const [iss, entry] of Object.entries(federation ?? {})) {
    grantIssuers[iss] = { algorithms: entry.algorithms, requireJti: entry.requireJti, ...(entry.maxLifetimeSeconds !== undefined ? { maxLifetimeSeconds: entry.maxLifetimeSeconds } : {}) };
    grantKeySources[iss] = { algorithms: entry.algorithms, ...(entry.jwks ? { jwks: entry.jwks } : {}), ...(entry.jwksUri ? { jwksUri: entry.jwksUri } : {}) };
  }
  const grantKeys = federation ? authorizationServerKeys(grantKeySources, deps.keyPorts) : undefined;
  const relyingParties = service.relyingParties;
  const relyingPartyNames = relyingParties ? new Set(Object.keys(relyingParties)) : undefined;
  const keyLifeSeconds = deps.config.transactionTokens!.keyRotationSeconds - MAX_CLOCK_SKEW_SECONDS;
  const replay = deps.replay;

  const answer = (requestId: string, status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', 'x-request-id': requestId, ...headers } });
  const refuse = (requestId: string, code: TtsErrorCode, detail: string, extra: { reason?: string; principal?: Principal; status?: number; headers?: Record<string, string> } = {}): TtsOutcome => {
    const spec = TTS_ERRORS[code];
    const status = extra.status ?? spec.status;
    const outcome: TtsOutcome = {
      response: answer(requestId, status, { error: spec.error, error_description: spec.description }, extra.headers),
      decision: status >= 500 ? 'error' : 'deny',
      reason: extra.reason ?? code,
      status,
      detail,
    };
    if (extra.principal) outcome.principal = extra.principal;
    return outcome;
  };

  const verifySubject = async (token: string, type: string, background: Background | undefined): Promise<{ ok: true; subject: ExchangeSubject; scopes: string[]; expiresAt: number } | { ok: false; code: TtsErrorCode; detail: string }> => {
    if (type === TXN_TOKEN_TYPE) {
      const published = await deps.keys.publicKeys().catch(() => undefined);
      if (!published) return { ok: false, code: 'ERR_TTS_UNAVAILABLE', detail: 'txn keys unavailable' };
      const verified = await verifyTxnToken(token, { keys: async (kid) => published.find((k) => k.kid === kid), audience: trustDomain, now, clockSkewSeconds: 0 });
      if (!verified.ok) return { ok: false, code: verified.code === 'ERR_TXN_TOKEN_EXPIRED' ? 'ERR_TTS_SUBJECT_TOKEN_EXPIRED' : 'ERR_TTS_SUBJECT_TOKEN_INVALID', detail: `${verified.code}: ${verified.detail}` };
      const t = verified.value;
      const subject: ExchangeSubject = { sub: t.sub, txn: t.txn, reqWl: t.reqWl };
      if (t.tctx) subject.tctx = t.tctx;
      if (t.rctx) subject.rctx = t.rctx;
      return { ok: true, subject, scopes: t.scope, expiresAt: t.exp };
    }
    if (!accessTokens) return { ok: false, code: 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', detail: 'no authorizationServers configured for access tokens' };
    const checked = await accessTokens.authenticate(new Request(subjectUrl, { headers: { authorization: `Bearer ${token}` } }), service.path, background);
    if (!checked.ok) {
      if (errorSpec(checked.code).status >= 500) return { ok: false, code: 'ERR_TTS_UNAVAILABLE', detail: `${checked.code}: ${checked.detail}` };
      const code: TtsErrorCode =
        checked.code === 'ERR_ACCESS_TOKEN_EXPIRED' ? 'ERR_TTS_SUBJECT_TOKEN_EXPIRED' : checked.code === 'ERR_ACCESS_TOKEN_DPOP_BOUND' || checked.code === 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH' ? 'ERR_TTS_SUBJECT_TOKEN_DPOP_BOUND' : 'ERR_TTS_SUBJECT_TOKEN_INVALID';
      return { ok: false, code, detail: `${checked.code}: ${checked.detail}` };
    }
    const expiresAt = Date.parse(checked.user.expiresAt);
    // Draft rule 3: never issue on an expired subject token (verifiers allow clock skew; the TTS does not).
    if (!(expiresAt > now())) return { ok: false, code: 'ERR_TTS_SUBJECT_TOKEN_EXPIRED', detail: 'the access token expired' };
    return { ok: true, subject: { sub: checked.user.subject }, scopes: checked.user.scopes, expiresAt };
  };

  /** A JWT authorization grant (jwt-bearer, or a jwt subject token), from an authenticated requester or anonymous. */
  const federated = async (extras: TtsExtras, requester: { principal: Principal; workloadId: string } | undefined, req: TxnTokenRequest): Promise<TtsOutcome> => {
    const { requestId } = extras;
    const principal = requester?.principal;
    const who = principal ? { principal } : {};
    if (!requester && req.requestContext !== undefined) return refuse(requestId, 'ERR_TTS_CONTEXT_UNAUTHENTICATED', 'request_context without client authentication');
    if (!grantKeys) return refuse(requestId, 'ERR_TTS_UNAVAILABLE', 'no replay store for the single use of grants', { ...who, reason: 'ERR_GRANT_REPLAY_STORE_FAILED' });
    const verified = await verifyAuthorizationGrant(req.subjectToken, {
      issuers: grantIssuers,
      keys: async (iss, kid) => (await grantKeys.key(iss, kid, extras.background))?.jwk,
      audience: grantAudience,
      replay,
      now,
    });
    if (!verified.ok) {
      const code: TtsErrorCode = GRANT_INFRASTRUCTURE_CODES.has(verified.code) ? 'ERR_TTS_UNAVAILABLE' : 'ERR_TTS_GRANT_INVALID';
      return refuse(requestId, code, verified.detail, { ...who, reason: verified.code });
    }
    const grant = verified.value;
    const entry = federation![grant.issuer]!;
    const scope = grantScope(req.scope, grant.scopes, entry.scopes);
    if (!scope.ok) return refuse(requestId, scope.code, scope.detail, who);
    const reqWl = requester?.workloadId ?? grant.clientId ?? grant.issuer;
    const claims = exchangeClaims(
      { ...req, scope: scope.value },
      { sub: transcribeSubject(grant.subject, entry.subject), grantIssuer: grant.issuer },
      { workloadId: reqWl, authn: 'jwt-bearer', ...(extras.clientAddress ? { clientAddress: extras.clientAddress } : {}) },
      trustDomain,
    );
    if (!claims.ok) return refuse(requestId, claims.code, claims.detail, who);
    let token: string;
    try {
      token = await mintTxnToken(claims.value, { key: await deps.keys.signingKey(), lifetimeSeconds: lifetime, now });
    } catch (error) {
      if (error instanceof RangeError) return refuse(requestId, 'ERR_TTS_CONTEXT_INVALID', error.message, who);
      return refuse(requestId, 'ERR_TTS_UNAVAILABLE', error instanceof Error ? error.message : 'signing key unavailable', { ...who, reason: 'ERR_TXN_TOKEN_UNAVAILABLE' });
    }
    // RFC 6749 §5.1: `scope` when it differs from the request (here: none was requested).
    const body: Record<string, unknown> = { access_token: token, issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A', expires_in: lifetime };
    if (req.scope.length === 0) body.scope = scope.value.join(' ');
    const via = req.jwtBearer ? 'jwt-bearer grant' : 'jwt subject';
    const outcome: TtsOutcome = { response: answer(requestId, 200, body), decision: 'allow', reason: 'TXN_TOKEN_ISSUED', status: 200, detail: `${via} of ${grant.issuer}${requester ? '' : ' (client not authenticated)'}, grant ${grant.tokenHash.slice(0, 16)}, scope ${scope.value.length} token(s), expires_in ${lifetime}` };
    if (principal) outcome.principal = principal;
    return outcome;
  };

  /** A secondary credential for a relying party (see the file comment), for an authenticated, listed requester. */
  const secondary = async (extras: TtsExtras, principal: Principal, workloadId: string, req: TxnTokenRequest): Promise<TtsOutcome> => {
    const { requestId } = extras;
    const audience = req.relyingParty!;
    const party = relyingParties![audience]!;
    if (!relyingPartyAllows(party, workloadId, principal.trustDomain)) return refuse(requestId, 'ERR_TTS_RELYING_PARTY_REQUESTER_NOT_ALLOWED', 'the workload is not among the relying party\'s requesters', { principal });
    const presentedWit = principal.credential === 'wit+wpt' || principal.credential === 'wit+http-sig';
    if (!presentedWit || (await sha256b64url(req.subjectToken)) !== principal.tokenHash) {
      return refuse(requestId, 'ERR_TTS_SUBJECT_NOT_REQUESTER', presentedWit ? 'subject_token is not the WIT the client authenticated with' : `the client authenticated with ${principal.credential}, not a WIT`, { principal });
    }
    const scope = relyingPartyScope(req.scope, party.scopes);
    if (!scope.ok) return refuse(requestId, scope.code, scope.detail, { principal });
    const nowS = Math.floor(now() / 1000);
    const witLeft = Math.floor(Date.parse(principal.expiresAt) / 1000) - nowS;
    const lifetimeSeconds = Math.min(party.lifetimeSeconds, keyLifeSeconds, witLeft);
    if (!(lifetimeSeconds >= 1)) return refuse(requestId, 'ERR_TTS_SUBJECT_TOKEN_EXPIRED', 'the WIT has less than a second left', { principal });
    let token: string;
    try {
      token = await mintRelyingPartyToken({ iss: deps.publicUrl.origin, sub: workloadId, aud: audience, scope: scope.value }, { key: await deps.keys.signingKey(), lifetimeSeconds, now });
    } catch (error) {
      return refuse(requestId, 'ERR_TTS_UNAVAILABLE', error instanceof Error ? error.message : 'signing key unavailable', { principal, reason: 'ERR_TXN_TOKEN_UNAVAILABLE' });
    }
    const body: Record<string, unknown> = { access_token: token, issued_token_type: JWT_TOKEN_TYPE, token_type: 'N_A', expires_in: lifetimeSeconds };
    if (scope.value.length > 0) body.scope = scope.value.join(' ');
    return { response: answer(requestId, 200, body), decision: 'allow', reason: 'RELYING_PARTY_TOKEN_ISSUED', status: 200, detail: `for relying party ${audience.slice(0, 256)}, scope ${scope.value.length} token(s), expires_in ${lifetimeSeconds}`, principal };
  };

  return async (request, extras) => {
    const { requestId } = extras;
    if (request.method !== 'POST') return refuse(requestId, 'ERR_TTS_METHOD_NOT_ALLOWED', `method ${request.method}`, { headers: { allow: 'POST' } });

    // The body is read once, bounded, and shared with an HTTP signature check (its Content-Digest).
    let body: Uint8Array | undefined;
    let bodyProblem: string | undefined;
    const readBody = async (): Promise<BodyRead> => {
      if (body !== undefined) return { ok: true, body: body as Uint8Array<ArrayBuffer> };
      if (declaredLengthExceeds(request.headers, MAX_TTS_REQUEST_BYTES)) {
        bodyProblem = `declared length over ${MAX_TTS_REQUEST_BYTES}`;
        return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: bodyProblem };
      }
      const read = await readBounded(request.body, MAX_TTS_REQUEST_BYTES).catch(() => null);
      if (!read) {
        bodyProblem = read === null ? 'the request body could not be read' : `body over ${MAX_TTS_REQUEST_BYTES}`;
        return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: bodyProblem };
      }
      body = read;
      return { ok: true, body: read };
    };

    // 2. client authentication, then the requester allow-list
    const authn = await authenticate(request, new URL(request.url).pathname, {
      readBody,
      ...(extras.background ? { background: extras.background } : {}),
      ...(extras.clientAddress ? { clientAddress: extras.clientAddress } : {}),
    });
    // Federation: a request presenting no credential at all may still be an RFC 7523 jwt-bearer grant (see above).
    let anonymous = false;
    if (!authn.ok && federation && NO_CREDENTIAL.has(authn.code) && !CREDENTIAL_FIELDS.some((name) => request.headers.has(name))) {
      const read = await readBody();
      if (!read.ok) return refuse(requestId, 'ERR_TTS_BODY_TOO_LARGE', read.detail);
      anonymous = requestGrantType(request.headers.get('content-type'), read.body ?? new Uint8Array()) === JWT_BEARER_GRANT;
    }
    if (!authn.ok && !anonymous) {
      if (authn.code === 'ERR_BODY_TOO_LARGE') return refuse(requestId, 'ERR_TTS_BODY_TOO_LARGE', bodyProblem ?? authn.detail);
      if (errorSpec(authn.code).status >= 500) return refuse(requestId, 'ERR_TTS_UNAVAILABLE', authn.detail, { reason: authn.code });
      // RFC 6749 §5.2: 401 with the scheme(s) the client can authenticate with; without one a 401 cannot be sent.
      const challenges = authn.challenges.length > 0 ? authn.challenges : service.auth.wit?.proofs.includes('wpt') ? ['WPT'] : [];
      return challenges.length > 0
        ? refuse(requestId, 'ERR_TTS_CLIENT_UNAUTHENTICATED', authn.detail, { reason: authn.code, headers: { 'www-authenticate': challenges.join(', ') } })
        : refuse(requestId, 'ERR_TTS_CLIENT_UNAUTHENTICATED', authn.detail, { reason: authn.code, status: 400 });
    }
    if (!authn.ok) {
      // Anonymous jwt-bearer grant (the body was read above).
      const parsed = parseTxnTokenRequest(request.headers.get('content-type'), body ?? new Uint8Array(), trustDomain, { federation: true });
      if (!parsed.ok) return refuse(requestId, parsed.code, parsed.detail);
      return federated(extras, undefined, parsed.value);
    }
    const principal = authn.principal;
    const workloadId = principal.workloadId;
    if (workloadId === undefined || !(requesters.has(workloadId) || (principal.trustDomain !== undefined && requesters.has(principal.trustDomain)))) {
      return refuse(requestId, 'ERR_TTS_REQUESTER_NOT_ALLOWED', 'the workload is not among service.requesters', { principal });
    }

    // 3. the request
    const read = await readBody();
    if (!read.ok) return refuse(requestId, 'ERR_TTS_BODY_TOO_LARGE', read.detail, { principal });
    const parsed = parseTxnTokenRequest(request.headers.get('content-type'), read.body ?? new Uint8Array(), trustDomain, { federation: federation !== undefined, ...(relyingPartyNames ? { relyingParties: relyingPartyNames } : {}) });
    if (!parsed.ok) return refuse(requestId, parsed.code, parsed.detail, { principal });
    const req = parsed.value;
    if (req.relyingParty !== undefined) return secondary(extras, principal, workloadId, req);
    if (req.subjectTokenType === JWT_TOKEN_TYPE) return federated(extras, { principal, workloadId }, req);

    // 4. the subject token and the scope rule
    const subject = await verifySubject(req.subjectToken, req.subjectTokenType, extras.background);
    if (!subject.ok) return refuse(requestId, subject.code, subject.detail, { principal });
    const scope = scopeProblem(req.scope, subject.scopes);
    if (scope) return refuse(requestId, scope.code, scope.detail, { principal });

    // 5. claims, lifetime (a replacement ends no later than the original), mint
    const claims = exchangeClaims(req, subject.subject, { workloadId, authn: principal.credential, ...(extras.clientAddress ? { clientAddress: extras.clientAddress } : {}) }, trustDomain);
    if (!claims.ok) return refuse(requestId, claims.code, claims.detail, { principal });
    const nowS = Math.floor(now() / 1000);
    const lifetimeSeconds = req.subjectTokenType === TXN_TOKEN_TYPE ? Math.min(lifetime, Math.floor(subject.expiresAt / 1000) - nowS) : lifetime;
    if (lifetimeSeconds < 1) return refuse(requestId, 'ERR_TTS_SUBJECT_TOKEN_EXPIRED', 'less than a second left', { principal });
    let token: string;
    try {
      token = await mintTxnToken(claims.value, { key: await deps.keys.signingKey(), lifetimeSeconds, now });
    } catch (error) {
      // A RangeError: the contexts make the token too large for a header; anything else: the key ring failed.
      if (error instanceof RangeError) return refuse(requestId, 'ERR_TTS_CONTEXT_INVALID', error.message, { principal });
      return refuse(requestId, 'ERR_TTS_UNAVAILABLE', error instanceof Error ? error.message : 'signing key unavailable', { principal, reason: 'ERR_TXN_TOKEN_UNAVAILABLE' });
    }
    const response = answer(requestId, 200, { access_token: token, issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A', expires_in: lifetimeSeconds });
    const via = req.subjectTokenType === ACCESS_TOKEN_TYPE ? 'access_token' : 'txn_token';
    return { response, decision: 'allow', reason: 'TXN_TOKEN_ISSUED', status: 200, detail: `subject ${via}, scope ${req.scope.length} token(s), expires_in ${lifetimeSeconds}`, principal };
  };
}

/** Authenticator codes that mean "no credential was presented" (not "a credential failed"). */
const NO_CREDENTIAL = new Set<string>(['ERR_CREDENTIALS_MISSING', 'ERR_HTTPSIG_MISSING', 'ERR_CLIENT_CERT_MISSING']);
/** Fields that carry a credential of the service's `auth` block (or any Authorization): their presence means "verify". */
const CREDENTIAL_FIELDS = ['authorization', 'workload-identity-token', 'workload-proof-token', 'signature', 'signature-input'];
