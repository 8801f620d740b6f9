/**
 * Stable error codes of the WIT, WPT and JWT-SVID verifiers, each with the validation step it guards, and the
 * wire helpers the caller needs to turn a WPT failure into a response (DESIGN principle 2: the audit trail
 * gets the code and detail; the wire gets only the standard, generic shape).
 *
 * Codes are part of the public API: never rename one; add new ones instead.
 */

/** draft-ietf-wimse-workload-creds-02 §5.1 (and SPIFFE WIT-SVID when `profile: 'wit-svid'`), in check order. */
export const WIT_ERRORS = {
  ERR_WIT_TOO_LARGE: 'token longer than MAX_WIT_BYTES; refused before parsing',
  ERR_WIT_MALFORMED: 'not a compact JWS of three base64url segments with JSON object header and claims (§5.1.1 ABNF)',
  ERR_WIT_TYP_INVALID: 'JOSE header typ is not wit+jwt (§5.1; RFC 8725 §3.11)',
  ERR_WIT_ALG_NOT_ALLOWED: 'JOSE header alg missing, none, symmetric, or not in the policy (§5.1; RFC 8725 §3.1)',
  ERR_WIT_CRIT_UNSUPPORTED: 'JOSE header crit present: no extension is understood (RFC 7515 §4.1.11)',
  ERR_WIT_KID_INVALID: 'JOSE header kid not a short string, or absent when the WIT-SVID profile requires it (§3; WIT-SVID §2.1)',
  ERR_WIT_SUB_INVALID: 'sub absent, not a canonical workload identifier, or not allowed by the profile (§5.1; identifier-03 §4.1, §7.1)',
  ERR_WIT_KEY_NOT_FOUND: 'no trust-anchor key configured for the trust domain of sub (and kid) (§3)',
  ERR_WIT_KEY_SOURCE_FAILED: 'the configured key source failed while looking up the key (§3)',
  ERR_WIT_SIGNATURE_INVALID: 'JWS signature does not verify with the trust-domain key, or the key does not fit alg (§3; RFC 7515 §5.2)',
  ERR_WIT_CLAIM_INVALID: 'a registered claim has the wrong type (iss, jti, iat, nbf), or aud is present in a WIT-SVID (RFC 7519 §4.1; WIT-SVID §3.8)',
  ERR_WIT_ISSUER_NOT_ALLOWED: 'iss absent or not in the configured issuer allowlist (§5.1.3, §9.1)',
  ERR_WIT_EXP_INVALID: 'exp absent or not a NumericDate (§5.1, §9.2.1)',
  ERR_WIT_EXPIRED: 'exp has passed, beyond the allowed clock skew (RFC 7519 §4.1.4)',
  ERR_WIT_NOT_YET_VALID: 'iat or nbf lies in the future, beyond the allowed clock skew (RFC 7519 §4.1.5, §4.1.6)',
  ERR_WIT_LIFETIME_TOO_LONG: 'exp − iat (or nbf), or exp − now, exceeds the policy maximum (§9.2.1: short-lived)',
  ERR_WIT_CNF_MISSING: 'cnf or cnf.jwk absent or not an object (§5.1; RFC 7800 §3.2)',
  ERR_WIT_CNF_PRIVATE_KEY: 'cnf.jwk carries private or symmetric key members (§5.1: the public key of the workload)',
  ERR_WIT_CNF_ALG_INVALID: 'cnf.jwk.alg absent, none, symmetric, encryption, or not in the policy (§5.1)',
  ERR_WIT_CNF_KEY_INVALID: 'cnf.jwk key type or curve does not fit cnf.jwk.alg, use is not sig, or the key does not import (§5.1)',
} as const;

export type WitErrorCode = keyof typeof WIT_ERRORS;

/** draft-ietf-wimse-wpt-02 §2 (validation list) and -01 §2 (`ath`, `Workload-Proof-Token`), in check order. */
export const WPT_ERRORS = {
  ERR_WPT_WIT_MISMATCH: 'the WIT passed for wth is not the token the verified WIT came from (caller wiring)',
  ERR_WPT_WIT_EXPIRED: 'the verified WIT has expired since it was verified (cached WIT outlived its exp)',
  ERR_WPT_TOO_LARGE: 'token longer than MAX_WPT_BYTES; refused before parsing',
  ERR_WPT_MALFORMED: 'credentials are not a single well-formed compact JWT (§2 validation step 2)',
  ERR_WPT_TYP_INVALID: 'JOSE header typ is not wpt+jwt (§2 step 5)',
  ERR_WPT_ALG_MISMATCH: 'JOSE header alg is not string-equal to the WIT cnf.jwk.alg (§2 step 3)',
  ERR_WPT_CRIT_UNSUPPORTED: 'JOSE header crit present: no extension is understood (RFC 7515 §4.1.11)',
  ERR_WPT_SIGNATURE_INVALID: 'signature does not verify with the WIT confirmation key (§2 step 4)',
  ERR_WPT_AUD_MISMATCH: 'aud absent or not the configured audience of this route (§2 step 6; §3 audience validation)',
  ERR_WPT_EXP_INVALID: 'exp absent or not a NumericDate (§2 step 7)',
  ERR_WPT_EXPIRED: 'exp has passed, beyond the allowed clock skew (§2 step 7)',
  ERR_WPT_LIFETIME_TOO_LONG: 'exp unreasonably far in the future: exp − now (or exp − iat) exceeds the policy maximum (§2 step 7)',
  ERR_WPT_CLAIM_INVALID: 'iat or nbf present but not a NumericDate (RFC 7519 §4.1)',
  ERR_WPT_NOT_YET_VALID: 'iat or nbf lies in the future, beyond the allowed clock skew (RFC 7519 §4.1.5, §4.1.6)',
  ERR_WPT_WTH_MISMATCH: 'wth absent or not the hash of the presented WIT (§2 step 8)',
  ERR_WPT_ATH_MISMATCH: '-01 only: ath absent while an access token is presented, not its hash, or present without one (-01 §2)',
  ERR_WPT_TTH_MISMATCH: 'tth absent while a Txn-Token is presented, not its hash, or present without one (§2 step 10)',
  ERR_WPT_OTH_MISMATCH: 'oth does not cover a presented context token, or an entry is not that token\'s hash (§2 step 11)',
  ERR_WPT_OTH_UNKNOWN_ENTRY: 'oth is not an object of strings, or names a token this route does not understand or did not receive (§2 step 12)',
  ERR_WPT_JTI_INVALID: 'jti absent, empty, not a string, or longer than MAX_JTI_LENGTH (§2 claims: jti REQUIRED)',
  ERR_WPT_REPLAYED: 'jti already used by this WIT subject within the WPT validity window (§2 step 9)',
  ERR_WPT_REPLAY_STORE_FAILED: 'the replay store could not be consulted; refused (fail closed)',
} as const;

export type WptErrorCode = keyof typeof WPT_ERRORS;

/** SPIFFE JWT-SVID (JWT-SVID.md §2, §3, Appendix A), in check order. */
export const JWT_SVID_ERRORS = {
  ERR_JWT_SVID_TOO_LARGE: 'token longer than MAX_JWT_SVID_BYTES; refused before parsing',
  ERR_JWT_SVID_MALFORMED: 'not a compact JWS of three base64url segments with JSON object header and claims (§2)',
  ERR_JWT_SVID_HEADER_INVALID: 'JOSE header carries a parameter other than alg, kid, typ (crit included) (§2)',
  ERR_JWT_SVID_TYP_INVALID: 'JOSE header typ present but neither JWT nor JOSE (§2.3)',
  ERR_JWT_SVID_ALG_NOT_ALLOWED: 'JOSE header alg not one of the SPIFFE algorithms allowed by the policy (§2.1)',
  ERR_JWT_SVID_KID_INVALID: 'JOSE header kid present but not a short string (§2.2)',
  ERR_JWT_SVID_SUB_INVALID: 'sub absent or not a canonical spiffe:// workload identifier (§3.1)',
  ERR_JWT_SVID_KEY_NOT_FOUND: 'no bundle key for the trust domain of sub (and kid) (Workload API §6)',
  ERR_JWT_SVID_KEY_SOURCE_FAILED: 'the configured key source failed while looking up the key',
  ERR_JWT_SVID_SIGNATURE_INVALID: 'JWS signature does not verify with the trust-domain key, or the key does not fit alg',
  ERR_JWT_SVID_CLAIM_INVALID: 'a registered claim has the wrong type (iss, iat, nbf) (RFC 7519 §4.1)',
  ERR_JWT_SVID_ISSUER_NOT_ALLOWED: 'iss absent or not in the configured issuer allowlist',
  ERR_JWT_SVID_AUD_MISMATCH: 'aud absent, empty, or not containing a configured audience (§3.2)',
  ERR_JWT_SVID_EXP_INVALID: 'exp absent or not a NumericDate (§3.3)',
  ERR_JWT_SVID_EXPIRED: 'exp has passed, beyond the allowed clock skew (§3.3; Appendix A)',
  ERR_JWT_SVID_NOT_YET_VALID: 'iat or nbf lies in the future, beyond the allowed clock skew (RFC 7519)',
  ERR_JWT_SVID_LIFETIME_TOO_LONG: 'exp − iat (or nbf), or exp − now, exceeds the policy maximum',
} as const;

export type JwtSvidErrorCode = keyof typeof JWT_SVID_ERRORS;

/**
 * draft-ietf-wimse-http-signature-07 (and -06) over RFC 9421 and RFC 9530, in check order (verify/wimse-signature.ts).
 * The response verifier (verify/wimse-response-signature.ts) returns the same codes for the same checks on a
 * response (where a description says "request", read "message"; wimse-req-nonce takes wimse-aud's place), plus
 * ERR_HTTPSIG_REQ_NONCE_MISMATCH.
 */
export const HTTP_SIG_PROFILE_ERRORS = {
  ERR_HTTPSIG_MISSING: 'no signature with tag wimse-workload-to-workload (-07 §3.3), or no Signature-Input / Signature at all',
  ERR_HTTPSIG_MALFORMED: 'Signature-Input or Signature is not a valid RFC 9421 dictionary, repeats a label, or exceeds a bound (RFC 9421 §4)',
  ERR_HTTPSIG_AMBIGUOUS: 'more than one signature carries tag wimse-workload-to-workload (-07 §3.3: the recipient MUST reject)',
  ERR_HTTPSIG_PARAM_MISSING: 'created, expires, nonce, tag or wimse-aud is absent (-07 §3.2)',
  ERR_HTTPSIG_PARAM_FORBIDDEN: 'keyid or alg is present (the key and algorithm come from the WIT), or wimse-req-nonce on a request (-07 §3.2)',
  ERR_HTTPSIG_PARAM_INVALID: 'a parameter has the wrong type or range (wimse-aud not a String, wimse-sign-response not a Boolean, expires before created, nonce length)',
  ERR_HTTPSIG_COMPONENT_MISSING: 'a required component is not covered: @method, @path, @query (-06: @request-target), or a present content-type, content-digest, authorization, txn-token, workload-identity-token (-07 §3.1)',
  ERR_HTTPSIG_DIGEST_MISSING: 'the request has a body but no Content-Digest (-07 §3.1)',
  ERR_HTTPSIG_DIGEST_INVALID: 'Content-Digest is not an RFC 9530 dictionary or has no sha-256 / sha-512 member',
  ERR_HTTPSIG_DIGEST_MISMATCH: 'Content-Digest does not match the body received (-07 §3.1; RFC 9530 §2)',
  ERR_HTTPSIG_AUD_MISMATCH: 'wimse-aud is not an audience configured for this route (-07 §3.1: never derived from Host)',
  ERR_HTTPSIG_NOT_YET_VALID: 'created lies in the future, beyond the allowed clock skew (RFC 9421 §3.2.1)',
  ERR_HTTPSIG_EXPIRED: 'expires has passed, beyond the allowed clock skew (RFC 9421 §3.2.1)',
  ERR_HTTPSIG_LIFETIME_TOO_LONG: 'expires − created exceeds the route maximum (-07 §3.2: expiration MUST be short)',
  ERR_HTTPSIG_COMPONENT_INVALID: 'a covered component cannot be resolved or canonicalised (RFC 9421 §2)',
  ERR_HTTPSIG_SIGNATURE_INVALID: 'the signature does not verify with the WIT\'s cnf.jwk and cnf.jwk.alg over the re-created base (RFC 9421 §3.2, §3.3.7)',
  ERR_HTTPSIG_REPLAY_STORE_FAILED: 'the replay store could not record the nonce (fail closed)',
  ERR_HTTPSIG_REPLAYED: 'the nonce was already used by this workload within the signature lifetime (-07 §3.2)',
  ERR_HTTPSIG_REQ_NONCE_MISMATCH: 'a response\'s wimse-req-nonce is not the nonce of the request it answers (-07 §3.4: the client MUST verify it equals that nonce)',
} as const;

export type HttpSigProfileErrorCode = keyof typeof HTTP_SIG_PROFILE_ERRORS;

/**
 * OAuth 2.0 JWT access tokens (RFC 9068 §2, §4; RFC 8707; RFC 8725), in check order (verify/access-token.ts).
 * Every code but ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE is answered 401 `error="invalid_token"` (RFC 9068 §4; RFC 6750
 * §3.1); ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE is answered 403 `error="insufficient_scope"` (RFC 6750 §3.1).
 */
export const ACCESS_TOKEN_ERRORS = {
  ERR_ACCESS_TOKEN_TOO_LARGE: 'token longer than MAX_ACCESS_TOKEN_BYTES; refused before parsing',
  ERR_ACCESS_TOKEN_MALFORMED: 'not a compact JWS of three base64url segments with JSON object header and claims (RFC 9068 §2.1: MUST be signed; RFC 7515 §7.1)',
  ERR_ACCESS_TOKEN_TYP_INVALID: 'JOSE header typ is not at+jwt or application/at+jwt (RFC 9068 §4; RFC 8725 §3.11)',
  ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED: 'JOSE header alg missing, none, symmetric, or not in the policy (RFC 9068 §2.1, §4; RFC 8725 §3.1)',
  ERR_ACCESS_TOKEN_CRIT_UNSUPPORTED: 'JOSE header crit present: no extension is understood (RFC 7515 §4.1.11)',
  ERR_ACCESS_TOKEN_KID_INVALID: 'JOSE header kid present but not a short string (RFC 7515 §4.1.4)',
  ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED: 'iss absent, not a string, or not exactly one of the configured issuers (RFC 9068 §2.2, §4; RFC 8725 §3.8)',
  ERR_ACCESS_TOKEN_KEY_NOT_FOUND: 'no key configured for the issuer (and kid) (RFC 9068 §4: keys provided by the authorization server)',
  ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED: 'the configured key source failed while looking up the issuer key (RFC 9068 §4)',
  ERR_ACCESS_TOKEN_SIGNATURE_INVALID: 'JWS signature does not verify with the issuer key, or the key does not fit alg (RFC 9068 §4; RFC 7515 §5.2)',
  ERR_ACCESS_TOKEN_AUD_MISMATCH: 'aud absent, not strings, or not containing this resource (RFC 9068 §4; RFC 8707 §2; RFC 8725 §3.9)',
  ERR_ACCESS_TOKEN_EXP_INVALID: 'exp absent or not a NumericDate (RFC 9068 §2.2)',
  ERR_ACCESS_TOKEN_EXPIRED: 'exp has passed, beyond the allowed clock skew (RFC 9068 §4; RFC 7519 §4.1.4)',
  ERR_ACCESS_TOKEN_IAT_INVALID: 'iat absent or not a NumericDate (RFC 9068 §2.2: REQUIRED)',
  ERR_ACCESS_TOKEN_NOT_YET_VALID: 'iat or nbf lies in the future, beyond the allowed clock skew (RFC 7519 §4.1.5, §4.1.6)',
  ERR_ACCESS_TOKEN_NBF_INVALID: 'nbf present but not a NumericDate (RFC 7519 §4.1.5)',
  ERR_ACCESS_TOKEN_LIFETIME_TOO_LONG: 'exp − iat exceeds the policy maximum (local policy: RFC 9068 sets no maximum; bounds a leaked bearer token)',
  ERR_ACCESS_TOKEN_SUB_INVALID: 'sub absent, empty, or not a string (RFC 9068 §2.2: REQUIRED)',
  ERR_ACCESS_TOKEN_CLIENT_ID_INVALID: 'client_id absent, empty, or not a string (RFC 9068 §2.2: REQUIRED; RFC 8693 §4.3)',
  ERR_ACCESS_TOKEN_JTI_INVALID: 'jti absent, empty, not a string, or longer than MAX_JTI_LENGTH (RFC 9068 §2.2: REQUIRED)',
  ERR_ACCESS_TOKEN_SCOPE_INVALID: 'scope present but not a space-delimited string of scope-tokens (RFC 9068 §2.2.3; RFC 6749 §3.3; RFC 8693 §4.2)',
  ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE: 'scope lacks a scope this route requires (RFC 6750 §3.1: insufficient_scope, 403)',
  ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID: 'auth_time not a NumericDate, acr not a string, or amr not an array of strings (RFC 9068 §2.2.1; OIDC Core §2)',
  ERR_ACCESS_TOKEN_CNF_INVALID: 'cnf present but not an object, or cnf.jkt present but not a base64url SHA-256 thumbprint (RFC 7800 §3.1; RFC 9449 §6.1)',
} as const;

export type AccessTokenErrorCode = keyof typeof ACCESS_TOKEN_ERRORS;

/**
 * HTTP status for a rejected WIT: 400 (workload-creds-02 §5.2: "400 (Bad Request) is appropriate"; 401 NOT
 * RECOMMENDED), with an RFC 9457 problem+json body that carries no token.
 */
export const WIT_FAILURE_STATUS = 400;

/**
 * HTTP status for a rejected WPT. -02 (`Authorization: WPT`): 401 with `WWW-Authenticate: WPT` (wpt-02 §2.1,
 * SHOULD). -01 (`Workload-Proof-Token` header): 400, 401 NOT RECOMMENDED (wpt-01 §2.1).
 */
export function wptFailureStatus(carriage: 'authorization' | 'header'): 400 | 401 {
  return carriage === 'authorization' ? 401 : 400;
}

/**
 * The `WWW-Authenticate` value for a 401 caused by a WPT (wpt-02 §2.1). The draft "defines no authentication
 * parameters for the WPT challenge", so there is no `error` parameter: the value is the bare scheme whatever
 * the code (which goes to the audit event, not the wire). `code` is accepted so callers need not change if a
 * later draft defines parameters.
 */
export function wptChallenge(_code?: WptErrorCode): string {
  return 'WPT';
}

/**
 * RFC 9449 §4.3 (checking DPoP proofs), in check order (verify/dpop.ts). ERR_DPOP_NONCE_REQUIRED and
 * ERR_DPOP_NONCE_INVALID are kept apart so the caller can answer `use_dpop_nonce` with a fresh `DPoP-Nonce` (§8,
 * §9); ERR_DPOP_KEY_MISMATCH is a key-binding failure of the access token (§7.1: `invalid_token`); every other
 * code is `invalid_dpop_proof` (§7.1, §5).
 */
export const DPOP_ERRORS = {
  ERR_DPOP_TOO_LARGE: 'proof longer than MAX_DPOP_PROOF_BYTES; refused before parsing',
  ERR_DPOP_MALFORMED: 'not a single well-formed compact JWS with JSON object header and claims (§4.3 step 2)',
  ERR_DPOP_TYP_INVALID: 'JOSE header typ is not exactly dpop+jwt (§4.2, §4.3 step 4)',
  ERR_DPOP_ALG_NOT_ALLOWED: 'JOSE header alg missing, none, symmetric, unsupported, or not in the policy (§4.3 step 5)',
  ERR_DPOP_JWK_MISSING: 'JOSE header jwk absent or not an object (§4.2: REQUIRED)',
  ERR_DPOP_JWK_PRIVATE: 'JOSE header jwk carries private or symmetric key members (§4.2: MUST NOT contain a private key; §4.3 step 7)',
  ERR_DPOP_JWK_INVALID: 'JOSE header jwk does not fit alg (key type, curve, jwk.alg) or does not import (§4.3 step 5, 6)',
  ERR_DPOP_CRIT_UNSUPPORTED: 'JOSE header crit present: no extension is understood (RFC 7515 §4.1.11)',
  ERR_DPOP_SIGNATURE_INVALID: 'signature does not verify with the public key in the jwk header (§4.3 step 6)',
  ERR_DPOP_JTI_INVALID: 'jti absent, empty, not a string, or longer than MAX_JTI_LENGTH (§4.2: REQUIRED; §4.3 step 3)',
  ERR_DPOP_HTM_MISMATCH: 'htm absent, not a string, or not the method of the request (§4.3 step 8)',
  ERR_DPOP_HTU_MISMATCH: 'htu absent, not an http(s) URI, or not the target URI of the request after normalisation, ignoring query and fragment (§4.3 step 9)',
  ERR_DPOP_IAT_INVALID: 'iat absent or not a NumericDate (§4.2: REQUIRED; §4.3 step 3)',
  ERR_DPOP_IAT_OUT_OF_WINDOW: 'iat older than the accepted window, or in the future, beyond the allowed clock skew (§4.3 step 11; §11.1)',
  ERR_DPOP_NONCE_REQUIRED: 'the server requires a nonce and the proof carries none (§4.3 step 10; §8: answer use_dpop_nonce)',
  ERR_DPOP_NONCE_INVALID: 'nonce present but not one the server currently accepts (§4.3 step 10; §8: answer use_dpop_nonce)',
  ERR_DPOP_ATH_MISMATCH: 'an access token is presented and ath is absent, not a string, or not its hash (§4.3 step 12; §7)',
  ERR_DPOP_KEY_MISMATCH: 'the JWK thumbprint of the proof key is not the cnf.jkt of the access token (§4.3 step 12; §6.1, §7)',
  ERR_DPOP_REPLAY_STORE_FAILED: 'the replay store could not be consulted; refused (fail closed)',
  ERR_DPOP_REPLAYED: 'jti already used with this key within the accepted window (§11.1)',
} as const;

export type DpopErrorCode = keyof typeof DPOP_ERRORS;

/**
 * OAuth 2.0 token introspection (RFC 7662; RFC 9701 signed answers) of opaque access tokens, beside the
 * ACCESS_TOKEN_ERRORS codes the introspection verifier shares with the JWT one where the check is the same (aud,
 * exp, iat, nbf, scope, sub, client_id, jti, acr/auth_time, cnf; verify/introspection.ts, gateway/introspect.ts).
 * ERR_ACCESS_TOKEN_INACTIVE and ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH are answered 401 `error="invalid_token"` (RFC
 * 6750 §3.1); the other two are failures upstream of the trust decision: the gateway answers 503 and never lets the
 * request through (fail closed). See INTROSPECTION_ERROR_STATUS.
 */
export const INTROSPECTION_ERRORS = {
  ERR_ACCESS_TOKEN_INACTIVE: 'the authorization server answered active false, or no active member (RFC 7662 §2.2: the token is not usable here)',
  ERR_INTROSPECTION_FAILED: 'no usable answer: no endpoint or client secret, the AS unreachable, too slow, redirecting, not 200, another content type, over MAX_INTROSPECTION_RESPONSE_BYTES, or not JSON (RFC 7662 §2.3)',
  ERR_INTROSPECTION_RESPONSE_INVALID: 'the answer is malformed (not an object, active not a boolean), or an RFC 9701 JWT answer fails its checks: shape, typ, alg, crit, kid, key, signature, iss, aud, iat, exp, token_introspection (RFC 9701 §5)',
  ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH: 'token_type is not DPoP (or the answer binds no cnf.jkt) for a token presented with DPoP, or is DPoP (or cnf.jkt is present) for a token presented as Bearer (RFC 9449 §6.2, §7.1, §7.2)',
} as const;

export type IntrospectionErrorCode = keyof typeof INTROSPECTION_ERRORS;

/** HTTP status the gateway answers for each introspection code (401 with `WWW-Authenticate`, or 503, fail closed). */
export const INTROSPECTION_ERROR_STATUS: Readonly<Record<IntrospectionErrorCode, 401 | 503>> = {
  ERR_ACCESS_TOKEN_INACTIVE: 401,
  ERR_INTROSPECTION_FAILED: 503,
  ERR_INTROSPECTION_RESPONSE_INVALID: 503,
  ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH: 401,
};

/**
 * OAuth Transaction Tokens (draft-ietf-oauth-transaction-tokens-09/-10: "Txn-Token Format", "Using Txn-Tokens"
 * validation by a receiving workload, Security Considerations; RFC 8725), in check order (verify/txn-token.ts). Every code is a 401 at a receiving workload except
 * ERR_TXN_TOKEN_KEY_SOURCE_FAILED and ERR_TXN_TOKEN_REPLAY_STORE_FAILED, failures upstream of the trust decision:
 * 503, fail closed (src/downstream/errors.ts holds the table). Txn-Tokens have no HTTP authentication scheme, so no
 * `WWW-Authenticate` challenge is sent.
 */
export const TXN_TOKEN_ERRORS = {
  ERR_TXN_TOKEN_TOO_LARGE: 'token longer than MAX_TXN_TOKEN_BYTES; refused before parsing',
  ERR_TXN_TOKEN_MALFORMED: 'not exactly one compact JWS of three base64url segments with JSON object header and claims (Txn-Token header: "MUST be exactly one Txn-Token")',
  ERR_TXN_TOKEN_TYP_INVALID: 'JOSE header typ is not txntoken+jwt or application/txntoken+jwt, any case (Format, JWT header: MUST be present with that value; RFC 8725 §3.11)',
  ERR_TXN_TOKEN_ALG_NOT_ALLOWED: 'JOSE header alg missing, none, symmetric, or not in the policy (RFC 8725 §3.1)',
  ERR_TXN_TOKEN_CRIT_UNSUPPORTED: 'JOSE header crit present: no extension is understood (RFC 7515 §4.1.11)',
  ERR_TXN_TOKEN_KID_INVALID: 'JOSE header kid present but not a string of 1 to MAX_KID_LENGTH characters (Format, JWT header: kid SHOULD support rotation)',
  ERR_TXN_TOKEN_KEY_SOURCE_FAILED: 'the configured TTS key source failed (unreachable, stale beyond maxStale); refused, 503 (fail closed)',
  ERR_TXN_TOKEN_KEY_NOT_FOUND: 'no key of the configured TTS key set for the kid (or no single key without one)',
  ERR_TXN_TOKEN_SIGNATURE_INVALID: 'JWS signature does not verify with the TTS key, or the key does not fit alg (validation: "Validate the Txn-Token JWS signature")',
  ERR_TXN_TOKEN_AUD_MISMATCH: 'aud absent, not strings, or not naming this trust domain (Format, aud: MUST NOT be accepted outside the trust domain it identifies)',
  ERR_TXN_TOKEN_EXP_INVALID: 'exp absent or not a NumericDate (Format: REQUIRED)',
  ERR_TXN_TOKEN_EXPIRED: 'exp has passed, beyond the allowed clock skew (validation: "Verify the Txn-Token is not expired")',
  ERR_TXN_TOKEN_IAT_INVALID: 'iat absent or not a NumericDate (Format: REQUIRED)',
  ERR_TXN_TOKEN_NOT_YET_VALID: 'iat lies in the future, beyond the allowed clock skew (RFC 7519 §4.1.6)',
  ERR_TXN_TOKEN_LIFETIME_TOO_LONG: 'exp − iat exceeds the policy maximum (Txn-Token Lifetime: "on the order of minutes or less", "MUST be kept short")',
  ERR_TXN_TOKEN_TXN_INVALID: 'txn absent, empty, not a string, or longer than MAX_JTI_LENGTH (Format: REQUIRED; RFC 8417 §2.2)',
  ERR_TXN_TOKEN_SUB_INVALID: 'sub absent, empty, or not a string (Format: REQUIRED)',
  ERR_TXN_TOKEN_SCOPE_INVALID: 'scope absent, not a string, empty, or not space-delimited scope-tokens (Format: REQUIRED; RFC 8693 §4.2; RFC 6749 §3.3)',
  ERR_TXN_TOKEN_REQ_WL_INVALID: 'req_wl absent, empty, or not a string (Format: REQUIRED, a string)',
  ERR_TXN_TOKEN_CONTEXT_INVALID: 'tctx or rctx present but not a JSON object (Format: RECOMMENDED JSON objects)',
  ERR_TXN_TOKEN_ISS_INVALID: 'iss present but not a non-empty string (Format: OPTIONAL; RFC 7519 §4.1.1)',
  ERR_TXN_TOKEN_REPLAY_STORE_FAILED: 'replay checking is on and the replay store could not be consulted; refused, 503 (fail closed)',
  ERR_TXN_TOKEN_REPLAYED: 'replay checking is on and this txn was already seen within the token\'s validity (Security Considerations, replay: "would be declined")',
} as const;

export type TxnTokenErrorCode = keyof typeof TXN_TOKEN_ERRORS;
