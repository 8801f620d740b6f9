/**
 * Signs the response to a WIMSE-signed request with the gateway's own identity (draft-ietf-wimse-http-signature-07
 * §3.4): required when the request's signature carried `wimse-sign-response`, or when the route signs always.
 *
 * The response is read whole (Content-Digest covers its content, RFC 9530), bounded by
 * MAX_SIGNED_RESPONSE_BODY_BYTES; the gateway's WIT goes into `Workload-Identity-Token`, and the signature covers
 * `@status`, `workload-identity-token`, `content-type` and `content-digest` when present, and the request's
 * `@method`, `@path`, `@query` (-06: `@request-target`) with `req`, with `wimse-req-nonce` = the request's nonce.
 * Any signature fields the upstream set are dropped first: the caller must find exactly one WIMSE signature.
 *
 * A response that cannot be signed is not sent unsigned (§3.4: the server "MUST NOT return a successful unsigned
 * response; it MUST return an error", 400 or 501 suggested): an event stream (unbounded by nature) or a body over
 * the bound is ERR_RESPONSE_NOT_SIGNABLE (501); no usable identity is ERR_OWN_IDENTITY_UNAVAILABLE (503).
 */
import type { HttpSigMessage } from '../http-sig/message.ts';
import { MAX_SIGNED_RESPONSE_BODY_BYTES } from '../limits.ts';
import { readBounded } from '../read-bounded.ts';
import type { WimseSignatureVersion } from '../verify/wimse-signature.ts';
import { downstreamResponseHeaders } from './headers.ts';
import type { OwnIdentitySource } from './own-identity.ts';
import type { UpstreamResponse } from './proxy.ts';

export type SignResponseOutcome =
  | { ok: true; response: Response }
  | { ok: false; code: 'ERR_RESPONSE_NOT_SIGNABLE' | 'ERR_OWN_IDENTITY_UNAVAILABLE'; detail: string };

export interface SignResponseContext {
  identity: OwnIdentitySource | undefined;
  /** The request as received (for the `req` components). */
  request: HttpSigMessage;
  requestNonce: string;
  version: WimseSignatureVersion;
  requestId: string;
}

export async function signedResponse(upstream: UpstreamResponse, ctx: SignResponseContext): Promise<SignResponseOutcome> {
  const refuse = async (code: 'ERR_RESPONSE_NOT_SIGNABLE' | 'ERR_OWN_IDENTITY_UNAVAILABLE', detail: string): Promise<SignResponseOutcome> => {
    await upstream.body?.cancel().catch(() => {});
    return { ok: false, code, detail };
  };
  if (!ctx.identity) return refuse('ERR_RESPONSE_NOT_SIGNABLE', 'a signed response was asked for and the gateway has no identity configured');
  let identity;
  try {
    identity = await ctx.identity.current();
  } catch (error) {
    return refuse('ERR_OWN_IDENTITY_UNAVAILABLE', error instanceof Error ? error.message : 'identity unavailable');
  }
  if (upstream.headers.get('content-type')?.toLowerCase().startsWith('text/event-stream')) return refuse('ERR_RESPONSE_NOT_SIGNABLE', 'an event stream has no end to sign');
  const body = await readBounded(upstream.body, MAX_SIGNED_RESPONSE_BODY_BYTES).catch(() => null);
  if (body === null) return { ok: false, code: 'ERR_RESPONSE_NOT_SIGNABLE', detail: 'the upstream body failed while being read' };
  if (body === undefined) return { ok: false, code: 'ERR_RESPONSE_NOT_SIGNABLE', detail: `the upstream body is over ${MAX_SIGNED_RESPONSE_BODY_BYTES} bytes` };

  const headers = downstreamResponseHeaders(upstream.headers, ctx.requestId);
  for (const name of ['signature', 'signature-input', 'content-digest', 'content-length']) headers.delete(name);
  headers.set('workload-identity-token', identity.wit);
  const fields = await identity.httpSig({ status: upstream.status, headers, request: ctx.request }, { requestNonce: ctx.requestNonce, version: ctx.version, ...(body.byteLength > 0 ? { body } : {}) });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
  const bodiless = upstream.status === 204 || upstream.status === 304 || ctx.request.method === 'HEAD';
  return { ok: true, response: new Response(bodiless ? null : body, { status: upstream.status, statusText: upstream.statusText, headers }) };
}
