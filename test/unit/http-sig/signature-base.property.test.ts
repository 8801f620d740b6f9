/**
 * Property-based tests for the RFC 9421 signature base, signing and verification (src/http-sig/signature-base.ts,
 * sign.ts, verify.ts, parse-signatures.ts), with fast-check, on generated requests (method, scheme, authority,
 * a path and query with percent-escapes, a few fields with arbitrary visible-ASCII values, some on several lines)
 * and covered-component lists drawn from the derived components and the fields present:
 * 1. createSignatureBase never throws; its lines are the components in order, then `"@signature-params": ` with
 *    serializeSignatureParams(components, params), without a trailing LF; on arbitrary messages and components
 *    it returns a Result with a known code instead;
 * 2. an Ed25519 signature (signMessage) verifies (verifyMessage) on the unchanged message, still verifies when an
 *    uncovered field is added, and fails with ERR_SIG_INVALID when any one covered component's value changes;
 * 3. parseSignatures, on arbitrary Signature-Input / Signature field lines, never throws and never returns a
 *    signature whose label is not in both fields.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { componentFromInput, serializeComponentIdentifier, type ComponentIdentifier, type ComponentInput } from '../../../src/http-sig/component-identifier.ts';
import { HTTP_SIG_ERRORS } from '../../../src/http-sig/errors.ts';
import type { FieldLines, HttpSigMessage } from '../../../src/http-sig/message.ts';
import { parseSignatures } from '../../../src/http-sig/parse-signatures.ts';
import { base64Encode } from '../../../src/http-sig/sf-base64.ts';
import { parseDictionary } from '../../../src/http-sig/sf-parse.ts';
import { signMessage } from '../../../src/http-sig/sign.ts';
import { createSignatureBase } from '../../../src/http-sig/signature-base.ts';
import { serializeSignatureParams, signatureParamsFromInput, type SignatureParamsInput } from '../../../src/http-sig/signature-params.ts';
import { verifyMessage } from '../../../src/http-sig/verify.ts';
import { expectCode, expectOk } from './vectors.ts';

const CRYPTO_RUNS = { numRuns: 100 };
const RUNS = { numRuns: 500 };

// ---------------------------------------------------------------------------------------------------------------
// Generated requests
// ---------------------------------------------------------------------------------------------------------------

const ALNUM = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'];
const HEX = [...'0123456789abcdefABCDEF'];
// RFC 3986 pchar without "%" (escapes are generated whole): none of these is re-encoded by the WHATWG URL parser.
const PATH_CHARS = [...ALNUM, ...'-._~!$&\'()*+,;=:@'];
// Query characters the WHATWG parser keeps as they are, minus the form separators "&" and "=".
const QUERY_CHARS = [...ALNUM, ...'-._~!$()*+,;:@/?'];
const VISIBLE = Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i));
const HOSTS = ['api.example.com', 'svc.example.org:8443', 'EXAMPLE.com', 'localhost:8080'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'get', 'Custom-Method', 'M.1'];
const FIELD_NAMES = ['content-type', 'x-custom', 'authorization', 'accept', 'x-trace-id', 'cache-control'];
const PARAM_NAMES = ['a', 'b', 'flavor', 'q', 'x-y', 'n.m', 'Pet', '_u'];

const pct = fc.tuple(fc.constantFrom(...HEX), fc.constantFrom(...HEX)).map(([a, b]) => `%${a}${b}`);
const run = (alphabet: string[], maxLength: number) => fc.array(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...alphabet) }, { weight: 1, arbitrary: pct }), { maxLength }).map((xs) => xs.join(''));
/** A segment that starts with a letter or digit, so it is never a dot-segment the URL parser would remove. */
const segment = fc.tuple(fc.constantFrom(...ALNUM), run(PATH_CHARS, 8)).map(([first, rest]) => first + rest);
const caseOf = (name: string) => fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length }).map((up) => [...name].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));

interface Request {
  method: string;
  scheme: 'https' | 'http';
  host: string;
  segments: string[];
  query: [string, string][] | undefined;
  fields: [string, string][];
}

const requestArb: fc.Arbitrary<Request> = fc.record({
  method: fc.constantFrom(...METHODS),
  scheme: fc.constantFrom('https' as const, 'http' as const),
  host: fc.constantFrom(...HOSTS),
  segments: fc.array(segment, { maxLength: 4 }),
  query: fc.option(fc.uniqueArray(fc.tuple(fc.constantFrom(...PARAM_NAMES), run(QUERY_CHARS, 10)), { selector: ([n]) => n, maxLength: 4 }), { nil: undefined }),
  fields: fc
    .array(fc.tuple(fc.constantFrom(...FIELD_NAMES), fc.string({ unit: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...VISIBLE) }, { weight: 1, arbitrary: fc.constant(' ') }), maxLength: 30 })), { maxLength: 6 })
    .chain((fields) => fc.tuple(...fields.map(([name, value]) => caseOf(name).map((wire) => [wire, value] as [string, string])))),
});

const url = (r: Request) => `${r.scheme}://${r.host}/${r.segments.join('/')}${r.query === undefined ? '' : `?${r.query.map(([n, v]) => `${n}=${v}`).join('&')}`}`;
const toMessage = (r: Request, extra: FieldLines = []): HttpSigMessage => ({ method: r.method, url: url(r), headers: [...r.fields, ...extra] });
const fieldsPresent = (r: Request) => [...new Set(r.fields.map(([n]) => n.toLowerCase()))];

const DERIVED = ['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query'];

/** Every component the request can supply: the derived ones, @query-param for each parameter, each field, with and without bs. */
function candidates(r: Request): ComponentInput[] {
  return [
    ...DERIVED,
    ...(r.query ?? []).map(([name]) => ({ name: '@query-param', params: { name } })),
    ...fieldsPresent(r),
    ...fieldsPresent(r).map((name) => ({ name, params: { bs: true as const } })),
  ];
}

const paramsArb: fc.Arbitrary<SignatureParamsInput> = fc.record(
  {
    created: fc.integer({ min: 0, max: 2_000_000_000 }),
    expires: fc.integer({ min: 2_000_000_000, max: 2_100_000_000 }),
    nonce: fc.string({ unit: fc.constantFrom(...VISIBLE, ' '), maxLength: 16 }),
    keyid: fc.string({ unit: fc.constantFrom(...VISIBLE), maxLength: 16 }),
    alg: fc.constant('ed25519'),
    tag: fc.constantFrom('app', 'wimse-workload-to-workload'),
    'x-ext': fc.oneof(fc.integer(), fc.boolean()),
  },
  { requiredKeys: [] },
);

const labelArb = fc.tuple(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz*'), fc.string({ unit: fc.constantFrom(...'abz09_-.*'), maxLength: 6 })).map(([a, b]) => a + b);

interface Case {
  request: Request;
  components: ComponentInput[];
  params: SignatureParamsInput;
  label: string;
}

const caseArb: fc.Arbitrary<Case> = requestArb.chain((request) =>
  fc.record({
    request: fc.constant(request),
    components: fc.shuffledSubarray(candidates(request), { minLength: 1 }),
    params: paramsArb,
    label: labelArb,
  }),
);

const identifiers = (inputs: ComponentInput[]): ComponentIdentifier[] => inputs.map((c) => expectOk(componentFromInput(c)));

// ---------------------------------------------------------------------------------------------------------------
// 1. The base
// ---------------------------------------------------------------------------------------------------------------

describe('property 1: createSignatureBase', () => {
  it('never throws; one line per covered component in order, then the @signature-params line, no trailing LF', () => {
    fc.assert(
      fc.property(caseArb, ({ request, components, params }) => {
        const ids = identifiers(components);
        const sfParams = expectOk(signatureParamsFromInput(params));
        const base = expectOk(createSignatureBase(toMessage(request), ids, sfParams));
        const lines = base.split('\n');
        expect(lines).toHaveLength(ids.length + 1);
        ids.forEach((id, i) => expect(lines[i]!.startsWith(`${serializeComponentIdentifier(id)}: `)).toBe(true));
        expect(lines.at(-1)).toBe(`"@signature-params": ${serializeSignatureParams(ids, sfParams)}`);
        expect(base.endsWith(`\n"@signature-params": ${serializeSignatureParams(ids, sfParams)}`)).toBe(true);
        expect(base).toMatch(/^[\x20-\x7e\n]*$/);
      }),
      RUNS,
    );
  });

  it('never throws on arbitrary messages and components: a Result, failing only with a known code', () => {
    const anyText = fc.string({ unit: fc.oneof(fc.constantFrom(...VISIBLE, ' ', '\t', '\r', '\n', '\u0000', '\u00e9', '\u2028'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 20 });
    const nameArb = fc.oneof(fc.constantFrom(...DERIVED, '@query-param', '@status', '@signature-params', '@unknown', 'x-absent', ...FIELD_NAMES, 'Content-Type', 'signature'), anyText);
    const paramArb = fc.dictionary(fc.constantFrom('req', 'sf', 'bs', 'key', 'name', 'tr', 'other', 'Bad'), fc.oneof(fc.constant(true as const), anyText), { maxKeys: 3 });
    const componentArb = fc.record({ name: nameArb, params: paramArb });
    const messageArb: fc.Arbitrary<HttpSigMessage> = fc.record(
      {
        method: fc.oneof(fc.constantFrom(...METHODS), anyText),
        url: fc.oneof(requestArb.map(url), anyText, fc.constantFrom('https://[::1]:8443/p?q', 'http://a/%zz?%zz', 'urn:x', 'https://h/?a=1&a=2')),
        status: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(404)),
        headers: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...FIELD_NAMES, 'priority', 'content-digest'), anyText), anyText)),
        request: requestArb.map((r) => toMessage(r)),
      },
      { requiredKeys: ['headers'] },
    );
    const codes = Object.keys(HTTP_SIG_ERRORS);
    let built = 0;
    fc.assert(
      fc.property(messageArb, fc.array(componentArb, { maxLength: 6 }), paramsArb, (message, inputs, params) => {
        // Identifiers reach createSignatureBase from componentFromInput (signers) or parseSignatures (verifiers).
        const ids = inputs.map(componentFromInput).flatMap((r) => (r.ok ? [r.value] : []));
        const result = createSignatureBase(message, ids, expectOk(signatureParamsFromInput(params)));
        if (result.ok) {
          built++;
          expect(result.value).toMatch(/^[\x20-\x7e\n]*$/);
        } else {
          expect(codes).toContain(result.code);
        }
      }),
      RUNS,
    );
    expect(built).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Sign, verify, tamper
// ---------------------------------------------------------------------------------------------------------------

let privateKey: CryptoKey;
let publicKey: CryptoKey;
beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  privateKey = pair.privateKey;
  publicKey = pair.publicKey;
});

const nameOf = (c: ComponentInput) => (typeof c === 'string' ? c : c.name);

/** The request with the value of covered component `c` changed, and nothing else the URL parser would undo. */
function tamper(r: Request, c: ComponentInput): Request {
  const name = nameOf(c);
  switch (name) {
    case '@method':
      return { ...r, method: `${r.method}X` };
    case '@authority':
      return { ...r, host: `x${r.host}` };
    case '@scheme':
      return { ...r, scheme: r.scheme === 'https' ? 'http' : 'https' };
    case '@path':
    case '@target-uri':
    case '@request-target':
      return { ...r, segments: r.segments.length === 0 ? ['z'] : [...r.segments.slice(0, -1), `${r.segments.at(-1)}z`] };
    case '@query':
      return { ...r, query: [...(r.query ?? []), ['zz', '1']] };
    case '@query-param': {
      const param = (c as { params: Record<string, string> }).params.name;
      return { ...r, query: r.query!.map(([n, v]) => [n, n === param ? `${v}z` : v]) };
    }
    default: {
      // A field: change its first line (bs or not, the canonical value changes).
      const i = r.fields.findIndex(([n]) => n.toLowerCase() === name);
      return { ...r, fields: r.fields.map(([n, v], j) => [n, j === i ? `${v}Z` : v]) };
    }
  }
}

describe('property 2: Ed25519 sign then verify', () => {
  it('verifies the unchanged message, survives an uncovered field, and fails with ERR_SIG_INVALID when one covered value changes', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.nat(), async ({ request, components, params, label }, pick) => {
        const signed = expectOk(await signMessage(toMessage(request), { label, components, params, algorithm: 'ed25519', key: privateKey }));
        expect(signed.base.endsWith(`"@signature-params": ${serializeSignatureParams(signed.components, expectOk(signatureParamsFromInput(params)))}`)).toBe(true);
        const sigFields: FieldLines = [['Signature-Input', signed.signatureInput], ['Signature', signed.signatureField]];
        const options = { algorithm: 'ed25519' as const, key: publicKey, select: { label } };

        const verified = expectOk(await verifyMessage(toMessage(request, sigFields), options));
        expect(verified.base).toBe(signed.base);
        expectOk(await verifyMessage(toMessage(request, [...sigFields, ['X-Uncovered', 'added']]), options));

        const covered = components[pick % components.length]!;
        const tampered = tamper(request, covered);
        const ids = identifiers(components);
        const sfParams = expectOk(signatureParamsFromInput(params));
        const newBase = expectOk(createSignatureBase(toMessage(tampered), ids, sfParams));
        expect(newBase, `tampering ${JSON.stringify(covered)} changed nothing`).not.toBe(signed.base);
        expectCode(await verifyMessage(toMessage(tampered, sigFields), options), 'ERR_SIG_INVALID');
      }),
      CRYPTO_RUNS,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. parseSignatures
// ---------------------------------------------------------------------------------------------------------------

const LABELS = ['sig1', 'sig2', 'wimse', 'a', '*x'];
const inputFor = (label: string) =>
  fc
    .tuple(
      fc.shuffledSubarray(['"@method"', '"@path"', '"content-type";bs', '"@query-param";name="a"', '"x";key="k"', '"@status";req']),
      fc.constantFrom('', ';created=1', ';created=1;keyid="k";tag="t"', ';alg="ed25519"', ';created=-1', ';created="1"', ';nonce=1'),
    )
    .map(([items, params]) => `${label}=(${items.join(' ')})${params}`);
const signatureFor = (label: string) => fc.uint8Array({ maxLength: 80 }).map((bytes) => `${label}=:${base64Encode(bytes)}:`);
/** Members as one field line, or split over two. */
const asLines = (members: string[]) => fc.integer({ min: 0, max: members.length }).map((k) => (k === 0 || k === members.length ? [members.join(', ')] : [members.slice(0, k).join(', '), members.slice(k).join(', ')]));
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

type Fields = [string[], string[]];
/** Both fields carrying the same labels (in their own orders), so most are accepted. */
const consistentFields: fc.Arbitrary<Fields> = fc
  .uniqueArray(fc.constantFrom(...LABELS), { minLength: 1, maxLength: 3 })
  .chain((labels) => fc.tuple(fc.tuple(...labels.map(inputFor)), fc.shuffledSubarray(labels, { minLength: labels.length }).chain((ls) => fc.tuple(...ls.map(signatureFor)))))
  .chain(([inputs, signatures]) => fc.tuple(asLines(inputs), asLines(signatures)));
/** One character of one line inserted or replaced, one line replaced by any string, or a line dropped or added. */
const brokenFields: fc.Arbitrary<Fields> = fc
  .tuple(consistentFields, fc.nat(), fc.nat(), fc.constantFrom(...'=,;():"?*aA1 \t\u00e9'), fc.constantFrom('insert', 'replace', 'any', 'drop', 'add'), anyString)
  .map(([[inputs, signatures], which, r, c, op, any]) => {
    const fields: Fields = [[...inputs], [...signatures]];
    const lines = fields[which % 2]!;
    const i = r % lines.length;
    const line = lines[i]!;
    const at = r % (line.length + 1);
    if (op === 'insert') lines[i] = line.slice(0, at) + c + line.slice(at);
    else if (op === 'replace') lines[i] = line.slice(0, at) + c + line.slice(at + 1);
    else if (op === 'any') lines[i] = any;
    else if (op === 'drop') lines.splice(i, 1);
    else lines.push(any);
    return fields;
  });
const arbitraryFields: fc.Arbitrary<Fields> = fc.tuple(fc.array(anyString, { maxLength: 2 }), fc.array(anyString, { maxLength: 2 }));

describe('property 3: parseSignatures', () => {
  it('never throws, and every signature it returns has a label present in both Signature-Input and Signature', () => {
    const fieldsArb = fc.tuple(fc.oneof(consistentFields, brokenFields, arbitraryFields), fc.constantFrom('Signature-Input', 'signature-input', 'SIGNATURE-INPUT'));
    const codes = Object.keys(HTTP_SIG_ERRORS);
    let accepted = 0;
    fc.assert(
      fc.property(fieldsArb, ([[inputs, signatures], inputName]) => {
        const headers: FieldLines = [...inputs.map((v) => [inputName, v] as const), ...signatures.map((v) => ['Signature', v] as const)];
        const result = parseSignatures(headers);
        if (!result.ok) {
          expect(codes).toContain(result.code);
          return;
        }
        accepted += result.value.length > 0 ? 1 : 0;
        const inputLabels = [...expectOk(parseDictionary(inputs.join(', '))).keys()];
        const signatureLabels = [...expectOk(parseDictionary(signatures.join(', '))).keys()];
        expect(result.value.map((s) => s.label)).toEqual(inputLabels);
        expect(new Set(signatureLabels)).toEqual(new Set(inputLabels));
        for (const s of result.value) {
          expect(inputLabels).toContain(s.label);
          expect(signatureLabels).toContain(s.label);
        }
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
