/**
 * Parses a message's Signature-Input and Signature fields (RFC 9421 §4.1, §4.2) into typed signatures: label,
 * covered components with their parameters, signature parameters (raw, in order, and typed), signature bytes.
 *
 * Validates: both fields are Structured Field Dictionaries (all field lines combined, §4.1: "Multiple
 * Signature-Input fields MAY be included"); no label or parameter repeats (labels "MUST be unique across all
 * field values"); every Signature-Input member is an Inner List of Strings naming a lowercase field or an `@`
 * derived component; every Signature member is a Byte Sequence; both fields carry the same labels (§4: "The
 * presence of a label in one field but not in the other is an error"); the registered parameters' types (§2.3);
 * and the bounds of src/limits.ts (field bytes, labels, components, parameters, signature bytes).
 *
 * Does NOT resolve components against the message, check duplicate components, algorithms or times: that is
 * signature-base.ts and verify.ts. Signature fields sent as trailers are not read.
 */
import {
  MAX_HTTP_SIG_COMPONENT_PARAMETERS,
  MAX_HTTP_SIG_COMPONENTS,
  MAX_HTTP_SIG_FIELD_BYTES,
  MAX_HTTP_SIG_LABELS,
  MAX_HTTP_SIG_PARAMETERS,
  MAX_HTTP_SIG_VALUE_BYTES,
} from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { componentFromItem, type ComponentIdentifier } from './component-identifier.ts';
import type { HttpSigErrorCode } from './errors.ts';
import { fieldLines, type FieldSource } from './message.ts';
import { parseDictionary } from './sf-parse.ts';
import type { Dictionary, Parameters } from './sf-types.ts';
import { readSignatureMetadata, type SignatureMetadata } from './signature-params.ts';

export interface HttpSignature {
  readonly label: string;
  /** Covered components, in signature order. */
  readonly components: readonly ComponentIdentifier[];
  /** Signature parameters as received, in order: the source of `@signature-params` (§3.2 step 7). */
  readonly params: Parameters;
  /** The registered parameters, type-checked. */
  readonly metadata: SignatureMetadata;
  /** The signature output bytes (§4.2). */
  readonly value: Uint8Array<ArrayBuffer>;
}

function readField(
  headers: FieldSource,
  name: string,
  malformed: HttpSigErrorCode,
): Result<Dictionary | undefined, HttpSigErrorCode> {
  const lines = fieldLines(headers, name);
  if (lines === undefined) return ok(undefined);
  const combined = lines.join(', ');
  if (combined.length > MAX_HTTP_SIG_FIELD_BYTES) return fail('ERR_SIG_LIMIT_EXCEEDED', `${name} is longer than ${MAX_HTTP_SIG_FIELD_BYTES} bytes`);
  const parsed = parseDictionary(combined, { rejectDuplicateKeys: true });
  if (!parsed.ok) return fail(malformed, `${name}: ${parsed.detail}`);
  if (parsed.value.size > MAX_HTTP_SIG_LABELS) return fail('ERR_SIG_LIMIT_EXCEEDED', `${name} carries more than ${MAX_HTTP_SIG_LABELS} labels`);
  return ok(parsed.value);
}

export function parseSignatures(headers: FieldSource): Result<HttpSignature[], HttpSigErrorCode> {
  const input = readField(headers, 'signature-input', 'ERR_SIG_INPUT_MALFORMED');
  if (!input.ok) return input;
  const values = readField(headers, 'signature', 'ERR_SIG_VALUE_MALFORMED');
  if (!values.ok) return values;
  const inputs = input.value ?? new Map();
  const signatures = values.value ?? new Map();
  if (inputs.size === 0 && signatures.size === 0) return fail('ERR_SIG_MISSING', 'no Signature-Input or Signature field');

  const out: HttpSignature[] = [];
  for (const [label, member] of inputs) {
    if (member.kind !== 'innerList') return fail('ERR_SIG_INPUT_MALFORMED', `Signature-Input ${label} is not an Inner List`);
    if (member.items.length > MAX_HTTP_SIG_COMPONENTS) return fail('ERR_SIG_LIMIT_EXCEEDED', `${label} covers more than ${MAX_HTTP_SIG_COMPONENTS} components`);
    if (member.params.size > MAX_HTTP_SIG_PARAMETERS) return fail('ERR_SIG_LIMIT_EXCEEDED', `${label} has more than ${MAX_HTTP_SIG_PARAMETERS} parameters`);
    const components: ComponentIdentifier[] = [];
    for (const entry of member.items) {
      if (entry.params.size > MAX_HTTP_SIG_COMPONENT_PARAMETERS) {
        return fail('ERR_SIG_LIMIT_EXCEEDED', `${label}: a component has more than ${MAX_HTTP_SIG_COMPONENT_PARAMETERS} parameters`);
      }
      const component = componentFromItem(entry);
      if (!component.ok) return fail(component.code, `${label}: ${component.detail}`);
      components.push(component.value);
    }
    const metadata = readSignatureMetadata(member.params);
    if (!metadata.ok) return fail(metadata.code, `${label}: ${metadata.detail}`);

    const signature = signatures.get(label);
    if (signature === undefined) return fail('ERR_SIG_LABEL_MISSING', `label ${label} is in Signature-Input but not in Signature`);
    if (signature.kind !== 'item' || signature.value.type !== 'byteSequence') return fail('ERR_SIG_VALUE_MALFORMED', `Signature ${label} is not a Byte Sequence`);
    if (signature.value.value.length > MAX_HTTP_SIG_VALUE_BYTES) return fail('ERR_SIG_LIMIT_EXCEEDED', `Signature ${label} is longer than ${MAX_HTTP_SIG_VALUE_BYTES} bytes`);
    out.push({ label, components, params: member.params, metadata: metadata.value, value: signature.value.value });
  }
  for (const label of signatures.keys()) {
    if (!inputs.has(label)) return fail('ERR_SIG_LABEL_MISSING', `label ${label} is in Signature but not in Signature-Input`);
  }
  return ok(out);
}
