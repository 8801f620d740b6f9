/**
 * verify/wimse-response-signature.ts: the WG's response examples (test/vectors/wimse/v5..v7-http-sig.json) verify
 * as responses to their requests; then one negative test per check, each asserting its code, with responses signed
 * by mint/wimse-signature.ts for a request it signed too.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../../src/mint/keys.ts';
import { createWimseSigner, type WimseSigner, type WimseSignOptions } from '../../../src/mint/wimse-signature.ts';
import { mintWit } from '../../../src/mint/wit.ts';
import type { HttpSigProfileErrorCode } from '../../../src/verify/errors.ts';
import { verifyWimseResponseSignature, type WimseResponseSignatureContext } from '../../../src/verify/wimse-response-signature.ts';
import { verifyWit, type VerifiedWit } from '../../../src/verify/wit.ts';
import v5 from '../../vectors/wimse/v5-http-sig.json' with { type: 'json' };
import v6 from '../../vectors/wimse/v6-http-sig.json' with { type: 'json' };
import v7 from '../../vectors/wimse/v7-http-sig.json' with { type: 'json' };
import { expectFailure, expectOk } from './mint.ts';
import { unverifiedWit } from './unverified-wit.ts';

type Vector = typeof v7;
const header = (fields: string[][], name: string) => fields.find(([k]) => k!.toLowerCase() === name)?.[1];
const param = (input: string, name: string) => new RegExp(`;${name}=(?:"([^"]*)"|(\\d+))`).exec(input)!.slice(1).find((x) => x !== undefined)!;

describe('the WG examples verify as responses', () => {
  it.each([['v5 (-06, @request-target;req)', v5 as Vector], ['v6 (-07)', v6 as Vector], ['v7 (-07, POST, 409 with a JSON body, alg Ed25519)', v7 as Vector]])('%s', async (_name, v) => {
    const request = { method: v.request.method, url: v.request.url, headers: v.request.headers as [string, string][] };
    const response = { status: v.response.status, headers: v.response.headers as [string, string][] };
    const responseInput = header(v.response.headers, 'signature-input')!;
    const requestNonce = param(header(v.request.headers, 'signature-input')!, 'nonce');
    const ctx: WimseResponseSignatureContext = {
      response,
      body: new TextEncoder().encode(v.response.body),
      request,
      requestNonce,
      responderWit: await unverifiedWit(header(v.response.headers, 'workload-identity-token')!),
      version: v.version as '06' | '07',
      now: () => (Number(param(responseInput, 'created')) + 1) * 1000,
    };
    const verified = expectOk(await verifyWimseResponseSignature(ctx));
    expect(verified).toMatchObject({ nonce: param(responseInput, 'nonce'), requestNonce, coveredFields: ['workload-identity-token', 'content-type', 'content-digest'] });
    // The same response does not answer another request, nor verify with the requester's key.
    expectFailure(await verifyWimseResponseSignature({ ...ctx, requestNonce: 'abcd9999' }), 'ERR_HTTPSIG_REQ_NONCE_MISMATCH');
    const requesterWit = await unverifiedWit(header(v.request.headers, 'workload-identity-token')!);
    expectFailure(await verifyWimseResponseSignature({ ...ctx, responderWit: requesterWit }), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    // The response binds the request's method and target (the req components).
    expectFailure(await verifyWimseResponseSignature({ ...ctx, request: { ...request, url: `${v.request.url}x` } }), 'ERR_HTTPSIG_SIGNATURE_INVALID');
  });
});

const NOW = 1_800_000_000_000;
const URL_ = 'https://gw.example.com/api/tools?x=1';
let clientWitToken: string;
let clientSigner: WimseSigner;
let responderWitToken: string;
let responderWit: VerifiedWit;
let responderSigner: WimseSigner;
let otherWit: VerifiedWit;

beforeAll(async () => {
  const issuerKey = { ...(await generateSigningKey('ES256')), kid: 'is-1' };
  const { d: _d, ...issuerPublic } = issuerKey;
  const client = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent', confirmationAlgorithm: 'EdDSA', now: () => NOW });
  clientWitToken = client.wit;
  clientSigner = await createWimseSigner(client.wit, client.key);
  const responder = await mintWit({ issuerKey, subject: 'spiffe://example.org/tool', now: () => NOW });
  responderWitToken = responder.wit;
  responderSigner = await createWimseSigner(responder.wit, responder.key);
  const check = (token: string) => verifyWit(token, { keys: async () => issuerPublic, policy: { algorithms: ['ES256'], confirmationAlgorithms: ['ES256', 'EdDSA'] }, now: () => NOW });
  responderWit = expectOk(await check(responder.wit));
  otherWit = expectOk(await check(client.wit));
});

interface Exchange {
  request: { method: string; url: string; headers: Headers };
  requestNonce: string;
  response: { status: number; headers: Headers };
  body?: Uint8Array<ArrayBuffer>;
}

/** A request signed by the client, and a response to it signed by the responder; `edit` changes the response fields after signing. */
async function exchange(options: { body?: string; status?: number; sign?: Partial<WimseSignOptions>; edit?: (h: Headers) => void } = {}): Promise<Exchange> {
  const request = { method: 'POST', url: URL_, headers: new Headers({ 'workload-identity-token': clientWitToken }) };
  const requestFields = await clientSigner(request, { audience: 'https://gw.example.com/api', signResponse: true, now: () => NOW });
  request.headers.set('signature-input', requestFields['signature-input']);
  request.headers.set('signature', requestFields.signature);
  const headers = new Headers({ 'workload-identity-token': responderWitToken });
  const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  if (body) headers.set('content-type', 'application/json');
  const response = { status: options.status ?? 200, headers };
  const fields = await responderSigner({ ...response, request }, { requestNonce: requestFields.nonce, now: () => NOW, ...(body ? { body } : {}), ...options.sign });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
  options.edit?.(headers);
  return { request, requestNonce: requestFields.nonce, response, ...(body ? { body } : {}) };
}

function ctx(e: Exchange, overrides: Partial<WimseResponseSignatureContext> = {}): WimseResponseSignatureContext {
  return { response: e.response, ...(e.body ? { body: e.body } : {}), request: e.request, requestNonce: e.requestNonce, responderWit, now: () => NOW, ...overrides };
}

async function expectCode(e: Exchange | Promise<Exchange>, code: HttpSigProfileErrorCode, overrides: Partial<WimseResponseSignatureContext> = {}) {
  expectFailure(await verifyWimseResponseSignature(ctx(await e, overrides)), code, [responderWitToken, clientWitToken]);
}

const editInput = (edit: (input: string) => string) => ({ edit: (h: Headers) => h.set('signature-input', edit(h.get('signature-input')!)) });

describe('verifyWimseResponseSignature: signed by mint/wimse-signature.ts', () => {
  it('verifies a response with and without a body, -07 and -06', async () => {
    const withBody = await exchange({ body: '{"ok":true}', status: 201 });
    expect(expectOk(await verifyWimseResponseSignature(ctx(withBody)))).toMatchObject({
      label: 'sig1', requestNonce: withBody.requestNonce, created: NOW, expires: NOW + 60_000, coveredFields: ['workload-identity-token', 'content-type', 'content-digest'],
    });
    expectOk(await verifyWimseResponseSignature(ctx(await exchange({ status: 204 }))));
    const old = await exchange({ sign: { version: '06' } });
    expect(old.response.headers.get('signature-input')).toMatch(/^wimse=\("@status" "workload-identity-token" "@method";req "@request-target";req\)/);
    expectOk(await verifyWimseResponseSignature(ctx(old, { version: '06' })));
  });

  it('1. ERR_HTTPSIG_MISSING (unsigned, or no WIMSE tag) / ERR_HTTPSIG_MALFORMED', async () => {
    const e = await exchange();
    await expectCode({ ...e, response: { status: 200, headers: new Headers({ 'workload-identity-token': responderWitToken }) } }, 'ERR_HTTPSIG_MISSING');
    await expectCode(exchange(editInput((s) => s.replace('wimse-workload-to-workload', 'other'))), 'ERR_HTTPSIG_MISSING');
    await expectCode(exchange({ edit: (h) => h.set('signature', 'sig1=not-bytes') }), 'ERR_HTTPSIG_MALFORMED');
  });

  it('2. ERR_HTTPSIG_AMBIGUOUS: two signatures with the WIMSE tag', async () => {
    await expectCode(exchange({ edit: (h) => {
      h.set('signature-input', `${h.get('signature-input')}, ${h.get('signature-input')!.replace(/^sig1=/, 'sig2=')}`);
      h.set('signature', `${h.get('signature')}, ${h.get('signature')!.replace(/^sig1=/, 'sig2=')}`);
    } }), 'ERR_HTTPSIG_AMBIGUOUS');
  });

  it('3. parameters: keyid / alg forbidden; created, expires, nonce, wimse-req-nonce required; types', async () => {
    for (const extra of [';keyid="k"', ';alg="ecdsa-p256-sha256"']) await expectCode(exchange(editInput((s) => `${s}${extra}`)), 'ERR_HTTPSIG_PARAM_FORBIDDEN');
    for (const re of [/;created=\d+/, /;expires=\d+/, /;nonce="[^"]+"/, /;wimse-req-nonce="[^"]+"/]) await expectCode(exchange(editInput((s) => s.replace(re, ''))), 'ERR_HTTPSIG_PARAM_MISSING');
    await expectCode(exchange(editInput((s) => s.replace(/wimse-req-nonce="[^"]+"/, 'wimse-req-nonce=1'))), 'ERR_HTTPSIG_PARAM_INVALID');
    await expectCode(exchange(editInput((s) => s.replace(/;nonce="[^"]+"/, ';nonce=""'))), 'ERR_HTTPSIG_PARAM_INVALID');
    // -06: a signature labelled wimse without the tag is a WIMSE signature missing its tag.
    await expectCode(exchange({ sign: { version: '06' }, ...editInput((s) => s.replace(/;tag="[^"]+"/, '')) }), 'ERR_HTTPSIG_PARAM_MISSING', { version: '06' });
  });

  it('4. ERR_HTTPSIG_REQ_NONCE_MISMATCH: the response answers another request', async () => {
    await expectCode(exchange({ sign: { requestNonce: 'another-request' } }), 'ERR_HTTPSIG_REQ_NONCE_MISMATCH');
    await expectCode(exchange(), 'ERR_HTTPSIG_REQ_NONCE_MISMATCH', { requestNonce: 'not-the-one-sent' });
    await expectCode(exchange(), 'ERR_HTTPSIG_REQ_NONCE_MISMATCH', { requestNonce: '' });
  });

  it('5. ERR_HTTPSIG_COMPONENT_MISSING: @status, a req component, the WIT, a present content-type left uncovered', async () => {
    await expectCode(exchange(editInput((s) => s.replace('"@status" ', ''))), 'ERR_HTTPSIG_COMPONENT_MISSING');
    await expectCode(exchange(editInput((s) => s.replace(' "@query";req', ''))), 'ERR_HTTPSIG_COMPONENT_MISSING');
    await expectCode(exchange(editInput((s) => s.replace('"@path";req', '"@path";req;sf'))), 'ERR_HTTPSIG_COMPONENT_MISSING');
    await expectCode(exchange(editInput((s) => s.replace(' "workload-identity-token"', ''))), 'ERR_HTTPSIG_COMPONENT_MISSING');
    await expectCode(exchange({ edit: (h) => h.set('content-type', 'text/html') }), 'ERR_HTTPSIG_COMPONENT_MISSING');
    // A -07 response checked as -06 lacks @request-target;req.
    await expectCode(exchange(), 'ERR_HTTPSIG_COMPONENT_MISSING', { version: '06' });
  });

  it('6. Content-Digest: missing with a body, not the body received, no supported algorithm', async () => {
    const bare = await exchange();
    await expectCode(bare, 'ERR_HTTPSIG_DIGEST_MISSING', { body: new TextEncoder().encode('late body') });
    await expectCode(exchange({ body: '{"ok":true}' }), 'ERR_HTTPSIG_DIGEST_MISMATCH', { body: new TextEncoder().encode('{"ok":false}') });
    await expectCode(exchange({ body: 'x', edit: (h) => h.set('content-digest', 'md5=:AAAA:') }), 'ERR_HTTPSIG_DIGEST_INVALID');
  });

  it('7. time: future created, passed expires, lifetime over the maximum, expires before created', async () => {
    await expectCode(exchange({ sign: { now: () => NOW + 120_000 } }), 'ERR_HTTPSIG_NOT_YET_VALID');
    await expectCode(exchange({ sign: { now: () => NOW - 200_000 } }), 'ERR_HTTPSIG_EXPIRED');
    await expectCode(exchange({ sign: { ttlSeconds: 300 } }), 'ERR_HTTPSIG_LIFETIME_TOO_LONG', { policy: { maxLifetimeSeconds: 120 } });
    await expectCode(exchange(editInput((s) => s.replace(/expires=\d+/, `expires=${NOW / 1000 - 1}`))), 'ERR_HTTPSIG_PARAM_INVALID');
  });

  it('8. ERR_HTTPSIG_SIGNATURE_INVALID: another key, a changed status, a changed request; ERR_HTTPSIG_COMPONENT_INVALID', async () => {
    await expectCode(exchange(), 'ERR_HTTPSIG_SIGNATURE_INVALID', { responderWit: otherWit });
    const e = await exchange();
    await expectCode({ ...e, response: { ...e.response, status: 500 } }, 'ERR_HTTPSIG_SIGNATURE_INVALID');
    await expectCode({ ...e, request: { ...e.request, method: 'DELETE' } }, 'ERR_HTTPSIG_SIGNATURE_INVALID');
    await expectCode({ ...e, request: { ...e.request, url: 'https://gw.example.com/api/tools?x=2' } }, 'ERR_HTTPSIG_SIGNATURE_INVALID');
    await expectCode(exchange({ body: '{}', edit: (h) => h.set('content-type', 'text/plain') }), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    await expectCode(exchange(editInput((s) => s.replace('"workload-identity-token"', '"workload-identity-token" "x-absent"'))), 'ERR_HTTPSIG_COMPONENT_INVALID');
  });
});
