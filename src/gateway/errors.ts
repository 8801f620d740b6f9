/**
 * Gateway-generated error responses. Two shapes (DESIGN principle 2): RFC 9457 problem+json everywhere,
 * and a JSON-RPC error body on MCP routes, because MCP clients read a 4xx without a JSON-RPC body as
 * "legacy server" or "session expired" (MCP 2026-07-28 transports; 2025-11-25 session handling). On A2A routes,
 * once the caller knows the call's binding (ErrorOptions.a2a), the binding's own error shape: a JSON-RPC error
 * object, or the google.rpc.Status JSON of the HTTP+JSON binding (A2A 1.0 §5.4, §11.6), which A2A SDK clients
 * turn into typed errors; without it, problem+json. The wire carries a generic title, the status, a stable code
 * and the request id, never the input that caused the error nor the detail (that goes to the audit event).
 *
 * Credential failures (the verifiers' codes, src/verify/errors.ts, plus the gateway's own carriage codes):
 *   - WIT: 400 (workload-creds-02 §5.2; 401 NOT RECOMMENDED there), no challenge.
 *   - WPT: 401 with `WWW-Authenticate: WPT` (wpt-02 §2.1); with the -01 carriage 400 and no challenge
 *     (wpt-01 §2.1). The status is passed by the caller (wptFailureStatus), the table holds the -02 default.
 *   - WIMSE HTTP signature: 400, no challenge (http-signature-07 §3.5: 401 NOT RECOMMENDED).
 *   - JWT-SVID: 401 with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1).
 *   - no credential at all: 401 with a challenge per scheme the route accepts (RFC 9110 §11.6.1).
 * Challenges are passed by the caller, which knows what the route accepts; the same status and headers are used
 * on MCP routes, with a JSON-RPC body.
 */
import type { Protocol } from '../config/schema.ts';
import { CLIENT_CERT_HEADER_ERRORS, X509_ERRORS, type ClientCertHeaderErrorCode, type X509ErrorCode } from '../x509/errors.ts';
import {
  ACCESS_TOKEN_ERRORS,
  DPOP_ERRORS,
  HTTP_SIG_PROFILE_ERRORS,
  INTROSPECTION_ERRORS,
  JWT_SVID_ERRORS,
  TXN_TOKEN_ERRORS,
  WIT_ERRORS,
  WIT_FAILURE_STATUS,
  WPT_ERRORS,
  type AccessTokenErrorCode,
  type DpopErrorCode,
  type HttpSigProfileErrorCode,
  type IntrospectionErrorCode,
  type JwtSvidErrorCode,
  type TxnTokenErrorCode,
  type WitErrorCode,
  type WptErrorCode,
} from '../verify/errors.ts';
import type { EgressErrorCode } from './egress.ts';
import type { TxnExternalErrorCode } from './txn-external.ts';
import { MCP_JSONRPC_CODES, MCP_REQUEST_ERRORS, type McpRequestErrorCode } from '../protocols/mcp-request.ts';
import { A2A_JSONRPC_CODES, type A2aBinding, type A2aRequestErrorCode } from '../protocols/a2a-request.ts';
import type { A2aCardErrorCode } from './a2a-card.ts';
import type { A2aPushUrlErrorCode } from '../a2a/push-urls.ts';

/** Codes of the gateway's own credential extraction (src/gateway/credentials.ts), beside the verifiers' codes. */
export type CredentialErrorCode =
  | 'ERR_CREDENTIALS_MISSING' // the route needs authentication and the request carries none of its credentials
  | 'ERR_WIT_MISSING' // a proof (WPT) arrived without a Workload-Identity-Token
  | 'ERR_WPT_MISSING' // a WIT arrived without a proof: a WIT is never a bearer token (workload-creds-02 §5.1)
  | 'ERR_CLIENT_CERT_MISSING' // an mTLS-only route, and no client certificate from Cloudflare or a trusted proxy
  | 'ERR_OAUTH_REQUEST_INVALID' // RFC 6750 §3.1 invalid_request: a token in the query, a repeated or malformed Authorization field
  | 'ERR_DPOP_PROOF_MISSING' // Authorization: DPoP without a DPoP proof (RFC 9449 §7.1)
  | 'ERR_ACCESS_TOKEN_DPOP_BOUND' // a DPoP-bound token presented as Bearer (RFC 9449 §7.2)
  | 'ERR_ACCESS_TOKEN_NOT_DPOP_BOUND' // the DPoP scheme with a token bound to no key (RFC 9449 §7.1)
  | 'ERR_ACCESS_TOKEN_INSUFFICIENT_USER_AUTH' // acr / auth_time do not meet the operation's step-up requirement (RFC 9470 §3)
  | 'ERR_WORKLOAD_CREDENTIAL_MISSING' // a route that needs a workload credential AND an access token got only the token
  | 'ERR_ACCESS_TOKEN_REQUIRED'; // a workload credential alone, for an operation whose scopes or step-up only a token can meet

export type AuthErrorCode =
  | CredentialErrorCode
  | WitErrorCode
  | WptErrorCode
  | HttpSigProfileErrorCode
  | JwtSvidErrorCode
  | X509ErrorCode
  | ClientCertHeaderErrorCode
  | AccessTokenErrorCode
  | DpopErrorCode
  | IntrospectionErrorCode;

/** The MCP front's refusals: the request itself (mcp-request.ts) and legacy session binding. */
export type McpErrorCode = McpRequestErrorCode | 'ERR_MCP_SESSION_FOREIGN' | 'ERR_MCP_SESSION_UNKNOWN';

/** The A2A front's refusals of a call: the request itself (a2a-request.ts) and its push notification URLs (push-urls.ts). */
export type A2aErrorCode = A2aRequestErrorCode | A2aPushUrlErrorCode | A2aCardErrorCode;

export type ErrorCode =
  | 'ERR_ROUTE_NOT_FOUND'
  | 'ERR_PATH_INVALID'
  | 'ERR_HEADERS_TOO_LARGE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_UPSTREAM_TIMEOUT'
  | 'ERR_UPSTREAM_UNREACHABLE'
  | 'ERR_UPSTREAM_INVALID'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_OWN_IDENTITY_UNAVAILABLE'
  | 'ERR_RESPONSE_NOT_SIGNABLE'
  | 'ERR_TXN_TOKEN_UNAVAILABLE'
  | 'ERR_TXN_TOKEN_PEER_SCOPE' // a peer's Txn-Token shares no scope with what this call was authorized with
  | 'ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG' // a peer's Txn-Token was already replaced MAX_TXN_REPLACEMENTS times
  | TxnTokenErrorCode // a peer gateway's Txn-Token failed verification (gateway/txn-peer.ts)
  | EgressErrorCode // identity chaining into another trust domain (gateway/egress.ts)
  | TxnExternalErrorCode // Txn-Tokens from an external Transaction Token Service (gateway/txn-external.ts)
  | 'ERR_INTERNAL'
  | AuthErrorCode
  | McpErrorCode
  | A2aErrorCode;

interface ErrorSpec {
  status: number;
  title: string;
  /** For the audit event: `deny` when the caller's request was refused, `error` when the gateway or upstream failed. */
  decision: 'deny' | 'error';
  /** On MCP routes, the JSON-RPC error code of the body; default -32000 (JSONRPC_GATEWAY_ERROR). */
  jsonRpc?: number;
}

const family = <C extends string>(codes: Record<C, string>, spec: ErrorSpec) =>
  Object.fromEntries(Object.keys(codes).map((code) => [code, spec])) as Record<C, ErrorSpec>;

/** The gateway's own key sources, stores or authorization servers failed: not the caller's fault, refused all the same (fail closed). */
const UNAVAILABLE: ErrorSpec = { status: 503, title: 'Credential check unavailable', decision: 'error' };

const ERRORS: Record<ErrorCode, ErrorSpec> = {
  ...family(WIT_ERRORS, { status: WIT_FAILURE_STATUS, title: 'Workload identity token rejected', decision: 'deny' }),
  ...family(WPT_ERRORS, { status: 401, title: 'Workload proof token rejected', decision: 'deny' }),
  ...family(JWT_SVID_ERRORS, { status: 401, title: 'Bearer token rejected', decision: 'deny' }),
  // http-signature-07 §3.5: 400 is appropriate, 401 NOT RECOMMENDED (as for the WIT).
  ...family(HTTP_SIG_PROFILE_ERRORS, { status: 400, title: 'HTTP message signature rejected', decision: 'deny' }),
  ERR_HTTPSIG_REPLAY_STORE_FAILED: UNAVAILABLE,
  // mTLS: the certificate was presented at the TLS layer, so no HTTP challenge could ask for another; 400 as for a WIT.
  ...family(X509_ERRORS, { status: 400, title: 'Client certificate rejected', decision: 'deny' }),
  ...family(CLIENT_CERT_HEADER_ERRORS, { status: 400, title: 'Client certificate rejected', decision: 'deny' }),
  ERR_WIT_KEY_SOURCE_FAILED: UNAVAILABLE,
  ERR_JWT_SVID_KEY_SOURCE_FAILED: UNAVAILABLE,
  ERR_WPT_REPLAY_STORE_FAILED: UNAVAILABLE,
  // OAuth (RFC 6750 §3.1, RFC 9068 §4, RFC 9449 §7, RFC 9470 §3): 401 invalid_token, 403 insufficient_scope, 400
  // invalid_request; the challenge (oauth.ts) says which.
  ...family(ACCESS_TOKEN_ERRORS, { status: 401, title: 'Access token rejected', decision: 'deny' }),
  ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE: { status: 403, title: 'Insufficient scope', decision: 'deny' },
  ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED: UNAVAILABLE,
  ERR_ACCESS_TOKEN_INSUFFICIENT_USER_AUTH: { status: 401, title: 'Stronger user authentication required', decision: 'deny' },
  ERR_ACCESS_TOKEN_DPOP_BOUND: { status: 401, title: 'Access token rejected', decision: 'deny' },
  ERR_ACCESS_TOKEN_NOT_DPOP_BOUND: { status: 401, title: 'Access token rejected', decision: 'deny' },
  ...family(INTROSPECTION_ERRORS, { status: 401, title: 'Access token rejected', decision: 'deny' }),
  ERR_INTROSPECTION_FAILED: UNAVAILABLE,
  ERR_INTROSPECTION_RESPONSE_INVALID: UNAVAILABLE,
  ...family(DPOP_ERRORS, { status: 401, title: 'DPoP proof rejected', decision: 'deny' }),
  ERR_DPOP_REPLAY_STORE_FAILED: UNAVAILABLE,
  ERR_DPOP_PROOF_MISSING: { status: 401, title: 'DPoP proof missing', decision: 'deny' },
  ERR_OAUTH_REQUEST_INVALID: { status: 400, title: 'Malformed credentials', decision: 'deny' },
  ERR_WORKLOAD_CREDENTIAL_MISSING: { status: 401, title: 'Workload credential required', decision: 'deny' },
  ERR_ACCESS_TOKEN_REQUIRED: { status: 401, title: 'Access token required', decision: 'deny' },
  // MCP front: a malformed request or header/body disagreement (2026-07-28 transports: 400, -32020 HeaderMismatch).
  ...Object.fromEntries(Object.keys(MCP_REQUEST_ERRORS).map((code) => [code, { status: 400, title: 'Invalid MCP request', decision: 'deny', jsonRpc: MCP_JSONRPC_CODES[code as McpRequestErrorCode] }])) as Record<McpRequestErrorCode, ErrorSpec>,
  // A legacy session opened by another principal: refused without saying whose it is.
  ERR_MCP_SESSION_FOREIGN: { status: 403, title: 'Session belongs to another caller', decision: 'deny' },
  // A session the gateway never saw opened (or whose binding expired): 404 makes MCP clients start a new session
  // (2025-11-25 transports), with the SDK's "Session not found" JSON-RPC code.
  ERR_MCP_SESSION_UNKNOWN: { status: 404, title: 'Session not found', decision: 'deny', jsonRpc: -32001 },
  // A2A front: a malformed call (400, A2A §5.4 and JSON-RPC 2.0 §5.1 codes), and a push notification URL outside the
  // route's allow-list: a bad parameter value, so -32602 Invalid params.
  ERR_A2A_REQUEST_INVALID: { status: 400, title: 'Invalid A2A request', decision: 'deny', jsonRpc: A2A_JSONRPC_CODES.ERR_A2A_REQUEST_INVALID },
  ERR_A2A_PARSE_ERROR: { status: 400, title: 'Request body is not JSON', decision: 'deny', jsonRpc: A2A_JSONRPC_CODES.ERR_A2A_PARSE_ERROR },
  ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED: { status: 400, title: 'Content type not supported', decision: 'deny', jsonRpc: A2A_JSONRPC_CODES.ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED },
  ERR_A2A_PUSH_URL_NOT_ALLOWED: { status: 400, title: 'Push notification URL not allowed', decision: 'deny', jsonRpc: -32602 },
  // Agent Cards (a2a-card.ts): the upstream's card cannot be served as the gateway's (502), the card key ring's store
  // failed (503), or the caller asked for a protocol version the card does not declare (A2A §3.1: 400, -32009).
  ERR_A2A_CARD_UNAVAILABLE: { status: 502, title: 'Agent card unavailable', decision: 'error' },
  ERR_A2A_CARD_INVALID: { status: 502, title: 'Upstream agent card invalid', decision: 'error' },
  ERR_A2A_CARD_SIGNATURE_INVALID: { status: 502, title: 'Upstream agent card signature invalid', decision: 'error' },
  ERR_A2A_CARD_SIGNING_UNAVAILABLE: { status: 503, title: 'Agent card signing unavailable', decision: 'error' },
  ERR_A2A_VERSION_NOT_SUPPORTED: { status: 400, title: 'A2A version not supported', decision: 'deny', jsonRpc: -32009 },
  ERR_CREDENTIALS_MISSING: { status: 401, title: 'Authentication required', decision: 'deny' },
  ERR_WIT_MISSING: { status: WIT_FAILURE_STATUS, title: 'Workload identity token missing', decision: 'deny' },
  ERR_WPT_MISSING: { status: 401, title: 'Workload proof token missing', decision: 'deny' },
  ERR_CLIENT_CERT_MISSING: { status: 400, title: 'Client certificate required', decision: 'deny' },
  ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No route matches this path', decision: 'deny' },
  ERR_PATH_INVALID: { status: 400, title: 'Ambiguous request path', decision: 'deny' },
  ERR_HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large', decision: 'deny' },
  ERR_BODY_TOO_LARGE: { status: 413, title: 'Request body too large', decision: 'deny' },
  ERR_UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream did not answer in time', decision: 'error' },
  ERR_UPSTREAM_UNREACHABLE: { status: 502, title: 'Upstream unreachable', decision: 'error' },
  ERR_UPSTREAM_INVALID: { status: 502, title: 'Upstream sent an invalid response', decision: 'error' },
  ERR_CONFIG_INVALID: { status: 503, title: 'Gateway not configured', decision: 'error' },
  // The gateway's own WIT and key (identity) cannot be loaded or have expired: it cannot sign or present itself.
  ERR_OWN_IDENTITY_UNAVAILABLE: { status: 503, title: 'Gateway identity unavailable', decision: 'error' },
  // http-signature-07 §3.4: a response that must be signed and cannot be (a stream, too large) is an error, never
  // an unsigned success; 501 is one of the two statuses the draft suggests.
  ERR_RESPONSE_NOT_SIGNABLE: { status: 501, title: 'Response cannot be signed', decision: 'error' },
  // The Txn-Token signing keys cannot be read or stored (the state store failed): the upstream must not be called
  // without the context it relies on.
  ERR_TXN_TOKEN_UNAVAILABLE: { status: 503, title: 'Transaction token unavailable', decision: 'error' },
  // A peer gateway's own Txn-Token (txnToken.peers): refused as a downstream verifier refuses it (downstream/errors.ts:
  // 401, no challenge, 503 when its keys or a replay store cannot be consulted); a replacement never widens its scope
  // (draft-ietf-oauth-transaction-tokens, replacement: "MUST NOT ... expand the scope of permitted actions").
  ...family(TXN_TOKEN_ERRORS, { status: 401, title: 'Transaction token rejected', decision: 'deny' }),
  ERR_TXN_TOKEN_KEY_SOURCE_FAILED: UNAVAILABLE,
  ERR_TXN_TOKEN_REPLAY_STORE_FAILED: UNAVAILABLE,
  ERR_TXN_TOKEN_PEER_SCOPE: { status: 403, title: 'Transaction token scope not allowed here', decision: 'deny' },
  ERR_TXN_TOKEN_PEER_CHAIN_TOO_LONG: { status: 403, title: 'Transaction token replaced too many times', decision: 'deny' },
  // Egress into another trust domain (draft-ietf-oauth-identity-chaining-17): the authorization servers the gateway
  // depends on failed or refused. Not the caller's request as such: 502 (bad gateway), 503 when the gateway itself
  // cannot act (its client secret is not set).
  ERR_EGRESS_UNAVAILABLE: { status: 503, title: 'Cross-domain access unavailable', decision: 'error' },
  ERR_EGRESS_EXCHANGE_FAILED: { status: 502, title: 'Cross-domain token exchange failed', decision: 'error' },
  ERR_EGRESS_EXCHANGE_REFUSED: { status: 502, title: 'Cross-domain token exchange refused', decision: 'error' },
  ERR_EGRESS_GRANT_FAILED: { status: 502, title: 'Cross-domain access token request failed', decision: 'error' },
  ERR_EGRESS_GRANT_REFUSED: { status: 502, title: 'Cross-domain grant refused', decision: 'error' },
  // An external Transaction Token Service (transactionTokens.external): it refused the Txn-Token Request or returned
  // something that is no Txn-Token of this trust domain (502), or it (or its key set, or the gateway's client secret)
  // is unavailable (503). The upstream is not called without the Txn-Token it relies on.
  ERR_TXN_TTS_REFUSED: { status: 502, title: 'Transaction token request refused', decision: 'error' },
  ERR_TXN_TTS_FAILED: { status: 503, title: 'Transaction token service unavailable', decision: 'error' },
  ERR_TXN_TTS_RESPONSE_INVALID: { status: 502, title: 'Transaction token service sent an invalid token', decision: 'error' },
  ERR_INTERNAL: { status: 500, title: 'Internal gateway error', decision: 'error' },
};

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

/** JSON-RPC "server error" range (JSON-RPC 2.0 §5.1): the gateway, not the MCP server or A2A agent, refused the call.
 * A2A reserves -32001…-32009 for its own errors (§5.4); -32000 is none of them. */
const JSONRPC_GATEWAY_ERROR = -32000;

/** Per-response overrides: the status of a carriage-dependent failure, and the challenges of a 401. */
export interface ErrorOptions {
  status?: number;
  /** `WWW-Authenticate` challenges, e.g. `WPT`, `Bearer error="invalid_token"`; sent as one comma-separated field. */
  challenges?: readonly string[];
  /** Further response fields (`DPoP-Nonce`, CORS exposure of the challenge). */
  headers?: Readonly<Record<string, string>>;
  /** On A2A routes: the binding of the call (and its JSON-RPC id), for an error in that binding's shape. */
  a2a?: { binding: A2aBinding; rpcId?: string | number | null };
}

export function errorResponse(code: ErrorCode, requestId: string, protocol?: Protocol, options: ErrorOptions = {}): Response {
  const { title } = ERRORS[code];
  const status = options.status ?? ERRORS[code].status;
  const headers = new Headers({ 'x-request-id': requestId, 'cache-control': 'no-store' });
  if (options.challenges && options.challenges.length > 0) headers.set('www-authenticate', options.challenges.join(', '));
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  let body: string;
  if (protocol === 'mcp') {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(jsonRpcError(code, requestId, status, null));
  } else if (protocol === 'a2a' && options.a2a) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(options.a2a.binding === 'JSONRPC' ? jsonRpcError(code, requestId, status, options.a2a.rpcId ?? null) : googleRpcStatus(code, requestId, status));
  } else {
    headers.set('content-type', 'application/problem+json');
    body = JSON.stringify({ type: 'about:blank', title, status, code, requestId });
  }
  return new Response(body, { status, headers });
}

/** A JSON-RPC error response (JSON-RPC 2.0 §5): the request's id (null when unknown), the gateway's code in `data`. */
function jsonRpcError(code: ErrorCode, requestId: string, status: number, id: string | number | null) {
  return { jsonrpc: '2.0', id, error: { code: ERRORS[code].jsonRpc ?? JSONRPC_GATEWAY_ERROR, message: ERRORS[code].title, data: { status, code, requestId } } };
}

/**
 * The A2A HTTP+JSON error body (A2A 1.0 §11.6: google.rpc.Status as JSON, the AIP-193 shape): `code` is the HTTP
 * status, `status` its canonical gRPC code name, and a google.rpc.ErrorInfo whose reason is the gateway's code, in
 * the gateway's own domain (A2A's own reasons, domain "a2a-protocol.org", are the agent's to send).
 */
function googleRpcStatus(code: ErrorCode, requestId: string, status: number) {
  return {
    error: {
      code: status,
      status: grpcStatusName(status),
      message: ERRORS[code].title,
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'portcullis', metadata: { requestId } }],
    },
  };
}

/**
 * Canonical gRPC code names by HTTP status: google/rpc/code.proto's "HTTP Mapping" read backwards, where it names one.
 * Choices where it does not:
 *   - 405 UNIMPLEMENTED: the operation is not supported on that resource (gRPC's answer to an unknown method).
 *   - 413, 431 RESOURCE_EXHAUSTED: gRPC's own status for a message over the configured size limit (grpc
 *     doc/statuscodes.md); not INVALID_ARGUMENT, since the request is well-formed and a larger limit would take it.
 *   - 502 UNAVAILABLE: what gRPC clients make of a proxy's 502 (grpc doc/http-grpc-status-mapping.md); the gateway
 *     answers 502 when the upstream (or an authorization server it depends on) failed, which a retry may fix, and
 *     UNKNOWN would hide that hint.
 * Any other status: UNKNOWN (code.proto: errors that carry too little information).
 */
const GRPC_STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [400, 'INVALID_ARGUMENT'],
  [401, 'UNAUTHENTICATED'],
  [403, 'PERMISSION_DENIED'],
  [404, 'NOT_FOUND'],
  [405, 'UNIMPLEMENTED'],
  [409, 'ABORTED'],
  [412, 'FAILED_PRECONDITION'],
  [413, 'RESOURCE_EXHAUSTED'],
  [429, 'RESOURCE_EXHAUSTED'],
  [431, 'RESOURCE_EXHAUSTED'],
  [499, 'CANCELLED'],
  [500, 'INTERNAL'],
  [501, 'UNIMPLEMENTED'],
  [502, 'UNAVAILABLE'],
  [503, 'UNAVAILABLE'],
  [504, 'DEADLINE_EXCEEDED'],
]);

export function grpcStatusName(status: number): string {
  return GRPC_STATUS_NAMES.get(status) ?? 'UNKNOWN';
}
