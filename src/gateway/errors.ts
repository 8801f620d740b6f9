/**
 * Gateway-generated error responses. Two shapes (DESIGN principle 2): RFC 9457 problem+json everywhere,
 * and a JSON-RPC error body on MCP routes, because MCP clients read a 4xx without a JSON-RPC body as
 * "legacy server" or "session expired" (MCP 2026-07-28 transports; 2025-11-25 session handling). The wire
 * carries a generic title, the status, a stable code and the request id, never the input that caused the
 * error nor the detail (that goes to the audit event).
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
import { HTTP_SIG_PROFILE_ERRORS, JWT_SVID_ERRORS, WIT_ERRORS, WIT_FAILURE_STATUS, WPT_ERRORS, type HttpSigProfileErrorCode, type JwtSvidErrorCode, type WitErrorCode, type WptErrorCode } from '../verify/errors.ts';

/** Codes of the gateway's own credential extraction (src/gateway/credentials.ts), beside the verifiers' codes. */
export type CredentialErrorCode =
  | 'ERR_CREDENTIALS_MISSING' // the route needs authentication and the request carries none of its credentials
  | 'ERR_WIT_MISSING' // a proof (WPT) arrived without a Workload-Identity-Token
  | 'ERR_WPT_MISSING' // a WIT arrived without a proof: a WIT is never a bearer token (workload-creds-02 §5.1)
  | 'ERR_CLIENT_CERT_MISSING'; // an mTLS-only route, and no client certificate from Cloudflare or a trusted proxy

export type AuthErrorCode = CredentialErrorCode | WitErrorCode | WptErrorCode | HttpSigProfileErrorCode | JwtSvidErrorCode | X509ErrorCode | ClientCertHeaderErrorCode;

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
  | 'ERR_INTERNAL'
  | AuthErrorCode;

interface ErrorSpec {
  status: number;
  title: string;
  /** For the audit event: `deny` when the caller's request was refused, `error` when the gateway or upstream failed. */
  decision: 'deny' | 'error';
}

const family = <C extends string>(codes: Record<C, string>, spec: ErrorSpec) =>
  Object.fromEntries(Object.keys(codes).map((code) => [code, spec])) as Record<C, ErrorSpec>;

const ERRORS: Record<ErrorCode, ErrorSpec> = {
  ...family(WIT_ERRORS, { status: WIT_FAILURE_STATUS, title: 'Workload identity token rejected', decision: 'deny' }),
  ...family(WPT_ERRORS, { status: 401, title: 'Workload proof token rejected', decision: 'deny' }),
  ...family(JWT_SVID_ERRORS, { status: 401, title: 'Bearer token rejected', decision: 'deny' }),
  // http-signature-07 §3.5: 400 is appropriate, 401 NOT RECOMMENDED (as for the WIT).
  ...family(HTTP_SIG_PROFILE_ERRORS, { status: 400, title: 'HTTP message signature rejected', decision: 'deny' }),
  ERR_HTTPSIG_REPLAY_STORE_FAILED: { status: 503, title: 'Credential check unavailable', decision: 'error' },
  // mTLS: the certificate was presented at the TLS layer, so no HTTP challenge could ask for another; 400 as for a WIT.
  ...family(X509_ERRORS, { status: 400, title: 'Client certificate rejected', decision: 'deny' }),
  ...family(CLIENT_CERT_HEADER_ERRORS, { status: 400, title: 'Client certificate rejected', decision: 'deny' }),
  // The gateway's own stores or key sources failed: not the caller's fault, refused all the same (fail closed).
  ERR_WIT_KEY_SOURCE_FAILED: { status: 503, title: 'Credential check unavailable', decision: 'error' },
  ERR_JWT_SVID_KEY_SOURCE_FAILED: { status: 503, title: 'Credential check unavailable', decision: 'error' },
  ERR_WPT_REPLAY_STORE_FAILED: { status: 503, title: 'Credential check unavailable', decision: 'error' },
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
  ERR_INTERNAL: { status: 500, title: 'Internal gateway error', decision: 'error' },
};

export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERRORS[code];
}

/** JSON-RPC "server error" range (JSON-RPC 2.0 §5.1): the gateway, not the MCP server, refused the call. */
const JSONRPC_GATEWAY_ERROR = -32000;

/** Per-response overrides: the status of a carriage-dependent failure, and the challenges of a 401. */
export interface ErrorOptions {
  status?: number;
  /** `WWW-Authenticate` challenges, e.g. `WPT`, `Bearer error="invalid_token"`; sent as one comma-separated field. */
  challenges?: readonly string[];
}

export function errorResponse(code: ErrorCode, requestId: string, protocol?: Protocol, options: ErrorOptions = {}): Response {
  const { title } = ERRORS[code];
  const status = options.status ?? ERRORS[code].status;
  const headers = new Headers({ 'x-request-id': requestId, 'cache-control': 'no-store' });
  if (options.challenges && options.challenges.length > 0) headers.set('www-authenticate', options.challenges.join(', '));
  let body: string;
  if (protocol === 'mcp') {
    headers.set('content-type', 'application/json');
    body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: JSONRPC_GATEWAY_ERROR, message: title, data: { status, code, requestId } } });
  } else {
    headers.set('content-type', 'application/problem+json');
    body = JSON.stringify({ type: 'about:blank', title, status, code, requestId });
  }
  return new Response(body, { status, headers });
}
