/** The minting and agent-side SDK modules inside workerd: Web Crypto key generation, signing, and the fetch wrapper. */
import { describe, expect, it } from 'vitest';
import { withWorkloadIdentity } from '../../src/client/index.ts';
import { generateSigningKey, mintWit, publicJwks } from '../../src/mint/index.ts';
import { memoryReplayStore } from '../../src/state/memory.ts';
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
});
