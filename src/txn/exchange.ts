/**
 * The Txn-Token Request of the built-in Transaction Token Service, as pure functions (no I/O): the form body parsed
 * and checked (draft-ietf-oauth-transaction-tokens "Txn-Token Request", an RFC 8693 §2.1 profile), the scope rule, and
 * the claims of the token to mint. src/gateway/tts.ts authenticates the requester, verifies the subject token and
 * signs; this file decides.
 *
 * Request checks, in this order, each with its stable code (TTS_ERRORS: the RFC 6749 §5.2 `error` and status):
 *   1. Content-Type `application/x-www-form-urlencoded` (parameters allowed, charset only UTF-8)   ERR_TTS_CONTENT_TYPE
 *   2. the body is UTF-8 (RFC 8693 §2.1), form-decoded (RFC 6749 Appendix B)                      ERR_TTS_BODY_MALFORMED
 *   3. no parameter appears twice (RFC 6749 §3.2: "MUST NOT be included more than once"); RFC 8693 lets `audience`
 *      and `resource` repeat, but a Txn-Token has exactly one audience, the trust domain             ERR_TTS_PARAMETER_REPEATED
 *   4. `grant_type` present                                                                        ERR_TTS_GRANT_TYPE_MISSING
 *      and urn:ietf:params:oauth:grant-type:token-exchange, or (with `federation`) the RFC 7523 §2.1
 *      urn:ietf:params:oauth:grant-type:jwt-bearer (checked by parseJwtBearerRequest below)      ERR_TTS_GRANT_TYPE_UNSUPPORTED (unsupported_grant_type)
 *   5. `requested_token_type` urn:ietf:params:oauth:token-type:txn_token (REQUIRED by the draft)   ERR_TTS_REQUESTED_TOKEN_TYPE
 *   6. `audience` present and exactly the trust domain; no `resource` (the only target)            ERR_TTS_AUDIENCE_INVALID (invalid_target)
 *   7. `scope` present and RFC 6749 §3.3 syntax                                                    ERR_TTS_SCOPE_INVALID (invalid_scope)
 *   8. `subject_token` and `subject_token_type` present                                            ERR_TTS_SUBJECT_TOKEN_MISSING
 *   9. `subject_token_type` not refresh_token (draft: "MUST NOT be used")                         ERR_TTS_REFRESH_TOKEN_REFUSED
 *      and access_token or txn_token, or (with `federation`) jwt: a JWT authorization grant of a federated issuer
 *      (draft-ni-cross-domain-txn-token mode B; verified by src/txn/federation.ts); other types (self_signed,
 *      unsigned_json, id_token, ...) carry no scope the TTS could bound the request by (draft rule 10: reject,
 *      never treat as unconstrained)                                                            ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED
 *  10. no `actor_token` / `actor_token_type` (delegation chains are not profiled)                   ERR_TTS_ACTOR_TOKEN_UNSUPPORTED
 *  11. `request_context`, `request_details`: plain JSON objects (the -09 encoding, not base64url), at most
 *      MAX_TTS_CONTEXT_CHARS, MAX_TTS_CONTEXT_DEPTH deep                                           ERR_TTS_CONTEXT_INVALID
 *  12. a replacement (txn_token subject) carries no `request_details`: its `tctx` is immutable (kept) ERR_TTS_DETAILS_ON_REPLACEMENT
 * Every refusal is 400 invalid_request unless named otherwise. Other parameters are ignored (RFC 6749 §3.2).
 *
 * The jwt-bearer grant (RFC 7523 §2.1; only with `federation`), after checks 1–4: `assertion` present
 * (ERR_TTS_ASSERTION_MISSING); `requested_token_type` and `audience` optional, when present as in 5 and 6, no
 * `resource`; `scope` OPTIONAL (when absent the TTS derives it from the grant, see tts.ts), when present as in 7;
 * contexts as in 11. The result has subjectTokenType jwt and `jwtBearer: true`.
 *
 * A secondary credential (only with `relyingParties`; the A2A auth framework draft's credential exchange for a
 * legacy relying party): check 5 finds `requested_token_type` urn:ietf:params:oauth:token-type:jwt, then (checks 1–4
 * passed) `audience` present, no `resource` (ERR_TTS_AUDIENCE_INVALID) and a configured relying party
 * (ERR_TTS_RELYING_PARTY_UNKNOWN, invalid_target); `scope` OPTIONAL, when present as in 7; subject token as in 8–9 but
 * of type jwt only (the requester's WIT; tts.ts checks it is the very WIT the client authenticated with); no actor
 * token (10); no `request_context` / `request_details` (ERR_TTS_CONTEXT_NOT_APPLICABLE: a relying-party JWT carries no
 * transaction context). The result has subjectTokenType jwt and `relyingParty`; relyingPartyScope bounds the scope.
 *
 * Claims (exchangeClaims): `sub` the subject token's; `req_wl` the authenticated requester; `scope` the requested one
 * (scopeProblem: ⊆ the subject's, and a subject without scope refused); `aud` the trust domain; `txn` fresh, or kept on
 * replacement. `tctx` = request_details as given (replacement: the original's). `rctx`, decision:
 *   - the requester's request_context members are kept under their own names, except the names the TTS asserts:
 *     `req_ip` (the requester's connection address, when the runtime reports one) and `authn` (how the requester
 *     authenticated: `wit+wpt`, `x509-svid`, ...) are the TTS's own; the requester's values for these two, which
 *     describe the end user as the External Endpoint saw them (the draft's example), move to `reported_req_ip` and
 *     `reported_authn`; `req_wl_chain` is the TTS's too.
 *   - on replacement the original's rctx members come first and win over the requester's (they describe the
 *     transaction's origin), and `req_wl_chain` = the original's chain + its `req_wl` (the Call Chain the draft
 *     says the TTS MUST maintain), at most MAX_TXN_REPLACEMENTS long.
 * A JWT authorization grant subject (federation, src/gateway/tts.ts): scope by grantScope (⊆ the grant's `scope` claim
 * and ⊆ the issuer's configured `scopes`), `sub` transcribed, `req_wl` the requester (or the grant's client_id, else
 * its iss), rctx.authn "jwt-bearer" and rctx.grant_iss (asserted: a requester's own `grant_iss` is dropped).
 * The subject token itself is never a claim (draft rule 13).
 */
import { MAX_TTS_CONTEXT_CHARS, MAX_TTS_CONTEXT_DEPTH, MAX_TXN_REPLACEMENTS } from '../limits.ts';
import type { TxnTokenClaims } from '../mint/txn-token.ts';
import { fail, ok, type Result } from '../result.ts';

import { ACCESS_TOKEN_TYPE, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, REFRESH_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, TXN_TOKEN_TYPE } from '../oauth-uris.ts';

export { ACCESS_TOKEN_TYPE, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, REFRESH_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, TXN_TOKEN_TYPE };

/** RFC 6749 §5.2 error codes used here, plus RFC 8693 §2.2.2 invalid_target and `temporarily_unavailable` for 503. */
export type OAuthTokenError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'invalid_target' | 'temporarily_unavailable';

export type TtsRequestErrorCode =
  | 'ERR_TTS_CONTENT_TYPE'
  | 'ERR_TTS_BODY_MALFORMED'
  | 'ERR_TTS_PARAMETER_REPEATED'
  | 'ERR_TTS_GRANT_TYPE_MISSING'
  | 'ERR_TTS_GRANT_TYPE_UNSUPPORTED'
  | 'ERR_TTS_ASSERTION_MISSING'
  | 'ERR_TTS_REQUESTED_TOKEN_TYPE'
  | 'ERR_TTS_AUDIENCE_INVALID'
  | 'ERR_TTS_SCOPE_INVALID'
  | 'ERR_TTS_SUBJECT_TOKEN_MISSING'
  | 'ERR_TTS_REFRESH_TOKEN_REFUSED'
  | 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED'
  | 'ERR_TTS_ACTOR_TOKEN_UNSUPPORTED'
  | 'ERR_TTS_CONTEXT_INVALID'
  | 'ERR_TTS_DETAILS_ON_REPLACEMENT'
  | 'ERR_TTS_RELYING_PARTY_UNKNOWN'
  | 'ERR_TTS_CONTEXT_NOT_APPLICABLE';

/** Codes of the endpoint around the request (src/gateway/tts.ts). Client authentication failures keep the authenticator's code in the audit event and answer invalid_client. */
export type TtsErrorCode =
  | TtsRequestErrorCode
  | 'ERR_TTS_METHOD_NOT_ALLOWED'
  | 'ERR_TTS_BODY_TOO_LARGE'
  | 'ERR_TTS_CLIENT_UNAUTHENTICATED'
  | 'ERR_TTS_REQUESTER_NOT_ALLOWED'
  | 'ERR_TTS_SUBJECT_TOKEN_INVALID'
  | 'ERR_TTS_SUBJECT_TOKEN_EXPIRED'
  | 'ERR_TTS_SUBJECT_TOKEN_DPOP_BOUND'
  | 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN'
  | 'ERR_TTS_SCOPE_EXCEEDS_SUBJECT'
  | 'ERR_TTS_SCOPE_EXCEEDS_FEDERATION'
  | 'ERR_TTS_GRANT_INVALID'
  | 'ERR_TTS_CONTEXT_UNAUTHENTICATED'
  | 'ERR_TTS_REPLACEMENT_CHAIN_TOO_LONG'
  | 'ERR_TTS_RELYING_PARTY_REQUESTER_NOT_ALLOWED'
  | 'ERR_TTS_SUBJECT_NOT_REQUESTER'
  | 'ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY'
  | 'ERR_TTS_UNAVAILABLE';

export interface TtsErrorSpec {
  error: OAuthTokenError;
  status: number;
  /** error_description: fixed text, never the input. */
  description: string;
}

const bad = (description: string): TtsErrorSpec => ({ error: 'invalid_request', status: 400, description });

export const TTS_ERRORS: Record<TtsErrorCode, TtsErrorSpec> = {
  ERR_TTS_CONTENT_TYPE: bad('the body must be application/x-www-form-urlencoded'),
  ERR_TTS_BODY_MALFORMED: bad('the body is not a UTF-8 form'),
  ERR_TTS_PARAMETER_REPEATED: bad('a parameter appears more than once'),
  ERR_TTS_GRANT_TYPE_MISSING: bad('grant_type is missing'),
  ERR_TTS_GRANT_TYPE_UNSUPPORTED: { error: 'unsupported_grant_type', status: 400, description: 'this grant type is not supported' },
  ERR_TTS_ASSERTION_MISSING: bad('assertion is required'),
  ERR_TTS_REQUESTED_TOKEN_TYPE: bad('requested_token_type must be urn:ietf:params:oauth:token-type:txn_token'),
  ERR_TTS_AUDIENCE_INVALID: { error: 'invalid_target', status: 400, description: 'audience must be this trust domain' },
  ERR_TTS_SCOPE_INVALID: { error: 'invalid_scope', status: 400, description: 'scope is missing or malformed' },
  ERR_TTS_SUBJECT_TOKEN_MISSING: bad('subject_token and subject_token_type are required'),
  ERR_TTS_REFRESH_TOKEN_REFUSED: bad('a refresh token cannot be a subject token'),
  ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED: bad('unsupported subject_token_type'),
  ERR_TTS_ACTOR_TOKEN_UNSUPPORTED: bad('actor tokens are not supported'),
  ERR_TTS_CONTEXT_INVALID: bad('request_context and request_details must be small JSON objects'),
  ERR_TTS_DETAILS_ON_REPLACEMENT: bad('a replacement keeps the transaction context: request_details not allowed'),
  ERR_TTS_METHOD_NOT_ALLOWED: { error: 'invalid_request', status: 405, description: 'use POST' },
  ERR_TTS_BODY_TOO_LARGE: { error: 'invalid_request', status: 413, description: 'the request body is too large' },
  ERR_TTS_CLIENT_UNAUTHENTICATED: { error: 'invalid_client', status: 401, description: 'client authentication failed' },
  ERR_TTS_REQUESTER_NOT_ALLOWED: { error: 'unauthorized_client', status: 400, description: 'this workload may not obtain transaction tokens' },
  ERR_TTS_SUBJECT_TOKEN_INVALID: { error: 'invalid_grant', status: 400, description: 'the subject token is invalid' },
  ERR_TTS_SUBJECT_TOKEN_EXPIRED: { error: 'invalid_grant', status: 400, description: 'the subject token has expired' },
  ERR_TTS_SUBJECT_TOKEN_DPOP_BOUND: { error: 'invalid_grant', status: 400, description: 'a sender-constrained subject token cannot be exchanged' },
  ERR_TTS_SUBJECT_SCOPE_UNKNOWN: { error: 'invalid_scope', status: 400, description: 'the subject token carries no scope' },
  ERR_TTS_SCOPE_EXCEEDS_SUBJECT: { error: 'invalid_scope', status: 400, description: 'the requested scope exceeds the subject token\'s' },
  ERR_TTS_SCOPE_EXCEEDS_FEDERATION: { error: 'invalid_scope', status: 400, description: 'the requested scope exceeds what grants of this issuer may obtain' },
  ERR_TTS_GRANT_INVALID: { error: 'invalid_grant', status: 400, description: 'the authorization grant is invalid' },
  ERR_TTS_CONTEXT_UNAUTHENTICATED: bad('request_context needs client authentication'),
  ERR_TTS_REPLACEMENT_CHAIN_TOO_LONG: { error: 'invalid_grant', status: 400, description: 'this transaction token was replaced too many times' },
  ERR_TTS_RELYING_PARTY_UNKNOWN: { error: 'invalid_target', status: 400, description: 'audience is not a relying party of this service' },
  ERR_TTS_CONTEXT_NOT_APPLICABLE: bad('request_context and request_details apply to Txn-Tokens only'),
  ERR_TTS_RELYING_PARTY_REQUESTER_NOT_ALLOWED: { error: 'unauthorized_client', status: 400, description: 'this client may not obtain tokens for this relying party' },
  ERR_TTS_SUBJECT_NOT_REQUESTER: { error: 'invalid_grant', status: 400, description: 'subject_token must be the Workload Identity Token the client authenticated with' },
  ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY: { error: 'invalid_scope', status: 400, description: 'the requested scope exceeds what this relying party allows' },
  ERR_TTS_UNAVAILABLE: { error: 'temporarily_unavailable', status: 503, description: 'try again later' },
};

export interface TxnTokenRequest {
  /** The requested scope-tokens, in request order, without duplicates. */
  scope: string[];
  subjectToken: string;
  subjectTokenType: typeof ACCESS_TOKEN_TYPE | typeof TXN_TOKEN_TYPE | typeof JWT_TOKEN_TYPE;
  /** RFC 7523 §2.1 jwt-bearer grant: `subjectToken` is the `assertion`; `scope` may be empty (not requested). */
  jwtBearer?: true;
  requestContext?: Record<string, unknown>;
  requestDetails?: Record<string, unknown>;
  /**
   * A secondary credential (requested_token_type jwt): the configured relying party named in `audience`. Then
   * `subjectToken` is the requester's own WIT (subjectTokenType jwt), `scope` may be empty (none asked) and there are
   * no contexts.
   */
  relyingParty?: string;
}

const FORM = /^application\/x-www-form-urlencoded$/i;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses and checks a Txn-Token Request body (see the file comment for the order); `trustDomain` is the only audience.
 * `federation`: JWT authorization grants are accepted (the jwt-bearer grant, and jwt subject tokens).
 */
export function parseTxnTokenRequest(contentType: string | null, body: Uint8Array, trustDomain: string, options: { federation?: boolean; relyingParties?: ReadonlySet<string> } = {}): Result<TxnTokenRequest, TtsRequestErrorCode> {
  // 1. media type, with parameters; a charset other than UTF-8 is refused (RFC 8693 §2.1: UTF-8).
  const [type, ...params] = (contentType ?? '').split(';').map((p) => p.trim());
  if (!FORM.test(type ?? '')) return fail('ERR_TTS_CONTENT_TYPE', `Content-Type is ${contentType === null ? 'absent' : 'not a form'}`);
  for (const param of params) {
    const [name, value] = param.split('=').map((p) => p.trim().replace(/^"|"$/g, '').toLowerCase());
    if (name === 'charset' && value !== 'utf-8') return fail('ERR_TTS_CONTENT_TYPE', 'charset other than UTF-8');
  }
  // 2. UTF-8, form-decoded
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('ERR_TTS_BODY_MALFORMED', 'the body is not UTF-8');
  }
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(text);
  } catch {
    return fail('ERR_TTS_BODY_MALFORMED', 'the body is not a form');
  }
  // 3. one of each
  const values = new Map<string, string>();
  for (const [name, value] of form) {
    if (values.has(name)) return fail('ERR_TTS_PARAMETER_REPEATED', `${name.slice(0, 64)} appears more than once`);
    values.set(name, value);
  }
  const get = (name: string) => values.get(name);
  // 4. grant_type
  const grant = get('grant_type');
  if (grant === undefined || grant === '') return fail('ERR_TTS_GRANT_TYPE_MISSING', 'no grant_type');
  if (grant === JWT_BEARER_GRANT && options.federation) return parseJwtBearerRequest(values, trustDomain);
  if (grant !== TOKEN_EXCHANGE_GRANT) return fail('ERR_TTS_GRANT_TYPE_UNSUPPORTED', options.federation ? 'grant_type is neither token-exchange nor jwt-bearer' : 'grant_type is not token-exchange');
  // 5. requested_token_type (jwt: a secondary credential for a relying party, when some are configured)
  if (get('requested_token_type') === JWT_TOKEN_TYPE && options.relyingParties) return parseRelyingPartyRequest(values, options.relyingParties);
  if (get('requested_token_type') !== TXN_TOKEN_TYPE) return fail('ERR_TTS_REQUESTED_TOKEN_TYPE', get('requested_token_type') === undefined ? 'no requested_token_type' : 'requested_token_type is not txn_token');
  // 6. audience = the trust domain, no other target
  const audience = get('audience');
  if (audience === undefined) return fail('ERR_TTS_AUDIENCE_INVALID', 'no audience');
  if (audience !== trustDomain) return fail('ERR_TTS_AUDIENCE_INVALID', 'audience is not this trust domain');
  if (values.has('resource')) return fail('ERR_TTS_AUDIENCE_INVALID', 'a resource parameter (the trust domain is the only target)');
  // 7. scope
  const scope = get('scope');
  if (scope === undefined || !SCOPE.test(scope)) return fail('ERR_TTS_SCOPE_INVALID', scope === undefined ? 'no scope' : 'scope is not space-delimited scope-tokens (RFC 6749 §3.3)');
  // 8–9. subject token and its type
  const subjectToken = get('subject_token');
  const subjectTokenType = get('subject_token_type');
  if (!subjectToken || !subjectTokenType) return fail('ERR_TTS_SUBJECT_TOKEN_MISSING', subjectToken ? 'no subject_token_type' : 'no subject_token');
  if (subjectTokenType === REFRESH_TOKEN_TYPE) return fail('ERR_TTS_REFRESH_TOKEN_REFUSED', 'subject_token_type is refresh_token');
  if (subjectTokenType !== ACCESS_TOKEN_TYPE && subjectTokenType !== TXN_TOKEN_TYPE && !(subjectTokenType === JWT_TOKEN_TYPE && options.federation)) {
    return fail('ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', `subject_token_type is neither access_token nor txn_token${options.federation ? ' nor jwt' : ''}`);
  }
  // 10. actor tokens
  if (values.has('actor_token') || values.has('actor_token_type')) return fail('ERR_TTS_ACTOR_TOKEN_UNSUPPORTED', 'actor_token given');
  // 11. contexts
  const request: TxnTokenRequest = { scope: [...new Set(scope.split(' '))], subjectToken, subjectTokenType };
  const contexts = readContexts(values, request);
  if (contexts) return contexts;
  // 12. a replacement's tctx is immutable
  if (subjectTokenType === TXN_TOKEN_TYPE && request.requestDetails !== undefined) return fail('ERR_TTS_DETAILS_ON_REPLACEMENT', 'request_details with a txn_token subject');
  return ok(request);
}

/**
 * The `grant_type` of a form body, or undefined (not a form, not UTF-8, absent or repeated): lets the TTS tell an
 * unauthenticated RFC 7523 jwt-bearer request (client authentication optional) from any other before checking it.
 */
export function requestGrantType(contentType: string | null, body: Uint8Array): string | undefined {
  if (!FORM.test((contentType ?? '').split(';')[0]!.trim())) return undefined;
  let form: URLSearchParams;
  try {
    form = new URLSearchParams(utf8.decode(body));
  } catch {
    return undefined;
  }
  const values = form.getAll('grant_type');
  return values.length === 1 ? values[0] : undefined;
}

/** Check 11: `request_context` and `request_details` into `request`, or the refusal. */
function readContexts(values: Map<string, string>, request: TxnTokenRequest): { ok: false; code: 'ERR_TTS_CONTEXT_INVALID'; detail: string } | undefined {
  for (const [name, key] of [['request_context', 'requestContext'], ['request_details', 'requestDetails']] as const) {
    const raw = values.get(name);
    if (raw === undefined) continue;
    const parsed = contextObject(raw);
    if (typeof parsed === 'string') return fail('ERR_TTS_CONTEXT_INVALID', `${name}: ${parsed}`);
    request[key] = parsed;
  }
  return undefined;
}

/** A secondary-credential request's parameters (after checks 1–4; see the file comment). */
function parseRelyingPartyRequest(values: Map<string, string>, relyingParties: ReadonlySet<string>): Result<TxnTokenRequest, TtsRequestErrorCode> {
  const audience = values.get('audience');
  if (audience === undefined) return fail('ERR_TTS_AUDIENCE_INVALID', 'no audience');
  if (values.has('resource')) return fail('ERR_TTS_AUDIENCE_INVALID', 'a resource parameter (the audience names the relying party)');
  if (!relyingParties.has(audience)) return fail('ERR_TTS_RELYING_PARTY_UNKNOWN', 'audience is not among service.relyingParties');
  const scope = values.get('scope');
  if (scope !== undefined && !SCOPE.test(scope)) return fail('ERR_TTS_SCOPE_INVALID', 'scope is not space-delimited scope-tokens (RFC 6749 §3.3)');
  const subjectToken = values.get('subject_token');
  const subjectTokenType = values.get('subject_token_type');
  if (!subjectToken || !subjectTokenType) return fail('ERR_TTS_SUBJECT_TOKEN_MISSING', subjectToken ? 'no subject_token_type' : 'no subject_token');
  if (subjectTokenType === REFRESH_TOKEN_TYPE) return fail('ERR_TTS_REFRESH_TOKEN_REFUSED', 'subject_token_type is refresh_token');
  if (subjectTokenType !== JWT_TOKEN_TYPE) return fail('ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'subject_token_type is not jwt (the requester\'s WIT)');
  if (values.has('actor_token') || values.has('actor_token_type')) return fail('ERR_TTS_ACTOR_TOKEN_UNSUPPORTED', 'actor_token given');
  if (values.has('request_context') || values.has('request_details')) return fail('ERR_TTS_CONTEXT_NOT_APPLICABLE', 'request_context / request_details with requested_token_type jwt');
  return ok({ scope: scope === undefined ? [] : [...new Set(scope.split(' '))], subjectToken, subjectTokenType: JWT_TOKEN_TYPE, relyingParty: audience });
}

/**
 * The scope of a relying-party token: what was asked, each within the relying party's `scopes` (none configured: any
 * requested scope is refused). Nothing asked: no scope (the token asserts only who the workload is).
 */
export function relyingPartyScope(requested: readonly string[], allowed: readonly string[] | undefined): Result<string[], 'ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY'> {
  const beyond = requested.filter((s) => !(allowed ?? []).includes(s));
  if (beyond.length > 0) return fail('ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY', `${beyond.length} requested scope(s) beyond the relying party's scopes`);
  return ok([...requested]);
}

/** The RFC 7523 §2.1 jwt-bearer grant's parameters (after checks 1–4; see the file comment). */
function parseJwtBearerRequest(values: Map<string, string>, trustDomain: string): Result<TxnTokenRequest, TtsRequestErrorCode> {
  const requested = values.get('requested_token_type');
  if (requested !== undefined && requested !== TXN_TOKEN_TYPE) return fail('ERR_TTS_REQUESTED_TOKEN_TYPE', 'requested_token_type is not txn_token');
  const audience = values.get('audience');
  if (audience !== undefined && audience !== trustDomain) return fail('ERR_TTS_AUDIENCE_INVALID', 'audience is not this trust domain');
  if (values.has('resource')) return fail('ERR_TTS_AUDIENCE_INVALID', 'a resource parameter (the trust domain is the only target)');
  const scope = values.get('scope');
  if (scope !== undefined && !SCOPE.test(scope)) return fail('ERR_TTS_SCOPE_INVALID', 'scope is not space-delimited scope-tokens (RFC 6749 §3.3)');
  const assertion = values.get('assertion');
  if (!assertion) return fail('ERR_TTS_ASSERTION_MISSING', 'no assertion');
  const request: TxnTokenRequest = { scope: scope === undefined ? [] : [...new Set(scope.split(' '))], subjectToken: assertion, subjectTokenType: JWT_TOKEN_TYPE, jwtBearer: true };
  const contexts = readContexts(values, request);
  return contexts ?? ok(request);
}

/**
 * Draft rule 10 for a JWT authorization grant: the scope is within the grant's `scope` claim (a grant without one
 * bounds nothing and is refused) AND within the federation entry's `scopes`. Nothing requested (the jwt-bearer grant's
 * `scope` is OPTIONAL): the grant's scopes that the federation allows, refused when none is left.
 */
export function grantScope(requested: readonly string[], grantScopes: readonly string[] | undefined, allowed: readonly string[]): Result<string[], 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN' | 'ERR_TTS_SCOPE_EXCEEDS_SUBJECT' | 'ERR_TTS_SCOPE_EXCEEDS_FEDERATION'> {
  if (grantScopes === undefined || grantScopes.length === 0) return fail('ERR_TTS_SUBJECT_SCOPE_UNKNOWN', 'the grant has no scope claim');
  if (requested.length === 0) {
    const derived = grantScopes.filter((s) => allowed.includes(s));
    return derived.length > 0 ? ok(derived) : fail('ERR_TTS_SCOPE_EXCEEDS_FEDERATION', 'none of the grant\'s scopes is allowed for its issuer');
  }
  const beyondGrant = requested.filter((s) => !grantScopes.includes(s));
  if (beyondGrant.length > 0) return fail('ERR_TTS_SCOPE_EXCEEDS_SUBJECT', `${beyondGrant.length} requested scope(s) beyond the grant's`);
  const beyondFederation = requested.filter((s) => !allowed.includes(s));
  if (beyondFederation.length > 0) return fail('ERR_TTS_SCOPE_EXCEEDS_FEDERATION', `${beyondFederation.length} requested scope(s) beyond the federation's scopes`);
  return ok([...requested]);
}

/** A plain JSON object within the size and depth bounds, or what is wrong with it. */
function contextObject(raw: string): Record<string, unknown> | string {
  if (raw.length > MAX_TTS_CONTEXT_CHARS) return `over ${MAX_TTS_CONTEXT_CHARS} characters`;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return 'not JSON';
  }
  if (!isPlainObject(value)) return 'not a JSON object';
  if (depth(value) > MAX_TTS_CONTEXT_DEPTH) return `nested deeper than ${MAX_TTS_CONTEXT_DEPTH}`;
  return value;
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const member of Object.values(value)) deepest = Math.max(deepest, depth(member));
  return deepest + 1;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Draft rule 10: the requested scope must be equal to or less than the subject token's. A subject with no scope
 * (an access token without `scope`) cannot bound the request and is refused, never taken as unconstrained.
 */
export function scopeProblem(requested: readonly string[], granted: readonly string[]): { ok: false; code: 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN' | 'ERR_TTS_SCOPE_EXCEEDS_SUBJECT'; detail: string } | undefined {
  if (granted.filter((s) => SCOPE_TOKEN.test(s)).length === 0) return fail('ERR_TTS_SUBJECT_SCOPE_UNKNOWN', 'the subject token has no scope');
  const missing = requested.filter((s) => !granted.includes(s));
  if (missing.length > 0) return fail('ERR_TTS_SCOPE_EXCEEDS_SUBJECT', `${missing.length} requested scope(s) beyond the subject token's`);
  return undefined;
}

/** What the verified subject token contributes. */
export interface ExchangeSubject {
  sub: string;
  /** Replacement only: the original Txn-Token's values, kept. */
  txn?: string;
  tctx?: Record<string, unknown>;
  rctx?: Record<string, unknown>;
  reqWl?: string;
  /** A JWT authorization grant's issuer: asserted as rctx.grant_iss. */
  grantIssuer?: string;
}

/** The authenticated requester (from its Principal and connection). */
export interface ExchangeRequester {
  workloadId: string;
  /** The credential kind it authenticated with (Principal.credential). */
  authn: string;
  clientAddress?: string;
}

/** The rctx member that carries the Call Chain of a replaced Txn-Token (the draft leaves the mechanism open). */
export const REQ_WL_CHAIN = 'req_wl_chain';

/**
 * The Call Chain of a replacement: the replaced token's `rctx.req_wl_chain` (its string members) + its `req_wl`.
 * Callers refuse a chain longer than MAX_TXN_REPLACEMENTS (the gateway's peer replacement, gateway/txn-peer.ts, too).
 */
export function replacementChain(rctx: Record<string, unknown> | undefined, reqWl: string): string[] {
  const before = rctx?.[REQ_WL_CHAIN];
  return [...(Array.isArray(before) ? before.filter((w): w is string => typeof w === 'string') : []), reqWl];
}

/** rctx members the TTS asserts itself; a requester's values for req_ip / authn are kept as reported_*. */
const ASSERTED = ['req_ip', 'authn', 'req_wl_chain', 'grant_iss', 'reported_req_ip', 'reported_authn'] as const;

/** The claims of the Txn-Token to mint, or ERR_TTS_REPLACEMENT_CHAIN_TOO_LONG. Scope must have been checked (scopeProblem). */
export function exchangeClaims(request: TxnTokenRequest, subject: ExchangeSubject, requester: ExchangeRequester, trustDomain: string): Result<TxnTokenClaims, 'ERR_TTS_REPLACEMENT_CHAIN_TOO_LONG'> {
  const rctx: Record<string, unknown> = {};
  const own = request.requestContext ?? {};
  for (const [name, value] of Object.entries(own)) if (!(ASSERTED as readonly string[]).includes(name)) rctx[name] = value;
  if (own.req_ip !== undefined) rctx.reported_req_ip = own.req_ip;
  if (own.authn !== undefined) rctx.reported_authn = own.authn;
  const replacing = request.subjectTokenType === TXN_TOKEN_TYPE;
  if (replacing) {
    // The original's context describes where the transaction began: it wins over the replacing requester's.
    Object.assign(rctx, subject.rctx ?? {});
    const chain = replacementChain(subject.rctx, subject.reqWl ?? '');
    if (chain.length > MAX_TXN_REPLACEMENTS) return fail('ERR_TTS_REPLACEMENT_CHAIN_TOO_LONG', `replaced ${chain.length} times`);
    rctx[REQ_WL_CHAIN] = chain;
  }
  rctx.authn = requester.authn;
  if (subject.grantIssuer !== undefined) rctx.grant_iss = subject.grantIssuer;
  if (requester.clientAddress !== undefined) rctx.req_ip = requester.clientAddress;
  else delete rctx.req_ip;
  const claims: TxnTokenClaims = { aud: trustDomain, sub: subject.sub, req_wl: requester.workloadId, scope: request.scope.join(' '), rctx };
  if (replacing) {
    if (subject.txn !== undefined) claims.txn = subject.txn;
    if (subject.tctx !== undefined) claims.tctx = subject.tctx;
  } else if (request.requestDetails !== undefined) {
    claims.tctx = request.requestDetails;
  }
  return ok(claims);
}
