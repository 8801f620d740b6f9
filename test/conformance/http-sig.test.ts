/**
 * Conformance: a WIT with a WIMSE HTTP Message Signature (draft-ietf-wimse-http-signature-07, -06 per route) over
 * HTTP, on every runtime. Signed with mint/wimse-signature.ts, as a calling workload would. Covers what only a
 * running gateway shows: the signed body read (bounded) and forwarded byte for byte through each runtime's
 * upstream port, signature fields never reaching the upstream, and the HTTP-visible refusals with their codes:
 * one per validation step of verify/wimse-signature.ts (second describe block), each a 400 problem+json before
 * anything reaches the upstream, and two of them as JSON-RPC errors on an mcp route.
 *
 * Not HTTP-observable, so tested elsewhere:
 *  - ERR_HTTPSIG_REPLAY_STORE_FAILED (503): needs a failing replay store, which no runtime's state port can be made
 *    into from outside; the verifier's fail-closed path is in test/unit/verify/wimse-signature.test.ts (step 9).
 *  - ERR_HTTPSIG_REQ_NONCE_MISMATCH: response signatures only, checked by the client side
 *    (test/unit/verify/wimse-response-signature.test.ts, test/unit/client/http-sig.test.ts; over HTTP in
 *    gateway-identity.test.ts).
 * Every validation step has its negative unit test in test/unit/verify/wimse-signature.test.ts.
 */
import { createHash } from 'node:crypto';
import { exportJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWimseSigner, type WimseSigner, type WimseSignOptions } from '../../src/mint/wimse-signature.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { mintWit, mintWpt } from '../wimse.ts';
import { expectJsonRpcError, expectProblem, record, recorded, requestId, send } from './client.ts';
import { ISSUER, ISSUER_KID, PUBLIC_URL, SHORT_SIG_LIFETIME, SMALL_BODY_BYTES, TRUST_DOMAIN } from './config.ts';
import { target } from './context.ts';
import { importTestKey } from './keys.ts';

const SUB = `${TRUST_DOMAIN}/ns/conformance/sa/signer`;
let witToken: string;
let signer: WimseSigner;
let workload: TestKey;

beforeAll(async () => {
  const issuer = await importTestKey(target().wimse.issuer);
  workload = await generateKey('ES256');
  witToken = await mintWit({ sub: SUB, iss: ISSUER, kid: ISSUER_KID, workload, issuer });
  signer = await createWimseSigner(witToken, { ...(await exportJWK(workload.privateKey)), alg: 'ES256' });
});

interface SignedOptions {
  method?: string;
  body?: string;
  aud?: string;
  version?: '06' | '07';
  extra?: Record<string, string>;
  /** Signer options: a lifetime, or another clock. */
  sign?: Pick<WimseSignOptions, 'ttlSeconds' | 'now'>;
  /** Changes the fields (lower-case names) after signing. */
  edit?: (fields: Record<string, string>) => void;
}

/** Header fields of a request to `path` signed for `aud`; `body` is what is signed, and what is sent unless `send` says otherwise. */
async function signedFields(path: string, options: SignedOptions = {}) {
  const headers = new Headers({ 'workload-identity-token': witToken, ...options.extra });
  if (options.body !== undefined) headers.set('content-type', 'application/json');
  const body = options.body === undefined ? undefined : new TextEncoder().encode(options.body);
  const method = options.method ?? (body ? 'POST' : 'GET');
  const fields = await signer({ method, url: `${PUBLIC_URL}${path}`, headers }, { audience: options.aud ?? `${PUBLIC_URL}/${path.split('/')[1]!.split('?')[0]}`, ...(body ? { body } : {}), ...(options.version ? { version: options.version } : {}), ...options.sign });
  const out: Record<string, string> = {};
  headers.forEach((value, name) => { out[name] = value; });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') out[name] = value;
  options.edit?.(out);
  return out;
}

/** `edit` for signedFields: rewrites Signature-Input after signing. */
const input = (change: (value: string) => string) => (fields: Record<string, string>) => { fields['signature-input'] = change(fields['signature-input']!); };

/**
 * Sends a request signed as `options` say (with `body` sent as signed unless `sendBody` is given) to `path` and
 * asserts a 400 with `code`, and that nothing reached the upstream.
 */
async function expectRefused(path: string, code: string, options: SignedOptions & { sendBody?: string } = {}): Promise<void> {
  const id = requestId('sig-refused');
  const body = options.sendBody ?? options.body;
  const headers = { ...(await signedFields(path, options)), 'x-request-id': id };
  const res = await send(path, { method: options.method ?? (options.body !== undefined ? 'POST' : 'GET'), headers, ...(body !== undefined ? { body } : {}) });
  expectProblem(res, 400, code);
  expect(await record(id), `${code}: nothing reaches the upstream`).toBeNull();
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

/**
 * One refusal per HTTP-observable step of verify/wimse-signature.ts, in its order, each with its code; signed
 * correctly, then broken in exactly one way (most after signing: every step before step 8 runs before the
 * signature is checked).
 */
describe(`WIMSE HTTP signature: every HTTP-observable validation step (${target().runtime})`, () => {
  const tag = 'wimse-workload-to-workload';

  it('1. ERR_HTTPSIG_MISSING: a WIT without Signature-Input / Signature, or no signature with the WIMSE tag', async () => {
    const id = requestId('sig-none');
    const bare = await send('/sig', { headers: { 'workload-identity-token': witToken, 'x-request-id': id } });
    expectProblem(bare, 400, 'ERR_HTTPSIG_MISSING');
    expect(await record(id)).toBeNull();
    await expectRefused('/sig', 'ERR_HTTPSIG_MISSING', { edit: input((v) => v.replace(tag, 'some-other-profile')) });
  });

  it('1. ERR_HTTPSIG_MALFORMED: a Signature that is not an RFC 9421 dictionary of Byte Sequences', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_MALFORMED', { edit: (f) => { f.signature = 'sig1=not-bytes'; } });
  });

  it('2. ERR_HTTPSIG_AMBIGUOUS: two signatures carry the WIMSE tag', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_AMBIGUOUS', {
      edit: (f) => {
        f['signature-input'] = `${f['signature-input']}, ${f['signature-input']!.replace(/^sig1=/, 'sig2=')}`;
        f.signature = `${f.signature}, ${f.signature!.replace(/^sig1=/, 'sig2=')}`;
      },
    });
  });

  it('3. ERR_HTTPSIG_PARAM_MISSING: created, expires, nonce or wimse-aud absent', async () => {
    for (const param of [/;created=\d+/, /;expires=\d+/, /;nonce="[^"]+"/, /;wimse-aud="[^"]+"/]) {
      await expectRefused('/sig', 'ERR_HTTPSIG_PARAM_MISSING', { edit: input((v) => v.replace(param, '')) });
    }
  });

  it('3. ERR_HTTPSIG_PARAM_FORBIDDEN: keyid or alg (the key and algorithm come from the WIT), wimse-req-nonce on a request', async () => {
    for (const param of [';keyid="workload-key"', ';alg="ecdsa-p256-sha256"', ';wimse-req-nonce="n1"']) {
      await expectRefused('/sig', 'ERR_HTTPSIG_PARAM_FORBIDDEN', { edit: input((v) => `${v}${param}`) });
    }
  });

  it('3. ERR_HTTPSIG_PARAM_INVALID: wimse-sign-response that is not a Boolean', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_PARAM_INVALID', { edit: input((v) => `${v};wimse-sign-response="yes"`) });
  });

  it('4. ERR_HTTPSIG_COMPONENT_MISSING: a Txn-Token or Authorization field the signature does not cover', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_COMPONENT_MISSING', { edit: (f) => { f['txn-token'] = 'added-after-signing'; } });
    await expectRefused('/sig', 'ERR_HTTPSIG_COMPONENT_MISSING', { edit: (f) => { f.authorization = 'Bearer added-after-signing'; } });
  });

  it('5. ERR_HTTPSIG_DIGEST_MISSING: a body without Content-Digest', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_DIGEST_MISSING', { method: 'POST', sendBody: '{"unsigned":true}' });
  });

  it('5. ERR_HTTPSIG_DIGEST_INVALID: a Content-Digest with md5 only (no sha-256 / sha-512)', async () => {
    const body = '{"digest":"md5"}';
    const md5 = createHash('md5').update(body).digest('base64');
    await expectRefused('/sig', 'ERR_HTTPSIG_DIGEST_INVALID', { body, edit: (f) => { f['content-digest'] = `md5=:${md5}:`; } });
  });

  it('5. ERR_HTTPSIG_DIGEST_MISMATCH: the body sent is not the body signed', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_DIGEST_MISMATCH', { body: '{"amount":1}', sendBody: '{"amount":9}' });
  });

  it('6. ERR_HTTPSIG_AUD_MISMATCH: wimse-aud names another route', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_AUD_MISMATCH', { aud: `${PUBLIC_URL}/sig-06` });
  });

  it('7. ERR_HTTPSIG_NOT_YET_VALID / ERR_HTTPSIG_EXPIRED: created beyond the clock skew ahead, expires beyond it behind', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_NOT_YET_VALID', { sign: { now: () => Date.now() + 300_000 } });
    await expectRefused('/sig', 'ERR_HTTPSIG_EXPIRED', { sign: { now: () => Date.now() - 300_000 } });
  });

  it(`7. ERR_HTTPSIG_LIFETIME_TOO_LONG: over the route's maxLifetimeSeconds (${SHORT_SIG_LIFETIME} s on /sig-short); within it passes`, async () => {
    await expectRefused('/sig-short', 'ERR_HTTPSIG_LIFETIME_TOO_LONG', { sign: { ttlSeconds: SHORT_SIG_LIFETIME + 1 } });
    expect((await send('/sig-short', { headers: await signedFields('/sig-short', { sign: { ttlSeconds: SHORT_SIG_LIFETIME } }) })).status).toBe(200);
  });

  it('8. ERR_HTTPSIG_COMPONENT_INVALID: a covered field the request does not carry', async () => {
    await expectRefused('/sig', 'ERR_HTTPSIG_COMPONENT_INVALID', { edit: input((v) => v.replace('"workload-identity-token"', '"workload-identity-token" "x-absent"')) });
  });

  it('8. ERR_HTTPSIG_SIGNATURE_INVALID: another method, a changed covered field', async () => {
    const id = requestId('sig-method');
    expectProblem(await send('/sig', { method: 'DELETE', headers: { ...(await signedFields('/sig')), 'x-request-id': id } }), 400, 'ERR_HTTPSIG_SIGNATURE_INVALID');
    expect(await record(id)).toBeNull();
    await expectRefused('/sig', 'ERR_HTTPSIG_SIGNATURE_INVALID', { extra: { 'txn-token': 'signed' }, edit: (f) => { f['txn-token'] = 'changed'; } });
  });

  it('9. ERR_HTTPSIG_REPLAYED: the same signed request twice', async () => {
    const fields = await signedFields('/sig');
    expect((await send('/sig', { headers: fields })).status).toBe(200);
    const id = requestId('sig-replay');
    expectProblem(await send('/sig', { headers: { ...fields, 'x-request-id': id } }), 400, 'ERR_HTTPSIG_REPLAYED');
    expect(await record(id)).toBeNull();
  });

  it('on an mcp route: ERR_HTTPSIG_PARAM_FORBIDDEN and ERR_HTTPSIG_EXPIRED as JSON-RPC errors', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    const extra = { accept: 'application/json, text/event-stream' };
    const keyid = await signedFields('/mcp-sig', { body, extra, edit: input((v) => `${v};keyid="workload-key"`) });
    expectJsonRpcError(await send('/mcp-sig', { method: 'POST', headers: keyid, body }), 400, 'ERR_HTTPSIG_PARAM_FORBIDDEN');
    const expired = await signedFields('/mcp-sig', { body, extra, sign: { now: () => Date.now() - 300_000 } });
    expectJsonRpcError(await send('/mcp-sig', { method: 'POST', headers: expired, body }), 400, 'ERR_HTTPSIG_EXPIRED');
  });
});
