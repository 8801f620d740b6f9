/**
 * RFC 8785 JCS (src/a2a/jcs.ts) against the RFC's own examples (test/vectors/rfc8785/examples.json: §3.2.2/§3.2.3
 * structure and sorting examples, Appendix B number table), the refusals, and a fast-check idempotence property.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, JcsError } from '../../../src/a2a/jcs.ts';

const vectors = JSON.parse(readFileSync(new URL('../../vectors/rfc8785/examples.json', import.meta.url), 'utf-8')) as {
  structure: { inputJsonText: string; expected: string };
  sorting: { inputJsonText: string; expectedValueOrder: string[] };
  numbers: { rows: [string, string | null, string][] };
};

function doubleOf(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 examples', () => {
  it('§3.2.2 input canonicalises to the §3.2.3 output', () => {
    expect(canonicalize(JSON.parse(vectors.structure.inputJsonText))).toBe(vectors.structure.expected);
  });

  it('§3.2.3 sorting example: members in UTF-16 code-unit order, also when nested', () => {
    // Object.values would put the integer-like name "1" first whatever the text says: read the order off the text.
    const order = (text: string) => [...vectors.sorting.expectedValueOrder].sort((a, b) => text.indexOf(`"${a}"`) - text.indexOf(`"${b}"`));
    const input = JSON.parse(vectors.sorting.inputJsonText) as Record<string, string>;
    const text = canonicalize(input);
    expect(order(text)).toEqual(vectors.sorting.expectedValueOrder);
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One",')).toBe(true);
    expect(order(canonicalize({ z: [input], a: 1 }))).toEqual(vectors.sorting.expectedValueOrder);
  });

  it('Appendix B: reads all 26 rows', () => {
    expect(vectors.numbers.rows).toHaveLength(26);
  });

  it.each(vectors.numbers.rows)('Appendix B %s -> %s (%s)', (hex, expected) => {
    const value = doubleOf(hex);
    if (expected === null) {
      expect(() => canonicalize(value)).toThrow(JcsError);
      expect(() => canonicalize({ n: [value] })).toThrow(JcsError);
    } else {
      expect(canonicalize(value)).toBe(expected);
      expect(canonicalize([value])).toBe(`[${expected}]`);
    }
  });
});

describe('strings (§3.2.2.2)', () => {
  it('short escapes, lowercase \\u00hh for other controls, nothing else escaped', () => {
    const all = Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)).join('') + '"\\/\u007f\u00e9\u20ac\ud83d\ude00';
    expect(canonicalize(all)).toBe(
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f' +
        '\\"\\\\/\u007f\u00e9\u20ac\ud83d\ude00"',
    );
  });

  it('refuses lone surrogates in values and names', () => {
    for (const bad of ['\ud800', 'a\udc00', '\ude00\ud83d', 'x\ud83d']) {
      expect(() => canonicalize(bad)).toThrow(JcsError);
      expect(() => canonicalize({ [bad]: 1 })).toThrow(JcsError);
    }
  });
});

describe('refusals', () => {
  it.each([
    ['undefined', undefined],
    ['undefined member', { a: undefined }],
    ['undefined element', [1, undefined]],
    ['hole', [1, , 2]], // eslint-disable-line no-sparse-arrays
    ['function', () => 1],
    ['symbol', Symbol('s')],
    ['bigint', 1n],
    ['NaN', Number.NaN],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['Date', new Date(0)],
    ['Map', new Map()],
  ])('%s', (_, value) => {
    expect(() => canonicalize(value)).toThrow(JcsError);
  });

  it('cycles', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(() => canonicalize(a)).toThrow(JcsError);
  });

  it('a shared (non-cyclic) sub-object is fine; -0 is 0; null-prototype objects are plain', () => {
    const shared = { b: 1 };
    const bare = Object.assign(Object.create(null) as object, { y: 2, x: 1 });
    expect(canonicalize({ p: shared, q: shared, z: -0, n: bare })).toBe('{"n":{"x":1,"y":2},"p":{"b":1},"q":{"b":1},"z":0}');
  });
});

describe('properties', () => {
  it('jcs(JSON.parse(jcs(x))) === jcs(x)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        const once = canonicalize(x);
        expect(canonicalize(JSON.parse(once))).toBe(once);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.stringify for well-formed strings (same escaping rules)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(canonicalize(s)).toBe(JSON.stringify(s));
      }),
      { numRuns: 300 },
    );
  });
});
