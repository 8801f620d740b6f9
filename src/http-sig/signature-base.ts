/**
 * Creates the signature base (RFC 9421 §2.5): for each covered component in order, its serialized identifier,
 * ": ", its canonical value and LF; then `"@signature-params": ` and the serialized Inner List of the components
 * with the signature parameters (§2.3), with no trailing LF.
 *
 * Refuses (any error fails the whole base, §2.5): a repeated component identifier (parameter order ignored,
 * step 2.0), `@signature-params` among the covered components (§2.3), any component its resolver refuses
 * (component-value.ts), more than MAX_HTTP_SIG_COMPONENTS components, a base over MAX_HTTP_SIG_BASE_BYTES, and
 * a non-ASCII base (step 4).
 *
 * Does NOT sign or verify, and does not check the parameters' meaning (times, alg).
 */
import { MAX_HTTP_SIG_BASE_BYTES, MAX_HTTP_SIG_COMPONENTS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { componentKey, serializeComponentIdentifier, type ComponentIdentifier } from './component-identifier.ts';
import { componentValue, type ComponentValueOptions } from './component-value.ts';
import type { HttpSigErrorCode } from './errors.ts';
import type { HttpSigMessage } from './message.ts';
import type { Parameters } from './sf-types.ts';
import { serializeSignatureParams } from './signature-params.ts';

export type SignatureBaseOptions = ComponentValueOptions;

const ASCII = /^[\x00-\x7f]*$/;

export function createSignatureBase(
  message: HttpSigMessage,
  components: readonly ComponentIdentifier[],
  params: Parameters,
  options: SignatureBaseOptions = {},
): Result<string, HttpSigErrorCode> {
  if (components.length > MAX_HTTP_SIG_COMPONENTS) return fail('ERR_SIG_LIMIT_EXCEEDED', `more than ${MAX_HTTP_SIG_COMPONENTS} covered components`);
  const seen = new Set<string>();
  let base = '';
  for (const id of components) {
    if (id.name === '@signature-params') return fail('ERR_SIG_COMPONENT_INVALID', '@signature-params must not be a covered component (§2.3)');
    const key = componentKey(id);
    if (seen.has(key)) return fail('ERR_SIG_COMPONENT_INVALID', `component ${serializeComponentIdentifier(id)} is covered twice (§2.5)`);
    seen.add(key);
    const value = componentValue(message, id, options);
    if (!value.ok) return value;
    base += `${serializeComponentIdentifier(id)}: ${value.value}\n`;
    if (base.length > MAX_HTTP_SIG_BASE_BYTES) return fail('ERR_SIG_LIMIT_EXCEEDED', `signature base longer than ${MAX_HTTP_SIG_BASE_BYTES} bytes`);
  }
  base += `"@signature-params": ${serializeSignatureParams(components, params)}`;
  if (base.length > MAX_HTTP_SIG_BASE_BYTES) return fail('ERR_SIG_LIMIT_EXCEEDED', `signature base longer than ${MAX_HTTP_SIG_BASE_BYTES} bytes`);
  if (!ASCII.test(base)) return fail('ERR_SIG_COMPONENT_INVALID', 'signature base is not ASCII (§2.5 step 4)');
  return ok(base);
}
