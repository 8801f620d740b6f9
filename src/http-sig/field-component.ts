/**
 * The component value of an HTTP field (RFC 9421 §2.1): the field lines of the context message, each stripped of
 * leading and trailing whitespace with obs-fold replaced by one SP, joined with ", "; or, with a parameter:
 *  - `sf`  (§2.1.1): the combined value parsed as its known structured type and strictly re-serialized;
 *  - `key` (§2.1.2): one Dictionary member, strictly serialized without its key;
 *  - `bs`  (§2.1.3): each line wrapped as a Byte Sequence, the List of them serialized.
 * `req` (§2.4) is honoured by the caller, which passes the related request as the context message.
 *
 * Refuses (§2.5): unknown parameters and `tr` (trailers are not supported: a Fetch message exposes no trailers),
 * flags other than Boolean true, `key` that is not a String, `bs` with `sf` or `key`, `sf` on a field of unknown
 * type, values that do not parse as their type, an absent field or Dictionary key, and a value that would put a
 * CR, LF or non-ASCII octet in the signature base (§2.1: non-ASCII values must be encoded, e.g. with `bs`).
 *
 * Does NOT validate the field's own syntax beyond that (§7.5.6: the application checks covered field values).
 * Octets are read from each string as Fetch header values are: one character per octet (U+0000-U+00FF).
 */
import { fail, ok, type Result } from '../result.ts';
import type { ComponentIdentifier } from './component-identifier.ts';
import type { HttpSigErrorCode } from './errors.ts';
import { fieldLines, type HttpSigMessage } from './message.ts';
import { parseDictionary, parseStructuredField } from './sf-parse.ts';
import { serializeList, serializeMember, serializeStructuredField } from './sf-serialize.ts';
import { item, sfBytes } from './sf-types.ts';
import { structuredFieldType, type StructuredFieldTypes } from './structured-field-types.ts';

export interface FieldComponentOptions {
  /** Structured field types known to the application (lowercase name → type), over the defaults. */
  structuredFields?: StructuredFieldTypes;
}

const FLAGS = new Set(['sf', 'bs', 'req', 'tr']);
// field-content of RFC 9110 §5.5 without obs-text: VCHAR, SP and HTAB.
const SIGNABLE = /^[\t\x20-\x7e]*$/;
const OBS_FOLD = /[ \t]*\r?\n[ \t]+/g;

/** §2.1 steps 2 and 3: strip leading and trailing SP / HTAB, then replace each obs-fold with one SP. */
export function canonicalFieldLine(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '').replace(OBS_FOLD, ' ');
}

function isomorphicBytes(value: string): Uint8Array<ArrayBuffer> | undefined {
  const bytes = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) return undefined;
    bytes[i] = code;
  }
  return bytes;
}

export function fieldComponentValue(
  context: HttpSigMessage,
  id: ComponentIdentifier,
  options: FieldComponentOptions = {},
): Result<string, HttpSigErrorCode> {
  for (const [param, value] of id.params) {
    if (FLAGS.has(param)) {
      if (value.type !== 'boolean' || !value.value) return fail('ERR_SIG_COMPONENT_INVALID', `"${id.name}": ${param} must be the flag true`);
    } else if (param === 'key') {
      if (value.type !== 'string') return fail('ERR_SIG_COMPONENT_INVALID', `"${id.name}": key must be a String`);
    } else {
      return fail('ERR_SIG_COMPONENT_UNSUPPORTED', `"${id.name}": unknown parameter ${param}`);
    }
  }
  if (id.params.has('tr')) return fail('ERR_SIG_COMPONENT_UNSUPPORTED', `"${id.name}": trailer fields (tr) are not supported`);
  const bs = id.params.has('bs');
  const sf = id.params.has('sf');
  const key = id.params.get('key');
  if (bs && (sf || key !== undefined)) return fail('ERR_SIG_COMPONENT_INVALID', `"${id.name}": bs cannot be combined with sf or key`);

  const lines = fieldLines(context.headers, id.name);
  if (lines === undefined) return fail('ERR_SIG_COMPONENT_MISSING', `field ${id.name} is absent`);
  const canonical = lines.map(canonicalFieldLine);

  if (bs) {
    const wrapped = [];
    for (const line of canonical) {
      const bytes = isomorphicBytes(line);
      if (bytes === undefined) return fail('ERR_SIG_COMPONENT_INVALID', `field ${id.name} holds a character that is not an octet`);
      wrapped.push(item(sfBytes(bytes)));
    }
    return ok(serializeList(wrapped));
  }

  const combined = canonical.join(', ');
  if (key !== undefined && key.type === 'string') {
    const declared = structuredFieldType(id.name, options.structuredFields);
    if (declared !== undefined && declared !== 'dictionary') return fail('ERR_SIG_COMPONENT_INVALID', `field ${id.name} is not a Dictionary`);
    const dictionary = parseDictionary(combined);
    if (!dictionary.ok) return fail('ERR_SIG_COMPONENT_INVALID', `field ${id.name} is not a Dictionary: ${dictionary.detail}`);
    const member = dictionary.value.get(key.value);
    if (member === undefined) return fail('ERR_SIG_COMPONENT_MISSING', `field ${id.name} has no member ${JSON.stringify(key.value)}`);
    return ok(serializeMember(member));
  }
  if (sf) {
    const type = structuredFieldType(id.name, options.structuredFields);
    if (type === undefined) return fail('ERR_SIG_COMPONENT_UNSUPPORTED', `field ${id.name} has no known structured type for sf`);
    const parsed = parseStructuredField(combined, type);
    if (!parsed.ok) return fail('ERR_SIG_COMPONENT_INVALID', `field ${id.name} is not a valid ${type}: ${parsed.detail}`);
    return ok(serializeStructuredField(parsed.value));
  }
  if (!SIGNABLE.test(combined)) return fail('ERR_SIG_COMPONENT_INVALID', `field ${id.name} holds CR, LF, a control or a non-ASCII character`);
  return ok(combined);
}
