/**
 * Cost of Transaction Tokens, in-process on this runtime, in one run:
 * - `mint`: mintTxnToken with a warm signing key (the ring's current key, already imported) against the floor of
 *   one raw `crypto.subtle.sign` (ES256) over an input of the same size (target <= 1.3x);
 * - `re-binding`: the latency the step adds to an authenticated request: gateway.fetch on a WIT+WPT route with
 *   `txnToken` against the same route without it (same constant in-memory upstream, fresh proofs pre-minted).
 * Blocks of each kind alternate; medians of the blocks are reported.
 * Exported for bench/run.ts; runs alone with `node bench/txn-cost.ts`.
 */
import { assertConfig } from '../src/config/load.ts';
import { createGateway, memorySink, memoryState } from '../src/index.ts';
import { createWptSigner, devJwks, DEV_TRUST_DOMAIN_ID, generateDevIssuerKey, mintDevWit } from '../src/mint/index.ts';
import { mintTxnToken } from '../src/mint/txn-token.ts';
import { txnKeyRing } from '../src/txn/key-ring.ts';

export interface TxnCost {
  mintUs: number;
  floorUs: number;
  ratio: number;
  withUs: number;
  withoutUs: number;
}

const BLOCK = 300;
const BLOCKS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function measureTxnCost(): Promise<TxnCost> {
  const state = memoryState();
  const ring = txnKeyRing(state.cache, { now: Date.now });
  const key = await ring.signingKey();
  const claims = {
    aud: 'bench.example',
    sub: `${DEV_TRUST_DOMAIN_ID}/bench`,
    req_wl: `${DEV_TRUST_DOMAIN_ID}/bench`,
    scope: 'route:/mcp',
    rctx: { authn: 'wit+wpt', req_ip: '127.0.0.1' },
    tctx: { route: '/mcp', mcp: [{ method: 'tools/call', name: 'echo' }] },
  };
  const mint = () => mintTxnToken(claims, { key, now: Date.now });
  const sample = await mint();
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const input = new TextEncoder().encode(sample.slice(0, sample.lastIndexOf('.')));
  const floor = () => crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, input);

  const origin = 'http://gw.bench';
  const issuerKey = await generateDevIssuerKey();
  const route = (path: string, txn: boolean) => ({ path, protocol: 'http' as const, upstream: 'http://up.bench/', auth: { wit: { trustDomains: [DEV_TRUST_DOMAIN_ID] } }, ...(txn ? { txnToken: {} } : {}) });
  const gateway = createGateway(
    assertConfig({
      publicUrl: origin,
      trustDomains: { [DEV_TRUST_DOMAIN_ID]: { jwks: devJwks([issuerKey]) } },
      transactionTokens: { trustDomain: 'bench.example' },
      routes: [route('/with', true), route('/without', false)],
    }),
    { audit: memorySink(), state, fetch: async () => ({ status: 200, statusText: 'OK', headers: new Headers(), body: null }) },
  );
  const { wit, key: holder } = await mintDevWit(issuerKey, `${DEV_TRUST_DOMAIN_ID}/bench`);
  const sign = await createWptSigner(wit, holder);
  const proofs = { with: [] as string[], without: [] as string[] };
  for (let i = 0; i < BLOCK * (BLOCKS + 1); i++) {
    proofs.with.push(await sign({ audience: `${origin}/with` }));
    proofs.without.push(await sign({ audience: `${origin}/without` }));
  }
  const call = async (path: 'with' | 'without', i: number) => {
    const res = await gateway.fetch(new Request(`${origin}/${path}`, { method: 'POST', body: '{}', headers: { 'workload-identity-token': wit, authorization: `WPT ${proofs[path][i]}` } }));
    if (res.status !== 200) throw new Error(`/${path}: ${res.status} ${await res.text()}`);
  };

  let n = 0;
  for (let i = 0; i < BLOCK; i++) {
    await mint();
    await floor();
    await call('with', n);
    await call('without', n++);
  }
  const times = { mint: [] as number[], floor: [] as number[], with: [] as number[], without: [] as number[] };
  const block = async (into: number[], run: (i: number) => Promise<unknown>) => {
    const t = performance.now();
    for (let i = 0; i < BLOCK; i++) await run(i);
    into.push(((performance.now() - t) * 1000) / BLOCK);
  };
  for (let b = 0; b < BLOCKS; b++) {
    await block(times.mint, mint);
    await block(times.floor, floor);
    const start = n;
    await block(times.with, (i) => call('with', start + i));
    await block(times.without, (i) => call('without', start + i));
    n += BLOCK;
  }
  const mintUs = median(times.mint);
  const floorUs = median(times.floor);
  return { mintUs, floorUs, ratio: mintUs / floorUs, withUs: median(times.with), withoutUs: median(times.without) };
}

/** Lines for bench/RESULTS.md and the console. */
export function txnCostLines(r: TxnCost): string[] {
  return [
    `- Txn-Token minting (ES256, warm key): ${r.mintUs.toFixed(1)} us vs one raw crypto.subtle.sign ${r.floorUs.toFixed(1)} us = **${r.ratio.toFixed(2)}x** (target <= 1.3x: ${r.ratio <= 1.3 ? 'PASS' : 'FAIL'}); re-binding adds ${(r.withUs - r.withoutUs).toFixed(1)} us to an authenticated WIT+WPT request (${r.withoutUs.toFixed(1)} -> ${r.withUs.toFixed(1)} us, in-process)`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of txnCostLines(await measureTxnCost())) console.log(line);
}
