/**
 * Signing and verifying with each algorithm of RFC 9421 §3.3 on freshly generated keys, with Fetch Request and
 * Response objects as messages, and each verification refusal asserted by its error code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { HTTP_SIG_ALGORITHMS, type HttpSigAlgorithm } from '../../../src/http-sig/algorithms.ts';
import { responseMessage, type HttpSigMessage } from '../../../src/http-sig/message.ts';
import { parseSignatures } from '../../../src/http-sig/parse-signatures.ts';
import { signMessage, type SignOptions } from '../../../src/http-sig/sign.ts';
import type { SignatureParamsInput } from '../../../src/http-sig/signature-params.ts';
import { verifyMessage, verifySignature, type VerifyOptions } from '../../../src/http-sig/verify.ts';
import { expectCode, expectOk, IMPORT_PARAMS } from './vectors.ts';

interface KeyPair {
  signKey: CryptoKey;
  verifyKey: CryptoKey;
}

async function generate(alg: HttpSigAlgorithm, bits = 2048): Promise<KeyPair> {
  const params = IMPORT_PARAMS[alg] as unknown as Record<string, unknown>;
  if (alg === 'hmac-sha256') {
    const key = (await crypto.subtle.generateKey({ ...params, length: 256 } as HmacKeyGenParams, false, ['sign', 'verify'])) as CryptoKey;
    return { signKey: key, verifyKey: key };
  }
  const rsa = alg.startsWith('rsa') ? { modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]) } : {};
  const pair = (await crypto.subtle.generateKey({ ...params, ...rsa } as RsaHashedKeyGenParams, false, ['sign', 'verify'])) as CryptoKeyPair;
  return { signKey: pair.privateKey, verifyKey: pair.publicKey };
}

const keys = {} as Record<HttpSigAlgorithm, KeyPair>;
beforeAll(async () => {
  for (const alg of HTTP_SIG_ALGORITHMS) keys[alg] = await generate(alg);
});

const NOW = 1_800_000_000;

function request(): Request {
  return new Request('https://api.example.com/v1/tools?name=echo', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' },
    body: '{}',
  });
}

const COMPONENTS = ['@method', '@authority', '@path', '@query', 'content-type', { name: 'content-digest', params: { sf: true } }] as const;

async function signed(message: HttpSigMessage, alg: HttpSigAlgorithm, extra: Partial<SignOptions> = {}) {
  const result = expectOk(
    await signMessage(message, {
      label: 'sig1',
      components: COMPONENTS,
      params: { created: NOW, expires: NOW + 300, nonce: 'n-1', tag: 'app' },
      algorithm: alg,
      key: keys[alg].signKey,
      ...extra,
    }),
  );
  return { result, headers: [['Signature-Input', result.signatureInput], ['Signature', result.signatureField]] as [string, string][] };
}

/** The message with the signature fields added (read through the interface: a Request's properties are getters). */
function withSignature(message: HttpSigMessage, fields: [string, string][]): HttpSigMessage {
  const headers = new Headers(message.headers as Headers);
  for (const [n, v] of fields) headers.append(n, v);
  const { method, url, status, request } = message;
  return { headers, ...(method !== undefined ? { method } : {}), ...(url !== undefined ? { url } : {}), ...(status !== undefined ? { status } : {}), ...(request ? { request } : {}) };
}

const verifyWith = (message: HttpSigMessage, alg: HttpSigAlgorithm, extra: Partial<VerifyOptions> = {}) =>
  verifyMessage(message, { select: { tag: 'app' }, algorithm: alg, key: keys[alg]?.verifyKey as CryptoKey, now: NOW + 10, ...extra });

describe('sign then verify, every algorithm', () => {
  it.each(HTTP_SIG_ALGORITHMS)('%s on a Fetch Request', async (alg) => {
    const { result, headers } = await signed(request(), alg);
    expect(result.signatureInput).toBe(
      'sig1=("@method" "@authority" "@path" "@query" "content-type" "content-digest";sf);created=1800000000;expires=1800000300;nonce="n-1";tag="app"',
    );
    const verified = expectOk(await verifyWith(withSignature(request(), headers), alg));
    expect(verified.base).toBe(result.base);
    expect(verified.base.split('\n').slice(0, 4)).toEqual(['"@method": POST', '"@authority": api.example.com', '"@path": /v1/tools', '"@query": ?name=echo']);
  });

  it('signs a Response with components of its request (req), and verifies it with the request kept', async () => {
    const response = new Response('{"ok":true}', { status: 201, headers: { 'Content-Type': 'application/json' } });
    const message = responseMessage(response, request());
    const result = expectOk(
      await signMessage(message, {
        label: 'res',
        components: ['@status', 'content-type', { name: '@method', params: { req: true } }, { name: '@query-param', params: { name: 'name', req: true } }],
        params: { created: NOW, alg: 'ecdsa-p256-sha256' },
        algorithm: 'ecdsa-p256-sha256',
        key: keys['ecdsa-p256-sha256'].signKey,
      }),
    );
    expect(result.base).toBe(
      '"@status": 201\n"content-type": application/json\n"@method";req: POST\n"@query-param";name="name";req: echo\n' +
        '"@signature-params": ("@status" "content-type" "@method";req "@query-param";name="name";req);created=1800000000;alg="ecdsa-p256-sha256"',
    );
    const received = withSignature(message, [['Signature-Input', result.signatureInput], ['Signature', result.signatureField]]);
    expectOk(await verifyMessage(received, { select: { label: 'res' }, algorithm: 'ecdsa-p256-sha256', key: keys['ecdsa-p256-sha256'].verifyKey }));
    const otherRequest = { ...received, request: new Request('https://api.example.com/v1/tools?name=other', { method: 'POST' }) };
    expectCode(await verifyMessage(otherRequest, { select: { label: 'res' }, algorithm: 'ecdsa-p256-sha256', key: keys['ecdsa-p256-sha256'].verifyKey }), 'ERR_SIG_INVALID');
  });
});

describe('verification refusals (error codes)', () => {
  it('ERR_SIG_INVALID: a changed covered component, a wrong key, a wrong length, a flipped bit', async () => {
    const { headers } = await signed(request(), 'ed25519');
    const changed = new Request('https://api.example.com/v1/tools?name=rm', { method: 'POST', headers: request().headers });
    expectCode(await verifyWith(withSignature(changed, headers), 'ed25519'), 'ERR_SIG_INVALID');
    const other = await generate('ed25519');
    expectCode(await verifyWith(withSignature(request(), headers), 'ed25519', { key: other.verifyKey }), 'ERR_SIG_INVALID');
    const [sig] = expectOk(parseSignatures(headers));
    const short = { ...sig!, value: sig!.value.slice(0, 63) };
    expectCode(await verifySignature(request(), short, { algorithm: 'ed25519', key: keys.ed25519.verifyKey }), 'ERR_SIG_INVALID');
    const flipped = sig!.value.slice();
    flipped[10]! ^= 1;
    expectCode(await verifySignature(request(), { ...sig!, value: flipped }, { algorithm: 'ed25519', key: keys.ed25519.verifyKey }), 'ERR_SIG_INVALID');
  });

  it('ERR_SIG_ALG_UNSUPPORTED: an unknown configured algorithm, or an alg parameter outside the registry', async () => {
    const { headers } = await signed(request(), 'ed25519');
    expectCode(await verifyWith(withSignature(request(), headers), 'rsa-pss-sha256' as HttpSigAlgorithm, { key: keys.ed25519.verifyKey }), 'ERR_SIG_ALG_UNSUPPORTED');
    const forged = withSignature(request(), [['Signature-Input', 'sig1=();alg="EdDSA";tag="app"'], ['Signature', `sig1=:${btoa('x'.repeat(64))}:`]]);
    expectCode(await verifyWith(forged, 'ed25519'), 'ERR_SIG_ALG_UNSUPPORTED');
    expectCode(await signMessage(request(), { label: 'x', components: [], params: {}, algorithm: 'none' as HttpSigAlgorithm, key: keys.ed25519.signKey }), 'ERR_SIG_ALG_UNSUPPORTED');
  });

  it('ERR_SIG_ALG_MISMATCH: an alg parameter naming another algorithm than the verifier determined', async () => {
    const { headers } = await signed(request(), 'ecdsa-p256-sha256', { params: { created: NOW, alg: 'ecdsa-p256-sha256', tag: 'app' } });
    expectCode(await verifyWith(withSignature(request(), headers), 'ecdsa-p384-sha384'), 'ERR_SIG_ALG_MISMATCH');
    expectCode(
      await signMessage(request(), { label: 'x', components: [], params: { alg: 'ed25519' }, algorithm: 'ecdsa-p256-sha256', key: keys['ecdsa-p256-sha256'].signKey }),
      'ERR_SIG_ALG_MISMATCH',
    );
    // A JWS algorithm name is never an alg parameter value (§3.3.7).
    expectCode(await signMessage(request(), { label: 'x', components: [], params: { alg: 'EdDSA' }, algorithm: 'ed25519', key: keys.ed25519.signKey }), 'ERR_SIG_ALG_MISMATCH');
  });

  it('ERR_SIG_KEY_INVALID: wrong curve, private key to verify, wrong usage, short RSA modulus, short HMAC secret', async () => {
    const { headers } = await signed(request(), 'ecdsa-p256-sha256');
    const message = withSignature(request(), headers);
    expectCode(await verifyWith(message, 'ecdsa-p256-sha256', { key: keys['ecdsa-p384-sha384'].verifyKey }), 'ERR_SIG_KEY_INVALID');
    expectCode(await verifyWith(message, 'ecdsa-p256-sha256', { key: keys['ecdsa-p256-sha256'].signKey }), 'ERR_SIG_KEY_INVALID');
    expectCode(await verifyWith(message, 'ecdsa-p256-sha256', { key: keys.ed25519.verifyKey }), 'ERR_SIG_KEY_INVALID');
    const weak = await generate('rsa-v1_5-sha256', 1024);
    expectCode(await signMessage(request(), { label: 'x', components: [], params: {}, algorithm: 'rsa-v1_5-sha256', key: weak.signKey }), 'ERR_SIG_KEY_INVALID');
    const shortSecret = await crypto.subtle.importKey('raw', new Uint8Array(16), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    expectCode(await signMessage(request(), { label: 'x', components: [], params: {}, algorithm: 'hmac-sha256', key: shortSecret }), 'ERR_SIG_KEY_INVALID');
    const verifyOnly = await crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    expectCode(await signMessage(request(), { label: 'x', components: [], params: {}, algorithm: 'hmac-sha256', key: verifyOnly }), 'ERR_SIG_KEY_INVALID');
    const pssWrongHash = (await crypto.subtle.generateKey(
      { name: 'RSA-PSS', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
      false,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    expectCode(await signMessage(request(), { label: 'x', components: [], params: {}, algorithm: 'rsa-pss-sha512', key: pssWrongHash.privateKey }), 'ERR_SIG_KEY_INVALID');
  });

  it('ERR_SIG_EXPIRED / ERR_SIG_NOT_YET_VALID with the clock skew; no time check without now', async () => {
    const { headers } = await signed(request(), 'ed25519');
    const message = withSignature(request(), headers);
    expectCode(await verifyWith(message, 'ed25519', { now: NOW + 300 }), 'ERR_SIG_EXPIRED');
    expectOk(await verifyWith(message, 'ed25519', { now: NOW + 300, clockSkewSeconds: 60 }));
    expectCode(await verifyWith(message, 'ed25519', { now: NOW + 100, maxAgeSeconds: 60 }), 'ERR_SIG_EXPIRED');
    expectCode(await verifyWith(message, 'ed25519', { now: NOW - 1 }), 'ERR_SIG_NOT_YET_VALID');
    expectOk(await verifyWith(message, 'ed25519', { now: NOW - 30, clockSkewSeconds: 60 }));
    expectOk(await verifyWith(message, 'ed25519', { now: undefined }));
  });

  it('ERR_SIG_PARAM_INVALID: expires before created, a maximum age without created, a signer parameter of the wrong type', async () => {
    const backwards = await signed(request(), 'ed25519', { params: { created: NOW, expires: NOW - 1, tag: 'app' } });
    expectCode(await verifyWith(withSignature(request(), backwards.headers), 'ed25519', { now: undefined }), 'ERR_SIG_PARAM_INVALID');
    const undated = await signed(request(), 'ed25519', { params: { tag: 'app' } });
    expectCode(await verifyWith(withSignature(request(), undated.headers), 'ed25519', { maxAgeSeconds: 60 }), 'ERR_SIG_PARAM_INVALID');
    const wrong: SignatureParamsInput[] = [{ created: 1.5 }, { created: -1 }, { nonce: 7 }, { keyid: true }, { 'Bad-Key': 1 }, { tag: 'caf\u00e9' }, { created: 1e16 }];
    for (const params of wrong) {
      expectCode(await signMessage(request(), { label: 'x', components: [], params, algorithm: 'ed25519', key: keys.ed25519.signKey }), 'ERR_SIG_PARAM_INVALID');
    }
  });

  it('ERR_SIG_INPUT_MALFORMED: a label that is not a Structured Field key', async () => {
    expectCode(await signMessage(request(), { label: 'Sig1', components: [], params: {}, algorithm: 'ed25519', key: keys.ed25519.signKey }), 'ERR_SIG_INPUT_MALFORMED');
  });

  it('signing refuses what the signature base refuses', async () => {
    expectCode(await signMessage(request(), { label: 'x', components: ['x-absent'], params: {}, algorithm: 'ed25519', key: keys.ed25519.signKey }), 'ERR_SIG_COMPONENT_MISSING');
    expectCode(await signMessage(request(), { label: 'x', components: ['@Path'], params: {}, algorithm: 'ed25519', key: keys.ed25519.signKey }), 'ERR_SIG_COMPONENT_INVALID');
  });
});
