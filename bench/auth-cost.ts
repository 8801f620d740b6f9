/**
 * Cost of WIT+WPT authentication per request with warm caches (WIT verified and cached, keys imported),
 * measured in-process on this runtime against its Web Crypto floor, in one run:
 * - `public`: gateway.fetch on a public route (constant in-memory upstream), with the same WIT and proof headers
 *   as the authenticated requests (so parsing and stripping them is not counted as authentication);
 * - `wit+wpt`: the same on a route requiring WIT+WPT, each request carrying the same WIT and a fresh WPT
 *   (pre-minted: minting is the caller's cost, not the gateway's);
 * - `floor`: the same number of raw `crypto.subtle.verify` (ES256, WPT-sized input, imported key) and
 *   `crypto.subtle.digest` (SHA-256, replay-key-sized input) calls as one authenticated request makes, counted
 *   by wrapping crypto.subtle during a warm request (today: one verify, one digest for the replay key).
 * - `naive jose`: the peer baseline: what a straightforward jose integration does per request (import the
 *   issuer key, jwtVerify the WIT, import its cnf key, jwtVerify the WPT, hash the WIT for `wth`), without
 *   caches and without replay detection (so it does less checking than the gateway).
 * - `stage`: the authentication stage alone (the route's authenticator from src/gateway/authenticate.ts, called
 *   directly with the same kind of request), to tell the verification's own cost from the pipeline around it.
 * Auth cost = wit+wpt − public; reported as a multiple of the floor (target <= 1.3x) and of the naive cost;
 * the stage cost likewise.
 * Blocks of each kind alternate so drift hits all three; medians of the blocks are reported.
 * Exported for bench/run.ts; runs alone with `node bench/auth-cost.ts`.
 */
import { base64url, importJWK, jwtVerify, type JWK } from 'jose';
import { assertConfig } from '../src/config/load.ts';
import { authenticators } from '../src/gateway/authenticate.ts';
import { createGateway, memorySink, memoryState, trustKeySource } from '../src/index.ts';
import { createWptSigner, generateDevIssuerKey, devJwks, mintDevWit, DEV_TRUST_DOMAIN_ID } from '../src/mint/index.ts';
import { countWebCrypto } from './web-crypto-count.ts';

export interface AuthCost {
  verifies: number;
  digests: number;
  publicUs: number;
  authUs: number;
  floorUs: number;
  naiveUs: number;
  ratio: number;
  stageUs: number;
  stageRatio: number;
}

const BLOCK = 300;
const BLOCKS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function measureAuthCost(): Promise<AuthCost> {
  const origin = 'http://gw.bench';
  const issuerKey = await generateDevIssuerKey();
  const config = assertConfig({
    publicUrl: origin,
    trustDomains: { [DEV_TRUST_DOMAIN_ID]: { jwks: devJwks([issuerKey]) } },
    routes: [
      { path: '/open', protocol: 'mcp', upstream: 'http://up.bench/', public: true },
      { path: '/mcp', protocol: 'mcp', upstream: 'http://up.bench/', auth: { wit: { trustDomains: [DEV_TRUST_DOMAIN_ID] } } },
    ],
  });
  const gateway = createGateway(config, { audit: memorySink(), fetch: async () => ({ status: 200, statusText: 'OK', headers: new Headers(), body: null }) });
  const stageState = memoryState();
  const stage = authenticators({
    config,
    publicUrl: new URL(origin),
    keys: trustKeySource(config.trustDomains, { cache: stageState.cache, now: Date.now }),
    state: stageState,
    now: Date.now,
  })(config.routes[1]!)!;
  const { wit, key } = await mintDevWit(issuerKey, `${DEV_TRUST_DOMAIN_ID}/bench`);
  const sign = await createWptSigner(wit, key);
  const proofs: string[] = [];
  for (let i = 0; i < BLOCK * (2 * BLOCKS + 2) + 2; i++) proofs.push(await sign({ audience: `${origin}/mcp` }));

  const call = async (path: string, proof?: string) => {
    const res = await gateway.fetch(request(path, proof));
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  const request = (path: string, proof?: string) => {
    const headers = proof ? { 'workload-identity-token': wit, authorization: `WPT ${proof}` } : undefined;
    return new Request(`${origin}${path}`, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}', headers });
  };
  const authenticateOnly = async (proof: string) => {
    const outcome = await stage(request('/mcp', proof), '/mcp');
    if (!outcome.ok) throw new Error(`stage: ${outcome.code}`);
  };

  // Count the Web Crypto calls of one warm authenticated request (after the first, which fills the caches).
  await call('/mcp', proofs[0]);
  const counted = await countWebCrypto(() => call('/mcp', proofs[1]));

  // The floor: exactly those calls, raw, with inputs of the same sizes.
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const signed = new TextEncoder().encode(proofs[0]!.slice(0, proofs[0]!.lastIndexOf('.')));
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, signed);
  const replayKey = new TextEncoder().encode(JSON.stringify([`${DEV_TRUST_DOMAIN_ID}/bench`, 'x'.repeat(22)]));
  const floorOnce = async () => {
    for (let i = 0; i < counted.verify; i++) {
      if (!(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, signature, signed))) throw new Error('floor verify');
    }
    for (let i = 0; i < counted.digest; i++) await crypto.subtle.digest('SHA-256', replayKey);
  };

  const issuerPublic = devJwks([issuerKey]).keys[0] as JWK;
  const naiveOnce = async (proof: string) => {
    const { payload } = await jwtVerify(wit, await importJWK(issuerPublic, 'ES256'), { typ: 'wit+jwt' });
    const cnf = (payload.cnf as { jwk: JWK }).jwk;
    const { payload: claims } = await jwtVerify(proof, await importJWK(cnf, cnf.alg), { typ: 'wpt+jwt', audience: `${origin}/mcp` });
    const wth = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(wit))));
    if (claims.wth !== wth) throw new Error('naive wth');
  };

  // Warm-up: JIT, the WIT cache and the imported confirmation key.
  let next = 2;
  for (let i = 0; i < BLOCK; i++) {
    await call('/open', proofs[1]);
    await call('/mcp', proofs[next++]);
    await floorOnce();
    await naiveOnce(proofs[2]!);
    await authenticateOnly(proofs[next++]!);
  }
  const times = { public: [] as number[], auth: [] as number[], floor: [] as number[], naive: [] as number[], stage: [] as number[], build: [] as number[] };
  for (let b = 0; b < BLOCKS; b++) {
    let t = performance.now();
    for (let i = 0; i < BLOCK; i++) await call('/open', proofs[1]);
    times.public.push(((performance.now() - t) * 1000) / BLOCK);
    t = performance.now();
    for (let i = 0; i < BLOCK; i++) await call('/mcp', proofs[next++]);
    times.auth.push(((performance.now() - t) * 1000) / BLOCK);
    t = performance.now();
    for (let i = 0; i < BLOCK; i++) await floorOnce();
    times.floor.push(((performance.now() - t) * 1000) / BLOCK);
    t = performance.now();
    for (let i = 0; i < BLOCK; i++) await naiveOnce(proofs[2]!);
    times.naive.push(((performance.now() - t) * 1000) / BLOCK);
    t = performance.now();
    for (let i = 0; i < BLOCK; i++) await authenticateOnly(proofs[next++]!);
    times.stage.push(((performance.now() - t) * 1000) / BLOCK);
    t = performance.now();
    for (let i = 0; i < BLOCK; i++) request('/mcp', proofs[2]);
    times.build.push(((performance.now() - t) * 1000) / BLOCK);
  }
  const publicUs = median(times.public);
  const authUs = median(times.auth) - publicUs;
  const floorUs = median(times.floor);
  const stageUs = median(times.stage) - median(times.build);
  return { verifies: counted.verify, digests: counted.digest, publicUs, authUs, floorUs, naiveUs: median(times.naive), ratio: authUs / floorUs, stageUs, stageRatio: stageUs / floorUs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await measureAuthCost();
  console.log(`warm WIT+WPT request: ${r.verifies} verify + ${r.digests} digest calls; public route ${r.publicUs.toFixed(1)} us/request; auth adds ${r.authUs.toFixed(1)} us; floor ${r.floorUs.toFixed(1)} us; ratio ${r.ratio.toFixed(2)}x (target <= 1.3x); the stage alone ${r.stageUs.toFixed(1)} us, ${r.stageRatio.toFixed(2)}x; naive jose ${r.naiveUs.toFixed(1)} us (${(r.authUs / r.naiveUs).toFixed(2)}x of it)`);
}
