/**
 * The strict Structured Field Values parser and serializer (RFC 8941 §4, RFC 9651 Dates and Display Strings):
 * examples from RFC 8941 §3, type fidelity (Integer vs Decimal), the refusals the algorithms require, and the
 * Byte Sequence leniency they ask for.
 */
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode } from '../../../src/http-sig/sf-base64.ts';
import { parseDictionary, parseItem, parseList } from '../../../src/http-sig/sf-parse.ts';
import {
  SfSerializeError,
  serializeBareItem,
  serializeDecimal,
  serializeDictionary,
  serializeInteger,
  serializeItem,
  serializeKey,
  serializeList,
  serializeString,
  serializeToken,
} from '../../../src/http-sig/sf-serialize.ts';
import type { Dictionary, Item, List } from '../../../src/http-sig/sf-types.ts';

const ok = <T>(r: { ok: true; value: T } | { ok: false; detail: string }): T => {
  if (!r.ok) expect.fail(r.detail);
  return r.value;
};

describe('parse and strict re-serialisation (RFC 8941 §3 examples)', () => {
  it.each([
    ['list', 'sugar, tea, rum', 'sugar, tea, rum'],
    ['list', '("foo" "bar"), ("baz"), ("bat" "one"), ()', '("foo" "bar"), ("baz"), ("bat" "one"), ()'],
    ['list', '("foo"; a=1;b=2);lvl=5, ("bar" "baz");lvl=1', '("foo";a=1;b=2);lvl=5, ("bar" "baz");lvl=1'],
    ['list', 'abc;a=1;b=2; cde_456, (ghi;jk=4 l);q="9";r=w', 'abc;a=1;b=2;cde_456, (ghi;jk=4 l);q="9";r=w'],
    ['dictionary', 'en="Applepie", da=:w4ZibGV0w6ZydGUK:', 'en="Applepie", da=:w4ZibGV0w6ZydGUK:'],
    ['dictionary', 'a=?0, b, c; foo=bar', 'a=?0, b, c;foo=bar'],
    ['dictionary', 'rating=1.5, feelings=(joy sadness)', 'rating=1.5, feelings=(joy sadness)'],
    ['dictionary', 'a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid', 'a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid'],
    ['item', '5; foo=bar', '5;foo=bar'],
    ['item', '"hello world"', '"hello world"'],
    ['item', '?1', '?1'],
    ['dictionary', '  a=1,\tb=2  ', 'a=1, b=2'],
  ])('%s %j', (type, input, canonical) => {
    if (type === 'list') expect(serializeList(ok(parseList(input)))).toBe(canonical);
    else if (type === 'dictionary') expect(serializeDictionary(ok(parseDictionary(input)))).toBe(canonical);
    else expect(serializeItem(ok(parseItem(input)))).toBe(canonical);
  });

  it('keeps Integers and Decimals apart: 1.0 stays a Decimal and serializes as 1.0', () => {
    const dict = ok(parseDictionary('a=1, b=1.0, c=-0.50, d=123456789012.123'));
    expect([...dict.values()].map((m) => (m as Item).value.type)).toEqual(['integer', 'decimal', 'decimal', 'decimal']);
    expect(serializeDictionary(dict)).toBe('a=1, b=1.0, c=-0.5, d=123456789012.123');
  });

  it('parses RFC 9651 Dates anywhere, and Display Strings', () => {
    expect(serializeList(ok(parseList('@1659578233, 1;d=@-5, (@0)')))).toBe('@1659578233, 1;d=@-5, (@0)');
    const display = ok(parseItem('%"f%c3%bc%c3%bc"'));
    expect(display.value).toEqual({ type: 'displayString', value: 'füü' });
    expect(serializeItem(display)).toBe('%"f%c3%bc%c3%bc"');
    expect(serializeBareItem({ type: 'displayString', value: '100% "ok"\n' })).toBe('%"100%25 %22ok%22%0a"');
  });

  it('keeps the last of repeated keys by default (RFC 8941), or refuses them when asked', () => {
    expect(serializeDictionary(ok(parseDictionary('a=1, b=2, a=3;x;x=4')))).toBe('a=3;x=4, b=2');
    expect(parseDictionary('a=1, a=2', { rejectDuplicateKeys: true }).ok).toBe(false);
    expect(parseDictionary('a=1;p;p', { rejectDuplicateKeys: true }).ok).toBe(false);
    expect(parseDictionary('a=(1;p;p)', { rejectDuplicateKeys: true }).ok).toBe(false);
  });

  it.each([
    ['dictionary', 'a=1,'],
    ['dictionary', '\ta=1'],
    ['dictionary', 'A=1'],
    ['dictionary', 'a=1 b=2'],
    ['dictionary', 'a=caf\u00e9'],
    ['list', '(1 2'],
    ['list', '(1,2)'],
    ['item', '1234567890123456'],
    ['item', '1234567890123.1'],
    ['item', '1.1234'],
    ['item', '1.'],
    ['item', '-'],
    ['item', '"tab\there"'],
    ['item', '"bad \\n escape"'],
    ['item', '"unclosed'],
    ['item', '?2'],
    ['item', ':abc'],
    ['item', ':ab!c:'],
    ['item', ':a=bc:'],
    ['item', ':abcde:'],
    ['item', '@1.5'],
    ['item', '%"%C3%BC"'],
    ['item', '%"%ff"'],
    ['item', '%"unclosed'],
    ['item', '1 2'],
    ['item', ''],
  ])('refuses %s %j', (type, input) => {
    const result = type === 'list' ? parseList(input) : type === 'dictionary' ? parseDictionary(input) : parseItem(input);
    expect(result.ok).toBe(false);
  });

  it('treats an empty List or Dictionary as empty (a field that is absent)', () => {
    expect(ok(parseDictionary('   ')).size).toBe(0);
    expect(ok(parseList('')).length).toBe(0);
  });
});

describe('Byte Sequences (RFC 8941 §4.2.7)', () => {
  it('tolerates missing padding and non-zero pad bits, as the SHOULD NOT fail rules ask', () => {
    expect(base64Decode('YQ')).toEqual(new Uint8Array([97]));
    expect(base64Decode('YR==')).toEqual(new Uint8Array([97]));
    expect(base64Decode('')).toEqual(new Uint8Array([]));
  });

  it('refuses characters outside the alphabet, inner padding and impossible lengths', () => {
    for (const bad of ['Y Q=', 'YQ=a', 'Y', 'YQ===', 'Y-_A', 'YQ=']) expect(base64Decode(bad)).toBeUndefined();
  });

  it('always encodes with padding', () => {
    expect(base64Encode(new Uint8Array([0xff]))).toBe('/w==');
  });
});

describe('serialisation refusals and rounding (RFC 8941 §4.1)', () => {
  it('rounds Decimals half to even at three places and keeps one fractional digit', () => {
    expect(serializeDecimal(0.0005)).toBe('0.0');
    expect(serializeDecimal(0.0015)).toBe('0.002');
    expect(serializeDecimal(1.9995)).toBe('2.0');
    expect(serializeDecimal(-0.0001)).toBe('0.0');
    expect(serializeDecimal(2)).toBe('2.0');
    expect(() => serializeDecimal(1e12)).toThrow(SfSerializeError);
  });

  it('refuses values no parser could produce', () => {
    expect(() => serializeInteger(1e15)).toThrow(SfSerializeError);
    expect(() => serializeInteger(1.5)).toThrow(SfSerializeError);
    expect(() => serializeString('caf\u00e9')).toThrow(SfSerializeError);
    expect(() => serializeString('a\nb')).toThrow(SfSerializeError);
    expect(() => serializeToken('1abc')).toThrow(SfSerializeError);
    expect(() => serializeKey('Upper')).toThrow(SfSerializeError);
    expect(() => serializeBareItem({ type: 'displayString', value: '\ud800' })).toThrow(SfSerializeError);
  });

  it('serializes constructed structures', () => {
    const list: List = [{ kind: 'innerList', items: [], params: new Map([['a', { type: 'boolean', value: false }]]) }];
    expect(serializeList(list)).toBe('();a=?0');
    const dict: Dictionary = new Map([['k', { kind: 'item', value: { type: 'string', value: 'say "hi" \\' }, params: new Map() }]]);
    expect(serializeDictionary(dict)).toBe('k="say \\"hi\\" \\\\"');
  });
});
