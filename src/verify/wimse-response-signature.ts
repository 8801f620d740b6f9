/**
 * Verifies the WIMSE HTTP Message Signature of a RESPONSE (draft-ietf-wimse-http-signature-07 §3.4, -06 accepted),
 * on the client side: the response answers a request this client signed, and is signed with the key in the
 * responder's WIT (`cnf.jwk`, RFC 9421 §3.3.7).
 *
 * The caller has verified the responder's WIT (from the response's `Workload-Identity-Token`) against the trust
 * anchors it is configured with (verify/wit.ts), -07 §3: "MUST validate the WIT ... before validating the HTTP
 * message signature". Then, in this order (first failure returned; codes in HTTP_SIG_PROFILE_ERRORS):
 *   1. `Signature-Input` and `Signature` parse (RFC 9421 §4; bounds of src/limits.ts)             [shared]
 *   2. the WIMSE signature is the one whose `tag` is `wimse-workload-to-workload`: none → missing (an unsigned
 *      response, as far as this profile goes), several → refused; -06 prefers the label `wimse`   [shared]
 *   3. parameters: `keyid` and `alg` absent [shared]; `created`, `expires`, `nonce` and `wimse-req-nonce`
 *      present, `nonce` and `wimse-req-nonce` Strings of 1 to 256 characters
 *   4. `wimse-req-nonce` equals `requestNonce`, the `nonce` of the request this client sent (-07 §3.4: "the client
 *      MUST verify that wimse-req-nonce is present and equals the nonce from the corresponding request";
 *      ERR_HTTPSIG_REQ_NONCE_MISMATCH)
 *   5. covered components (-07 §3.1): `@status` and `workload-identity-token` bare; the request's `@method;req`,
 *      `@path;req`, `@query;req` (-06: `@method;req`, `@request-target;req`) with `req` as their only parameter;
 *      `content-type` and `content-digest` bare when the response carries them
 *   6. a response with a body carries `Content-Digest`, recomputed over the bytes received      [shared]
 *   7. time: `expires` ≥ `created`; `created` not in the future; `expires` not passed (with skew);
 *      `expires − created` ≤ `policy.maxLifetimeSeconds`                                          [shared]
 *   8. the signature verifies over the re-created base (the `req` components from `request`) with the responder
 *      WIT's `cnf.jwk` and `cnf.jwk.alg`                                                         [shared]
 *
 * Does NOT:
 *  - verify the responder's WIT, or decide which responders (trust domains, subjects) this client accepts: the
 *    caller passes the VerifiedWit it obtained from its own trust anchors;
 *  - check that the response's `Workload-Identity-Token` field is the token `responderWit` came from (caller
 *    wiring, as for requests); the field must be covered, and the signature must verify with `responderWit`'s key;
 *  - keep a replay cache of response nonces (-07 §3.2: recipients MAY): step 4 already ties a response to one
 *    fresh request, so a replayed response only answers the request it was made for;
 *  - decide whether an unsigned response is acceptable (ERR_HTTPSIG_MISSING is returned; the caller accepts it
 *    unless its request carried `wimse-sign-response`), or read the body (the caller passes the bytes, bounded);
 *  - refuse request-only parameters (`wimse-aud`, `wimse-sign-response`) on a response: they are covered by the
 *    signature like any other parameter and otherwise ignored (RFC 9421 §2.3);
 *  - undo content codings: the digest is over the bytes passed, which must be the content as sent (RFC 9530 §2).
 * Details never contain a WIT, a signature or a body.
 */
import type { ComponentIdentifier } from '../http-sig/component-identifier.ts';
import type { FieldSource, HttpSigMessage } from '../http-sig/message.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { HttpSigProfileErrorCode } from './errors.ts';
import {
  checkBodyDigest,
  checkSignatureTimes,
  fieldPresent,
  REQUEST_DERIVED,
  readWimseParameters,
  verifyWithWitKey,
  type WimseCheckOptions,
  type WimseSignatureVersion,
} from './wimse-signature-common.ts';
import type { VerifiedWit } from './wit.ts';

export interface WimseResponseSignatureContext extends WimseCheckOptions {
  /** The response as received: status and headers (a Fetch `Response` fits). */
  response: { status: number; headers: FieldSource };
  /** The response body bytes received, or `undefined` for a response without content. */
  body?: Uint8Array<ArrayBuffer>;
  /** The signed request as this client sent it: method, absolute URL, headers (source of the `req` components). */
  request: HttpSigMessage;
  /** The `nonce` of the request's WIMSE signature (what `createWimseSigner` returned as `nonce`). */
  requestNonce: string;
  /** The responder's WIT, verified against the trust anchors the client is configured with. */
  responderWit: VerifiedWit;
}

export interface VerifiedWimseResponseSignature {
  label: string;
  /** The response signature's own `nonce`. */
  nonce: string;
  /** `wimse-req-nonce`: equal to the request's nonce. */
  requestNonce: string;
  /** Epoch milliseconds. */
  created: number;
  expires: number;
  /** Lowercase names of the response fields the signature covers (`req` components excluded). */
  coveredFields: string[];
}

export async function verifyWimseResponseSignature(ctx: WimseResponseSignatureContext): Promise<Result<VerifiedWimseResponseSignature, HttpSigProfileErrorCode>> {
  const version = ctx.version ?? '07';
  const skew = ctx.policy?.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = ctx.policy?.maxLifetimeSeconds ?? DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS;
  const message: HttpSigMessage = { status: ctx.response.status, headers: ctx.response.headers, request: ctx.request };

  // 1. parse, 2. select by tag, 3. parameters
  const read = readWimseParameters(message.headers, version, 'wimse-req-nonce');
  if (!read.ok) return read;
  const { signature, created, expires, nonce, own: reqNonce } = read.value;
  // 4. wimse-req-nonce is this request's nonce
  if (typeof ctx.requestNonce !== 'string' || ctx.requestNonce.length === 0) return fail('ERR_HTTPSIG_REQ_NONCE_MISMATCH', 'no request nonce to compare with (caller wiring)');
  if (reqNonce !== ctx.requestNonce) return fail('ERR_HTTPSIG_REQ_NONCE_MISMATCH', 'wimse-req-nonce is not the nonce of the request sent');
  // 5. covered components
  const required: Array<[string, boolean]> = [
    ['@status', false],
    ['workload-identity-token', false],
    ...(['content-type', 'content-digest'] as const).filter((name) => fieldPresent(message, name)).map((name): [string, boolean] => [name, false]),
    ...REQUEST_DERIVED[version].map((name): [string, boolean] => [name, true]),
  ];
  const uncovered = required.filter(([name, req]) => !signature.components.some((c) => covers(c, name, req))).map(([name, req]) => (req ? `${name};req` : name));
  if (uncovered.length > 0) return fail('ERR_HTTPSIG_COMPONENT_MISSING', `the signature does not cover ${uncovered.join(', ')}`);
  // 6. Content-Digest over the body received
  const digest = await checkBodyDigest(message, ctx.body, 'response');
  if (digest) return digest;
  // 7. time
  const time = checkSignatureTimes(created, expires, ctx.now() / 1000, skew, maxLifetime);
  if (time) return time;
  // 8. signature, with the responder WIT's confirmation key and algorithm (RFC 9421 §3.3.7)
  const invalid = await verifyWithWitKey(ctx.responderWit, message, signature, ctx.keyCache);
  if (invalid) return invalid;

  return ok({
    label: signature.label,
    nonce: nonce,
    requestNonce: reqNonce,
    created: created * 1000,
    expires: expires * 1000,
    coveredFields: signature.components.filter((c) => !c.name.startsWith('@') && !c.params.has('req')).map((c) => c.name),
  });
}

/** `c` is `name` with no parameter, or (for a request component) with `req` as its only parameter. */
function covers(c: ComponentIdentifier, name: string, req: boolean): boolean {
  if (c.name !== name) return false;
  if (!req) return c.params.size === 0;
  const flag = c.params.get('req');
  return c.params.size === 1 && flag?.type === 'boolean' && flag.value === true;
}
