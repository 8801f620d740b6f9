/**
 * Txn-Tokens from an external Transaction Token Service (`transactionTokens.external`), for routes with `txnToken`:
 * the gateway, as the trust domain's External Endpoint, asks the TTS for each transaction's Txn-Token instead of
 * minting it (draft-ietf-oauth-transaction-tokens "Txn-Token Request" / "Txn-Token Response", an RFC 8693 profile).
 *
 * Per request (app.ts calls `token` after authentication and authorization, where it would otherwise mint):
 *   1. the request, form-encoded, POSTed to `tokenEndpoint` with client_secret_basic (`clientId`, the secret read
 *      from `clientSecretEnv`):
 *        grant_type=urn:ietf:params:oauth:grant-type:token-exchange
 *        requested_token_type=urn:ietf:params:oauth:token-type:txn_token
 *        audience=<trustDomain>            scope=<the claims' scope, as txn-rebind.ts computes it>
 *        subject_token=<the caller's access token>  subject_token_type=urn:ietf:params:oauth:token-type:access_token
 *          (app.ts passes it only when its hash is principal.user.tokenHash), else the caller's WIT or JWT-SVID
 *          (hash = principal.tokenHash) with subject_token_type urn:ietf:params:oauth:token-type:jwt
 *        request_context=<JSON of rctx>    request_details=<JSON of tctx>
 *      Bounded as egress.ts's token requests are (its `post`: fetchUrlProblem, no redirects, EGRESS_TIMEOUT_MS,
 *      EGRESS_MAX_RESPONSE_BYTES of JSON);
 *   2. the response: 200 JSON with token_type "N_A", issued_token_type txn_token, no refresh_token, and an
 *      access_token that is one compact JWS of at most MAX_TXN_TOKEN_BYTES; with `jwksUrl` it is verified as a
 *      downstream workload verifies it (downstream/index.ts txnTokenVerifier: signature with the TTS's keys, typ,
 *      aud = trustDomain, not expired, lifetime bound) and its scope must lie within the scope asked for.
 * Never cached: one Txn-Token per transaction (its `txn` is unique).
 *
 * Codes (the upstream is not called): ERR_TXN_TTS_REFUSED (502: the TTS answered an OAuth error; its `error` code
 * goes to the audit detail), ERR_TXN_TTS_FAILED (503: the client secret is not set, the TTS or its key set is
 * unreachable, slow, or answered something that is no token response), ERR_TXN_TTS_RESPONSE_INVALID (502: a 200
 * answer whose token is not a Txn-Token of this trust domain: wrong types, not a JWS, failed verification, wider
 * scope). Details never carry a token or secret.
 */
import type { GatewayConfig } from '../config/schema.ts';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { txnTokenVerifier, type TxnTokenVerifier } from '../downstream/index.ts';
import type { Principal } from '../identity/principal.ts';
import { MAX_TXN_TOKEN_BYTES } from '../limits.ts';
import type { TxnTokenClaims } from '../mint/txn-token.ts';
import { fail, ok, type Result } from '../result.ts';
import type { Cache } from '../state/ports.ts';
import type { Background } from '../trust/key-source.ts';
import type { KeyFetch } from '../trust/key-source-load.ts';
import { post, printable } from './egress.ts';
import { basicAuthorization } from './introspect.ts';
import { ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, TXN_TOKEN_TYPE } from '../oauth-uris.ts';

export type TxnExternalErrorCode = 'ERR_TXN_TTS_REFUSED' | 'ERR_TXN_TTS_FAILED' | 'ERR_TXN_TTS_RESPONSE_INVALID';
export type TxnExternalConfig = NonNullable<NonNullable<GatewayConfig['transactionTokens']>['external']>;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface TxnExternalDeps {
  config: TxnExternalConfig;
  /** `aud` of the Txn-Tokens: transactionTokens.trustDomain. */
  trustDomain: string;
  /** Reads `clientSecretEnv`. */
  readEnv?: (name: string) => string | undefined;
  /** The token request and the jwksUrl key set; default the global fetch. */
  fetch?: KeyFetch;
  /** Shares the TTS key set across isolates (`state.cache`). */
  cache: Cache;
  now: () => number;
}

export interface TxnExternalRequest {
  /** The claims the gateway would mint (txn-rebind.ts txnClaims): scope, rctx and tctx are sent, aud is the audience. */
  claims: TxnTokenClaims;
  principal: Principal;
  /** The caller's access token as presented, when its hash is principal.user.tokenHash (app.ts presentedAccessToken). */
  accessToken: string | undefined;
  /** The inbound request's headers: where the WIT (Workload-Identity-Token) or JWT-SVID (Authorization) is read. */
  headers: Headers;
  background: Background;
}

export interface TxnExternal {
  /** The Txn-Token for this request, or why there is none; `undefined` value never. */
  token(request: TxnExternalRequest): Promise<Result<string, TxnExternalErrorCode | 'ERR_TXN_TOKEN_UNAVAILABLE'>>;
}

export function txnExternal(deps: TxnExternalDeps): TxnExternal {
  const { config, trustDomain } = deps;
  const fetchImpl: KeyFetch = deps.fetch ?? ((url, init) => fetch(url, init));
  const verify: TxnTokenVerifier | undefined = config.jwksUrl
    ? txnTokenVerifier({ jwksUrl: config.jwksUrl, audience: trustDomain, fetch: fetchImpl, cache: deps.cache, now: deps.now, algorithms: ASYMMETRIC_JWS_ALGORITHMS })
    : undefined;
  const which = 'transaction token service';

  return {
    async token({ claims, principal, accessToken, headers, background }) {
      const subject = accessToken !== undefined ? { token: accessToken, type: ACCESS_TOKEN_TYPE } : await presentedJwt(headers, principal);
      // Config validation keeps X509-SVID callers off these routes; anything else that has no token lands here.
      if (!subject) return fail('ERR_TXN_TOKEN_UNAVAILABLE', `no token of the caller (${principal.credential}) to send the transaction token service as subject_token`);
      const secret = deps.readEnv?.(config.clientSecretEnv);
      if (!secret) return fail('ERR_TXN_TTS_FAILED', `the client secret variable ${config.clientSecretEnv} is not set`);

      const form = new URLSearchParams({
        grant_type: TOKEN_EXCHANGE_GRANT,
        requested_token_type: TXN_TOKEN_TYPE,
        audience: trustDomain,
        scope: claims.scope,
        subject_token: subject.token,
        subject_token_type: subject.type,
      });
      if (claims.rctx) form.set('request_context', JSON.stringify(claims.rctx));
      if (claims.tctx) form.set('request_details', JSON.stringify(claims.tctx));
      const answered = await post(fetchImpl, config.tokenEndpoint, basicAuthorization(config.clientId, secret), form, which);
      if (!answered.ok) return fail(answered.refused ? 'ERR_TXN_TTS_REFUSED' : 'ERR_TXN_TTS_FAILED', answered.detail);

      const body = answered.body;
      const invalid = (detail: string) => fail('ERR_TXN_TTS_RESPONSE_INVALID', `${which} ${detail}`);
      if (body.issued_token_type !== TXN_TOKEN_TYPE) return invalid(`issued ${printable(body.issued_token_type)}, not a txn_token`);
      if (body.token_type !== 'N_A') return invalid(`answered token_type ${printable(body.token_type)}, not "N_A"`);
      if (body.refresh_token !== undefined) return invalid('answered a refresh_token (the Txn-Token Response MUST NOT include one)');
      const token = body.access_token;
      if (typeof token !== 'string' || token.length > MAX_TXN_TOKEN_BYTES || !COMPACT_JWS.test(token)) return invalid('answered an access_token that is not one compact JWS');
      if (verify) {
        const verified = await verify(new Request('https://txn-external.invalid/', { headers: { 'txn-token': token } }), background);
        if (!verified.ok) return fail(verified.code === 'ERR_TXN_TOKEN_KEY_SOURCE_FAILED' ? 'ERR_TXN_TTS_FAILED' : 'ERR_TXN_TTS_RESPONSE_INVALID', `${which} token failed verification: ${verified.code}`);
        // The TTS may narrow the scope (draft rule 10), never widen what this call was authorized with.
        const asked = new Set(claims.scope.split(' '));
        const extra = verified.value.scope.filter((s) => !asked.has(s)).length;
        if (extra > 0) return invalid(`issued ${extra} scope-token(s) beyond those asked for`);
      }
      return ok(token);
    },
  };
}

/** The caller's WIT (WIT credentials) or JWT-SVID (Authorization: Bearer), only when it is the one authentication verified. */
async function presentedJwt(headers: Headers, principal: Principal): Promise<{ token: string; type: string } | undefined> {
  let value: string | undefined;
  if (principal.credential === 'wit+wpt' || principal.credential === 'wit+http-sig') value = headers.get('workload-identity-token') ?? undefined;
  else if (principal.credential === 'jwt-svid') value = /^\s*bearer +([\x21-\x7e]+)\s*$/i.exec(headers.get('authorization') ?? '')?.[1];
  if (value === undefined || !COMPACT_JWS.test(value)) return undefined;
  return (await sha256b64url(value)) === principal.tokenHash ? { token: value, type: JWT_TOKEN_TYPE } : undefined;
}
