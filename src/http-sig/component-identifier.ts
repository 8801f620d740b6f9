/**
 * Component identifiers (RFC 9421 §2): a component name (a String: a lowercase field name, §2.1, or an `@`
 * derived name, §2.2) with ordered parameters, taken from a parsed Signature-Input Inner List or built by a
 * signer; their serialization (`"name";param`, §2.5) and their equality (§2: parameter order not significant).
 *
 * Validates syntax only: the name is a String of a lowercase token (`@` first for derived names) and, for a
 * signer's input, parameter values are Strings or Boolean true. Does NOT decide whether a derived name or a
 * parameter is understood; the value resolvers (field-component.ts, derived-component.ts) do (§2.5 step 2.4).
 */
import { fail, ok, type Result } from '../result.ts';
import type { HttpSigErrorCode } from './errors.ts';
import { serializeItem, serializeParameters, serializeString } from './sf-serialize.ts';
import { item, sfBoolean, sfString, type BareItem, type Item, type Parameters } from './sf-types.ts';

export interface ComponentIdentifier {
  readonly name: string;
  readonly params: Parameters;
}

/**
 * What a signer may pass: a bare name (`'content-type'`, `'@method'`), or a name with parameters in their
 * chosen order (`{ name: '@query-param', params: { name: 'Pet' } }`; `true` is a flag such as `req`, `sf`).
 */
export type ComponentInput = string | { readonly name: string; readonly params?: Readonly<Record<string, string | true>> } | ComponentIdentifier;

// Field names are tokens (RFC 9110 §5.1) and must be lowercased (§2.1); derived names start with "@" (§2.2).
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const DERIVED_NAME = /^@[a-z0-9][a-z0-9-]*$/;

export function isDerivedName(name: string): boolean {
  return name.startsWith('@');
}

function nameProblem(name: string): string | undefined {
  if (isDerivedName(name)) return DERIVED_NAME.test(name) ? undefined : `"${name}" is not a derived component name`;
  if (FIELD_NAME.test(name)) return undefined;
  return FIELD_NAME.test(name.toLowerCase()) ? `field name "${name}" must be lowercase (§2.1)` : `"${name}" is not a field name`;
}

/** A covered component as found in Signature-Input: the Inner List item must be a String (§4.1). */
export function componentFromItem(entry: Item): Result<ComponentIdentifier, HttpSigErrorCode> {
  if (entry.value.type !== 'string') return fail('ERR_SIG_INPUT_MALFORMED', 'a covered component is not a String');
  const problem = nameProblem(entry.value.value);
  if (problem !== undefined) return fail('ERR_SIG_COMPONENT_INVALID', problem);
  return ok({ name: entry.value.value, params: entry.params });
}

/** A covered component from a signer's input. */
export function componentFromInput(input: ComponentInput): Result<ComponentIdentifier, HttpSigErrorCode> {
  const name = typeof input === 'string' ? input : input.name;
  const problem = nameProblem(name);
  if (problem !== undefined) return fail('ERR_SIG_COMPONENT_INVALID', problem);
  if (typeof input === 'string' || input.params === undefined) return ok({ name, params: new Map() });
  if (input.params instanceof Map) return ok({ name, params: input.params as Parameters });
  const params = new Map<string, BareItem>();
  for (const [key, value] of Object.entries(input.params as Record<string, string | true>)) {
    if (!/^[a-z*][a-z0-9_.*-]*$/.test(key)) return fail('ERR_SIG_COMPONENT_INVALID', `"${key}" is not a parameter key`);
    if (value === true) params.set(key, sfBoolean(true));
    else if (typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)) params.set(key, sfString(value));
    else return fail('ERR_SIG_COMPONENT_INVALID', `parameter "${key}" must be an ASCII string or true`);
  }
  return ok({ name, params });
}

/** The Inner List item for this identifier (§2.3 step 3). */
export function componentItem(id: ComponentIdentifier): Item {
  return item(sfString(id.name), id.params);
}

/** `"name";param=value`, the `component-identifier` rule of §2.5. */
export function serializeComponentIdentifier(id: ComponentIdentifier): string {
  return serializeItem(componentItem(id));
}

/** A key equal for identifiers that differ only in parameter order (§2: "not significant ... for equality"). */
export function componentKey(id: ComponentIdentifier): string {
  const params = [...id.params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return serializeString(id.name) + serializeParameters(new Map(params));
}
