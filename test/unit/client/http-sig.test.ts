/**
 * withWorkloadIdentity with `proof: 'http-sig'`: requests signed with the WIMSE HTTP-signature profile verify with
 * verify/wimse-signature.ts (as the gateway does), and responses go through the client's response check: signed
 * ones verified against `responderTrust`, unsigned ones refused when `signedResponses: 'require'`.
 */
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { withWorkloadIdentity, type FetchLike, type WorkloadIdentityOptions } from '../../../src/client/fetch.ts';
import { RESPONSE_SIGNATURE_ERRORS, ResponseSignatureError, type ResponseSignatureErrorCode } from '../../../src/client/http-signature.ts';
import { MAX_SIGNED_REQUEST_BODY_BYTES, MAX_SIGNED_RESPONSE_BODY_BYTES } from '../../../src/limits.ts';
import { generateSigningKey, publicJwks } from '../../../src/mint/keys.ts';
import { createWimseSigner, type WimseSignOptions } from '../../../src/mint/wimse-signature.ts';
import { mintWit, type MintedWit } from '../../../src/mint/wit.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import { verifyWimseSignature, type VerifiedWimseSignature } from '../../../src/verify/wimse-signature.ts';
import { verifyWit, type VerifiedWit } from '../../../src/verify/wit.ts';
import { expectOk } from '../verify/mint.ts';

const TARGET = 'https://tool.example.net/api/run?x=1';
const AUDIENCE = 'https://tool.example.net/api/run';
const TXN = 'eyJhbGciOiJFUzI1NiJ9.eyJ0eG4iOiIxIn0.c2ln';

let agent: MintedWit;
let agentWit: VerifiedWit;
let agentKeys: ReturnType<typeof publicJwks>;
let responder: MintedWit;
let stranger: MintedWit;
let responderKeys: ReturnType<typeof publicJwks>;

beforeAll(async () => {
  const agentIssuer = await generateSigningKey('ES256');
  agentKeys = publicJwks([agentIssuer]);
  agent = await mintWit({ issuerKey: agentIssuer, subject: 'spiffe://example.org/agent' });
  agentWit = expectOk(await verifyWit(agent.wit, { keys: async (_td, kid) => agentKeys.keys.find((k) => k.kid === kid), now: Date.now }));
  const responderIssuer = await generateSigningKey('ES256');
  responderKeys = publicJwks([responderIssuer]);
  responder = await mintWit({ issuerKey: responderIssuer, subject: 'spiffe://example.net/tool' });
  stranger = await mintWit({ issuerKey: await generateSigningKey('ES256'), subject: 'spiffe://elsewhere.example/tool' });
});

/** The responder's trust anchor, and only for its trust domain. */
const responderTrust = async (trustDomain: string, kid: string | undefined): Promise<JWK | undefined> =>
  trustDomain === 'example.net' ? responderKeys.keys.find((k) => k.kid === kid) : undefined;

interface Served {
  request: Request;
  body: Uint8Array<ArrayBuffer>;
  verified: VerifiedWimseSignature;
}

type Reply = { status?: number; body?: string; sign?: boolean | Partial<WimseSignOptions>; by?: MintedWit; edit?: (headers: Headers) => void; bodyAfterSigning?: string };

/**
 * A fake recipient: verifies the request's WIMSE signature as the gateway would (version from the Signature-Input
 * label), then answers, signing the response with the responder's WIT unless `sign: false`.
 */
function server(reply: Reply = {}): { fetch: FetchLike; served: Served[] } {
  const served: Served[] = [];
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const body = new Uint8Array(await request.arrayBuffer());
    const version = request.headers.get('signature-input')?.startsWith('wimse=') ? '06' : '07';
    const message = { method: request.method, url: request.url, headers: request.headers };
    const verified = expectOk(await verifyWimseSignature({ wit: agentWit, message, ...(body.byteLength ? { body } : {}), audience: AUDIENCE, version, replay: memoryReplayStore(), now: Date.now }));
    served.push({ request, body, verified });
    const headers = new Headers({ 'content-type': 'application/json' });
    const content = reply.body ?? '{"result":"done"}';
    const status = reply.status ?? 200;
    if (reply.sign !== false) {
      const by = reply.by ?? responder;
      headers.set('workload-identity-token', by.wit);
      const signer = await createWimseSigner(by.wit, by.key);
      const bytes = new TextEncoder().encode(status === 204 ? '' : content);
      const fields = await signer({ status, headers, request: message }, { requestNonce: verified.nonce, version, ...(bytes.byteLength ? { body: bytes } : {}), ...(typeof reply.sign === 'object' ? reply.sign : {}) });
      for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
    }
    reply.edit?.(headers);
    return new Response(status === 204 ? null : (reply.bodyAfterSigning ?? content), { status, headers });
  };
  return { fetch, served };
}

const signing = (extra: Partial<WorkloadIdentityOptions> = {}): WorkloadIdentityOptions => ({ ...agent, proof: 'http-sig', responderTrust, ...extra });

async function rejection(promise: Promise<unknown>): Promise<ResponseSignatureError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ResponseSignatureError);
  expect(error).toBeInstanceOf(TypeError);
  return error as ResponseSignatureError;
}

async function expectCode(promise: Promise<unknown>, code: ResponseSignatureErrorCode) {
  const error = await rejection(promise);
  expect(error.code).toBe(code);
  expect(error.message).not.toContain(responder.wit.split('.')[1]!);
}

describe('withWorkloadIdentity proof "http-sig": requests', () => {
  it('signs a POST: body with Content-Digest, Authorization: Bearer and Txn-Token kept and covered; it verifies as the gateway does', async () => {
    const { fetch, served } = server();
    const response = await withWorkloadIdentity(fetch, signing())(TARGET, { method: 'POST', body: '{"tool":"x"}', headers: { 'content-type': 'application/json', authorization: 'Bearer user-token', 'txn-token': TXN } });
    expect(response.status).toBe(200);
    const [{ request, body, verified }] = served as [Served];
    expect(new TextDecoder().decode(body)).toBe('{"tool":"x"}');
    expect(request.headers.get('authorization')).toBe('Bearer user-token');
    expect(request.headers.get('workload-identity-token')).toBe(agent.wit);
    expect(request.headers.get('content-digest')).toMatch(/^sha-256=:/);
    expect(request.headers.get('accept-encoding')).toBe('identity');
    expect(request.headers.has('workload-proof-token')).toBe(false);
    expect(request.redirect).toBe('manual');
    expect(verified).toMatchObject({ audience: AUDIENCE, signResponse: false, coveredFields: ['content-type', 'content-digest', 'authorization', 'txn-token', 'workload-identity-token'] });
  });

  it('signs a GET without Content-Digest; every request gets its own nonce', async () => {
    const { fetch, served } = server();
    const send = withWorkloadIdentity(fetch, signing());
    await send(TARGET);
    await send(new Request(TARGET, { headers: { 'accept-encoding': 'gzip' } }));
    expect(served[0]!.request.headers.has('content-digest')).toBe(false);
    expect(served[1]!.request.headers.get('accept-encoding')).toBe('gzip');
    expect(served[0]!.verified.nonce).not.toBe(served[1]!.verified.nonce);
  });

  it('-06: label wimse and @request-target, when httpSigVersion is "06"', async () => {
    const { fetch, served } = server();
    await withWorkloadIdentity(fetch, signing({ httpSigVersion: '06', signedResponses: 'require' }))(TARGET, { method: 'PUT', body: 'x' });
    expect(served[0]!.request.headers.get('signature-input')).toMatch(/^wimse=\("@method" "@request-target" "content-type" "content-digest" "workload-identity-token"\)/);
  });

  it('buffers a stream body up to MAX_SIGNED_REQUEST_BODY_BYTES and refuses a longer one before sending', async () => {
    const stream = (chunks: number, size: number) => new ReadableStream<Uint8Array>({
      start(c) { for (let i = 0; i < chunks; i++) c.enqueue(new Uint8Array(size).fill(97)); c.close(); },
    });
    const { fetch, served } = server();
    const send = withWorkloadIdentity(fetch, signing());
    const controller = new AbortController();
    await send(new Request(TARGET, { method: 'POST', body: stream(3, 1000), duplex: 'half', signal: controller.signal } as RequestInit));
    expect(served[0]!.body.byteLength).toBe(3000);
    controller.abort();
    expect(served[0]!.request.signal.aborted).toBe(true);
    const tooLong = stream(2, MAX_SIGNED_REQUEST_BODY_BYTES / 2 + 1);
    await expect(send(TARGET, { method: 'POST', body: tooLong, duplex: 'half' } as RequestInit)).rejects.toThrow(/request body exceeds 1048576 bytes/);
    expect(served).toHaveLength(1);
  });

  it('keeps the transport, origin and redirect rules of the WPT path', async () => {
    const { fetch, served } = server();
    const send = withWorkloadIdentity(fetch, signing());
    await expect(send('http://tool.example.net/api/run')).rejects.toThrow(/plain http/);
    await expect(withWorkloadIdentity(fetch, signing({ audience: () => 'https://other.example/api' }))(TARGET)).rejects.toThrow(/aud is for https:\/\/other.example/);
    await expect(send(TARGET, { redirect: 'follow' })).rejects.toThrow('redirect "follow"');
    await expect(send(TARGET, { headers: { signature: 'sig1=:AA==:' } })).rejects.toThrow(/already carries Signature/);
    expect(served).toHaveLength(0);
  });

  it('validates its options up front', () => {
    const { fetch } = server();
    expect(() => withWorkloadIdentity(fetch, { ...agent, proof: 'http-sig' })).toThrow(/needs responderTrust/);
    expect(() => withWorkloadIdentity(fetch, signing({ carriage: 'header' }))).toThrow(/carriage applies to proof "wpt"/);
    expect(() => withWorkloadIdentity(fetch, signing({ contextTokenHeaders: ['x-user'] }))).toThrow(/contextTokenHeaders applies to proof "wpt"/);
    expect(() => withWorkloadIdentity(fetch, signing({ signedResponses: 'always' as never }))).toThrow(/signedResponses must be/);
    expect(() => withWorkloadIdentity(fetch, signing({ httpSigVersion: '05' as never }))).toThrow(/httpSigVersion/);
    expect(() => withWorkloadIdentity(fetch, { ...agent, proof: 'dpop' as never })).toThrow(/proof must be/);
    expect(() => withWorkloadIdentity(fetch, { ...agent, signedResponses: 'require' })).toThrow(/signedResponses apply to proof "http-sig" only/);
  });
});

describe('withWorkloadIdentity proof "http-sig": responses', () => {
  it('"require": asks with wimse-sign-response; a signed response passes, rebuilt with its body, status and headers', async () => {
    const { fetch, served } = server({ status: 201, body: '{"result":"made"}' });
    const response = await withWorkloadIdentity(fetch, signing({ signedResponses: 'require' }))(TARGET, { method: 'POST', body: '{}' });
    expect(served[0]!.verified.signResponse).toBe(true);
    expect(served[0]!.request.headers.get('signature-input')).toMatch(/;wimse-sign-response$/);
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ result: 'made' });
    // A body-less signed response, and -06 both ways.
    expect((await withWorkloadIdentity(server({ status: 204 }).fetch, signing({ signedResponses: 'require' }))(TARGET)).status).toBe(204);
    expect((await withWorkloadIdentity(server().fetch, signing({ signedResponses: 'require', httpSigVersion: '06' }))(TARGET)).status).toBe(200);
  });

  it('"require": an unsigned response is refused (ERR_HTTPSIG_MISSING); by default it is handed over untouched', async () => {
    await expectCode(withWorkloadIdentity(server({ sign: false }).fetch, signing({ signedResponses: 'require' }))(TARGET), 'ERR_HTTPSIG_MISSING');
    const unsigned = new Response('streamed', { status: 200 });
    const response = await withWorkloadIdentity(async () => unsigned, signing())(TARGET);
    expect(response).toBe(unsigned);
    // A signature that is not a WIMSE one does not make the response signed.
    await expectCode(withWorkloadIdentity(server({ edit: (h) => h.set('signature-input', h.get('signature-input')!.replace('wimse-workload-to-workload', 'other')) }).fetch, signing({ signedResponses: 'require' }))(TARGET), 'ERR_HTTPSIG_MISSING');
  });

  it('a signed response is verified even when not required: tampered body, another request nonce, malformed fields', async () => {
    const send = (reply: Reply) => withWorkloadIdentity(server(reply).fetch, signing())(TARGET, { method: 'POST', body: '{}' });
    await expectCode(send({ bodyAfterSigning: '{"result":"forged"}' }), 'ERR_HTTPSIG_DIGEST_MISMATCH');
    await expectCode(send({ sign: { requestNonce: 'some-other-request' } }), 'ERR_HTTPSIG_REQ_NONCE_MISMATCH');
    await expectCode(send({ edit: (h) => h.set('signature', 'sig1=nonsense') }), 'ERR_HTTPSIG_MALFORMED');
    await expectCode(send({ edit: (h) => h.set('content-type', 'text/html') }), 'ERR_HTTPSIG_SIGNATURE_INVALID');
    const refused = await rejection(send({ status: 202, bodyAfterSigning: 'x' }));
    expect({ status: refused.status, name: refused.name }).toEqual({ status: 202, name: 'ResponseSignatureError' });
  });

  it('the responder WIT must verify against responderTrust; a signed response without one is refused', async () => {
    const send = (reply: Reply) => withWorkloadIdentity(server(reply).fetch, signing())(TARGET);
    await expectCode(send({ by: stranger }), 'ERR_WIT_KEY_NOT_FOUND');
    await expectCode(send({ edit: (h) => h.delete('workload-identity-token') }), 'ERR_RESPONSE_WIT_MISSING');
    // A valid WIT from the trusted domain, on a response signed with another workload's key.
    await expectCode(send({ by: stranger, edit: (h) => h.set('workload-identity-token', responder.wit) }), 'ERR_HTTPSIG_SIGNATURE_INVALID');
  });

  it('refuses a signed response body over MAX_SIGNED_RESPONSE_BODY_BYTES, by Content-Length or by counting', async () => {
    // Signature fields that select (the body is checked before the signature itself), a WIT that verifies.
    const big = async (withLength: boolean): Promise<Response> => {
      const headers = new Headers({ 'signature-input': 'sig1=("@status");created=1;expires=2;nonce="n";tag="wimse-workload-to-workload";wimse-req-nonce="r"', signature: 'sig1=:AA==:', 'workload-identity-token': responder.wit });
      if (withLength) headers.set('content-length', String(MAX_SIGNED_RESPONSE_BODY_BYTES + 1));
      const chunk = new Uint8Array(1024 * 1024);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({ pull(c) { if (sent++ > MAX_SIGNED_RESPONSE_BODY_BYTES / chunk.byteLength) c.close(); else c.enqueue(chunk); } });
      return new Response(body, { status: 200, headers });
    };
    for (const withLength of [true, false]) {
      const send = withWorkloadIdentity(async () => big(withLength), signing());
      await expectCode(send(TARGET), 'ERR_RESPONSE_BODY_TOO_LARGE');
    }
  });

  it('every client response code has a description and is asserted above', async () => {
    const source = await import('node:fs/promises').then((fs) => fs.readFile(new URL(import.meta.url), 'utf8'));
    for (const [code, description] of Object.entries(RESPONSE_SIGNATURE_ERRORS)) {
      expect(description.length).toBeGreaterThan(20);
      expect(source, code).toContain(`'${code}'`);
    }
  });
});
