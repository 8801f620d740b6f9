/**
 * Verifies one parsed signature against a message (RFC 9421 §3.2), and `verifyMessage`, which first parses the
 * message's signatures and selects one by label or tag (§3.2 step 1).
 *
 * Checks, in this order (first failure returned; see HTTP_SIG_ERRORS):
 *   1. the configured algorithm is implemented, and an `alg` parameter, if present, is registered and names the
 *      same algorithm (step 6: the verifier's choice comes from its key material or configuration; `alg` can
 *      only agree with it, never select it)
 *   2. the key fits the algorithm (type, usage, curve, hash, size)                                   (step 5, 8)
 *   3. when `now` is given: `expires` ≥ `created`; `created` not in the future; `expires` not passed;
 *      `created` no older than `maxAgeSeconds` when set (and present)                         (§3.2.1, with skew)
 *   4. the signature base is re-created from the message; `@signature-params` is the re-serialization of the
 *      received parameters (step 7)
 *   5. the signature has the algorithm's length and verifies over the base                                (step 8)
 *
 * Does NOT decide which components must be covered, which tag or parameters a profile requires, whether a
 * `keyid` names this key, or whether a `nonce` was seen before (§3.2.1: application requirements). Times are
 * only checked when the caller passes `now`.
 */
import { fail, ok, type Result } from '../result.ts';
import { isHttpSigAlgorithm, keyProblem, signatureLength, verifyBytes, type HttpSigAlgorithm } from './algorithms.ts';
import type { HttpSigErrorCode } from './errors.ts';
import type { HttpSigMessage } from './message.ts';
import { parseSignatures, type HttpSignature } from './parse-signatures.ts';
import { selectSignature, type SignatureSelector } from './select-signature.ts';
import { createSignatureBase, type SignatureBaseOptions } from './signature-base.ts';

export interface VerifyOptions extends SignatureBaseOptions {
  /** The algorithm the verifier determined from its key material or configuration (§3.2 step 6). */
  algorithm: HttpSigAlgorithm;
  /** A public key (a secret for hmac-sha256) imported for `algorithm`, with usage "verify". */
  key: CryptoKey;
  /** Current time in Unix seconds; without it no time check is made. */
  now?: number;
  /** Seconds of clock difference tolerated on `created` and `expires` (default 0). */
  clockSkewSeconds?: number;
  /** Oldest acceptable `created`, in seconds before `now`; requires `created` to be present. */
  maxAgeSeconds?: number;
}

export interface VerifiedSignature {
  readonly signature: HttpSignature;
  /** The signature base the signature verified over. */
  readonly base: string;
}

function timeProblem(signature: HttpSignature, options: VerifyOptions): Result<void, HttpSigErrorCode> {
  const { created, expires } = signature.metadata;
  if (created !== undefined && expires !== undefined && expires < created) return fail('ERR_SIG_PARAM_INVALID', 'expires precedes created');
  if (options.now === undefined) return ok(undefined);
  const skew = options.clockSkewSeconds ?? 0;
  if (created !== undefined && created > options.now + skew) return fail('ERR_SIG_NOT_YET_VALID', 'created lies in the future');
  if (expires !== undefined && expires <= options.now - skew) return fail('ERR_SIG_EXPIRED', 'expires has passed');
  if (options.maxAgeSeconds !== undefined) {
    if (created === undefined) return fail('ERR_SIG_PARAM_INVALID', 'created is required to enforce a maximum age');
    if (options.now - created > options.maxAgeSeconds + skew) return fail('ERR_SIG_EXPIRED', 'created is older than the maximum age');
  }
  return ok(undefined);
}

export async function verifySignature(
  message: HttpSigMessage,
  signature: HttpSignature,
  options: VerifyOptions,
): Promise<Result<VerifiedSignature, HttpSigErrorCode>> {
  if (!isHttpSigAlgorithm(options.algorithm)) return fail('ERR_SIG_ALG_UNSUPPORTED', `unsupported algorithm ${String(options.algorithm)}`);
  const alg = signature.metadata.alg;
  if (alg !== undefined && !isHttpSigAlgorithm(alg)) return fail('ERR_SIG_ALG_UNSUPPORTED', `alg ${JSON.stringify(alg)} is not a registered algorithm`);
  if (alg !== undefined && alg !== options.algorithm) return fail('ERR_SIG_ALG_MISMATCH', `alg ${alg} differs from the verifier's ${options.algorithm}`);
  const problem = keyProblem(options.key, options.algorithm, 'verify');
  if (problem !== undefined) return fail('ERR_SIG_KEY_INVALID', problem);
  const time = timeProblem(signature, options);
  if (!time.ok) return time;

  const base = createSignatureBase(message, signature.components, signature.params, options);
  if (!base.ok) return base;
  if (signature.value.length !== signatureLength(options.key, options.algorithm)) {
    return fail('ERR_SIG_INVALID', `signature ${signature.label} has ${signature.value.length} bytes, not the ${options.algorithm} length`);
  }
  let valid: boolean;
  try {
    valid = await verifyBytes(options.algorithm, options.key, signature.value, new TextEncoder().encode(base.value) as Uint8Array<ArrayBuffer>);
  } catch (error) {
    return fail('ERR_SIG_KEY_INVALID', `Web Crypto refused to verify: ${(error as Error).name}`);
  }
  if (!valid) return fail('ERR_SIG_INVALID', `signature ${signature.label} does not verify`);
  return ok({ signature, base: base.value });
}

/** Parses the message's signatures, selects one (§3.2 step 1) and verifies it. */
export async function verifyMessage(
  message: HttpSigMessage,
  options: VerifyOptions & { select: SignatureSelector },
): Promise<Result<VerifiedSignature, HttpSigErrorCode>> {
  const signatures = parseSignatures(message.headers);
  if (!signatures.ok) return signatures;
  const chosen = selectSignature(signatures.value, options.select);
  if (!chosen.ok) return chosen;
  return verifySignature(message, chosen.value, options);
}
