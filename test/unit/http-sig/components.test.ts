/**
 * Component values (RFC 9421 §2): every example the RFC gives an expected value for (test/vectors/rfc9421/
 * s2-components.json), then one negative test per refusal, asserting the error code.
 */
import { describe, expect, it } from 'vitest';
import { componentFromInput, type ComponentInput } from '../../../src/http-sig/component-identifier.ts';
import { componentValue } from '../../../src/http-sig/component-value.ts';
import { canonicalFieldLine } from '../../../src/http-sig/field-component.ts';
import { fieldLines, responseMessage, type HttpSigMessage } from '../../../src/http-sig/message.ts';
import { encodeQueryParamText } from '../../../src/http-sig/query-param.ts';
import { parseItem } from '../../../src/http-sig/sf-parse.ts';
import { createSignatureBase } from '../../../src/http-sig/signature-base.ts';
import type { StructuredFieldTypes } from '../../../src/http-sig/structured-field-types.ts';
import { expectCode, expectOk, loadVector, toMessage, type VectorMessage } from './vectors.ts';

interface ComponentCase {
  section: string;
  description?: string;
  message: VectorMessage;
  structuredFields?: StructuredFieldTypes;
  lines: string[];
  errors?: { component: string; code: string }[];
}

const { cases } = loadVector<{ cases: ComponentCase[] }>('s2-components.json');

/** Splits an RFC base line into its component identifier (parsed as an sf-item) and value. */
function splitLine(line: string) {
  const colon = line.indexOf(': ');
  const item = expectOk(parseItem(line.slice(0, colon)));
  return { id: expectOk(componentFromInput({ name: item.value.value as string, params: item.params } as ComponentInput)), value: line.slice(colon + 2) };
}

describe('RFC 9421 §2 component value examples', () => {
  it.each(cases.map((c) => ({ ...c, title: `§${c.section}${c.description ? ` (${c.description})` : ''}: ${c.lines.length} lines` })))('$title', (c) => {
    const message = toMessage(c.message);
    for (const line of c.lines) {
      const { id, value } = splitLine(line);
      expect(expectOk(componentValue(message, id, c.structuredFields ? { structuredFields: c.structuredFields } : {})), line).toBe(value);
    }
    for (const e of c.errors ?? []) {
      expectCode(componentValue(message, splitLine(`${e.component}: `).id), e.code as never);
    }
  });

  it('examples cover every derived component and every field parameter', () => {
    const names = new Set(cases.flatMap((c) => c.lines.map((l) => l.slice(0, l.indexOf(': ')))));
    for (const expected of ['"@method"', '"@target-uri"', '"@authority"', '"@scheme"', '"@request-target"', '"@path"', '"@query"', '"@status"']) {
      expect(names).toContain(expected);
    }
    expect([...names].some((n) => n.startsWith('"@query-param";name='))).toBe(true);
    for (const param of [';sf', ';key=', ';bs']) expect([...names].some((n) => n.includes(param))).toBe(true);
  });
});

const request: HttpSigMessage = {
  method: 'POST',
  url: 'https://Example.COM:443/foo/bar?param=Value&Pet=dog&pet=cat&dup=1&dup=2#frag',
  headers: [
    ['Host', 'example.com'],
    ['Content-Type', 'application/json'],
    ['Example-Dict', 'a=1, b=(x y);z'],
    ['X-Latin1', 'caf\u00e9'],
    ['X-Broken', 'one\r\ntwo'],
    ['X-Item', '"text"'],
  ],
};
const response: HttpSigMessage = { status: 200, headers: [['Content-Type', 'text/plain']], request };

const value = (message: HttpSigMessage, input: ComponentInput, structuredFields?: StructuredFieldTypes) =>
  componentValue(message, expectOk(componentFromInput(input)), structuredFields ? { structuredFields } : {});

describe('component values beyond the RFC examples', () => {
  it('normalises the URL parts: lowercase authority, default port dropped, fragment never included', () => {
    expect(expectOk(value(request, '@authority'))).toBe('example.com');
    expect(expectOk(value(request, '@target-uri'))).toBe('https://example.com/foo/bar?param=Value&Pet=dog&pet=cat&dup=1&dup=2');
    expect(expectOk(value(request, '@request-target'))).toBe('/foo/bar?param=Value&Pet=dog&pet=cat&dup=1&dup=2');
    expect(expectOk(value(request, '@scheme'))).toBe('https');
    expect(expectOk(value({ method: 'GET', url: 'http://h.example:8080', headers: [] }, '@authority'))).toBe('h.example:8080');
    expect(expectOk(value({ method: 'GET', url: 'http://h.example', headers: [] }, '@path'))).toBe('/');
    expect(expectOk(value({ method: 'GET', url: 'http://h.example/p?', headers: [] }, '@query'))).toBe('?');
  });

  it('keeps the method case and query-parameter name case', () => {
    expect(expectOk(value({ ...request, method: 'patch' }, '@method'))).toBe('patch');
    expect(expectOk(value(request, { name: '@query-param', params: { name: 'Pet' } }))).toBe('dog');
    expect(expectOk(value(request, { name: '@query-param', params: { name: 'pet' } }))).toBe('cat');
    expect(encodeQueryParamText('a b~\u00e7')).toBe('a%20b%7E%C3%A7');
  });

  it('resolves req components from the related request, and the same name without req from the response', () => {
    expect(expectOk(value(response, { name: '@method', params: { req: true } }))).toBe('POST');
    expect(expectOk(value(response, { name: 'content-type', params: { req: true } }))).toBe('application/json');
    expect(expectOk(value(response, 'content-type'))).toBe('text/plain');
    expect(expectOk(value(response, { name: 'example-dict', params: { key: 'b', req: true } }))).toBe('(x y);z');
  });

  it('reads field lines from a Fetch Headers, a record or line pairs, and Set-Cookie lines separately', () => {
    const headers = new Headers([['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Accept', 'x'], ['Accept', 'y']]);
    expect(fieldLines(headers, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect(fieldLines(headers, 'accept')).toEqual(['x, y']);
    expect(fieldLines({ Accept: ['x', 'y'], ACCEPT: 'z' }, 'accept')).toEqual(['x', 'y', 'z']);
    expect(fieldLines([['accept', 'x']], 'content-type')).toBeUndefined();
    const fetchRequest = new Request('https://example.com/a?b=c', { method: 'PUT', headers });
    expect(expectOk(value(fetchRequest, { name: 'set-cookie', params: { bs: true } }))).toBe(':YT0x:, :Yj0y:');
    expect(expectOk(value(responseMessage(new Response('x', { status: 201 }), fetchRequest), { name: '@path', params: { req: true } }))).toBe('/a');
  });

  it('canonicalises field lines: trims SP/HTAB, replaces each obs-fold with one space', () => {
    expect(canonicalFieldLine(' \t a \r\n \t b\n c \t')).toBe('a b c');
  });

  it('wraps non-ASCII octets with bs, which plain values refuse', () => {
    expect(expectOk(value(request, { name: 'x-latin1', params: { bs: true } }))).toBe(':Y2Fm6Q==:');
    expectCode(value(request, 'x-latin1'), 'ERR_SIG_COMPONENT_INVALID');
  });

  it('re-serialises Items and Lists with sf, using caller-declared types over the defaults', () => {
    expect(expectOk(value(request, { name: 'x-item', params: { sf: true } }, { 'x-item': 'item' }))).toBe('"text"');
    expect(expectOk(value({ headers: [['Content-Digest', 'sha-256=:AAAA:,  sha-512=:AA==:']] }, { name: 'content-digest', params: { sf: true } }))).toBe(
      'sha-256=:AAAA:, sha-512=:AA==:',
    );
  });
});

describe('component refusals (error codes)', () => {
  it('ERR_SIG_COMPONENT_MISSING: absent field, Dictionary key, query parameter, URL, method, related request', () => {
    expectCode(value(request, 'x-absent'), 'ERR_SIG_COMPONENT_MISSING');
    expectCode(value(request, { name: 'example-dict', params: { key: 'zz' } }), 'ERR_SIG_COMPONENT_MISSING');
    expectCode(value(request, { name: '@query-param', params: { name: 'nope' } }), 'ERR_SIG_COMPONENT_MISSING');
    expectCode(value({ method: 'GET', headers: [] }, '@path'), 'ERR_SIG_COMPONENT_MISSING');
    expectCode(value({ url: 'https://a.example/', headers: [] }, '@method'), 'ERR_SIG_COMPONENT_MISSING');
    expectCode(value({ status: 200, headers: [] }, { name: '@method', params: { req: true } }), 'ERR_SIG_COMPONENT_MISSING');
  });

  it('ERR_SIG_COMPONENT_INVALID: malformed identifiers, conflicting parameters, values that cannot be signed', () => {
    expectCode(componentFromInput('Content-Type'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(componentFromInput('@Method'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(componentFromInput('bad name'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(componentFromInput({ name: 'x', params: { Key: 'a' } }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: 'example-dict', params: { bs: true, sf: true } }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: 'example-dict', params: { bs: true, key: 'a' } }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: 'content-type', params: { req: true } }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, '@status'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(response, '@method'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: '@query-param', params: { name: 'dup' } }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, '@query-param'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, 'x-broken'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: 'x-item', params: { key: 'a' } }, { 'x-item': 'item' }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: 'content-type', params: { key: 'a' } }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value(request, { name: 'content-type', params: { sf: true } }, { 'content-type': 'dictionary' }), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value({ ...request, method: 'GE T' }, '@method'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value({ ...request, url: 'not a url' }, '@path'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value({ ...request, requestTarget: '/a b' }, '@request-target'), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(value({ status: 42, headers: [] }, '@status'), 'ERR_SIG_COMPONENT_INVALID');
    const flagNotTrue = { name: 'content-type', params: new Map([['sf', { type: 'boolean', value: false }]]) } as ComponentInput;
    expectCode(value(request, flagNotTrue), 'ERR_SIG_COMPONENT_INVALID');
    const keyNotString = { name: 'example-dict', params: new Map([['key', { type: 'token', value: 'a' }]]) } as ComponentInput;
    expectCode(value(request, keyNotString), 'ERR_SIG_COMPONENT_INVALID');
  });

  it('ERR_SIG_COMPONENT_INVALID: a repeated identifier, in any parameter order, and @signature-params as a component', () => {
    const ids = [expectOk(componentFromInput({ name: 'example-dict', params: { key: 'a', req: true } })), expectOk(componentFromInput({ name: 'example-dict', params: { req: true, key: 'a' } }))];
    expectCode(createSignatureBase(response, ids, new Map()), 'ERR_SIG_COMPONENT_INVALID');
    expectCode(createSignatureBase(request, [expectOk(componentFromInput('@signature-params'))], new Map()), 'ERR_SIG_COMPONENT_INVALID');
  });

  it('ERR_SIG_COMPONENT_UNSUPPORTED: unknown derived names and parameters, tr, sf on a field of unknown type', () => {
    expectCode(value(request, '@fragment'), 'ERR_SIG_COMPONENT_UNSUPPORTED');
    expectCode(value(request, { name: '@method', params: { name: 'x' } }), 'ERR_SIG_COMPONENT_UNSUPPORTED');
    expectCode(value(request, { name: 'content-type', params: { foo: true } }), 'ERR_SIG_COMPONENT_UNSUPPORTED');
    expectCode(value(request, { name: 'content-type', params: { tr: true } }), 'ERR_SIG_COMPONENT_UNSUPPORTED');
    expectCode(value(request, { name: 'example-dict', params: { sf: true } }), 'ERR_SIG_COMPONENT_UNSUPPORTED');
  });
});
