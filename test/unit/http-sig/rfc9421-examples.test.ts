/**
 * Every signed example of RFC 9421 (Appendix B.2.1-B.2.6, B.3, B.4, and §2.4, §2.5/§3.1/§3.2, §4.3), from
 * test/vectors/rfc9421: each signature base must equal the RFC text byte for byte, each signature must verify with
 * the B.1 public key, and signing the message again must reproduce the Signature-Input member exactly, and the
 * Signature member too for the deterministic algorithms (ed25519, hmac-sha256, rsa-v1_5-sha256).
 */
import { describe, expect, it } from 'vitest';
import type { HttpSigAlgorithm } from '../../../src/http-sig/algorithms.ts';
import { parseSignatures } from '../../../src/http-sig/parse-signatures.ts';
import { base64Encode } from '../../../src/http-sig/sf-base64.ts';
import type { Parameters } from '../../../src/http-sig/sf-types.ts';
import { signMessage } from '../../../src/http-sig/sign.ts';
import { createSignatureBase } from '../../../src/http-sig/signature-base.ts';
import type { SignatureParamsInput } from '../../../src/http-sig/signature-params.ts';
import { verifyMessage } from '../../../src/http-sig/verify.ts';
import { expectCode, expectOk, IMPORT_PARAMS, importTestKeys, keyEntry, loadVector, pemBytes, toMessage, type VectorMessage } from './vectors.ts';

interface Case {
  name: string;
  message: VectorMessage;
  /** Signature-Input and Signature field lines of the signed message. */
  fields: [string, string][];
  label: string;
  key: string;
  algorithm: HttpSigAlgorithm;
  deterministic: boolean;
  base?: string;
  /** The signature output as printed separately by the RFC (base64). */
  output?: string;
}

const SIGNATURE_FIELDS = new Set(['signature-input', 'signature']);
const labelOf = (member: string) => member.slice(0, member.indexOf('='));

function withoutSignatureFields(message: VectorMessage): VectorMessage {
  return { ...message, headers: message.headers.filter(([n]) => !SIGNATURE_FIELDS.has(n.toLowerCase())) };
}

function signatureFields(message: VectorMessage): [string, string][] {
  return message.headers.filter(([n]) => SIGNATURE_FIELDS.has(n.toLowerCase()));
}

function simple(name: string, v: any): Case {
  return {
    name,
    message: v.message,
    fields: [['Signature-Input', v.signatureInput], ['Signature', v.signature]],
    label: labelOf(v.signatureInput),
    key: v.key,
    algorithm: v.algorithm,
    deterministic: v.deterministic,
    base: v.signatureBase,
    output: v.signatureOutput,
  };
}

const cases: Case[] = [
  simple('B.2.1 minimal, rsa-pss-sha512', loadVector('b2-1-minimal-rsa-pss.json')),
  simple('B.2.2 selective components, rsa-pss-sha512', loadVector('b2-2-selective-rsa-pss.json')),
  simple('B.2.3 full coverage, rsa-pss-sha512', loadVector('b2-3-full-coverage-rsa-pss.json')),
  simple('B.2.4 response, ecdsa-p256-sha256', loadVector('b2-4-response-ecdsa-p256.json')),
  simple('B.2.5 hmac-sha256', loadVector('b2-5-hmac-sha256.json')),
  simple('B.2.6 ed25519', loadVector('b2-6-ed25519.json')),
  simple('B.3 TLS-terminating proxy, ecdsa-p256-sha256', loadVector('b3-tls-terminating-proxy.json')),
  simple('§2.5 / §3.1 / §3.2 example, rsa-pss-sha512', loadVector('s2-5-signature-base.json')),
];
loadVector('s2-4-request-response.json').signatures.forEach((s: any, i: number) => cases.push(simple(`§2.4 req example ${i + 1}: ${s.description}`, s)));
const transform = loadVector('b4-transformations.json');
cases.push({
  ...simple('B.4 transformations (original message), ed25519', { ...transform, message: withoutSignatureFields(transform.variants[0].message) }),
});
for (const s of loadVector('s4-3-multiple-signatures.json').signatures) {
  cases.push({
    name: `§4.3 ${s.label}: ${s.description}`,
    message: withoutSignatureFields(s.message),
    fields: signatureFields(s.message),
    label: s.label,
    key: s.key,
    algorithm: s.algorithm,
    deterministic: s.deterministic,
    base: s.signatureBase,
    output: s.signatureOutput,
  });
}

function paramsInput(params: Parameters): SignatureParamsInput {
  return Object.fromEntries([...params].map(([k, v]) => [k, v.value as number | string | boolean]));
}

describe('RFC 9421 signed examples', () => {
  it.each(cases)('$name: the signature verifies and its base is the RFC text', async (c) => {
    const { verifyKey } = await importTestKeys(c.key, c.algorithm);
    const message = toMessage(c.message, c.fields);
    const verified = expectOk(await verifyMessage(message, { select: { label: c.label }, algorithm: c.algorithm, key: verifyKey }));
    if (c.base !== undefined) expect(verified.base).toBe(c.base);
    if (c.output !== undefined) expect(base64Encode(verified.signature.value)).toBe(c.output);
    const again = createSignatureBase(toMessage(c.message), verified.signature.components, verified.signature.params);
    expect(expectOk(again)).toBe(verified.base);
  });

  it.each(cases)('$name: signing again reproduces Signature-Input (and Signature when deterministic)', async (c) => {
    const { signKey, verifyKey } = await importTestKeys(c.key, c.algorithm);
    const received = expectOk(parseSignatures(c.fields)).find((s) => s.label === c.label)!;
    const message = toMessage(c.message);
    const signed = expectOk(
      await signMessage(message, { label: c.label, components: received.components, params: paramsInput(received.params), algorithm: c.algorithm, key: signKey }),
    );
    const [inputField, signatureField] = [c.fields.find(([n]) => n === 'Signature-Input')![1], c.fields.find(([n]) => n === 'Signature')![1]];
    expect(inputField.split(', ')).toContain(signed.signatureInput);
    if (c.base !== undefined) expect(signed.base).toBe(c.base);
    if (c.deterministic) {
      expect(signatureField.split(', ')).toContain(signed.signatureField);
    } else {
      const own = toMessage(c.message, [['Signature-Input', signed.signatureInput], ['Signature', signed.signatureField]]);
      expectOk(await verifyMessage(own, { select: { label: c.label }, algorithm: c.algorithm, key: verifyKey }));
    }
  });

  it('covers every deterministic example byte for byte: B.2.5, B.2.6, B.4 and §4.3 proxy_sig', () => {
    expect(cases.filter((c) => c.deterministic).map((c) => c.name.split(' ')[0])).toEqual(['B.2.5', 'B.2.6', 'B.4', '§4.3']);
  });
});

describe('RFC 9421 B.4 transformations', () => {
  it.each(transform.variants as { description: string; valid: boolean; message: VectorMessage }[])('$description', async (variant) => {
    const { verifyKey } = await importTestKeys(transform.key, transform.algorithm);
    const result = await verifyMessage(toMessage(variant.message), { select: { label: 'transform' }, algorithm: 'ed25519', key: verifyKey });
    if (variant.valid) expect(expectOk(result).base).toBe(transform.signatureBase);
    else expectCode(result, 'ERR_SIG_INVALID');
  });
});

describe('RFC 9421 §4.3: each signature has its own context', () => {
  it('the client signature sig1 does not verify on the forwarded message, whose authority the proxy changed', async () => {
    const forwarded = loadVector('s4-3-multiple-signatures.json').signatures[0].message;
    const { verifyKey } = await importTestKeys('test-key-ecc-p256', 'ecdsa-p256-sha256');
    expectCode(await verifyMessage(toMessage(forwarded), { select: { label: 'sig1' }, algorithm: 'ecdsa-p256-sha256', key: verifyKey }), 'ERR_SIG_INVALID');
  });

  it('proxy_sig names its algorithm (alg="rsa-v1_5-sha256"); a verifier configured for another refuses it', async () => {
    const forwarded = loadVector('s4-3-multiple-signatures.json').signatures[0].message;
    const { verifyKey } = await importTestKeys('test-key-rsa-pss', 'rsa-pss-sha512');
    expectCode(await verifyMessage(toMessage(forwarded), { select: { label: 'proxy_sig' }, algorithm: 'rsa-pss-sha512', key: verifyKey }), 'ERR_SIG_ALG_MISMATCH');
  });
});

describe('RFC 9421 B.1 test keys', () => {
  it.each([
    ['test-key-rsa-pss', 'rsa-pss-sha512', 'spki'],
    ['test-key-ecc-p256', 'ecdsa-p256-sha256', 'spki'],
    ['test-key-ed25519', 'ed25519', 'spki'],
    ['test-key-ed25519', 'ed25519', 'pkcs8'],
  ] as const)('the %s PEM (%s, %s) is the same key as its JWK', async (kid, alg, format) => {
    const entry = keyEntry(kid);
    const pem = format === 'spki' ? entry.publicKeyPem! : entry.privateKeyPem!;
    const key = await crypto.subtle.importKey(format, pemBytes(pem), IMPORT_PARAMS[alg], true, [format === 'spki' ? 'verify' : 'sign']);
    const jwk = await crypto.subtle.exportKey('jwk', key);
    for (const member of ['n', 'e', 'x', 'y', 'd'] as const) {
      if (jwk[member] !== undefined) expect(jwk[member]).toBe(entry.jwk![member]);
    }
  });

  it('the shared secret is 64 bytes', () => {
    expect(atob(keyEntry('test-shared-secret').base64!).length).toBe(64);
  });
});
