/**
 * The steps the WIMSE request verifier (verify/wimse-signature.ts) and response verifier
 * (verify/wimse-response-signature.ts) share, for draft-ietf-wimse-http-signature-07 (and -06):
 *  - `selectWimseSignature`: parse `Signature-Input` / `Signature` (RFC 9421 §4) and pick the one signature whose
 *    `tag` is `wimse-workload-to-workload` (-07 §3.3: none → no WIMSE signature, several → reject, never choose
 *    by label; -06 routes prefer the label `wimse` among several tagged ones)
 *  - `readWimseParameters`: the above, then `keyid` and `alg` absent (-07 §3.2: the key and its algorithm come
 *    from the WIT), `created`, `expires`, `nonce` and the kind's own String parameter (`wimse-aud` on a request,
 *    `wimse-req-nonce` on a response) present, `nonce` 1 to 256 characters
 *  - `checkBodyDigest`: a message with a body carries `Content-Digest`, recomputed over the bytes received
 *    (-07 §3.1; RFC 9530)
 *  - `checkSignatureTimes`: `expires` ≥ `created`, `created` not in the future, `expires` not passed (with skew),
 *    `expires − created` within the maximum (-07 §3.2: "expiration MUST be short")
 *  - `verifyWithWitKey`: the raw JWS signature of `cnf.jwk.alg` over the re-created signature base, with the
 *    sender's WIT key `cnf.jwk` (RFC 9421 §3.3.7)
 *
 * Each returns the profile's codes (HTTP_SIG_PROFILE_ERRORS); details name no key, signature, WIT or body.
 * Does NOT decide the other parameters and the components a request or a response must carry: each verifier does.
 */
import { isAsymmetricJwsAlgorithm, keyFits, verifyParams } from '../crypto/algorithms.ts';
import { sharedKeyImportCache, type KeyImportCache } from '../crypto/key-cache.ts';
import { checkDigestField } from '../http-sig/content-digest.ts';
import { fieldLines, type FieldSource, type HttpSigMessage } from '../http-sig/message.ts';
import { parseSignatures, type HttpSignature } from '../http-sig/parse-signatures.ts';
import type { Parameters } from '../http-sig/sf-types.ts';
import { createSignatureBase } from '../http-sig/signature-base.ts';
import { fail, ok, type Result } from '../result.ts';
import type { HttpSigProfileErrorCode } from './errors.ts';
import type { VerifiedWit } from './wit.ts';

export const WIMSE_SIGNATURE_TAG = 'wimse-workload-to-workload';
export type WimseSignatureVersion = '07' | '06';

/** What both verifiers (request and response) take besides the message: draft revision, limits, clock. */
export interface WimseCheckOptions {
  version?: WimseSignatureVersion;
  policy?: { maxLifetimeSeconds?: number | undefined; clockSkewSeconds?: number | undefined };
  /** Epoch milliseconds. */
  now: () => number;
  keyCache?: KeyImportCache;
}

/** The request's derived components a signature must cover: on a request bare, on a response with `req`. */
export const REQUEST_DERIVED: Record<WimseSignatureVersion, readonly string[]> = { '07': ['@method', '@path', '@query'], '06': ['@method', '@request-target'] };

type Failure = { ok: false; code: HttpSigProfileErrorCode; detail: string };

/** Steps "parse" and "select by tag". */
export function selectWimseSignature(headers: FieldSource, version: WimseSignatureVersion): Result<HttpSignature, HttpSigProfileErrorCode> {
  const parsed = parseSignatures(headers);
  if (!parsed.ok) return fail(parsed.code === 'ERR_SIG_MISSING' ? 'ERR_HTTPSIG_MISSING' : 'ERR_HTTPSIG_MALFORMED', parsed.detail);
  const signatures = parsed.value;
  const tagged = signatures.filter((s) => s.metadata.tag === WIMSE_SIGNATURE_TAG);
  if (tagged.length === 1) return ok(tagged[0]!);
  if (tagged.length === 0) {
    const untagged = version === '06' ? signatures.find((s) => s.label === 'wimse') : undefined;
    return fail(untagged ? 'ERR_HTTPSIG_PARAM_MISSING' : 'ERR_HTTPSIG_MISSING', untagged ? `missing tag="${WIMSE_SIGNATURE_TAG}"` : `no signature has tag="${WIMSE_SIGNATURE_TAG}"`);
  }
  // -06 §3: "If multiple ones are included, then the signature label ... SHOULD be wimse"; -07 refuses.
  const labelled = version === '06' ? tagged.filter((s) => s.label === 'wimse') : [];
  if (labelled.length === 1) return ok(labelled[0]!);
  return fail('ERR_HTTPSIG_AMBIGUOUS', `${tagged.length} signatures carry tag="${WIMSE_SIGNATURE_TAG}"`);
}

/** `keyid` and `alg` must not be used (-07 §3.2); the failure, or `undefined`. */
function forbiddenParameter(params: Parameters): Failure | undefined {
  for (const name of ['keyid', 'alg'] as const) {
    if (params.has(name)) return fail('ERR_HTTPSIG_PARAM_FORBIDDEN', `${name} must not be used: the key and its algorithm come from the WIT`);
  }
  return undefined;
}

/** What every WIMSE signature carries (-07 §3.2), read once the signature is selected. */
export interface WimseParameters {
  signature: HttpSignature;
  /** Unix seconds. */
  created: number;
  expires: number;
  nonce: string;
  /** The message kind's own String parameter: `wimse-aud` on requests, `wimse-req-nonce` on responses. */
  own: string;
}

const MAX_NONCE_LENGTH = 256;

/**
 * Steps "parse", "select by tag" and "parameters" shared by requests and responses: exactly one WIMSE
 * signature; `keyid` and `alg` absent; `created`, `expires`, `nonce` and the kind's `own` parameter present,
 * `own` a String and `nonce` 1 to 256 characters.
 */
export function readWimseParameters(headers: FieldSource, version: WimseSignatureVersion, own: 'wimse-aud' | 'wimse-req-nonce'): Result<WimseParameters, HttpSigProfileErrorCode> {
  const chosen = selectWimseSignature(headers, version);
  if (!chosen.ok) return chosen;
  const signature = chosen.value;
  const forbidden = forbiddenParameter(signature.params);
  if (forbidden) return forbidden;
  const { created, expires, nonce } = signature.metadata;
  const ownValue = signature.params.get(own);
  const missing = [created === undefined && 'created', expires === undefined && 'expires', nonce === undefined && 'nonce', ownValue === undefined && own].filter(Boolean);
  if (missing.length > 0) return fail('ERR_HTTPSIG_PARAM_MISSING', `missing ${missing.join(', ')}`);
  if (ownValue!.type !== 'string') return fail('ERR_HTTPSIG_PARAM_INVALID', `${own} is not a String`);
  if (nonce!.length === 0 || nonce!.length > MAX_NONCE_LENGTH) return fail('ERR_HTTPSIG_PARAM_INVALID', `nonce must have 1 to ${MAX_NONCE_LENGTH} characters`);
  return ok({ signature, created: created!, expires: expires!, nonce: nonce!, own: ownValue!.value as string });
}

/** A message with a body must carry `Content-Digest`, and it must match the bytes received. */
export async function checkBodyDigest(message: HttpSigMessage, body: Uint8Array<ArrayBuffer> | undefined, kind: 'request' | 'response'): Promise<Failure | undefined> {
  if (body === undefined || body.byteLength === 0) return undefined;
  const digest = headerValue(message, 'content-digest');
  if (digest === undefined) return fail('ERR_HTTPSIG_DIGEST_MISSING', `a ${kind} with a body must carry Content-Digest`);
  const checked = await checkDigestField(digest, body);
  if (!checked.ok) return fail(checked.code === 'ERR_DIGEST_MISMATCH' ? 'ERR_HTTPSIG_DIGEST_MISMATCH' : 'ERR_HTTPSIG_DIGEST_INVALID', checked.detail);
  return undefined;
}

/** Times in Unix seconds: `now` may be fractional; `created` and `expires` are the signature's Integers. */
export function checkSignatureTimes(created: number, expires: number, now: number, skew: number, maxLifetime: number): Failure | undefined {
  if (expires < created) return fail('ERR_HTTPSIG_PARAM_INVALID', 'expires precedes created');
  if (created > now + skew) return fail('ERR_HTTPSIG_NOT_YET_VALID', `created is ${Math.ceil(created - now)}s in the future`);
  if (expires <= now - skew) return fail('ERR_HTTPSIG_EXPIRED', `expired ${Math.floor(now - expires)}s ago`);
  if (expires - created > maxLifetime) return fail('ERR_HTTPSIG_LIFETIME_TOO_LONG', `valid for ${expires - created}s, limit ${maxLifetime}s`);
  return undefined;
}

/**
 * The signature verifies over the base re-created from `message` (a response carries its `request` for `req`
 * components), with the WIT's `cnf.jwk` and `cnf.jwk.alg` (RFC 9421 §3.3.7).
 */
export async function verifyWithWitKey(wit: VerifiedWit, message: HttpSigMessage, signature: HttpSignature, keyCache?: KeyImportCache): Promise<Failure | undefined> {
  const alg = wit.confirmationAlgorithm;
  if (!isAsymmetricJwsAlgorithm(alg)) return fail('ERR_HTTPSIG_SIGNATURE_INVALID', 'the WIT\'s cnf.jwk.alg is not a signature algorithm');
  let key: CryptoKey;
  try {
    key = (await (keyCache ?? sharedKeyImportCache()).importPublic(wit.confirmationKey, alg)).key;
  } catch {
    return fail('ERR_HTTPSIG_SIGNATURE_INVALID', `the WIT's confirmation key does not import for ${alg}`);
  }
  if (!keyFits(key, alg)) return fail('ERR_HTTPSIG_SIGNATURE_INVALID', `the WIT's confirmation key does not fit ${alg}`);
  const base = createSignatureBase(message, signature.components, signature.params);
  if (!base.ok) return fail('ERR_HTTPSIG_COMPONENT_INVALID', base.detail);
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(verifyParams(alg), key, signature.value, new TextEncoder().encode(base.value));
  } catch {
    valid = false;
  }
  if (!valid) return fail('ERR_HTTPSIG_SIGNATURE_INVALID', `signature ${signature.label} does not verify with the WIT's key`);
  return undefined;
}

/** All lines of field `name` (lowercase) joined with ", ", or `undefined` when absent. */
export function headerValue(message: HttpSigMessage, name: string): string | undefined {
  return fieldLines(message.headers, name)?.join(', ');
}

export function fieldPresent(message: HttpSigMessage, name: string): boolean {
  return headerValue(message, name) !== undefined;
}
