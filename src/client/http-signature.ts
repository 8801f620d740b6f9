/**
 * The client side of the WIMSE HTTP-signature profile (draft-ietf-wimse-http-signature-07 §3.4, -06) for
 * client/fetch.ts `proof: 'http-sig'`: bounded body buffering, and the check of the response to a signed request.
 *
 * `checkResponse`, for each response to a request this client signed:
 *  1. no WIMSE signature (no signature tagged `wimse-workload-to-workload`): returned as is, unread, unless the
 *     request asked for a signed response (`wimse-sign-response`), which rejects it: "The client MUST reject an
 *     unsigned response when the request's Signature-Input included wimse-sign-response with the Boolean value
 *     true" (ERR_HTTPSIG_MISSING). Otherwise "an unsigned response MUST be accepted".
 *  2. a WIMSE signature that cannot be selected (malformed fields, several tagged signatures): rejected
 *     ("Whenever a signed response is present, the client MUST validate it and reject it if validation fails").
 *  3. the responder's WIT (the response's `Workload-Identity-Token`) is verified with verify/wit.ts against the
 *     client's `responderTrust` keys (-07 §3: the WIT before the signature); WIT_ERRORS codes.
 *  4. the body is read, bounded by MAX_SIGNED_RESPONSE_BODY_BYTES (a `Content-Length` over it is refused unread).
 *  5. verify/wimse-response-signature.ts: `wimse-req-nonce` equals the request's nonce, covered components,
 *     Content-Digest over the bytes read, times, signature with the responder WIT's key.
 *  6. a new Response with the buffered body and the original status, status text, headers and `url`.
 * Every rejection is a ResponseSignatureError (a TypeError, as fetch's own failures are) with a stable `code`,
 * after the response body is cancelled.
 *
 * Does NOT: accept a response whose body was content-coded after the digest was computed (fetch decodes bodies, so
 * the client asks for `Accept-Encoding: identity`; a server that compresses anyway fails the digest), check who
 * the responder is beyond its WIT verifying against `responderTrust` (return keys only for the trust domains you
 * expect answers from), or keep a replay cache of response nonces (each response is bound to one request nonce).
 */
import type { JWK } from 'jose';
import { MAX_SIGNED_RESPONSE_BODY_BYTES } from '../limits.ts';
import { readBounded } from '../read-bounded.ts';
import type { HttpSigProfileErrorCode, WitErrorCode } from '../verify/errors.ts';
import { selectWimseSignature, type WimseSignatureVersion } from '../verify/wimse-signature-common.ts';
import { verifyWimseResponseSignature } from '../verify/wimse-response-signature.ts';
import { verifyWit, type WitPolicy } from '../verify/wit.ts';

/** Codes of the client's own response checks; the others are HTTP_SIG_PROFILE_ERRORS and WIT_ERRORS codes. */
export const RESPONSE_SIGNATURE_ERRORS = {
  ERR_RESPONSE_WIT_MISSING: 'a response with a WIMSE signature carries no Workload-Identity-Token: the responder\'s key is unknown (-07 §3.1)',
  ERR_RESPONSE_BODY_TOO_LARGE: 'a signed response body exceeds MAX_SIGNED_RESPONSE_BODY_BYTES, so its Content-Digest cannot be checked (-07 §3.1)',
} as const;

export type ResponseSignatureErrorCode = keyof typeof RESPONSE_SIGNATURE_ERRORS | HttpSigProfileErrorCode | WitErrorCode;

/** A response to a signed request failed its check (unsigned when required, or signed and invalid). */
export class ResponseSignatureError extends TypeError {
  /** Stable: RESPONSE_SIGNATURE_ERRORS, HTTP_SIG_PROFILE_ERRORS or (the responder's WIT) WIT_ERRORS. */
  readonly code: ResponseSignatureErrorCode;
  /** Non-secret detail of the failed check. */
  readonly detail: string;
  /** HTTP status of the refused response. */
  readonly status: number;

  constructor(code: ResponseSignatureErrorCode, detail: string, status: number) {
    super(`withWorkloadIdentity: refused the ${status} response: ${code} (${detail})`);
    this.name = 'ResponseSignatureError';
    this.code = code;
    this.detail = detail;
    this.status = status;
  }
}

/** Keys of the responder's trust domain (its WIT issuer), as verify/wit.ts asks for them. */
export type ResponderTrust = (trustDomain: string, kid: string | undefined) => Promise<JWK | CryptoKey | undefined>;

export interface ResponseCheck {
  /** The request as sent, with its signature fields. */
  request: { method: string; url: string; headers: Headers };
  requestNonce: string;
  /** The request carried `wimse-sign-response`. */
  required: boolean;
  version: WimseSignatureVersion;
  responderTrust: ResponderTrust;
  responderPolicy?: WitPolicy | undefined;
  now: () => number;
}

export async function checkResponse(response: Response, check: ResponseCheck): Promise<Response> {
  const refuse = (code: ResponseSignatureErrorCode, detail: string): never => {
    response.body?.cancel().catch(() => undefined);
    throw new ResponseSignatureError(code, detail, response.status);
  };
  const headers = response.headers;
  const hasSignatureFields = headers.has('signature-input') || headers.has('signature');
  const selected = hasSignatureFields ? selectWimseSignature(headers, check.version) : undefined;
  // 1. unsigned (for this profile)
  if (selected === undefined || (!selected.ok && selected.code === 'ERR_HTTPSIG_MISSING')) {
    if (check.required) refuse('ERR_HTTPSIG_MISSING', 'the request asked for a signed response (wimse-sign-response) and the response has no WIMSE signature');
    return response;
  }
  // 2. signed, but not selectable
  if (!selected.ok) return refuse(selected.code, selected.detail);
  // 3. the responder's WIT
  const token = headers.get('workload-identity-token');
  if (token === null) return refuse('ERR_RESPONSE_WIT_MISSING', 'the signed response has no Workload-Identity-Token');
  const wit = await verifyWit(token, { keys: (trustDomain, kid) => check.responderTrust(trustDomain, kid), now: check.now, ...(check.responderPolicy ? { policy: check.responderPolicy } : {}) });
  if (!wit.ok) return refuse(wit.code, `the responder's WIT: ${wit.detail}`);
  // 4. the body, bounded
  const length = Number(headers.get('content-length') ?? '0');
  if (length > MAX_SIGNED_RESPONSE_BODY_BYTES) return refuse('ERR_RESPONSE_BODY_TOO_LARGE', `Content-Length ${length} exceeds ${MAX_SIGNED_RESPONSE_BODY_BYTES} bytes`);
  const body = response.body === null ? new Uint8Array(0) : await readBounded(response.body, MAX_SIGNED_RESPONSE_BODY_BYTES);
  if (body === undefined) return refuse('ERR_RESPONSE_BODY_TOO_LARGE', `the body exceeds ${MAX_SIGNED_RESPONSE_BODY_BYTES} bytes`);
  // 5. the signature
  const verified = await verifyWimseResponseSignature({
    response: { status: response.status, headers },
    ...(body.byteLength > 0 ? { body } : {}),
    request: check.request,
    requestNonce: check.requestNonce,
    responderWit: wit.value,
    version: check.version,
    policy: { clockSkewSeconds: check.responderPolicy?.clockSkewSeconds },
    now: check.now,
  });
  if (!verified.ok) return refuse(verified.code, verified.detail);
  // 6. the response, rebuilt around the bytes that were checked
  const rebuilt = new Response(body.byteLength > 0 ? body : null, { status: response.status, statusText: response.statusText, headers });
  if (response.url) Object.defineProperty(rebuilt, 'url', { value: response.url });
  return rebuilt;
}

