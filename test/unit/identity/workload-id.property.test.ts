/**
 * Property-based tests for the workload identifier parser (DESIGN principle 8), with fast-check:
 * 1. whatever it accepts round-trips unchanged; 2. every canonical identifier built from the allowed
 * alphabets is accepted; 3. every normalisation-changing mutation of one is rejected, with the expected
 * code; 4. sameWorkloadId is string equality on accepted identifiers and equates nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_WORKLOAD_ID_OCTETS, parseWorkloadId, sameWorkloadId, type WorkloadIdError, type WorkloadIdScheme } from '../../../src/identity/index.ts';

const RUNS = { numRuns: 2000 };

const LOWER = [...'abcdefghijklmnopqrstuvwxyz'];
const UPPER = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
const DIGIT = [...'0123456789'];
const TRUST_DOMAIN_CHARS = [...LOWER, ...DIGIT, '.', '_', '-'];
const SEGMENT_CHARS: Record<WorkloadIdScheme, string[]> = {
  spiffe: [...LOWER, ...UPPER, ...DIGIT, '.', '_', '-'],
  wimse: [...LOWER, ...UPPER, ...DIGIT, '.', '_', '-', '~'],
};

const chars = (alphabet: string[], minLength: number, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
const segment = (scheme: WorkloadIdScheme) => chars(SEGMENT_CHARS[scheme], 1, 12).filter((s) => s !== '.' && s !== '..');

interface Canonical { uri: string; scheme: WorkloadIdScheme; trustDomain: string; path: string }
const assemble = (scheme: WorkloadIdScheme, trustDomain: string, segments: string[]): Canonical => {
  const path = segments.map((s) => `/${s}`).join('');
  return { uri: `${scheme}://${trustDomain}${path}`, scheme, trustDomain, path };
};

/** Canonical identifiers, built from the spec alphabets rather than filtered from random strings. */
const canonical: fc.Arbitrary<Canonical> = fc.oneof(
  fc
    .tuple(chars(TRUST_DOMAIN_CHARS, 1, 40), fc.array(segment('spiffe'), { maxLength: 6 }))
    .map(([td, segs]) => assemble('spiffe', td, segs)),
  fc
    .tuple(chars(TRUST_DOMAIN_CHARS, 0, 39), fc.constantFrom(...TRUST_DOMAIN_CHARS.filter((c) => c !== '.')), fc.array(segment('wimse'), { minLength: 1, maxLength: 6 }))
    .map(([td, last, segs]) => assemble('wimse', td + last, segs)),
);

/** Strings near the identifier grammar: mostly almost-valid, so both outcomes are common. */
const URIISH_CHARS = [...LOWER, ...UPPER.slice(0, 3), ...DIGIT.slice(0, 3), '.', '_', '-', '~', '/', '/', '/', '%', ':', '@', '?', '#', '[', ']', '!', ' ', '\\', '\u0430', '\uff0e', '\u200b'];
const uriish: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('spiffe://', 'wimse://', 'SPIFFE://', 'wimse:/', 'spiffe:', 'http://', ''), chars(URIISH_CHARS, 0, 30)).map(([p, s]) => p + s),
  canonical.map((c) => c.uri),
);

const ALL_CODES: WorkloadIdError[] = ['ERR_ID_MALFORMED', 'ERR_ID_TOO_LONG', 'ERR_ID_SCHEME', 'ERR_ID_TRUST_DOMAIN', 'ERR_ID_PATH', 'ERR_ID_NOT_CANONICAL'];

describe('property 1: accepted identifiers round-trip unchanged', () => {
  it('uri is the input, scheme://trustDomain+path rebuilds it, and parsing the uri again gives the same value', () => {
    let accepted = 0;
    fc.assert(
      fc.property(uriish, (s) => {
        const result = parseWorkloadId(s);
        if (!result.ok) return;
        accepted++;
        const { uri, scheme, trustDomain, path } = result.value;
        expect(uri).toBe(s);
        expect(`${scheme}://${trustDomain}${path}`).toBe(s);
        expect(parseWorkloadId(uri)).toEqual(result);
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(RUNS.numRuns / 4);
  });

  it('never throws, and fails only with a known code and a detail, on any string of UTF-16 units', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), uriish), (s) => {
        const result = parseWorkloadId(s);
        if (result.ok) expect(result.value.uri).toBe(s);
        else {
          expect(ALL_CODES).toContain(result.code);
          expect(result.detail).not.toBe('');
        }
      }),
      RUNS,
    );
  });
});

describe('property 2: canonical identifiers are accepted', () => {
  it('accepts every identifier built from the allowed alphabets, with its parts', () => {
    fc.assert(
      fc.property(canonical, (c) => {
        expect(parseWorkloadId(c.uri)).toEqual({ ok: true, value: c });
      }),
      RUNS,
    );
  });

  it('accepts them padded to exactly 2048 octets and refuses one octet more', () => {
    fc.assert(
      fc.property(canonical, (c) => {
        const at = `${c.uri}/${'a'.repeat(MAX_WORKLOAD_ID_OCTETS - c.uri.length - 1)}`;
        expect(parseWorkloadId(at).ok).toBe(true);
        expect(parseWorkloadId(`${at}a`)).toMatchObject({ ok: false, code: 'ERR_ID_TOO_LONG' });
      }),
      { numRuns: 200 },
    );
  });
});

/** A normalisation-changing mutation: the new string, and the codes that may reject it; null when it does not apply. */
type Mutation = (c: Canonical, r: number) => { value: string; codes: WorkloadIdError[] } | null;

const LOOKALIKES: Record<string, string> = {
  a: '\u0430', c: '\u0441', e: '\u0435', i: '\u0456', o: '\u043e', p: '\u0440', x: '\u0445', y: '\u0443', s: '\u0455',
  k: '\u212a', '.': '\uff0e', '/': '\u2215', '-': '\u2010', '_': '\uff3f', '1': '\uff11', '0': '\u041e',
};
const INVISIBLE = [' ', '\t', '\n', '\r', '\0', '\u007f', '\u0085', '\u00a0', '\u00ad', '\u200b', '\u200d', '\u2028', '\ufeff'];

const at = (s: string, i: number, insert: string, drop = 0) => s.slice(0, i) + insert + s.slice(i + drop);
const hostStart = (c: Canonical) => c.scheme.length + 3;
const hostEnd = (c: Canonical) => hostStart(c) + c.trustDomain.length;
/** Offsets of the slashes in the path, as offsets in uri. */
const pathSlashes = (c: Canonical) => [...c.path].flatMap((ch, i) => (ch === '/' ? [hostEnd(c) + i] : []));
const pick = <T>(items: T[], r: number): T => items[r % items.length] as T;

const MUTATIONS: Record<string, Mutation> = {
  'percent-encode a character of the trust domain or path': (c, r) => {
    const i = hostStart(c) + (r % (c.uri.length - hostStart(c)));
    const hex = c.uri.charCodeAt(i).toString(16).padStart(2, '0');
    return { value: at(c.uri, i, `%${r % 2 ? hex.toUpperCase() : hex}`, 1), codes: ['ERR_ID_NOT_CANONICAL'] };
  },
  'uppercase a letter of the scheme': (c, r) => {
    const i = r % c.scheme.length;
    return { value: at(c.uri, i, c.uri.charAt(i).toUpperCase(), 1), codes: ['ERR_ID_NOT_CANONICAL'] };
  },
  'uppercase the trust domain': (c, r) => {
    const upper = c.trustDomain.toUpperCase();
    const td = upper !== c.trustDomain ? upper : at(c.trustDomain, r % (c.trustDomain.length + 1), pick(UPPER, r));
    return { value: `${c.scheme}://${td}${c.path}`, codes: ['ERR_ID_NOT_CANONICAL'] };
  },
  'add a trailing slash': (c) => ({ value: `${c.uri}/`, codes: ['ERR_ID_NOT_CANONICAL'] }),
  'double a slash': (c, r) => {
    const slashes = pathSlashes(c);
    return { value: slashes.length ? at(c.uri, pick(slashes, r), '/') : `${c.uri}//a`, codes: ['ERR_ID_NOT_CANONICAL'] };
  },
  'insert a /./ or /../ segment': (c, r) => {
    const dots = r % 2 ? '/.' : '/..';
    const slashes = pathSlashes(c);
    return { value: slashes.length ? at(c.uri, pick([...slashes, c.uri.length], r), dots) : `${c.uri}${dots}`, codes: ['ERR_ID_NOT_CANONICAL'] };
  },
  'append a port to the trust domain': (c, r) => ({ value: at(c.uri, hostEnd(c), pick([':443', ':80', ':', ':8443', ':0'], r)), codes: ['ERR_ID_TRUST_DOMAIN'] }),
  'add userinfo': (c, r) => ({ value: at(c.uri, hostStart(c), pick(['user@', '@', 'a:b@'], r)), codes: ['ERR_ID_TRUST_DOMAIN'] }),
  'add a query or fragment': (c, r) => {
    const i = hostStart(c) + (r % (c.uri.length - hostStart(c) + 1));
    return { value: at(c.uri, i, pick(['?x', '#x', '?', '#', '?a=b#c'], r)), codes: ['ERR_ID_MALFORMED'] };
  },
  'replace a character with a unicode lookalike (or add an invisible one)': (c, r) => {
    const i = r % c.uri.length;
    const lookalike = LOOKALIKES[c.uri.charAt(i).toLowerCase()];
    return { value: lookalike ? at(c.uri, i, lookalike, 1) : at(c.uri, i, '\u200b'), codes: ['ERR_ID_MALFORMED'] };
  },
  'insert whitespace or a control character': (c, r) => ({ value: at(c.uri, r % (c.uri.length + 1), pick(INVISIBLE, r)), codes: ['ERR_ID_MALFORMED'] }),
  'end a wimse trust domain with a dot': (c) => (c.scheme === 'wimse' ? { value: at(c.uri, hostEnd(c), '.'), codes: ['ERR_ID_NOT_CANONICAL'] } : null),
  'drop the path of a wimse identifier': (c) => (c.scheme === 'wimse' ? { value: `wimse://${c.trustDomain}`, codes: ['ERR_ID_PATH'] } : null),
  'replace the trust domain with an IPv6 literal': (c, r) => ({ value: `${c.scheme}://${pick(['[::1]', '[2001:db8::1]', '[v1.x]'], r)}${c.path || '/x'}`, codes: ['ERR_ID_TRUST_DOMAIN'] }),
  'replace a slash with a backslash': (c, r) => {
    const slashes = pathSlashes(c);
    return { value: slashes.length ? at(c.uri, pick(slashes, r), '\\', 1) : `${c.uri}\\a`, codes: ['ERR_ID_TRUST_DOMAIN', 'ERR_ID_PATH'] };
  },
  'insert a reserved character': (c, r) => {
    const i = hostStart(c) + (r % (c.uri.length - hostStart(c) + 1));
    return { value: at(c.uri, i, pick([...'!$&\'()*+,;=:@[]', '"', '<', '>', '^', '`', '{', '|', '}'], r)), codes: ['ERR_ID_TRUST_DOMAIN', 'ERR_ID_PATH', 'ERR_ID_MALFORMED'] };
  },
  'pad past 2048 octets': (c) => ({ value: `${c.uri}/${'a'.repeat(MAX_WORKLOAD_ID_OCTETS - c.uri.length)}`, codes: ['ERR_ID_TOO_LONG'] }),
};

describe('property 3: normalisation-changing mutations are rejected', () => {
  for (const [name, mutate] of Object.entries(MUTATIONS)) {
    it(name, () => {
      fc.assert(
        fc.property(canonical, fc.nat(), (c, r) => {
          const m = mutate(c, r);
          fc.pre(m !== null);
          if (m === null) return;
          expect(m.value).not.toBe(c.uri);
          const result = parseWorkloadId(m.value);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(m.codes).toContain(result.code);
          expect(sameWorkloadId(c.uri, m.value)).toBe(false);
        }),
        RUNS,
      );
    });
  }
});

describe('property 4: sameWorkloadId is string equality on accepted identifiers', () => {
  const pair = fc.oneof(fc.tuple(canonical, canonical), canonical.map((c) => [c, c] as [Canonical, Canonical]));

  it('equal exactly when the strings are equal, for strings and parsed values', () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const pa = parseWorkloadId(a.uri);
        const pb = parseWorkloadId(b.uri);
        if (!pa.ok || !pb.ok) throw new Error('canonical identifier rejected');
        const expected = a.uri === b.uri;
        expect(sameWorkloadId(a.uri, b.uri)).toBe(expected);
        expect(sameWorkloadId(pa.value, pb.value)).toBe(expected);
        expect(sameWorkloadId(pa.value, b.uri)).toBe(expected);
      }),
      RUNS,
    );
  });

  it('no two distinct accepted strings compare equal, and a rejected string equals nothing', () => {
    fc.assert(
      fc.property(uriish, uriish, (s, t) => {
        const okS = parseWorkloadId(s).ok;
        const okT = parseWorkloadId(t).ok;
        expect(sameWorkloadId(s, t)).toBe(okS && okT && s === t);
        expect(sameWorkloadId(s, s)).toBe(okS);
      }),
      RUNS,
    );
  });

  it('a case change in the path gives a different, still valid, identity (paths are case-sensitive)', () => {
    fc.assert(
      fc.property(canonical, (c) => {
        const swapped = c.path.replace(/[a-z]/, (ch) => ch.toUpperCase());
        fc.pre(swapped !== c.path);
        const other = `${c.scheme}://${c.trustDomain}${swapped}`;
        expect(parseWorkloadId(other).ok).toBe(true);
        expect(sameWorkloadId(c.uri, other)).toBe(false);
      }),
      RUNS,
    );
  });
});
