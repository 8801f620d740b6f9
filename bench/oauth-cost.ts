/**
 * Cost of OAuth access-token authentication per request with warm key caches (issuer key and DPoP keys imported),
 * measured in-process against this runtime's Web Crypto floor, in one run. The route's authenticator
 * (src/gateway/authenticate.ts with auth.oauth) is called directly, so the pipeline around it is not counted.
 *
 * - `jwt+dpop`: a fresh JWT access token (RFC 9068, ES256, DPoP-bound) and a fresh DPoP proof per request: the
 *   token's signature, the proof's signature and the `ath` digest. Tokens and proofs are pre-minted (minting is
 *   the client's and the AS's cost). Floor: two ES256 verifies and one SHA-256 digest.
 * - `cached+dpop`: the same token on every request (kept by the route's hot cache), a fresh proof each time: only
 *   the proof is verified. Floor: one ES256 verify.
 * - `bearer (cached)`: the same Bearer token, nothing to verify but the cache lookup and the key's currency.
 * - `naive jose`: the peer baseline for `jwt+dpop`: jose `jwtVerify` of the token with an imported issuer key,
 *   `importJWK` of the proof's `jwk` and `jwtVerify` of the proof, and the `ath` digest; no replay store, no
 *   thumbprint comparison, no caches (so it checks less than the gateway).
 * The floor is the Web Crypto calls each measured request makes, counted by wrapping crypto.subtle during one warm
 * request, made raw with inputs of the same sizes. Blocks alternate so drift hits every kind; medians reported.
 * Exported for bench/run.ts; runs alone with `node bench/oauth-cost.ts`.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { assertConfig } from '../src/config/load.ts';
import { sha256b64url } from '../src/crypto/digest.ts';
import { authenticators } from '../src/gateway/authenticate.ts';
import { authorizationServerKeys } from '../src/trust/authorization-server-keys.ts';
import { dpopNonces } from '../src/gateway/dpop-nonce.ts';
import { memoryState, trustKeySource } from '../src/index.ts';
import { countWebCrypto } from './web-crypto-count.ts';

export interface OAuthCost {
  fresh: { us: number; floorUs: number; ratio: number; verifies: number; digests: number; naiveUs: number };
  cached: { us: number; floorUs: number; ratio: number; verifies: number; digests: number };
  bearerUs: number;
}

const BLOCK = 200;
const BLOCKS = 7;
const ORIGIN = 'http://gw.bench';
const ISSUER = 'https://as.bench';
const RESOURCE = `${ORIGIN}/mcp`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function measureOAuthCost(): Promise<OAuthCost> {
  const issuer = await generateKeyPair('ES256', { extractable: true });
  const issuerJwk = { ...(await exportJWK(issuer.publicKey)), kid: 'as-1' } as JWK;
  const holder = await generateKeyPair('ES256', { extractable: true });
  const holderJwk = (await exportJWK(holder.publicKey)) as JWK;
  const jkt = await calculateJwkThumbprint(holderJwk);
  const config = assertConfig({
    publicUrl: ORIGIN,
    authorizationServers: { [ISSUER]: { jwks: { keys: [issuerJwk as never] }, algorithms: ['ES256'] } },
    routes: [{ path: '/mcp', protocol: 'http', upstream: 'http://up.bench/', auth: { oauth: { authorizationServers: [ISSUER] } } }],
  });
  const state = memoryState();
  const stage = authenticators({
    config,
    publicUrl: new URL(ORIGIN),
    keys: trustKeySource({}, { cache: state.cache, now: Date.now }),
    state,
    now: Date.now,
    oauth: { servers: config.authorizationServers!, keys: authorizationServerKeys(config.authorizationServers!, { cache: state.cache, now: Date.now }), introspector: undefined, replay: state.replay, nonces: dpopNonces(state.cache, Date.now), now: Date.now },
  })(config.routes[0]!)!;

  let serial = 0;
  const token = (bound: boolean) => {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { client_id: 'bench', scope: 'mcp:tools', jti: `t-${serial++}` };
    if (bound) claims.cnf = { jkt };
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'as-1' }).setIssuer(ISSUER).setSubject('user-1').setAudience(RESOURCE).setIssuedAt(now).setExpirationTime(now + 3600).sign(issuer.privateKey);
  };
  const proof = async (accessToken: string) =>
    new SignJWT({ htm: 'POST', htu: RESOURCE, jti: `p-${serial++}`, ath: await sha256b64url(accessToken) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: holderJwk })
      .setIssuedAt()
      .sign(holder.privateKey);
  const request = (accessToken: string, dpop?: string) =>
    new Request(RESOURCE, { method: 'POST', body: '{}', headers: dpop ? { authorization: `DPoP ${accessToken}`, dpop } : { authorization: `Bearer ${accessToken}` } });
  const authenticate = async (req: Request) => {
    const outcome = await stage(req, '/mcp');
    if (!outcome.ok) throw new Error(`stage: ${outcome.code} ${outcome.detail}`);
  };

  // Pre-mint: per measured fresh request a new token and its proof; per cached request a proof for one token.
  const perKind = BLOCK * (BLOCKS + 1) + 2;
  const freshPairs: [string, string][] = [];
  for (let i = 0; i < perKind; i++) {
    const t = await token(true);
    freshPairs.push([t, await proof(t)]);
  }
  const shared = await token(true);
  const cachedProofs: string[] = [];
  for (let i = 0; i < perKind; i++) cachedProofs.push(await proof(shared));
  const bearer = await token(false);

  // Count the Web Crypto calls of one warm request of each kind.
  await authenticate(request(...freshPairs[0]!));
  await authenticate(request(shared, cachedProofs[0]!));
  const freshCount = await countWebCrypto(() => authenticate(request(...freshPairs[1]!)));
  const cachedCount = await countWebCrypto(() => authenticate(request(shared, cachedProofs[1]!)));

  // The floors: those calls, raw, with inputs of the same sizes.
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const [sampleToken, sampleProof] = freshPairs[0]!;
  const tokenInput = new TextEncoder().encode(sampleToken.slice(0, sampleToken.lastIndexOf('.')));
  const proofInput = new TextEncoder().encode(sampleProof.slice(0, sampleProof.lastIndexOf('.')));
  const tokenSig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, tokenInput);
  const proofSig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, proofInput);
  const digestInput = new TextEncoder().encode(sampleToken);
  const floor = async (verifies: number, digests: number) => {
    for (let i = 0; i < verifies; i++) {
      const [input, sig] = i === 0 ? [proofInput, proofSig] : [tokenInput, tokenSig];
      if (!(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, sig, input))) throw new Error('floor verify');
    }
    for (let i = 0; i < digests; i++) await crypto.subtle.digest('SHA-256', digestInput);
  };

  const naive = async ([accessToken, dpop]: [string, string]) => {
    await jwtVerify(accessToken, await importJWK(issuerJwk, 'ES256'), { typ: 'at+jwt', issuer: ISSUER, audience: RESOURCE });
    const header = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(dpop.split('.')[0]!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))) as { jwk: JWK };
    const { payload } = await jwtVerify(dpop, await importJWK(header.jwk, 'ES256'), { typ: 'dpop+jwt' });
    if (payload.ath !== (await sha256b64url(accessToken))) throw new Error('naive ath');
  };

  // Warm-up (JIT, key imports), then alternating blocks.
  let f = 2;
  let c = 2;
  for (let i = 0; i < BLOCK; i++) {
    await authenticate(request(...freshPairs[f++]!));
    await authenticate(request(shared, cachedProofs[c++]!));
    await authenticate(request(bearer));
    await floor(freshCount.verify, freshCount.digest);
    await naive(freshPairs[0]!);
  }
  const times = { fresh: [] as number[], cached: [] as number[], bearer: [] as number[], floorFresh: [] as number[], floorCached: [] as number[], naive: [] as number[], build: [] as number[] };
  const block = async (into: number[], run: (i: number) => Promise<unknown> | unknown) => {
    const t = performance.now();
    for (let i = 0; i < BLOCK; i++) await run(i);
    into.push(((performance.now() - t) * 1000) / BLOCK);
  };
  for (let b = 0; b < BLOCKS; b++) {
    await block(times.fresh, () => authenticate(request(...freshPairs[f++]!)));
    await block(times.cached, () => authenticate(request(shared, cachedProofs[c++]!)));
    await block(times.bearer, () => authenticate(request(bearer)));
    await block(times.floorFresh, () => floor(freshCount.verify, freshCount.digest));
    await block(times.floorCached, () => floor(cachedCount.verify, cachedCount.digest));
    await block(times.naive, () => naive(freshPairs[0]!));
    await block(times.build, () => request(shared, cachedProofs[0]!));
  }
  const build = median(times.build);
  const freshUs = median(times.fresh) - build;
  const cachedUs = median(times.cached) - build;
  const floorFresh = median(times.floorFresh);
  const floorCached = median(times.floorCached);
  return {
    fresh: { us: freshUs, floorUs: floorFresh, ratio: freshUs / floorFresh, verifies: freshCount.verify, digests: freshCount.digest, naiveUs: median(times.naive) },
    cached: { us: cachedUs, floorUs: floorCached, ratio: cachedUs / floorCached, verifies: cachedCount.verify, digests: cachedCount.digest },
    bearerUs: median(times.bearer) - build,
  };
}

/** Lines for bench/RESULTS.md and the console. */
export function oauthCostLines(r: OAuthCost): string[] {
  return [
    `- OAuth, fresh JWT access token + DPoP proof, authentication stage (${r.fresh.verifies} verify + ${r.fresh.digests} digest calls): ${r.fresh.us.toFixed(1)} us vs floor ${r.fresh.floorUs.toFixed(1)} us = **${r.fresh.ratio.toFixed(2)}x** (target <= 1.3x: ${r.fresh.ratio <= 1.3 ? 'PASS' : 'FAIL'}); naive jose ${r.fresh.naiveUs.toFixed(1)} us (the gateway costs ${(r.fresh.us / r.fresh.naiveUs).toFixed(2)}x of it)`,
    `- OAuth, cached access token + DPoP proof (${r.cached.verifies} verify + ${r.cached.digests} digest calls): ${r.cached.us.toFixed(1)} us vs floor ${r.cached.floorUs.toFixed(1)} us = **${r.cached.ratio.toFixed(2)}x**; cached Bearer token ${r.bearerUs.toFixed(1)} us`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of oauthCostLines(await measureOAuthCost())) console.log(line);
}
