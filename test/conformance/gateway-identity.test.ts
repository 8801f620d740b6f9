/**
 * Conformance: the gateway's own workload identity (config `identity`), on every runtime. The global setup mints a
 * WIT for GATEWAY_ID with the run's issuer key and hands it to the gateway through `identity.env` (IDENTITY_ENV: a
 * process environment variable on node, deno and bun, a `--var` on workerd). Checked here with the verifiers a
 * recipient would use, over what actually crossed the wire:
 *  - a response to a signed request that asks for it (`wimse-sign-response`), or on a `signResponses: 'always'`
 *    route, is signed (http-signature-07 §3.4): the gateway's WIT verifies against the issuer key, the signature
 *    over the body bytes this client received, with `wimse-req-nonce` = the request's nonce; an event stream is
 *    refused with 501 ERR_RESPONSE_NOT_SIGNABLE rather than sent unsigned;
 *  - on `upstreamAuth` routes the upstream (the fixture) receives the gateway's WIT with a WPT for its URL, or a
 *    WIMSE HTTP signature (body included) for the configured audience, and never the caller's Authorization.
 * Unit tests of the same behaviour, in-process: test/unit/gateway-identity.test.ts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWimseSigner, type WimseSigner } from '../../src/mint/wimse-signature.ts';
import { mintWit } from '../../src/mint/wit.ts';
import { memoryReplayStore } from '../../src/state/memory.ts';
import { verifyWimseResponseSignature } from '../../src/verify/wimse-response-signature.ts';
import { verifyWimseSignature } from '../../src/verify/wimse-signature.ts';
import { verifyWit, type VerifiedWit } from '../../src/verify/wit.ts';
import { verifyWpt } from '../../src/verify/wpt.ts';
import { expectProblem, json, recorded, requestId, send, type RawResponse } from './client.ts';
import { GATEWAY_ID, ISSUER, ISSUER_KID, PUBLIC_URL, TRUST_DOMAIN, UP_SIG_AUDIENCE } from './config.ts';
import { target } from './context.ts';

const CALLER = `${TRUST_DOMAIN}/ns/conformance/sa/identity-caller`;
const CALLER_TOKEN = 'Bearer caller-secret-token';
let issuerPublic: JsonWebKey;
let callerWit: string;
let signer: WimseSigner;

beforeAll(async () => {
  const { d: _d, key_ops: _ops, ...pub } = target().wimse.issuer;
  issuerPublic = pub;
  const caller = await mintWit({ issuerKey: { ...target().wimse.issuer, kid: ISSUER_KID, alg: 'ES256' }, issuer: ISSUER, subject: CALLER });
  callerWit = caller.wit;
  signer = await createWimseSigner(caller.wit, caller.key);
});

/** A WIT verified against the run's issuer key, as any recipient in the conformance trust domain would. */
async function verifiedWit(token: string | undefined): Promise<VerifiedWit> {
  expect(token, 'a Workload-Identity-Token').toBeTypeOf('string');
  const result = await verifyWit(token!, { keys: async (_td, kid) => (kid === ISSUER_KID ? issuerPublic : undefined), now: Date.now });
  if (!result.ok) throw new Error(`the gateway's WIT does not verify: ${result.code} (${result.detail})`);
  expect(result.value.subject.uri).toBe(GATEWAY_ID);
  expect(result.value.issuer).toBe(ISSUER);
  return result.value;
}

/** A request to `path` signed by the caller workload (audience: the route's default), and its nonce. */
async function signedRequest(path: string, options: { body?: string; signResponse?: boolean } = {}) {
  const headers = new Headers({ 'workload-identity-token': callerWit, 'x-request-id': requestId('identity') });
  const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  if (body) headers.set('content-type', 'application/json');
  const method = body ? 'POST' : 'GET';
  const url = `${PUBLIC_URL}${path}`;
  const audience = `${PUBLIC_URL}/${path.split('/')[1]!.split('?')[0]}`;
  const fields = await signer({ method, url, headers }, { audience, signResponse: options.signResponse === true, ...(body ? { body } : {}) });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
  const sendHeaders: Record<string, string> = {};
  headers.forEach((value, name) => { sendHeaders[name] = value; });
  return { method, sendHeaders, nonce: fields.nonce, message: { method, url, headers }, id: headers.get('x-request-id')! };
}

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** Checks the response's WIMSE signature as the signing client must (-07 §3.4), against the bytes received. */
async function verifySignedResponse(res: RawResponse, request: { message: { method: string; url: string; headers: Headers }; nonce: string }, requestNonce = request.nonce) {
  const headers = headersOf(res.headers);
  const responderWit = await verifiedWit(headers.get('workload-identity-token') ?? undefined);
  return verifyWimseResponseSignature({
    response: { status: res.status, headers },
    ...(res.bytes && res.bytes.byteLength > 0 ? { body: res.bytes } : {}),
    request: request.message,
    requestNonce,
    responderWit,
    now: Date.now,
  });
}

describe(`the gateway's own identity (${target().runtime})`, () => {
  it('signs the response to a signed GET that asks (wimse-sign-response), verifiable with its WIT and the request nonce', async () => {
    const request = await signedRequest('/sig/items?limit=2', { signResponse: true });
    const res = await send('/sig/items?limit=2', { headers: request.sendHeaders });
    expect(res.status).toBe(200);
    expect(json(res.body)).toMatchObject({ path: '/base/items', search: '?limit=2' });
    expect(res.headers['workload-identity-token']).toBe(target().gatewayWit);
    expect(res.headers['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
    const verified = await verifySignedResponse(res, request);
    expect(verified.ok ? verified.value : verified).toMatchObject({ requestNonce: request.nonce });
    expect(verified.ok && verified.value.coveredFields).toEqual(expect.arrayContaining(['workload-identity-token', 'content-type', 'content-digest']));
    // Bound to this request: checked against another request's nonce, the same response fails.
    const other = await verifySignedResponse(res, request, 'another-request-nonce');
    expect(other.ok ? 'ok' : other.code).toBe('ERR_HTTPSIG_REQ_NONCE_MISMATCH');
    // A tampered body fails its Content-Digest.
    const tampered = await verifySignedResponse({ ...res, bytes: new TextEncoder().encode(res.body.replace('items', 'itemz')) }, request);
    expect(tampered.ok ? 'ok' : tampered.code).toBe('ERR_HTTPSIG_DIGEST_MISMATCH');
  });

  it('signs the response to a signed POST that asks, after forwarding its body whole', async () => {
    const body = JSON.stringify({ order: 'é ✓', n: 1 });
    const request = await signedRequest('/sig/orders', { body, signResponse: true });
    const res = await send('/sig/orders', { method: 'POST', headers: request.sendHeaders, body });
    expect(res.status).toBe(200);
    expect(json(res.body)).toMatchObject({ method: 'POST', path: '/base/orders', bodyBytes: Buffer.byteLength(body) });
    const verified = await verifySignedResponse(res, request);
    expect(verified.ok ? 'ok' : `${verified.code}: ${verified.detail}`).toBe('ok');
    expect((await recorded(request.id)).body).toBe(body);
  });

  it('does not sign when not asked; a signResponses "always" route signs unasked', async () => {
    const plainRequest = await signedRequest('/sig');
    const plain = await send('/sig', { headers: plainRequest.sendHeaders });
    expect(plain.status).toBe(200);
    for (const name of ['signature', 'signature-input', 'workload-identity-token']) expect(plain.headers[name]).toBeUndefined();

    const alwaysRequest = await signedRequest('/sig-always/x');
    const always = await send('/sig-always/x', { headers: alwaysRequest.sendHeaders });
    expect(always.status).toBe(200);
    const verified = await verifySignedResponse(always, alwaysRequest);
    expect(verified.ok ? 'ok' : `${verified.code}: ${verified.detail}`).toBe('ok');
  });

  it('501 ERR_RESPONSE_NOT_SIGNABLE for an event stream it was asked to sign (or always signs), never an unsigned stream', async () => {
    const path = '/sig/events?fx=sse&n=3&gap=20';
    const asked = await send(path, { headers: (await signedRequest(path, { signResponse: true })).sendHeaders });
    expectProblem(asked, 501, 'ERR_RESPONSE_NOT_SIGNABLE');
    expect(asked.headers.signature).toBeUndefined();
    const alwaysPath = '/sig-always/events?fx=sse&n=3&gap=20';
    expectProblem(await send(alwaysPath, { headers: (await signedRequest(alwaysPath)).sendHeaders }), 501, 'ERR_RESPONSE_NOT_SIGNABLE');
    // Unasked on a "requested" route, the stream passes as usual.
    const unasked = await send(path, { headers: (await signedRequest(path)).sendHeaders });
    expect(unasked.status).toBe(200);
    expect(unasked.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(unasked.body).toContain('data: event-3');
  });

  it('upstreamAuth "wpt": the upstream gets the gateway WIT and a WPT for its own URL, not the caller\'s Authorization', async () => {
    const id = requestId('up-wpt');
    const res = await send('/up-wpt/tools?x=1', { headers: { authorization: CALLER_TOKEN, 'x-request-id': id } });
    expect(res.status).toBe(200);
    const upstream = await recorded(id);
    expect(upstream.url).toBe('/up-wpt/tools?x=1');
    const witToken = upstream.headers['workload-identity-token'];
    expect(witToken).toBe(target().gatewayWit);
    const wit = await verifiedWit(witToken);
    const authorization = upstream.headers.authorization ?? '';
    expect(authorization).toMatch(/^WPT [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.stringify(upstream.headers)).not.toContain('caller-secret-token');
    const proof = await verifyWpt(authorization.slice('WPT '.length), { wit, witToken: witToken!, audience: `${target().fixtureUrl}/up-wpt/tools`, replay: memoryReplayStore(), now: Date.now });
    expect(proof.ok ? proof.value.subject.uri : `${proof.code}: ${proof.detail}`).toBe(GATEWAY_ID);
  });

  it('upstreamAuth "http-sig": the upstream gets the gateway WIT and a signature over the POST and its body, for the configured audience', async () => {
    const body = JSON.stringify({ run: 'é ✓', n: 2 });
    for (const chunked of [false, true]) {
      const id = requestId(chunked ? 'up-sig-chunked' : 'up-sig');
      const res = await send('/up-sig/run?q=1', {
        method: 'POST',
        headers: { authorization: CALLER_TOKEN, 'content-type': 'application/json', 'x-request-id': id },
        body: chunked ? [body.slice(0, 7), body.slice(7)] : body,
        chunked,
      });
      expect(res.status).toBe(200);
      const upstream = await recorded(id);
      expect(upstream).toMatchObject({ method: 'POST', url: '/up-sig/run?q=1', body, bodyComplete: true });
      expect(upstream.headers.authorization).toBeUndefined();
      expect(JSON.stringify(upstream.headers)).not.toContain('caller-secret-token');
      const witToken = upstream.headers['workload-identity-token'];
      expect(witToken).toBe(target().gatewayWit);
      const wit = await verifiedWit(witToken);
      const verified = await verifyWimseSignature({
        wit,
        message: { method: upstream.method, url: `${target().fixtureUrl}${upstream.url}`, headers: upstream.headers },
        body: new TextEncoder().encode(upstream.body),
        audience: UP_SIG_AUDIENCE,
        replay: memoryReplayStore(),
        now: Date.now,
      });
      expect(verified.ok ? verified.value.coveredFields : `${verified.code}: ${verified.detail}`).toEqual(expect.arrayContaining(['content-type', 'content-digest', 'workload-identity-token']));
    }
  });
});
