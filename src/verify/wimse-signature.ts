/**
 * Verifies the WIMSE HTTP Message Signature of a request: the RFC 9421 profile of draft-ietf-wimse-http-signature
 * (-07 by default, -06 accepted per route), made with the key in the caller's WIT (`cnf.jwk`).
 *
 * The caller has verified the WIT first (-07 §3: "MUST validate the WIT ... before validating the HTTP message
 * signature"). Then, in this order (first failure returned; codes in HTTP_SIG_PROFILE_ERRORS):
 *   1. `Signature-Input` and `Signature` parse (RFC 9421 §4; bounds of src/limits.ts)
 *   2. the WIMSE signature is the one whose `tag` is `wimse-workload-to-workload`: none → missing, several →
 *      refused (-07 §3.3: recipients "MUST NOT choose by label"); -06 routes prefer the label `wimse` among them
 *   3. parameters: `created`, `expires`, `nonce`, `tag` and `wimse-aud` present with their types; `keyid` and
 *      `alg` absent (-07 §3.2: the key and algorithm come from the WIT); `wimse-sign-response`, if present, a
 *      Boolean; `wimse-req-nonce` absent (responses only)
 *   4. covered components: `@method`, `@path`, `@query` (-06: `@method`, `@request-target`), each without
 *      parameters, and every one of `content-type`, `content-digest`, `authorization`, `txn-token`,
 *      `workload-identity-token` the request carries (-07 §3.1)
 *   5. a request with a body carries `Content-Digest`, recomputed over the bytes received (RFC 9530; -07 §3.1)
 *   6. `wimse-aud` is one of the route's configured audiences (never derived from `Host`)
 *   7. time: `expires` ≥ `created`; `created` not in the future and `expires` not passed (with skew);
 *      `expires − created` ≤ the route's maximum (-07 §3.2: "expiration MUST be short")
 *   8. `cnf.jwk.alg` fits the key and the signature verifies over the re-created signature base; the signature is
 *      the raw JWS signature of that algorithm over the base (RFC 9421 §3.3.7)
 *   9. `nonce` is unused: `replay.checkAndSet((subject hash, nonce), until expires + skew, subject hash)`; last,
 *      so a message that fails any other check never burns a nonce
 *
 * Does NOT: verify the WIT, read the body (the caller passes the bytes it received, bounded), decide what the
 * route requires beyond this profile, sign responses (mint/wimse-signature.ts) or verify them
 * (verify/wimse-response-signature.ts). Steps 1-2, 3 (keyid / alg), 5, 7 and 8 are shared with the response
 * verifier (verify/wimse-signature-common.ts). Details never contain the WIT, a signature or a body.
 */
import { sha256b64url } from '../crypto/digest.ts';
import type { HttpSigMessage } from '../http-sig/message.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { ReplayStore } from '../state/ports.ts';
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
import { errorName } from './wit.ts';

export { WIMSE_SIGNATURE_TAG, type WimseSignatureVersion } from './wimse-signature-common.ts';

export interface WimseSignatureContext extends WimseCheckOptions {
  /** The caller's verified WIT: its `cnf.jwk` is the only key a signature may verify with. */
  wit: VerifiedWit;
  /** The request as received: method, absolute URL (path and query as sent), headers. */
  message: HttpSigMessage;
  /** The body bytes received, or `undefined` for a request without content. */
  body?: Uint8Array<ArrayBuffer>;
  /** Values `wimse-aud` may take: the route's configured audience(s), never `Host`. */
  audience: string | readonly string[];
  replay: ReplayStore;
}

export interface VerifiedWimseSignature {
  label: string;
  nonce: string;
  /** Epoch milliseconds. */
  created: number;
  expires: number;
  audience: string;
  /** The request asked for a signed response (`wimse-sign-response`). */
  signResponse: boolean;
  /** Lowercase names of the fields the signature covers (so later stages know what was protected). */
  coveredFields: string[];
}

const CONTEXT_FIELDS = ['content-type', 'content-digest', 'authorization', 'txn-token', 'workload-identity-token'] as const;
/** nonce characters that may enter a replay key unhashed; never `#` or `:` (see verify/wpt.ts). */
const SAFE_NONCE = /^[A-Za-z0-9._~-]{1,256}$/;

export async function verifyWimseSignature(ctx: WimseSignatureContext): Promise<Result<VerifiedWimseSignature, HttpSigProfileErrorCode>> {
  const version = ctx.version ?? '07';
  const skew = ctx.policy?.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetime = ctx.policy?.maxLifetimeSeconds ?? DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS;
  const { wit, message } = ctx;

  // 1. parse, 2. select by tag, 3. parameters
  const read = readWimseParameters(message.headers, version, 'wimse-aud');
  if (!read.ok) return read;
  const { signature, created, expires, nonce, own: aud } = read.value;
  const params = signature.params;
  if (params.has('wimse-req-nonce')) return fail('ERR_HTTPSIG_PARAM_FORBIDDEN', 'wimse-req-nonce belongs to responses');
  const signResponse = params.get('wimse-sign-response');
  if (signResponse !== undefined && signResponse.type !== 'boolean') return fail('ERR_HTTPSIG_PARAM_INVALID', 'wimse-sign-response is not a Boolean');
  // 4. covered components
  const covered = new Map(signature.components.map((c) => [c.name, c.params.size === 0]));
  const required = [...REQUEST_DERIVED[version], ...CONTEXT_FIELDS.filter((name) => fieldPresent(message, name))];
  const uncovered = required.filter((name) => covered.get(name) !== true);
  if (uncovered.length > 0) return fail('ERR_HTTPSIG_COMPONENT_MISSING', `the signature does not cover ${uncovered.join(', ')}`);
  // 5. Content-Digest over the body received
  const digest = await checkBodyDigest(message, ctx.body, 'request');
  if (digest) return digest;
  // 6. audience
  const audiences = typeof ctx.audience === 'string' ? [ctx.audience] : ctx.audience;
  if (!audiences.includes(aud)) return fail('ERR_HTTPSIG_AUD_MISMATCH', 'wimse-aud is not this route\'s audience');
  // 7. time
  const now = ctx.now() / 1000;
  const time = checkSignatureTimes(created, expires, now, skew, maxLifetime);
  if (time) return time;
  // 8. signature, with the WIT's confirmation key and algorithm (RFC 9421 §3.3.7)
  const invalid = await verifyWithWitKey(wit, message, signature, ctx.keyCache);
  if (invalid) return invalid;
  // 9. nonce, last
  const replayKey = `httpsig-nonce:${wit.subjectHash}:${SAFE_NONCE.test(nonce) ? nonce : `#${await sha256b64url(nonce)}`}`;
  const ttlMs = Math.max(1, Math.ceil((expires + skew - now) * 1000));
  let fresh: boolean;
  try {
    fresh = await ctx.replay.checkAndSet(replayKey, ttlMs, `httpsig-sub:${wit.subjectHash}`);
  } catch (error) {
    return fail('ERR_HTTPSIG_REPLAY_STORE_FAILED', `replay store failed (${errorName(error)})`);
  }
  if (!fresh) return fail('ERR_HTTPSIG_REPLAYED', `nonce already used by ${wit.subject.uri}`);

  return ok({
    label: signature.label,
    nonce: nonce,
    created: created * 1000,
    expires: expires * 1000,
    audience: aud,
    signResponse: signResponse?.type === 'boolean' && signResponse.value === true,
    coveredFields: signature.components.filter((c) => !c.name.startsWith('@')).map((c) => c.name),
  });
}
