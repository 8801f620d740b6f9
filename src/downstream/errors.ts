/**
 * What a workload behind the gateway answers when a Txn-Token is refused (draft-ietf-oauth-transaction-tokens-09/-10,
 * "Txn-Token HTTP Header"; RFC 9457 problem details; RFC 9110 §15.5.2, §15.6.4).
 *
 * Txn-Tokens define no HTTP authentication scheme (the draft forbids carrying them in `Authorization`), so a refusal
 * is a 401 with an RFC 9457 problem+json body carrying the stable code, and NO `WWW-Authenticate` challenge. Failures
 * upstream of the trust decision (key source, replay store) are 503: the request is refused (fail closed) and the
 * caller may retry. The body never carries the token, the detail, or key material.
 *
 * Codes are part of the public API: never rename one; add new ones instead.
 */
import { TXN_TOKEN_ERRORS, type TxnTokenErrorCode } from '../verify/errors.ts';

/** Carriage codes of the `Txn-Token` request header, beside the verifier's TXN_TOKEN_ERRORS. */
export const TXN_TOKEN_REQUEST_ERRORS = {
  ERR_TXN_TOKEN_MISSING: 'no Txn-Token request header field, or an empty one ("Txn-Token HTTP Header")',
} as const;

export type TxnTokenRequestErrorCode = keyof typeof TXN_TOKEN_REQUEST_ERRORS;

export type DownstreamTxnTokenErrorCode = TxnTokenErrorCode | TxnTokenRequestErrorCode;

/** Every code a downstream verifier returns, with its description. */
export const DOWNSTREAM_TXN_TOKEN_ERRORS: Readonly<Record<DownstreamTxnTokenErrorCode, string>> = { ...TXN_TOKEN_REQUEST_ERRORS, ...TXN_TOKEN_ERRORS };

/** HTTP status for each code: 401, or 503 when the trust decision could not be made (fail closed). */
export function txnTokenFailureStatus(code: DownstreamTxnTokenErrorCode): 401 | 503 {
  return code === 'ERR_TXN_TOKEN_KEY_SOURCE_FAILED' || code === 'ERR_TXN_TOKEN_REPLAY_STORE_FAILED' ? 503 : 401;
}

/** The problem+json response for a refused request: status, a generic title and the code; nothing from the request. */
export function txnTokenFailureResponse(code: DownstreamTxnTokenErrorCode): Response {
  const status = txnTokenFailureStatus(code);
  const title = status === 503 ? 'Txn-Token could not be verified now' : 'Txn-Token refused';
  return new Response(JSON.stringify({ type: 'about:blank', title, status, code }), {
    status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
  });
}
