/**
 * Strict serializer for Structured Field Values (RFC 8941 §4.1; Dates and Display Strings per RFC 9651 §4.1.10,
 * §4.1.11): the canonical text RFC 9421 uses for `sf` component values (§2.1.1), Dictionary members (`key`,
 * §2.1.2), `bs` lists (§2.1.3), component identifiers and `@signature-params` (§2.3, §2.5).
 *
 * Decimals keep at least one fractional digit (`1.0`), are rounded half-to-even to three places and fail past 12
 * integer digits; Byte Sequences are padded base64.
 *
 * Does NOT return a Result: it throws SfSerializeError when handed a value no conformant parser could have
 * produced (a bad key, token or string, an integer out of range). Parsed values always serialize.
 */
import { base64Encode } from './sf-base64.ts';
import type { BareItem, Dictionary, InnerList, Item, List, Member, Parameters } from './sf-types.ts';

export class SfSerializeError extends Error {}

const KEY = /^[a-z*][a-z0-9_.*-]*$/;
const TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;
const STRING_CHARS = /^[\x20-\x7e]*$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_INTEGER = 999_999_999_999_999;

export function serializeKey(key: string): string {
  if (!KEY.test(key)) throw new SfSerializeError(`invalid key "${key}"`);
  return key;
}

export function serializeInteger(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) > MAX_INTEGER) throw new SfSerializeError(`integer out of range: ${value}`);
  return String(value + 0);
}

export function serializeDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new SfSerializeError(`not a decimal: ${value}`);
  const magnitude = Math.abs(value);
  let text = String(magnitude);
  if (text.includes('e')) {
    if (magnitude >= 1) throw new SfSerializeError('more than 12 integer digits in a decimal');
    text = magnitude.toFixed(20);
  }
  let [whole = '0', fraction = ''] = text.split('.');
  if (fraction.length > 3) {
    const kept = fraction.slice(0, 3);
    const dropped = fraction.slice(3);
    const up = dropped[0]! > '5' || (dropped[0] === '5' && (/[1-9]/.test(dropped.slice(1)) || Number(kept[2]) % 2 === 1));
    const scaled = (BigInt(whole + kept) + (up ? 1n : 0n)).toString().padStart(4, '0');
    whole = scaled.slice(0, -3);
    fraction = scaled.slice(-3);
  }
  fraction = fraction.replace(/0+$/, '') || '0';
  if (whole.length > 12) throw new SfSerializeError('more than 12 integer digits in a decimal');
  const zero = /^0*$/.test(whole) && fraction === '0';
  return `${value < 0 && !zero ? '-' : ''}${whole}.${fraction}`;
}

export function serializeString(value: string): string {
  if (!STRING_CHARS.test(value)) throw new SfSerializeError('strings hold only VCHAR and SP');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function serializeToken(value: string): string {
  if (!TOKEN.test(value)) throw new SfSerializeError(`invalid token "${value}"`);
  return value;
}

export function serializeDisplayString(value: string): string {
  if (LONE_SURROGATE.test(value)) throw new SfSerializeError('display string holds a lone surrogate');
  let out = '%"';
  for (const byte of new TextEncoder().encode(value)) {
    if (byte === 0x25 || byte === 0x22 || byte <= 0x1f || byte >= 0x7f) out += `%${byte.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

export function serializeBareItem(value: BareItem): string {
  switch (value.type) {
    case 'integer':
      return serializeInteger(value.value);
    case 'decimal':
      return serializeDecimal(value.value);
    case 'string':
      return serializeString(value.value);
    case 'token':
      return serializeToken(value.value);
    case 'byteSequence':
      return `:${base64Encode(value.value)}:`;
    case 'boolean':
      return value.value ? '?1' : '?0';
    case 'date':
      return `@${serializeInteger(value.value)}`;
    case 'displayString':
      return serializeDisplayString(value.value);
  }
}

export function serializeParameters(params: Parameters): string {
  let out = '';
  for (const [key, value] of params) {
    out += `;${serializeKey(key)}`;
    if (!(value.type === 'boolean' && value.value)) out += `=${serializeBareItem(value)}`;
  }
  return out;
}

export function serializeItem(item: Item): string {
  return serializeBareItem(item.value) + serializeParameters(item.params);
}

export function serializeInnerList(list: InnerList): string {
  return `(${list.items.map(serializeItem).join(' ')})${serializeParameters(list.params)}`;
}

export function serializeMember(member: Member): string {
  return member.kind === 'innerList' ? serializeInnerList(member) : serializeItem(member);
}

export function serializeList(list: List): string {
  return list.map(serializeMember).join(', ');
}

export function serializeDictionary(dictionary: Dictionary): string {
  const members: string[] = [];
  for (const [key, member] of dictionary) {
    if (member.kind === 'item' && member.value.type === 'boolean' && member.value.value) {
      members.push(serializeKey(key) + serializeParameters(member.params));
    } else {
      members.push(`${serializeKey(key)}=${serializeMember(member)}`);
    }
  }
  return members.join(', ');
}

/** Serializes a parsed Dictionary, List or Item (the result of parseStructuredField). */
export function serializeStructuredField(value: Dictionary | List | Item): string {
  if (value instanceof Map) return serializeDictionary(value as Dictionary);
  if (Array.isArray(value)) return serializeList(value as List);
  return serializeItem(value as Item);
}
