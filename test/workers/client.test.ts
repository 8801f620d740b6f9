/** The minting and agent-side SDK modules inside workerd: Web Crypto key generation, signing, and the fetch wrapper. */
import { describe, expect, it } from 'vitest';
import { withWorkloadIdentity } from '../../src/client/index.ts';
import { generateSigningKey, mintWit, publicJwks } from '../../src/mint/index.ts';
import { createWimseSigner } from '../../src/mint/wimse-signature.ts';
import { memoryReplayStore } from '../../src/state/memory.ts';
import { verifyWimseSignature } from '../../src/verify/wimse-signature.ts';
import { verifyWit } from '../../src/verify/wit.ts';
import { verifyWpt } from '../../src/verify/wpt.ts';

describe('mint + client in workerd', () => {
  it.each(['ES256', 'EdDSA', 'Ed25519'] as const)('a %s-confirmed WIT and the proofs the fetch wrapper attaches verify', async (alg) => {
    const issuerKey = await generateSigningKey('ES256');
    const jwks = publicJwks([issuerKey]);
    const minted = await mintWit({ issuerKey, subject: 'spiffe://dev.portcullis.local/worker', confirmationAlgorithm: alg });
    const wit = await verifyWit(minted.wit, { keys: async (_td, kid) => jwks.keys.find((k) => k.kid === kid), policy: { confirmationAlgorithms: [alg] }, now: Date.now });
    if (!wit.ok) throw new Error(`${wit.code}: ${wit.detail}`);

    const sent: Request[] = [];
    const send = withWorkloadIdentity(async (input, init) => {
      sent.push(new Request(input, init));
      return new Response(null, { status: 204 });
    }, minted);
    await send('https://gw.example/mcp?x=1', { method: 'POST', body: '{}', headers: { 'Txn-Token': 'txn' } });
    await send('https://gw.example/mcp');

    const replay = memoryReplayStore();
    for (const request of sent) {
      expect(request.redirect).toBe('manual');
      const proof = (request.headers.get('authorization') ?? '').replace(/^WPT /, '');
      const txnToken = request.headers.get('txn-token') ?? undefined;
      const result = await verifyWpt(proof, { wit: wit.value, witToken: minted.wit, audience: 'https://gw.example/mcp', txnToken, replay, now: Date.now });
      expect(result.ok ? 'ok' : result.code).toBe('ok');
    }
  });

  it('proof "http-sig": a POST body the client buffers (a string, a stream) is signed and verifies in the handler; the signed response verifies in the client', async () => {
    const issuerKey = await generateSigningKey('ES256');
    const jwks = publicJwks([issuerKey]);
    const trust = async (_td: string, kid: string | undefined) => jwks.keys.find((k) => k.kid === kid);
    const caller = await mintWit({ issuerKey, subject: 'spiffe://dev.portcullis.local/worker' });
    const responder = await mintWit({ issuerKey, subject: 'spiffe://dev.portcullis.local/service' });
    const signResponse = await createWimseSigner(responder.wit, responder.key);
    const replay = memoryReplayStore();
    const received: { body: string; contentDigest: string | null; signResponse: boolean }[] = [];

    // The "server": whatever the wrapper hands to fetch, checked as a recipient would, answered with a signed response.
    const handler = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      const body = new Uint8Array(await request.arrayBuffer());
      const wit = await verifyWit(request.headers.get('workload-identity-token') ?? '', { keys: trust, now: Date.now });
      if (!wit.ok) throw new Error(`caller WIT: ${wit.code}: ${wit.detail}`);
      const verified = await verifyWimseSignature({ wit: wit.value, message: { method: request.method, url: request.url, headers: request.headers }, body, audience: 'https://gw.example/orders', replay, now: Date.now });
      if (!verified.ok) throw new Error(`request signature: ${verified.code}: ${verified.detail}`);
      received.push({ body: new TextDecoder().decode(body), contentDigest: request.headers.get('content-digest'), signResponse: verified.value.signResponse });
      const out = new Uint8Array(new TextEncoder().encode(JSON.stringify({ ok: true, bytes: body.byteLength })));
      const headers = new Headers({ 'content-type': 'application/json', 'workload-identity-token': responder.wit });
      const fields = await signResponse({ status: 200, headers, request: { method: request.method, url: request.url, headers: request.headers } }, { requestNonce: verified.value.nonce, body: out });
      for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
      return new Response(out, { status: 200, headers });
    };
    const send = withWorkloadIdentity(handler, { wit: caller.wit, key: caller.key, proof: 'http-sig', signedResponses: 'require', responderTrust: trust });

    const body = JSON.stringify({ order: 'é ✓', n: 1 });
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 5));
        controller.enqueue(bytes.slice(5));
        controller.close();
      },
    });
    for (const payload of [body, stream]) {
      const response = await send('https://gw.example/orders?x=1', { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true, bytes: bytes.byteLength });
    }
    expect(received).toHaveLength(2);
    for (const one of received) expect(one).toMatchObject({ body, contentDigest: expect.stringMatching(/^sha-256=:[A-Za-z0-9+/]+=*:$/), signResponse: true });
  });
});
