/**
 * The WIMSE HTTP-signature profile (draft-ietf-wimse-http-signature -07, -06) on the RFC 9421 core: the WG's
 * published examples (test/vectors/wimse/v5..v7-http-sig.json) verify and their signature bases match byte for
 * byte; then one negative test per validation step of verify/wimse-signature.ts, each asserting its code, with
 * messages signed by mint/wimse-signature.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSignatures } from '../../../src/http-sig/parse-signatures.ts';
import { signMessage, type SignOptions } from '../../../src/http-sig/sign.ts';
import { createSignatureBase } from '../../../src/http-sig/signature-base.ts';
import { generateSigningKey } from '../../../src/mint/keys.ts';
import { createWimseSigner, type WimseSigner } from '../../../src/mint/wimse-signature.ts';
import { mintWit } from '../../../src/mint/wit.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import { HTTP_SIG_PROFILE_ERRORS, type HttpSigProfileErrorCode } from '../../../src/verify/errors.ts';
import { verifyWimseSignature, type WimseSignatureContext } from '../../../src/verify/wimse-signature.ts';
import { verifyWit, type VerifiedWit } from '../../../src/verify/wit.ts';
import v5 from '../../vectors/wimse/v5-http-sig.json' with { type: 'json' };
import v6 from '../../vectors/wimse/v6-http-sig.json' with { type: 'json' };
import v7 from '../../vectors/wimse/v7-http-sig.json' with { type: 'json' };
import { expectFailure, expectOk } from './mint.ts';
import { unverifiedWit } from './unverified-wit.ts';

type Vector = typeof v7 & { requestBase?: string; responseBase?: string };
const header = (fields: string[][], name: string) => fields.find(([k]) => k!.toLowerCase() === name)?.[1];

function vectorRequest(v: Vector) {
  return { method: v.request.method, url: v.request.url, headers: v.request.headers as [string, string][] };
}

describe('WIMSE HTTP-signature examples of the WG', () => {
  it.each([['v5 (-06, @request-target)', v5 as Vector], ['v6 (-07, @path/@query)', v6 as Vector], ['v7 (-07, POST with Content-Digest, alg Ed25519)', v7 as Vector]])('%s: the request verifies', async (_name, v) => {
    const wit = await unverifiedWit(header(v.request.headers, 'workload-identity-token')!);
    const input = header(v.request.headers, 'signature-input')!;
    const created = Number(/created=(\d+)/.exec(input)![1]);
    const aud = /wimse-aud="([^"]+)"/.exec(input)![1]!;
    const body = v.request.body === '' ? undefined : new TextEncoder().encode(v.request.body);
    const result = expectOk(await verifyWimseSignature({ wit, message: vectorRequest(v), ...(body ? { body } : {}), audience: aud, version: v.version as '06' | '07', replay: memoryReplayStore(), now: () => (created + 1) * 1000 }));
    expect(result).toMatchObject({ nonce: /nonce="([^"]+)"/.exec(input)![1], signResponse: true, audience: aud });
  });

  it.each([['v5', v5 as Vector], ['v6', v6 as Vector]])('%s: the signature bases are the published ones, byte for byte', (_name, v) => {
    const request = vectorRequest(v);
    const [sig] = expectOk(parseSignatures(request.headers));
    expect(expectOk(createSignatureBase(request, sig!.components, sig!.params))).toBe(v.requestBase);
    if (v.responseBase) {
      const response = { status: v.response.status, headers: v.response.headers as [string, string][], request };
      const [res] = expectOk(parseSignatures(response.headers));
      expect(expectOk(createSignatureBase(response, res!.components, res!.params))).toBe(v.responseBase);
    }
  });

  it('refuses the -07 example on a route that expects -06 (no @request-target), and a tampered query', async () => {
    const v = v6 as Vector;
    const wit = await unverifiedWit(header(v.request.headers, 'workload-identity-token')!);
    const base = { wit, audience: 'https://svcb.example.com/gimme-ice-cream', replay: memoryReplayStore(), now: () => 1788298925_000 };
    expectFailure(await verifyWimseSignature({ ...base, message: vectorRequest(v), version: '06' }), 'ERR_HTTPSIG_COMPONENT_MISSING');
    const tampered = { ...vectorRequest(v), url: 'https://svcb.example.com/gimme-ice-cream?flavor=chocolate' };
    expectFailure(await verifyWimseSignature({ ...base, message: tampered }), 'ERR_HTTPSIG_SIGNATURE_INVALID');
  });
});

const NOW = 1_800_000_000_000;
const URL_ = 'https://gw.example.com/api/tools?x=1';
const AUD = 'https://gw.example.com/api';
let witToken: string;
let wit: VerifiedWit;
let signer: WimseSigner;
let otherSigner: WimseSigner;

beforeAll(async () => {
  const issuerKey = { ...(await generateSigningKey('ES256')), kid: 'is-1' };
  const minted = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent', confirmationAlgorithm: 'EdDSA', now: () => NOW });
  witToken = minted.wit;
  const { d: _d, ...issuerPublic } = issuerKey;
  wit = expectOk(await verifyWit(witToken, { keys: async () => issuerPublic, policy: { algorithms: ['ES256'], confirmationAlgorithms: ['EdDSA'] }, now: () => NOW }));
  signer = await createWimseSigner(witToken, minted.key);
  const other = await mintWit({ issuerKey, subject: 'spiffe://example.org/other', confirmationAlgorithm: 'EdDSA', now: () => NOW });
  otherSigner = await createWimseSigner(other.wit, other.key);
});

/** A request with the WIT and a WIMSE signature; `edit` changes the fields after signing. */
async function signed(options: { body?: string; method?: string; extra?: Record<string, string>; sign?: Parameters<WimseSigner>[1]; by?: WimseSigner; edit?: (h: Headers) => void } = {}) {
  const headers = new Headers({ 'workload-identity-token': witToken, ...options.extra });
  const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  if (body) headers.set('content-type', 'application/json');
  const message = { method: options.method ?? (body ? 'POST' : 'GET'), url: URL_, headers };
  const fields = await (options.by ?? signer)(message, { audience: AUD, now: () => NOW, ...(body ? { body } : {}), ...options.sign });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
  options.edit?.(headers);
  return { message, body, nonce: fields.nonce };
}

function ctx(message: { method: string; url: string; headers: Headers }, body?: Uint8Array<ArrayBuffer>, overrides: Partial<WimseSignatureContext> = {}): WimseSignatureContext {
  return { wit, message, ...(body ? { body } : {}), audience: AUD, replay: memoryReplayStore({ now: () => NOW }), now: () => NOW, ...overrides };
}

async function expectCode(result: ReturnType<typeof verifyWimseSignature>, code: HttpSigProfileErrorCode) {
  expectFailure(await result, code, [witToken]);
}

describe('verifyWimseSignature: signed by mint/wimse-signature.ts', () => {
  it('verifies a GET and a POST with Content-Digest; reports the nonce, covered fields and the response request', async () => {
    const get = await signed({ sign: { signResponse: true } });
    expect(expectOk(await verifyWimseSignature(ctx(get.message)))).toEqual({
      label: 'sig1', nonce: get.nonce, created: NOW, expires: NOW + 60_000, audience: AUD, signResponse: true, coveredFields: ['workload-identity-token'],
    });
    const post = await signed({ body: '{"a":1}', extra: { authorization: 'Bearer t', 'txn-token': 'tt' } });
    expect(expectOk(await verifyWimseSignature(ctx(post.message, post.body))).coveredFields).toEqual(['content-type', 'content-digest', 'authorization', 'txn-token', 'workload-identity-token']);
  });

  it('signs and verifies -06 (label wimse, @request-target)', async () => {
    const m = await signed({ sign: { version: '06' } });
    expect(m.message.headers.get('signature-input')).toMatch(/^wimse=\("@method" "@request-target" "workload-identity-token"\)/);
    expectOk(await verifyWimseSignature(ctx(m.message, undefined, { version: '06' })));
  });

  it('1. ERR_HTTPSIG_MISSING / ERR_HTTPSIG_MALFORMED', async () => {
    const none = { method: 'GET', url: URL_, headers: new Headers({ 'workload-identity-token': witToken }) };
    await expectCode(verifyWimseSignature(ctx(none)), 'ERR_HTTPSIG_MISSING');
    const broken = await signed({ edit: (h) => h.set('signature', 'sig1=not-bytes') });
    await expectCode(verifyWimseSignature(ctx(broken.message)), 'ERR_HTTPSIG_MALFORMED');
    const other = await signed({ edit: (h) => { h.set('signature-input', h.get('signature-input')!.replace('wimse-workload-to-workload', 'something-else')); } });
    await expectCode(verifyWimseSignature(ctx(other.message)), 'ERR_HTTPSIG_MISSING');
  });

  it('2. ERR_HTTPSIG_AMBIGUOUS: two signatures with the WIMSE tag', async () => {
    const m = await signed({ edit: (h) => {
      h.set('signature-input', `${h.get('signature-input')}, ${h.get('signature-input')!.replace(/^sig1=/, 'sig2=')}`);
      h.set('signature', `${h.get('signature')}, ${h.get('signature')!.replace(/^sig1=/, 'sig2=')}`);
    } });
    await expectCode(verifyWimseSignature(ctx(m.message)), 'ERR_HTTPSIG_AMBIGUOUS');
  });

  it('3. parameters: forbidden keyid / alg / wimse-req-nonce, missing created / expires / nonce / wimse-aud, wrong types', async () => {
    for (const param of [';keyid="k"', ';alg="ed25519"', ';wimse-req-nonce="n"']) {
      const m = await signed({ edit: (h) => h.set('signature-input', `${h.get('signature-input')}${param}`) });
      await expectCode(verifyWimseSignature(ctx(m.message)), 'ERR_HTTPSIG_PARAM_FORBIDDEN');
    }
    for (const param of [/;created=\d+/, /;expires=\d+/, /;nonce="[^"]+"/, /;wimse-aud="[^"]+"/]) {
      const m = await signed({ edit: (h) => h.set('signature-input', h.get('signature-input')!.replace(param, '')) });
      await expectCode(verifyWimseSignature(ctx(m.message)), 'ERR_HTTPSIG_PARAM_MISSING');
    }
    for (const edit of [(s: string) => s.replace(/wimse-aud="[^"]+"/, 'wimse-aud=1'), (s: string) => `${s};wimse-sign-response="yes"`]) {
      const m = await signed({ edit: (h) => h.set('signature-input', edit(h.get('signature-input')!)) });
      await expectCode(verifyWimseSignature(ctx(m.message)), 'ERR_HTTPSIG_PARAM_INVALID');
    }
  });

  it('4. ERR_HTTPSIG_COMPONENT_MISSING: a present context field, or a required derived component, left uncovered', async () => {
    const late = await signed({ edit: (h) => h.set('txn-token', 'added-after-signing') });
    await expectCode(verifyWimseSignature(ctx(late.message)), 'ERR_HTTPSIG_COMPONENT_MISSING');
    const noQuery = await signed({ edit: (h) => h.set('signature-input', h.get('signature-input')!.replace(' "@query"', '')) });
    await expectCode(verifyWimseSignature(ctx(noQuery.message)), 'ERR_HTTPSIG_COMPONENT_MISSING');
  });

  it('5. Content-Digest: missing with a body, not matching the bytes received, no supported algorithm', async () => {
    const m = await signed({ body: '{"a":1}' });
    await expectCode(verifyWimseSignature(ctx(m.message, new TextEncoder().encode('{"a":2}'))), 'ERR_HTTPSIG_DIGEST_MISMATCH');
    const bare = { method: 'POST', url: URL_, headers: new Headers({ 'workload-identity-token': witToken }) };
    const fields = await signer(bare, { audience: AUD, now: () => NOW });
    bare.headers.set('signature-input', fields['signature-input']);
    bare.headers.set('signature', fields.signature);
    await expectCode(verifyWimseSignature(ctx(bare, new TextEncoder().encode('body'))), 'ERR_HTTPSIG_DIGEST_MISSING');
    const md5 = await signed({ body: 'x', edit: (h) => h.set('content-digest', 'md5=:AAAA:') });
    await expectCode(verifyWimseSignature(ctx(md5.message, new TextEncoder().encode('x'))), 'ERR_HTTPSIG_DIGEST_INVALID');
  });

  it('6. ERR_HTTPSIG_AUD_MISMATCH: wimse-aud is not the route audience', async () => {
    const m = await signed({ sign: { audience: 'https://elsewhere.example/api' } });
    await expectCode(verifyWimseSignature(ctx(m.message)), 'ERR_HTTPSIG_AUD_MISMATCH');
  });

  it('7. time: future created, passed expires, lifetime over the route maximum, expires before created', async () => {
    const future = await signed({ sign: { now: () => NOW + 120_000 } });
    await expectCode(verifyWimseSignature(ctx(future.message)), 'ERR_HTTPSIG_NOT_YET_VALID');
    const old = await signed({ sign: { now: () => NOW - 200_000 } });
    await expectCode(verifyWimseSignature(ctx(old.message)), 'ERR_HTTPSIG_EXPIRED');
    const long = await signed({ sign: { ttlSeconds: 300 } });
    await expectCode(verifyWimseSignature(ctx(long.message, undefined, { policy: { maxLifetimeSeconds: 120 } })), 'ERR_HTTPSIG_LIFETIME_TOO_LONG');
    const backwards = await signed({ edit: (h) => h.set('signature-input', h.get('signature-input')!.replace(/expires=\d+/, `expires=${NOW / 1000 - 1}`)) });
    await expectCode(verifyWimseSignature(ctx(backwards.message)), 'ERR_HTTPSIG_PARAM_INVALID');
  });

  it('8. ERR_HTTPSIG_SIGNATURE_INVALID: another key, a changed method or path, a changed covered field', async () => {
    const foreign = await signed({ by: otherSigner });
    await expectCode(verifyWimseSignature(ctx(foreign.message)), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    const m = await signed();
    await expectCode(verifyWimseSignature(ctx({ ...m.message, method: 'DELETE' })), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    await expectCode(verifyWimseSignature(ctx({ ...m.message, url: 'https://gw.example.com/api/admin?x=1' })), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    const edited = await signed({ extra: { authorization: 'Bearer a' }, edit: (h) => h.set('authorization', 'Bearer b') });
    await expectCode(verifyWimseSignature(ctx(edited.message)), 'ERR_HTTPSIG_SIGNATURE_INVALID');
  });

  it('8. ERR_HTTPSIG_COMPONENT_INVALID: a covered field the message does not carry', async () => {
    const m = await signed({ edit: (h) => h.set('signature-input', h.get('signature-input')!.replace('"workload-identity-token"', '"workload-identity-token" "x-absent"')) });
    await expectCode(verifyWimseSignature(ctx(m.message)), 'ERR_HTTPSIG_COMPONENT_INVALID');
  });

  it('9. nonce: a replay is refused, a failed message burns nothing, and a full store fails closed', async () => {
    const replay = memoryReplayStore({ now: () => NOW });
    const m = await signed();
    await expectCode(verifyWimseSignature(ctx({ ...m.message, method: 'PUT' }, undefined, { replay })), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    expectOk(await verifyWimseSignature(ctx(m.message, undefined, { replay })));
    await expectCode(verifyWimseSignature(ctx(m.message, undefined, { replay })), 'ERR_HTTPSIG_REPLAYED');
    const broken = { checkAndSet: async () => { throw new Error('down'); } };
    await expectCode(verifyWimseSignature(ctx((await signed()).message, undefined, { replay: broken })), 'ERR_HTTPSIG_REPLAY_STORE_FAILED');
  });

  it('every profile error code has a description and is asserted above (or, response-only, in the response tests)', async () => {
    const read = (file: string) => import('node:fs/promises').then((fs) => fs.readFile(new URL(file, import.meta.url), 'utf8'));
    const source = (await read(import.meta.url)) + (await read('./wimse-response-signature.test.ts'));
    for (const code of Object.keys(HTTP_SIG_PROFILE_ERRORS)) expect(source, code).toContain(`'${code}'`);
  });
});

describe('WIMSE V5 re-signed with its published private keys (Ed25519 is deterministic)', () => {
  type Jwk = { kty: string; crv: string; d: string; x: string; kid: string };
  const keys = (v5 as { keys: Record<'svc-a' | 'svc-b', Jwk> }).keys;
  const importPrivate = ({ kty, crv, d, x }: Jwk) => crypto.subtle.importKey('jwk', { kty, crv, d, x }, { name: 'Ed25519' }, false, ['sign']);
  const cnfX = (fields: string[][]) => JSON.parse(Buffer.from(header(fields, 'workload-identity-token')!.split('.')[1]!, 'base64url').toString()).cnf.jwk.x;

  /** Signs with the core signMessage both ways: a caller's `sign` (the WIMSE JWS path) and the registered ed25519. */
  async function resign(message: Parameters<typeof signMessage>[0], key: CryptoKey, common: Pick<SignOptions, 'label' | 'components' | 'params'>) {
    const bySign = expectOk(await signMessage(message, { ...common, sign: async (base) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, base)) }));
    const byAlg = expectOk(await signMessage(message, { ...common, algorithm: 'ed25519', key }));
    expect(byAlg.signatureField).toBe(bySign.signatureField);
    return bySign;
  }

  it('the keys are the WITs\' confirmation keys', () => {
    expect(keys['svc-a'].x).toBe(cnfX(v5.request.headers));
    expect(keys['svc-b'].x).toBe(cnfX(v5.response.headers));
  });

  it('the request, signed with svc-a over the same components and parameters, gives the published Signature byte for byte', async () => {
    const request = vectorRequest(v5 as Vector);
    const signed = await resign(request, await importPrivate(keys['svc-a']), {
      label: 'wimse',
      components: ['@method', '@request-target', 'workload-identity-token'],
      params: { created: 1785155797, expires: 1785156097, nonce: 'abcd1111', tag: 'wimse-workload-to-workload', 'wimse-aud': 'https://svcb.example.com/gimme-ice-cream', 'wimse-sign-response': true },
    });
    expect(signed.base).toBe(v5.requestBase);
    expect(signed.signatureInput).toBe(header(v5.request.headers, 'signature-input'));
    expect(signed.signatureField).toBe(header(v5.request.headers, 'signature'));
  });

  it('the response, signed with svc-b over the same components and parameters, gives the published Signature byte for byte', async () => {
    const response = { status: v5.response.status, headers: v5.response.headers as [string, string][], request: vectorRequest(v5 as Vector) };
    const signed = await resign(response, await importPrivate(keys['svc-b']), {
      label: 'wimse',
      components: ['@status', 'workload-identity-token', 'content-type', 'content-digest', { name: '@method', params: { req: true } }, { name: '@request-target', params: { req: true } }],
      params: { created: 1785155797, expires: 1785156099, nonce: 'abcd2222', tag: 'wimse-workload-to-workload', 'wimse-req-nonce': 'abcd1111' },
    });
    expect(signed.signatureInput).toBe(header(v5.response.headers, 'signature-input'));
    expect(signed.signatureField).toBe(header(v5.response.headers, 'signature'));
  });
});
