/**
 * Stable error codes of the HTTP Message Signatures core (RFC 9421), each with what it guards.
 *
 * Every exported operation in src/http-sig returns a Result carrying one of these codes and a non-secret detail
 * (never a key or a whole signature). Codes are part of the public API: never rename one; add new ones instead.
 *
 * Does NOT decide HTTP statuses: a profile (e.g. WIMSE: 400, 401 NOT RECOMMENDED) maps codes to responses.
 */

export const HTTP_SIG_ERRORS = {
  ERR_SIG_MISSING: 'the message carries neither a Signature-Input nor a Signature field, or both are empty (§4)',
  ERR_SIG_INPUT_MALFORMED:
    'Signature-Input is not a Structured Fields Dictionary of Inner Lists of Strings, or repeats a label or parameter (§4.1; RFC 8941 §3.2)',
  ERR_SIG_VALUE_MALFORMED: 'Signature is not a Structured Fields Dictionary of Byte Sequences, or repeats a label (§4.2; RFC 8941 §3.3.5)',
  ERR_SIG_LABEL_MISSING:
    'a label is in Signature-Input but not in Signature (or the reverse), or no signature has the requested label or tag (§4, §3.2 step 1)',
  ERR_SIG_LABEL_AMBIGUOUS: 'more than one signature carries the requested tag; a profile selecting by tag must refuse the message (§3.2 step 1.1)',
  ERR_SIG_LIMIT_EXCEEDED: 'a bound of src/limits.ts (field bytes, labels, components, parameters, signature or base bytes) is exceeded',
  ERR_SIG_COMPONENT_MISSING:
    'a covered component cannot be found: field absent, Dictionary key or query parameter absent, no related request for req, no method, URL or status (§2.5)',
  ERR_SIG_COMPONENT_INVALID:
    'a covered component identifier is malformed or repeated, its parameters conflict, or its value cannot be canonicalised (newline, non-ASCII, unparsable sf/key field, repeated query parameter) (§2, §2.5)',
  ERR_SIG_COMPONENT_UNSUPPORTED:
    'a covered component uses an unknown derived name, an unknown parameter, tr (trailers are not supported), or sf on a field of unknown type (§2.1.1, §2.1.4, §2.5)',
  ERR_SIG_PARAM_INVALID:
    'a signature parameter has the wrong type (created/expires not non-negative Integers; nonce, alg, keyid, tag not Strings), expires precedes created, or a parameter a policy requires is absent (§2.3)',
  ERR_SIG_ALG_UNSUPPORTED: 'the algorithm (configured, or named by the alg parameter) is not one this core implements (§3.3, §6.2)',
  ERR_SIG_ALG_MISMATCH: 'the alg parameter names a different algorithm from the one the verifier determined from its key material or configuration (§3.2 step 6.4)',
  ERR_SIG_KEY_INVALID: 'the CryptoKey does not fit the algorithm (type, usage, curve, hash, RSA modulus < 2048 bits, HMAC secret < 256 bits) (§3.1 step 1)',
  ERR_SIG_EXPIRED: 'expires has passed, or created is older than the allowed maximum age, beyond the clock skew (§3.2.1)',
  ERR_SIG_NOT_YET_VALID: 'created lies in the future, beyond the clock skew (§3.2.1)',
  ERR_SIG_INVALID: 'the signature does not verify over the re-created signature base, or has the wrong length for the algorithm (§3.2 step 8)',
} as const;

export type HttpSigErrorCode = keyof typeof HTTP_SIG_ERRORS;
