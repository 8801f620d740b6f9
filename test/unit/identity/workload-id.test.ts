import { describe, expect, it } from 'vitest';
import vectors from '../../vectors/identifiers.json' with { type: 'json' };
import {
  checkTrustDomainName,
  isTrustDomainName,
  MAX_WORKLOAD_ID_OCTETS,
  parseWorkloadId,
  sameWorkloadId,
  workloadOrigin,
  type WorkloadIdError,
} from '../../../src/identity/index.ts';

/** A vector string, or a concatenation with repeats for the long cases (see the file's description). */
type Built = string | { concat: (string | { repeat: string; count: number })[] };
interface ValidVector { id: Built; scheme: string; trustDomain: Built; path: Built; origin: string; note: string }
interface InvalidVector { id: Built; code: WorkloadIdError; origin: string; note: string }

const build = (b: Built): string => (typeof b === 'string' ? b : b.concat.map((p) => (typeof p === 'string' ? p : p.repeat.repeat(p.count))).join(''));
const label = (s: string): string => JSON.stringify(s.length > 70 ? `${s.slice(0, 60)}…(${s.length})` : s);

const valid = (vectors.valid as ValidVector[]).map((v) => ({ ...v, id: build(v.id), trustDomain: build(v.trustDomain), path: build(v.path) }));
const invalid = (vectors.invalid as InvalidVector[]).map((v) => ({ ...v, id: build(v.id) }));

describe('identifier vectors (test/vectors/identifiers.json)', () => {
  it('holds the spec examples and our own cases', () => {
    expect(valid.filter((v) => v.origin === 'spec').length).toBeGreaterThanOrEqual(10);
    expect(invalid.filter((v) => v.origin === 'spec').length).toBeGreaterThanOrEqual(10);
    const codes = new Set(invalid.map((v) => v.code));
    for (const code of ['ERR_ID_MALFORMED', 'ERR_ID_TOO_LONG', 'ERR_ID_SCHEME', 'ERR_ID_TRUST_DOMAIN', 'ERR_ID_PATH', 'ERR_ID_NOT_CANONICAL']) {
      expect(codes).toContain(code);
    }
  });

  describe.each(valid.map((v) => [label(v.id), v] as const))('accepts %s', (_, v) => {
    it(v.note, () => {
      const result = parseWorkloadId(v.id);
      expect(result).toEqual({ ok: true, value: { uri: v.id, scheme: v.scheme, trustDomain: v.trustDomain, path: v.path } });
    });
  });

  describe.each(invalid.map((v) => [label(v.id), v] as const))('rejects %s', (_, v) => {
    it(`${v.code}: ${v.note}`, () => {
      const result = parseWorkloadId(v.id);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe(v.code);
        expect(result.detail.length).toBeGreaterThan(0);
      }
    });
  });
});

describe('parseWorkloadId', () => {
  it('keeps the input as uri, with no copy or rewrite', () => {
    const id = 'wimse://trust.example.com/service/payment';
    const result = parseWorkloadId(id);
    expect(result.ok && result.value.uri).toBe(id);
  });

  it('measures the limit in octets: 2048 accepted, 2049 refused, for both schemes', () => {
    for (const prefix of ['spiffe://example.org/', 'wimse://example.org/']) {
      const at = prefix + 'x'.repeat(MAX_WORKLOAD_ID_OCTETS - prefix.length);
      expect(parseWorkloadId(at).ok).toBe(true);
      expect(parseWorkloadId(`${at}x`)).toMatchObject({ ok: false, code: 'ERR_ID_TOO_LONG' });
    }
  });

  it('refuses values that are not strings (claims arrive as unknown JSON)', () => {
    for (const value of [undefined, null, 42, {}, ['spiffe://example.org/x']]) {
      expect(parseWorkloadId(value as unknown as string)).toMatchObject({ ok: false, code: 'ERR_ID_MALFORMED' });
    }
  });

  it('refuses lone surrogates (not representable in the JSON vectors: some JSON parsers refuse them)', () => {
    expect(parseWorkloadId('wimse://trust.example/\ud800')).toMatchObject({ ok: false, code: 'ERR_ID_MALFORMED' });
    expect(parseWorkloadId('wimse://trust.example/a\udfffb')).toMatchObject({ ok: false, code: 'ERR_ID_MALFORMED' });
  });

  it('never echoes the input in a detail', () => {
    const secretish = 'spiffe://example.org/x?token=abc123secret';
    const result = parseWorkloadId(secretish);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).not.toContain('abc123secret');
    const unicode = parseWorkloadId('spiffe://ex\u0430mple.org/x');
    expect(unicode).toMatchObject({ ok: false, code: 'ERR_ID_MALFORMED', detail: 'character U+0430 at offset 11 is not printable ASCII' });
  });

  it('reports the first failing rule in the documented order', () => {
    // too long beats everything; then printable ASCII; then scheme; query before percent; percent before trust domain
    expect(parseWorkloadId(`HTTPS://${'\u0430'.repeat(3000)}`)).toMatchObject({ code: 'ERR_ID_TOO_LONG' });
    expect(parseWorkloadId('HTTPS://a b')).toMatchObject({ code: 'ERR_ID_MALFORMED' });
    expect(parseWorkloadId('HTTPS://a/b')).toMatchObject({ code: 'ERR_ID_SCHEME' });
    expect(parseWorkloadId('SPIFFE://a/b?c')).toMatchObject({ code: 'ERR_ID_NOT_CANONICAL' });
    expect(parseWorkloadId('spiffe://a/%41?c')).toMatchObject({ code: 'ERR_ID_MALFORMED' });
    expect(parseWorkloadId('spiffe://u@a/%41')).toMatchObject({ code: 'ERR_ID_NOT_CANONICAL' });
    expect(parseWorkloadId('spiffe://A!/x')).toMatchObject({ code: 'ERR_ID_TRUST_DOMAIN' });
    expect(parseWorkloadId('spiffe://A/x~')).toMatchObject({ code: 'ERR_ID_NOT_CANONICAL' });
    expect(parseWorkloadId('spiffe://a/x~//')).toMatchObject({ code: 'ERR_ID_PATH' });
    expect(parseWorkloadId('spiffe://a//x~')).toMatchObject({ code: 'ERR_ID_NOT_CANONICAL' });
  });
});

describe('sameWorkloadId', () => {
  const a = 'spiffe://example.org/ns/prod/sa/api';
  const parsed = parseWorkloadId(a);
  if (!parsed.ok) throw new Error('fixture');

  it('is byte equality of canonical identifiers, for strings and parsed values alike', () => {
    expect(sameWorkloadId(a, a)).toBe(true);
    expect(sameWorkloadId(parsed.value, a)).toBe(true);
    expect(sameWorkloadId(a, parsed.value)).toBe(true);
    expect(sameWorkloadId(parsed.value, parsed.value)).toBe(true);
    expect(sameWorkloadId(a, 'spiffe://example.org/ns/prod/sa/API')).toBe(false);
    expect(sameWorkloadId(a, 'wimse://example.org/ns/prod/sa/api')).toBe(false);
    expect(sameWorkloadId('spiffe://example.org', 'spiffe://example.org.')).toBe(false);
  });

  it('never equates a non-canonical spelling with the canonical one', () => {
    for (const other of ['SPIFFE://example.org/ns/prod/sa/api', 'spiffe://EXAMPLE.org/ns/prod/sa/api', 'spiffe://example.org/ns/prod/sa/%61pi', 'spiffe://example.org/ns/prod/sa/api/', 'spiffe://example.org/ns/./prod/sa/api', 'spiffe://example.org:443/ns/prod/sa/api']) {
      expect(sameWorkloadId(a, other)).toBe(false);
    }
  });

  it('fails closed: an invalid identifier equals nothing, not even itself', () => {
    for (const bad of ['', 'spiffe://example.org/a/', 'wimse://trust.example/service/%70ayment', 'wimse://trust.example.com']) {
      expect(sameWorkloadId(bad, bad)).toBe(false);
      expect(sameWorkloadId({ uri: bad, scheme: 'wimse', trustDomain: 'x', path: '/x' }, bad)).toBe(false);
    }
  });
});

describe('workloadOrigin', () => {
  it('is the scheme and trust domain without the path (draft §4.6)', () => {
    const spiffe = parseWorkloadId('spiffe://prod.trust.domain/ns/prod-01/sa/foo-service');
    const wimse = parseWorkloadId('wimse://trust.corp.example.com/workload/af3e86cb-7013-4e33-b717-11c4edd25679');
    const td = parseWorkloadId('spiffe://prod.trust.domain');
    if (!spiffe.ok || !wimse.ok || !td.ok) throw new Error('fixture');
    expect(workloadOrigin(spiffe.value)).toBe('spiffe://prod.trust.domain');
    expect(workloadOrigin(wimse.value)).toBe('wimse://trust.corp.example.com');
    expect(workloadOrigin(td.value)).toBe(td.value.uri);
  });
});

describe('isTrustDomainName / checkTrustDomainName', () => {
  it('accepts names valid for the scheme', () => {
    for (const name of ['example.org', 'trust_domain_name.example.com', 'k8s-west.example.com', '127.0.0.1', 'a']) {
      expect(isTrustDomainName('spiffe', name)).toBe(true);
      expect(isTrustDomainName('wimse', name)).toBe(true);
    }
    expect(isTrustDomainName('spiffe', 'example.org.')).toBe(true);
    expect(isTrustDomainName('spiffe', 'a'.repeat(255))).toBe(true);
    expect(isTrustDomainName('wimse', 'a'.repeat(256))).toBe(true);
  });

  it('rejects with the same codes as the parser', () => {
    const cases: [('spiffe' | 'wimse'), string, WorkloadIdError][] = [
      ['spiffe', '', 'ERR_ID_TRUST_DOMAIN'],
      ['spiffe', 'Example.org', 'ERR_ID_NOT_CANONICAL'],
      ['spiffe', 'ex%61mple.org', 'ERR_ID_NOT_CANONICAL'],
      ['spiffe', 'user@example.org', 'ERR_ID_TRUST_DOMAIN'],
      ['spiffe', 'example.org:443', 'ERR_ID_TRUST_DOMAIN'],
      ['spiffe', '[::1]', 'ERR_ID_TRUST_DOMAIN'],
      ['spiffe', 'ex\u0430mple.org', 'ERR_ID_TRUST_DOMAIN'],
      ['spiffe', 'example.org/x', 'ERR_ID_TRUST_DOMAIN'],
      ['spiffe', 'a'.repeat(256), 'ERR_ID_TRUST_DOMAIN'],
      ['wimse', 'example.org.', 'ERR_ID_NOT_CANONICAL'],
      ['wimse', 'exa mple', 'ERR_ID_TRUST_DOMAIN'],
    ];
    for (const [scheme, name, code] of cases) {
      expect(checkTrustDomainName(scheme, name)).toMatchObject({ ok: false, code });
      expect(isTrustDomainName(scheme, name)).toBe(false);
    }
  });
});
