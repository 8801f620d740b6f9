/**
 * Signs a message (RFC 9421 §3.1): builds the signature base from the chosen components and parameters (in the
 * caller's order, which then never changes), signs it with Web Crypto and returns the Signature-Input and
 * Signature members to attach under the caller's label (§4.1, §4.2).
 *
 * Validates: the label is a Structured Field key, the key fits the algorithm (algorithms.ts), the parameters'
 * types (`created` / `expires` Integers ...), an `alg` parameter, when given, names the algorithm used, and
 * everything the signature base refuses (signature-base.ts).
 *
 * Does NOT choose parameters: `created` (RECOMMENDED), `expires`, `nonce` and `tag` are the caller's (a profile's)
 * to set; nor does it check the label is not already used in the message, or add the fields to the message.
 */
import { fail, ok, type Result } from '../result.ts';
import { isHttpSigAlgorithm, keyProblem, signBytes, type HttpSigAlgorithm } from './algorithms.ts';
import { componentFromInput, type ComponentIdentifier, type ComponentInput } from './component-identifier.ts';
import type { HttpSigErrorCode } from './errors.ts';
import type { HttpSigMessage } from './message.ts';
import { base64Encode } from './sf-base64.ts';
import { serializeKey } from './sf-serialize.ts';
import { createSignatureBase, type SignatureBaseOptions } from './signature-base.ts';
import { serializeSignatureParams, signatureParamsFromInput, type SignatureParamsInput } from './signature-params.ts';

interface SignCommon extends SignatureBaseOptions {
  /** The signature's label in Signature-Input and Signature (a Structured Field key, e.g. `sig1`). */
  label: string;
  components: readonly ComponentInput[];
  /** Signature parameters in serialization order, e.g. `{ created, keyid, nonce }`. */
  params: SignatureParamsInput;
}

/**
 * Either one of this core's registered algorithms with a key, or `sign`: the caller's own signing function over
 * the base, for algorithms the core does not register (RFC 9421 §3.3.7: JWS algorithms, as the WIMSE profile uses
 * with the WIT's `cnf.jwk.alg`). With `sign`, no `alg` parameter may be set.
 */
export type SignOptions = SignCommon &
  (
    | {
        algorithm: HttpSigAlgorithm;
        /** A private key (a secret for hmac-sha256) imported for `algorithm`, with usage "sign". */
        key: CryptoKey;
      }
    | { sign: (base: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer>> }
  );

export interface SignedMessage {
  readonly label: string;
  readonly components: readonly ComponentIdentifier[];
  /** The signature base that was signed. */
  readonly base: string;
  readonly signature: Uint8Array<ArrayBuffer>;
  /** `label=(...);params`: a Signature-Input member (the whole field value when it is the only signature). */
  readonly signatureInput: string;
  /** `label=:base64:`: a Signature member. */
  readonly signatureField: string;
}

export async function signMessage(message: HttpSigMessage, options: SignOptions): Promise<Result<SignedMessage, HttpSigErrorCode>> {
  if (!/^[a-z*][a-z0-9_.*-]*$/.test(options.label)) return fail('ERR_SIG_INPUT_MALFORMED', `label ${JSON.stringify(options.label)} is not a Structured Field key`);
  const registered = 'algorithm' in options ? options : undefined;
  if (registered) {
    if (!isHttpSigAlgorithm(registered.algorithm)) return fail('ERR_SIG_ALG_UNSUPPORTED', `unsupported algorithm ${String(registered.algorithm)}`);
    const problem = keyProblem(registered.key, registered.algorithm, 'sign');
    if (problem !== undefined) return fail('ERR_SIG_KEY_INVALID', problem);
  }

  const components: ComponentIdentifier[] = [];
  for (const input of options.components) {
    const component = componentFromInput(input);
    if (!component.ok) return component;
    components.push(component.value);
  }
  const params = signatureParamsFromInput(options.params);
  if (!params.ok) return params;
  const alg = params.value.get('alg');
  if (alg !== undefined && alg.value !== registered?.algorithm) return fail('ERR_SIG_ALG_MISMATCH', `alg parameter ${String(alg.value)} is not ${registered?.algorithm ?? 'a registered algorithm'}`);

  const base = createSignatureBase(message, components, params.value, options);
  if (!base.ok) return base;
  let signature: Uint8Array<ArrayBuffer>;
  try {
    const data = new TextEncoder().encode(base.value) as Uint8Array<ArrayBuffer>;
    signature = registered ? await signBytes(registered.algorithm, registered.key, data) : await (options as { sign: (base: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer>> }).sign(data);
  } catch (error) {
    return fail('ERR_SIG_KEY_INVALID', `Web Crypto refused to sign: ${(error as Error).name}`);
  }
  const label = serializeKey(options.label);
  return ok({
    label: options.label,
    components,
    base: base.value,
    signature,
    signatureInput: `${label}=${serializeSignatureParams(components, params.value)}`,
    signatureField: `${label}=:${base64Encode(signature)}:`,
  });
}
