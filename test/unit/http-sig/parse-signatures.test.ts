/**
 * Parsing Signature-Input / Signature (RFC 9421 §4.1, §4.2), the bounds of src/limits.ts, and selecting one
 * signature by label or tag (§3.2 step 1), each refusal asserted by its error code.
 */
import { describe, expect, it } from 'vitest';
import { componentFromInput } from '../../../src/http-sig/component-identifier.ts';
import type { FieldLines } from '../../../src/http-sig/message.ts';
import { parseSignatures } from '../../../src/http-sig/parse-signatures.ts';
import { selectSignature } from '../../../src/http-sig/select-signature.ts';
import { createSignatureBase } from '../../../src/http-sig/signature-base.ts';
import { serializeSignatureParams, signatureParamsFromInput } from '../../../src/http-sig/signature-params.ts';
import {
  MAX_HTTP_SIG_BASE_BYTES,
  MAX_HTTP_SIG_COMPONENT_PARAMETERS,
  MAX_HTTP_SIG_COMPONENTS,
  MAX_HTTP_SIG_FIELD_BYTES,
  MAX_HTTP_SIG_LABELS,
  MAX_HTTP_SIG_PARAMETERS,
  MAX_HTTP_SIG_VALUE_BYTES,
} from '../../../src/limits.ts';
import { expectCode, expectOk, loadVector } from './vectors.ts';

const fields = loadVector('s2-3-s4-fields.json');
const SIG = ':dGVzdA==:';
const parse = (input: string | undefined, signature: string | undefined, extra: FieldLines = []) =>
  parseSignatures([...(input === undefined ? [] : [['Signature-Input', input] as const]), ...(signature === undefined ? [] : [['Signature', signature] as const]), ...extra]);

describe('RFC 9421 §2.3 and §4 field examples', () => {
  it('serializes the §2.3 @signature-params example exactly', () => {
    const { components, params, serialized } = fields.signatureParams;
    const ids = components.map((c: string) => expectOk(componentFromInput(c)));
    expect(serializeSignatureParams(ids, expectOk(signatureParamsFromInput(params)))).toBe(serialized);
  });

  it('parses the §4.1 Signature-Input with the §4.2 Signature into a typed signature', () => {
    const [sig] = expectOk(parse(fields.signatureInput.value, fields.signature.value));
    expect(sig!.label).toBe('sig1');
    expect(sig!.components.map((c) => c.name)).toEqual(['@method', '@target-uri', '@authority', 'content-digest', 'cache-control']);
    expect(sig!.metadata).toEqual({ created: 1618884475, keyid: 'test-key-rsa-pss' });
    expect(sig!.value.length).toBe(256);
  });

  it('combines several field lines and keeps every parameter, registered or not, in order', () => {
    const sigs = expectOk(
      parseSignatures([
        ['Signature-Input', 'a=("@method";req "x";key="k");created=1;expires=2;nonce="n";alg="ed25519";keyid="k";tag="t";wimse-aud="https://a/"'],
        ['Signature', `a=${SIG}`],
        ['signature-input', 'b=()'],
        ['SIGNATURE', `b=${SIG};ignored`],
      ]),
    );
    expect(sigs.map((s) => s.label)).toEqual(['a', 'b']);
    expect(sigs[0]!.metadata).toEqual({ created: 1, expires: 2, nonce: 'n', alg: 'ed25519', keyid: 'k', tag: 't' });
    expect([...sigs[0]!.params.keys()]).toEqual(['created', 'expires', 'nonce', 'alg', 'keyid', 'tag', 'wimse-aud']);
    expect([...sigs[0]!.components[1]!.params.keys()]).toEqual(['key']);
  });

  it('ERR_SIG_MISSING when neither field is present, or both are empty', () => {
    expectCode(parseSignatures([['Content-Type', 'x']]), 'ERR_SIG_MISSING');
    expectCode(parse('', ' '), 'ERR_SIG_MISSING');
  });

  it('ERR_SIG_INPUT_MALFORMED: not a Dictionary of Inner Lists of Strings, or a repeated label or parameter', () => {
    expectCode(parse('sig1=(', `sig1=${SIG}`), 'ERR_SIG_INPUT_MALFORMED');
    expectCode(parse('sig1', `sig1=${SIG}`), 'ERR_SIG_INPUT_MALFORMED');
    expectCode(parse('sig1="@method"', `sig1=${SIG}`), 'ERR_SIG_INPUT_MALFORMED');
    expectCode(parse('sig1=(@method)', `sig1=${SIG}`), 'ERR_SIG_INPUT_MALFORMED');
    expectCode(parse('sig1=();created=1;created=2', `sig1=${SIG}`), 'ERR_SIG_INPUT_MALFORMED');
    expectCode(parse('sig1=("x";req;req)', `sig1=${SIG}`), 'ERR_SIG_INPUT_MALFORMED');
    expectCode(parse('sig1=()', `sig1=${SIG}`, [['Signature-Input', 'sig1=("@path")']]), 'ERR_SIG_INPUT_MALFORMED');
  });

  it('ERR_SIG_COMPONENT_INVALID for a component name that is not lowercase', () => {
    expectCode(parse('sig1=("Content-Type")', `sig1=${SIG}`), 'ERR_SIG_COMPONENT_INVALID');
  });

  it('ERR_SIG_VALUE_MALFORMED: not a Dictionary of Byte Sequences, or a repeated label', () => {
    expectCode(parse('sig1=()', 'sig1=:dGVzdA==:,'), 'ERR_SIG_VALUE_MALFORMED');
    expectCode(parse('sig1=()', 'sig1="dGVzdA=="'), 'ERR_SIG_VALUE_MALFORMED');
    expectCode(parse('sig1=()', 'sig1=(:dGVzdA==:)'), 'ERR_SIG_VALUE_MALFORMED');
    expectCode(parse('sig1=()', `sig1=${SIG}, sig1=${SIG}`), 'ERR_SIG_VALUE_MALFORMED');
  });

  it('ERR_SIG_LABEL_MISSING: a label in one field only', () => {
    expectCode(parse('sig1=()', undefined), 'ERR_SIG_LABEL_MISSING');
    expectCode(parse('sig1=()', `sig2=${SIG}`), 'ERR_SIG_LABEL_MISSING');
    expectCode(parse('sig1=()', `sig1=${SIG}, sig2=${SIG}`), 'ERR_SIG_LABEL_MISSING');
    expectCode(parse(undefined, `sig1=${SIG}`), 'ERR_SIG_LABEL_MISSING');
  });

  it('ERR_SIG_PARAM_INVALID: registered parameters of the wrong type', () => {
    for (const params of ['created="1"', 'created=1.0', 'created=-1', 'expires=?1', 'nonce=abc', 'alg=ed25519', 'keyid=1', 'tag=:dGVzdA==:']) {
      expectCode(parse(`sig1=();${params}`, `sig1=${SIG}`), 'ERR_SIG_PARAM_INVALID');
    }
  });
});

describe('bounds (src/limits.ts)', () => {
  const labels = (n: number, value: (i: number) => string) => Array.from({ length: n }, (_, i) => `s${i}=${value(i)}`).join(', ');

  it('ERR_SIG_LIMIT_EXCEEDED: labels, components, parameters, field bytes, signature bytes, base bytes', () => {
    expectOk(parse(labels(MAX_HTTP_SIG_LABELS, () => '()'), labels(MAX_HTTP_SIG_LABELS, () => SIG)));
    expectCode(parse(labels(MAX_HTTP_SIG_LABELS + 1, () => '()'), labels(MAX_HTTP_SIG_LABELS + 1, () => SIG)), 'ERR_SIG_LIMIT_EXCEEDED');

    const components = (n: number) => `sig1=(${Array.from({ length: n }, (_, i) => `"x-${i}"`).join(' ')})`;
    expectOk(parse(components(MAX_HTTP_SIG_COMPONENTS), `sig1=${SIG}`));
    expectCode(parse(components(MAX_HTTP_SIG_COMPONENTS + 1), `sig1=${SIG}`), 'ERR_SIG_LIMIT_EXCEEDED');

    const params = (n: number) => `sig1=()${Array.from({ length: n }, (_, i) => `;p${i}`).join('')}`;
    expectOk(parse(params(MAX_HTTP_SIG_PARAMETERS), `sig1=${SIG}`));
    expectCode(parse(params(MAX_HTTP_SIG_PARAMETERS + 1), `sig1=${SIG}`), 'ERR_SIG_LIMIT_EXCEEDED');

    const componentParams = (n: number) => `sig1=("x"${Array.from({ length: n }, (_, i) => `;p${i}`).join('')})`;
    expectOk(parse(componentParams(MAX_HTTP_SIG_COMPONENT_PARAMETERS), `sig1=${SIG}`));
    expectCode(parse(componentParams(MAX_HTTP_SIG_COMPONENT_PARAMETERS + 1), `sig1=${SIG}`), 'ERR_SIG_LIMIT_EXCEEDED');

    expectCode(parse(`sig1=();nonce="${'n'.repeat(MAX_HTTP_SIG_FIELD_BYTES)}"`, `sig1=${SIG}`), 'ERR_SIG_LIMIT_EXCEEDED');
    const bytes = (n: number) => `:${btoa('x'.repeat(n))}:`;
    expectOk(parse('sig1=()', `sig1=${bytes(MAX_HTTP_SIG_VALUE_BYTES)}`));
    expectCode(parse('sig1=()', `sig1=${bytes(MAX_HTTP_SIG_VALUE_BYTES + 1)}`), 'ERR_SIG_LIMIT_EXCEEDED');

    const big = { headers: [['X-Big', 'v'.repeat(MAX_HTTP_SIG_BASE_BYTES / 2)]] as FieldLines };
    const twice = [expectOk(componentFromInput('x-big')), expectOk(componentFromInput({ name: 'x-big', params: { bs: true } }))];
    expectOk(createSignatureBase(big, twice.slice(0, 1), new Map()));
    expectCode(createSignatureBase(big, twice, new Map()), 'ERR_SIG_LIMIT_EXCEEDED');
    const many = Array.from({ length: MAX_HTTP_SIG_COMPONENTS + 1 }, (_, i) => expectOk(componentFromInput(`x-${i}`)));
    expectCode(createSignatureBase(big, many, new Map()), 'ERR_SIG_LIMIT_EXCEEDED');
  });
});

describe('selecting a signature (§3.2 step 1)', () => {
  const sigs = expectOk(
    parse('a=();tag="app", b=();tag="other", c=();tag="dup", d=();tag="dup", e=()', ['a', 'b', 'c', 'd', 'e'].map((l) => `${l}=${SIG}`).join(', ')),
  );

  it('by label, or by the one signature carrying a tag', () => {
    expect(expectOk(selectSignature(sigs, { label: 'e' })).label).toBe('e');
    expect(expectOk(selectSignature(sigs, { tag: 'app' })).label).toBe('a');
  });

  it('ERR_SIG_LABEL_MISSING when nothing matches, ERR_SIG_LABEL_AMBIGUOUS when a tag matches twice', () => {
    expectCode(selectSignature(sigs, { label: 'z' }), 'ERR_SIG_LABEL_MISSING');
    expectCode(selectSignature(sigs, { tag: 'none' }), 'ERR_SIG_LABEL_MISSING');
    expectCode(selectSignature(sigs, { tag: 'dup' }), 'ERR_SIG_LABEL_AMBIGUOUS');
  });
});
