/**
 * Signature parameters (RFC 9421 §2.3): the typed view of the registered ones, the conversion of a signer's
 * ordered input, and the `@signature-params` value (the covered components as an Inner List of Strings carrying
 * the parameters in their chosen order, §2.3 steps 1-6).
 *
 * Validates the registered parameters' types: `created` and `expires` non-negative Integers (Unix seconds, no
 * sub-second precision), `nonce`, `alg`, `keyid` and `tag` Strings. Other parameters (a profile's, e.g.
 * WIMSE's `wimse-aud`) are kept as they are, in order, for the profile to check.
 *
 * Does NOT check times against a clock, that `alg` names a known algorithm, or nonce uniqueness: verify.ts and
 * the application do (§3.2, §3.2.1).
 */
import { fail, ok, type Result } from '../result.ts';
import { componentItem, type ComponentIdentifier } from './component-identifier.ts';
import type { HttpSigErrorCode } from './errors.ts';
import { serializeInnerList } from './sf-serialize.ts';
import { sfBoolean, sfInteger, sfString, type BareItem, type Parameters } from './sf-types.ts';

export interface SignatureMetadata {
  readonly created?: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly alg?: string;
  readonly keyid?: string;
  readonly tag?: string;
}

/**
 * A signer's parameters, in the order they are to be serialized: numbers become Integers, strings Strings,
 * booleans Booleans (`true` serializes as a bare flag). E.g. `{ created: 1618884473, keyid: 'test-key-rsa-pss' }`.
 */
export type SignatureParamsInput = Readonly<Record<string, number | string | boolean>>;

const INTEGER_PARAMS = new Set(['created', 'expires']);
const STRING_PARAMS = new Set(['nonce', 'alg', 'keyid', 'tag']);
const KEY = /^[a-z*][a-z0-9_.*-]*$/;
const STRING = /^[\x20-\x7e]*$/;

function typeProblem(name: string, value: BareItem): string | undefined {
  if (INTEGER_PARAMS.has(name) && !(value.type === 'integer' && value.value >= 0)) return `${name} must be a non-negative Integer`;
  if (STRING_PARAMS.has(name) && value.type !== 'string') return `${name} must be a String`;
  return undefined;
}

/** The registered parameters of a parsed signature, type-checked. */
export function readSignatureMetadata(params: Parameters): Result<SignatureMetadata, HttpSigErrorCode> {
  const metadata: Record<string, number | string> = {};
  for (const [name, value] of params) {
    const problem = typeProblem(name, value);
    if (problem !== undefined) return fail('ERR_SIG_PARAM_INVALID', problem);
    if (INTEGER_PARAMS.has(name) || STRING_PARAMS.has(name)) metadata[name] = value.value as number | string;
  }
  return ok(metadata as SignatureMetadata);
}

/** Converts a signer's ordered parameters into Structured Field parameters. */
export function signatureParamsFromInput(input: SignatureParamsInput): Result<Parameters, HttpSigErrorCode> {
  const params = new Map<string, BareItem>();
  for (const [name, raw] of Object.entries(input)) {
    if (!KEY.test(name)) return fail('ERR_SIG_PARAM_INVALID', `"${name}" is not a parameter key`);
    let value: BareItem;
    if (typeof raw === 'number') {
      if (!Number.isInteger(raw) || Math.abs(raw) > 999_999_999_999_999) return fail('ERR_SIG_PARAM_INVALID', `${name} must be an integer of at most 15 digits`);
      value = sfInteger(raw);
    } else if (typeof raw === 'string') {
      if (!STRING.test(raw)) return fail('ERR_SIG_PARAM_INVALID', `${name} must be an ASCII string without controls`);
      value = sfString(raw);
    } else if (typeof raw === 'boolean') {
      value = sfBoolean(raw);
    } else {
      return fail('ERR_SIG_PARAM_INVALID', `${name} must be a number, string or boolean`);
    }
    const problem = typeProblem(name, value);
    if (problem !== undefined) return fail('ERR_SIG_PARAM_INVALID', problem);
    params.set(name, value);
  }
  return ok(params);
}

/** The `@signature-params` component value, which is also the Signature-Input member value (§2.3, §4.1). */
export function serializeSignatureParams(components: readonly ComponentIdentifier[], params: Parameters): string {
  return serializeInnerList({ kind: 'innerList', items: components.map(componentItem), params });
}
