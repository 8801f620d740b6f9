/**
 * The registered OAuth URIs the gateway sends and checks, in one place: grant types (RFC 8693 §2.1 token exchange,
 * RFC 7523 §2.1 JWT bearer) and token type identifiers (RFC 8693 §3; `txn_token` from
 * draft-ietf-oauth-transaction-tokens).
 */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
/** RFC 8693 §3: a JWT (identity-chaining §2.3 issues JWT authorization grants as this type). */
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const TXN_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:txn_token';
