/**
 * Conformance: a WIT with a WIMSE HTTP Message Signature (draft-ietf-wimse-http-signature-07, -06 per route) over
 * HTTP, on every runtime. Signed with mint/wimse-signature.ts, as a calling workload would. Covers what only a
 * running gateway shows: the signed body read (bounded) and forwarded byte for byte through each runtime's
 * upstream port, signature fields never reaching the upstream, and the HTTP-visible refusals with their codes.
 * Every validation step has its negative unit test in test/unit/verify/wimse-signature.test.ts.
 */
import { exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWimseSigner, type WimseSigner } from '../../src/mint/wimse-signature.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { mintWit, mintWpt } from '../wimse.ts';
import { expectJsonRpcError, expectProblem, recorded, requestId, send } from './client.ts';
import { ISSUER, ISSUER_KID, PUBLIC_URL, SMALL_BODY_BYTES, TRUST_DOMAIN } from './config.ts';
import { target } from './context.ts';

const SUB = `${TRUST_DOMAIN}/ns/conformance/sa/signer`;
let witToken: string;
let signer: WimseSigner;
let workload: TestKey;

beforeAll(async () => {
  const jwk = target().wimse.issuer;
  const privateKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const issuer: TestKey = { alg: 'ES256', privateKey, publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! } };
  workload = await generateKey('ES256');
  witToken = await mintWit({ sub: SUB, iss: ISSUER, kid: ISSUER_KID, workload, issuer });
  signer = await createWimseSigner(witToken, { ...(await exportJWK(workload.privateKey)), alg: 'ES256' });
});

/** Header fields of a request to `path` signed for `aud`; `body` is what is signed, and what is sent unless `send` says otherwise. */
async function signedFields(path: string, options: { method?: string; body?: string; aud?: string; version?: '06' | '07'; extra?: Record<string, string> } = {}) {
  const headers = new Headers({ 'workload-identity-token': witToken, ...options.extra });
  if (options.body !== undefined) headers.set('content-type', 'application/json');
  const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  const method = options.method ?? (body ? 'POST' : 'GET');
  const fields = await signer({ method, url: `${PUBLIC_URL}${path}`, headers }, { audience: options.aud ?? `${PUBLIC_URL}/${path.split('/')[1]!.split('?')[0]}`, ...(body ? { body } : {}), ...(options.version ? { version: options.version } : {}) });
  const out: Record<string, string> = {};
  headers.forEach((value, name) => { out[name] = value; });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') out[name] = value;
  return out;
}

describe(`WIT + WIMSE HTTP signature (${target().runtime})`, () => {
  it('authenticates a signed GET with a query, and the upstream sees no signature or WIT fields', async () => {
    const id = requestId('sig-get');
    const res = await send('/sig/items?limit=2&x=%2Fy', { headers: { ...(await signedFields('/sig/items?limit=2&x=%2Fy')), 'x-request-id': id } });
    expect(res.status).toBe(200);
    const upstream = await recorded(id);
    expect(upstream.url).toBe('/base/items?limit=2&x=%2Fy');
    for (const name of ['signature', 'signature-input', 'workload-identity-token']) expect(upstream.headers[name]).toBeUndefined();
  });

  it('forwards the signed body byte for byte (read whole for its Content-Digest), with its digest', async () => {
    const id = requestId('sig-post');
    const body = JSON.stringify({ flavor: 'vanilla', note: 'é ✓' });
    const res = await send('/sig/orders', { method: 'POST', headers: { ...(await signedFields('/sig/orders', { body })), 'x-request-id': id }, body });
    expect(res.status).toBe(200);
    const upstream = await recorded(id);
    expect(upstream).toMatchObject({ method: 'POST', body, bodyComplete: true });
    expect(upstream.headers['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]+=*:$/);
  });

  it('takes a chunked signed body too', async () => {
    const id = requestId('sig-chunked');
    const body = '{"a":"chunked"}';
    const res = await send('/sig', { method: 'POST', headers: { ...(await signedFields('/sig', { body })), 'x-request-id': id }, body: [body.slice(0, 5), body.slice(5)], chunked: true });
    expect(res.status).toBe(200);
    expect((await recorded(id)).body).toBe(body);
  });

  it('400 ERR_HTTPSIG_DIGEST_MISMATCH when the body sent is not the body signed; nothing reaches the upstream', async () => {
    const id = requestId('sig-tamper');
    const res = await send('/sig', { method: 'POST', headers: { ...(await signedFields('/sig', { body: '{"amount":1}' })), 'x-request-id': id }, body: '{"amount":9}' });
    expectProblem(res, 400, 'ERR_HTTPSIG_DIGEST_MISMATCH');
  });

  it('413 ERR_BODY_TOO_LARGE for a signed body over the route limit, declared or chunked', async () => {
    const body = 'x'.repeat(SMALL_BODY_BYTES + 1);
    expectProblem(await send('/sig', { method: 'POST', headers: await signedFields('/sig', { body }), body }), 413, 'ERR_BODY_TOO_LARGE');
    expectProblem(await send('/sig', { method: 'POST', headers: await signedFields('/sig', { body }), body: [body.slice(0, 600), body.slice(600)], chunked: true }), 413, 'ERR_BODY_TOO_LARGE');
  });

  it('400 for a replay, another audience, a changed method, a -07 signature on a -06 route, and a WIT without a signature', async () => {
    const fields = await signedFields('/sig');
    expect((await send('/sig', { headers: fields })).status).toBe(200);
    expectProblem(await send('/sig', { headers: fields }), 400, 'ERR_HTTPSIG_REPLAYED');
    expectProblem(await send('/sig', { headers: await signedFields('/sig', { aud: `${PUBLIC_URL}/elsewhere` }) }), 400, 'ERR_HTTPSIG_AUD_MISMATCH');
    expectProblem(await send('/sig', { method: 'DELETE', headers: await signedFields('/sig') }), 400, 'ERR_HTTPSIG_SIGNATURE_INVALID');
    expectProblem(await send('/sig-06', { headers: await signedFields('/sig-06') }), 400, 'ERR_HTTPSIG_COMPONENT_MISSING');
    expect((await send('/sig-06', { headers: await signedFields('/sig-06', { version: '06' }) })).status).toBe(200);
    expectProblem(await send('/sig', { headers: { 'workload-identity-token': witToken } }), 400, 'ERR_HTTPSIG_MISSING');
  });

  it('on an mcp route taking both proofs: a signed tools/list passes, a WPT passes, a failure is a JSON-RPC body', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const mcp = { accept: 'application/json, text/event-stream' };
    const signed = await send('/mcp-sig', { method: 'POST', headers: { ...(await signedFields('/mcp-sig', { body, extra: mcp })) }, body });
    expect(signed.status).toBe(200);
    const proof = await mintWpt({ wit: witToken, workload, aud: `${PUBLIC_URL}/mcp-sig` });
    const viaWpt = await send('/mcp-sig', { method: 'POST', headers: { 'workload-identity-token': witToken, authorization: `WPT ${proof}`, 'content-type': 'application/json', ...mcp }, body });
    expect(viaWpt.status).toBe(200);
    const tampered = await send('/mcp-sig', { method: 'POST', headers: { ...(await signedFields('/mcp-sig', { body, extra: mcp })) }, body: body.replace('1', '2') });
    expectJsonRpcError(tampered, 400, 'ERR_HTTPSIG_DIGEST_MISMATCH');
  });
});
