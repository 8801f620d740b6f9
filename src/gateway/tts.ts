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
import { ACCESS_TOKEN_TYPE, exchangeClaims, parseTxnTokenRequest, scopeProblem, TTS_ERRORS, TXN_TOKEN_TYPE, type ExchangeSubject, type TtsErrorCode } from '../txn/exchange.ts';
import { verifyTxnToken } from '../verify/txn-token.ts';
import type { BodyRead, RouteAuthenticator } from './authenticate.ts';
import { declaredLengthExceeds } from './body-limit.ts';
import { errorSpec } from './errors.ts';
import { oauthRoute, type OAuthPorts } from './oauth.ts';

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
    if (!authn.ok) {
      if (authn.code === 'ERR_BODY_TOO_LARGE') return refuse(requestId, 'ERR_TTS_BODY_TOO_LARGE', bodyProblem ?? authn.detail);
      if (errorSpec(authn.code).status >= 500) return refuse(requestId, 'ERR_TTS_UNAVAILABLE', authn.detail, { reason: authn.code });
      // RFC 6749 §5.2: 401 with the scheme(s) the client can authenticate with; without one a 401 cannot be sent.
      const challenges = authn.challenges.length > 0 ? authn.challenges : service.auth.wit?.proofs.includes('wpt') ? ['WPT'] : [];
      return challenges.length > 0
        ? refuse(requestId, 'ERR_TTS_CLIENT_UNAUTHENTICATED', authn.detail, { reason: authn.code, headers: { 'www-authenticate': challenges.join(', ') } })
        : refuse(requestId, 'ERR_TTS_CLIENT_UNAUTHENTICATED', authn.detail, { reason: authn.code, status: 400 });
    }
    const principal = authn.principal;
    const workloadId = principal.workloadId;
    if (workloadId === undefined || !(requesters.has(workloadId) || (principal.trustDomain !== undefined && requesters.has(principal.trustDomain)))) {
      return refuse(requestId, 'ERR_TTS_REQUESTER_NOT_ALLOWED', 'the workload is not among service.requesters', { principal });
    }

    // 3. the request
    const read = await readBody();
    if (!read.ok) return refuse(requestId, 'ERR_TTS_BODY_TOO_LARGE', read.detail, { principal });
    const parsed = parseTxnTokenRequest(request.headers.get('content-type'), read.body ?? new Uint8Array(), trustDomain);
    if (!parsed.ok) return refuse(requestId, parsed.code, parsed.detail, { principal });
    const req = parsed.value;

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
