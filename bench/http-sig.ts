/**
 * Cost of verifying one HTTP Message Signature (RFC 9421) on a POST with a 1 KiB JSON body, in-process on this
 * runtime, against two peer libraries and the Web Crypto floor, in one run. For Ed25519 and ES256
 * (`ecdsa-p256-sha256`, the JWS `ES256` of the WIMSE profile) alike:
 *
 * Every request is signed once before the timed blocks (by mint/wimse-signature.ts, with the key of a WIT's
 * `cnf.jwk`) over `@method @path @query content-type content-digest`, with the parameters `created`, `expires`,
 * `nonce` (a fresh one per request), `tag="wimse-workload-to-workload"` and `wimse-aud`; no `keyid`, no `alg`.
 * Requests also carry `accept`, `user-agent` and `x-request-id`, not covered. All kinds verify the same pre-built
 * requests, the i-th request of a block for each kind, and all check, besides the signature: the label chosen
 * by (or checked against) the tag, the five components covered, `created` / `expires` / `nonce` / `tag` present,
 * the times (5 s skew), and the body's `Content-Digest` (SHA-256 with Web Crypto). Nobody reads a body stream:
 * each gets the same pre-built 1 KiB Uint8Array.
 * - `floor`: one `crypto.subtle.verify` over a pre-encoded base of the same size, with an imported key, and one
 *   `crypto.subtle.digest('SHA-256')` of the body: the least any Web Crypto verifier does.
 * - `portcullis-core`: src/http-sig `verifyMessage` (select by tag, `now` given) on a Fetch `Request`, the five
 *   covered components checked on the result, then `checkDigestField` (RFC 9530, a Structured Fields parse)
 *   over the body: what a generic verifier built on the core does.
 * - `portcullis-wimse`: `verifyWimseSignature` (the whole -07 profile: also `wimse-aud`, the lifetime bound, the
 *   confirmation key taken from the WIT's `cnf.jwk` through the shared key-import cache, and the nonce recorded
 *   in a memory replay store; each request is verified once, so every nonce is fresh).
 * - `http-message-sig` (Cloudflare web-bot-auth's core): `verifySignature` on the same `Request`, with a policy
 *   (algorithm, required components and parameters, clock skew) and `resolveVerifier` returning a verifier made
 *   once: `webcrypto.verifier(key)` for Ed25519; for ES256, which its Web Crypto helper does not offer, a
 *   `Verifier` object of ours calling `crypto.subtle.verify` the same way. It selects by label (the one
 *   signature), so the tag is checked in `resolveVerifier`.
 * - `http-message-signatures`: `httpbis.verifyMessage` on a `{ method, url, headers }` record (its only input
 *   form; built before the timed loop, so the Request → record copy a server would make is not counted), with
 *   `requiredFields` / `requiredParams` / `tolerance`, and `keyLookup` returning a key whose verify function
 *   calls `crypto.subtle.verify` (its built-in verifiers use node:crypto; the tag is checked in `keyLookup`).
 *   Informative only: the same with its built-in node:crypto verifier (`createVerifier`), which is not Web
 *   Crypto and has no counterpart on Workers.
 * - The peers' Content-Digest check: Web Crypto SHA-256 of the body, base64, compared with the whole field
 *   value as a string (`sha-256=:…:`): cheaper than Portcullis's dictionary parse, so it favours the peers.
 * No kind except `portcullis-wimse` detects replays.
 *
 * Blocks of each kind alternate: a round is one block of every kind (both algorithms), the kinds' order rotating
 * every round, so drift hits all. Reported: the median time of each kind's blocks; ratios are the medians of
 * the per-round ratios (pairedRatio), less sensitive to load changing between rounds than a ratio of medians.
 * Exported for bench/run.ts; runs alone with `node bench/http-sig.ts`.
 */
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { verifySignature as hmsVerifySignature, webcrypto as hmsWebcrypto, type Verifier as HmsVerifier } from 'http-message-sig';
import { createVerifier as hmssCreateVerifier, httpbis as hmss, type VerifyingKey as HmssVerifyingKey } from 'http-message-signatures';
import type { JWK } from 'jose';
import { checkDigestField } from '../src/http-sig/content-digest.ts';
import { verifyMessage, type HttpSigAlgorithm } from '../src/http-sig/index.ts';
import { generateSigningKey } from '../src/mint/keys.ts';
import { createWimseSigner } from '../src/mint/wimse-signature.ts';
import { mintWit } from '../src/mint/wit.ts';
import { memoryReplayStore } from '../src/state/memory.ts';
import { verifyWimseSignature, WIMSE_SIGNATURE_TAG } from '../src/verify/wimse-signature.ts';
import { verifyWit } from '../src/verify/wit.ts';

/** The installed peer versions (package.json pins them exactly). */
const peerVersion = (name: string) => (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
export const HTTP_SIG_PEERS = { 'http-message-sig': peerVersion('http-message-sig'), 'http-message-signatures': peerVersion('http-message-signatures') } as const;

// 27 rounds of 100-request blocks rather than 9 of 300: the same 2700 requests per kind, but each round (one
// block of every kind) spans ~0.3 s instead of ~1 s, so load drift on a shared machine splits less between kinds.
const BLOCK = 100;
const BLOCKS = 27;
const SKEW = 5;
const COVERED = ['@method', '@path', '@query', 'content-type', 'content-digest'] as const;
const REQUIRED_PARAMS = ['created', 'expires', 'nonce', 'tag'] as const;
const URL_ = 'https://api.example.com/v1/tools/call?session=4f2a9c&trace=1';

export const KINDS = ['floor', 'portcullis-core', 'portcullis-wimse', 'http-message-sig', 'http-message-signatures', 'http-message-signatures (node:crypto)'] as const;
export type Kind = (typeof KINDS)[number];

export interface HttpSigCost {
  /** RFC 9421 name of the algorithm. */
  algorithm: 'ed25519' | 'ecdsa-p256-sha256';
  bodyBytes: number;
  baseBytes: number;
  /** Median microseconds per verification, by kind. */
  us: Record<Kind, number>;
  /** Microseconds per verification in each round (one block of every kind), by kind. */
  rounds: Record<Kind, number[]>;
}

/**
 * How many times `kind` takes `base`: the median of the per-round ratios (each round holds one block of both, close
 * in time), which cancels the load drift between rounds better than a ratio of the two medians.
 */
export function pairedRatio(cost: HttpSigCost, kind: Kind, base: Kind): number {
  return median(cost.rounds[kind].map((t, r) => t / cost.rounds[base][r]!));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A JSON body of exactly 1024 bytes. */
function body1k(): Uint8Array<ArrayBuffer> {
  const head = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"query":"';
  const tail = '"}}}';
  return new TextEncoder().encode(head + 'x'.repeat(1024 - head.length - tail.length) + tail);
}

interface Setup {
  algorithm: HttpSigCost['algorithm'];
  baseBytes: number;
  run: Record<Kind, (i: number) => Promise<void>>;
}

async function setup(jwsAlg: 'EdDSA' | 'ES256', count: number, body: Uint8Array<ArrayBuffer>): Promise<Setup> {
  const algorithm: HttpSigAlgorithm & HttpSigCost['algorithm'] = jwsAlg === 'EdDSA' ? 'ed25519' : 'ecdsa-p256-sha256';
  const importParams = jwsAlg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const verifyParams = jwsAlg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };

  const issuerKey = { ...(await generateSigningKey('ES256')), kid: 'bench-issuer' };
  const { d: _d, ...issuerPublic } = issuerKey;
  const minted = await mintWit({ issuerKey, subject: 'spiffe://example.org/bench-agent', confirmationAlgorithm: jwsAlg });
  const verifiedWit = await verifyWit(minted.wit, { keys: async () => issuerPublic, policy: { algorithms: ['ES256'], confirmationAlgorithms: [jwsAlg] }, now: Date.now });
  if (!verifiedWit.ok) throw new Error(`bench WIT: ${verifiedWit.code}`);
  const wit = verifiedWit.value;
  const { d: _cd, ...cnf } = minted.key as JWK & { d?: string };
  const key = await crypto.subtle.importKey('jwk', cnf as JsonWebKey, importParams, false, ['verify']);
  const nodeKey = createPublicKey({ key: cnf as NodeJwk, format: 'jwk' });

  // The requests, signed once; every kind gets the same pre-built objects.
  const sign = await createWimseSigner(minted.wit, minted.key);
  const headerBase = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'portcullis-bench/1', 'x-request-id': '' };
  const requests: Request[] = [];
  const records: { method: string; url: string; headers: Record<string, string> }[] = [];
  for (let i = 0; i < count; i++) {
    const headers: Record<string, string> = { ...headerBase, 'x-request-id': `req-${i}` };
    const fields = await sign({ method: 'POST', url: URL_, headers }, { body, ttlSeconds: 300 });
    Object.assign(headers, { 'content-digest': fields['content-digest']!, 'signature-input': fields['signature-input'], signature: fields.signature });
    requests.push(new Request(URL_, { method: 'POST', headers, body }));
    records.push({ method: 'POST', url: URL_, headers });
  }

  // The floor's inputs: a base of the same size, signed with the same kind of key.
  const first = await verifyMessage(requests[0]!, { algorithm, key, select: { tag: WIMSE_SIGNATURE_TAG } });
  if (!first.ok) throw new Error(`bench request does not verify: ${first.code} ${first.detail}`);
  const floorPair = (await crypto.subtle.generateKey(importParams as EcKeyGenParams, false, ['sign', 'verify'])) as CryptoKeyPair;
  const floorBase = new TextEncoder().encode(first.value.base);
  const floorSignature = await crypto.subtle.sign(verifyParams, floorPair.privateKey, floorBase);

  const peerDigest = async (field: string | null | undefined) => {
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', body)).toString('base64');
    if (field !== `sha-256=:${digest}:`) throw new Error('peer: Content-Digest mismatch');
  };

  const hmsVerifier: HmsVerifier = jwsAlg === 'EdDSA'
    ? hmsWebcrypto.verifier(key)
    : { algorithm, verify: (data, signature) => crypto.subtle.verify(verifyParams, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>) };
  const hmsPolicy = { algorithms: [algorithm], requiredComponents: [...COVERED], requiredParameters: [...REQUIRED_PARAMS], clockSkew: SKEW };

  const hmssKey: HmssVerifyingKey = {
    algs: [algorithm],
    verify: async (data, signature) => crypto.subtle.verify(verifyParams, key, signature as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>),
  };
  const hmssNodeKey: HmssVerifyingKey = { algs: [algorithm], verify: hmssCreateVerifier(nodeKey, algorithm) };
  const hmssConfig = (k: HmssVerifyingKey) => ({
    keyLookup: async (params: { tag?: string }) => (params.tag === WIMSE_SIGNATURE_TAG ? k : null),
    requiredFields: [...COVERED],
    requiredParams: [...REQUIRED_PARAMS],
    tolerance: SKEW,
  });
  const hmssWebConfig = hmssConfig(hmssKey);
  const hmssNodeConfig = hmssConfig(hmssNodeKey);

  const replay = memoryReplayStore();
  const audience = 'https://api.example.com/v1/tools/call';

  const run: Record<Kind, (i: number) => Promise<void>> = {
    floor: async () => {
      if (!(await crypto.subtle.verify(verifyParams, floorPair.publicKey, floorSignature, floorBase))) throw new Error('floor verify');
      await crypto.subtle.digest('SHA-256', body);
    },
    'portcullis-core': async (i) => {
      const request = requests[i]!;
      const verified = await verifyMessage(request, { algorithm, key, now: Date.now() / 1000, clockSkewSeconds: SKEW, select: { tag: WIMSE_SIGNATURE_TAG } });
      if (!verified.ok) throw new Error(`portcullis-core: ${verified.code} ${verified.detail}`);
      const { components, metadata } = verified.value.signature;
      for (const name of COVERED) if (!components.some((c) => c.name === name && c.params.size === 0)) throw new Error(`portcullis-core: ${name} not covered`);
      if (metadata.created === undefined || metadata.expires === undefined || metadata.nonce === undefined) throw new Error('portcullis-core: parameter missing');
      const digest = await checkDigestField(request.headers.get('content-digest') ?? '', body);
      if (!digest.ok) throw new Error(`portcullis-core: ${digest.code}`);
    },
    'portcullis-wimse': async (i) => {
      const verified = await verifyWimseSignature({ wit, message: requests[i]!, body, audience, replay, now: Date.now, policy: { clockSkewSeconds: SKEW } });
      if (!verified.ok) throw new Error(`portcullis-wimse: ${verified.code} ${verified.detail}`);
    },
    'http-message-sig': async (i) => {
      const request = requests[i]!;
      await hmsVerifySignature(request, {
        policy: hmsPolicy,
        resolveVerifier: (candidate) => {
          if (candidate.parameters.tag !== WIMSE_SIGNATURE_TAG) throw new Error('http-message-sig: wrong tag');
          return hmsVerifier;
        },
      });
      await peerDigest(request.headers.get('content-digest'));
    },
    'http-message-signatures': async (i) => {
      const record = records[i]!;
      if ((await hmss.verifyMessage(hmssWebConfig, record)) !== true) throw new Error('http-message-signatures: not verified');
      await peerDigest(record.headers['content-digest']);
    },
    'http-message-signatures (node:crypto)': async (i) => {
      const record = records[i]!;
      if ((await hmss.verifyMessage(hmssNodeConfig, record)) !== true) throw new Error('http-message-signatures (node:crypto): not verified');
      await peerDigest(record.headers['content-digest']);
    },
  };

  // Every kind must refuse a tampered signature, or its timing means nothing.
  const tampered = records[0]!.headers.signature!.replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`);
  const badHeaders = { ...records[0]!.headers, signature: tampered };
  const badRequest = new Request(URL_, { method: 'POST', headers: badHeaders, body });
  const refused = async (name: string, attempt: () => Promise<unknown>) => {
    let accepted: boolean;
    try {
      const result = await attempt();
      accepted = result === true || (typeof result === 'object' && result !== null && (result as { ok?: boolean }).ok !== false);
    } catch {
      accepted = false;
    }
    if (accepted) throw new Error(`${name} accepted a tampered signature`);
  };
  await refused('portcullis-core', () => verifyMessage(badRequest, { algorithm, key, select: { tag: WIMSE_SIGNATURE_TAG } }));
  await refused('portcullis-wimse', () => verifyWimseSignature({ wit, message: badRequest, body, audience, replay: memoryReplayStore(), now: Date.now }));
  await refused('http-message-sig', () => hmsVerifySignature(badRequest, { policy: hmsPolicy, resolveVerifier: () => hmsVerifier }));
  await refused('http-message-signatures', () => hmss.verifyMessage(hmssWebConfig, { ...records[0]!, headers: badHeaders }));
  await refused('http-message-signatures (node:crypto)', () => hmss.verifyMessage(hmssNodeConfig, { ...records[0]!, headers: badHeaders }));

  return { algorithm, baseBytes: floorBase.byteLength, run };
}

export async function measureHttpSigCost(): Promise<HttpSigCost[]> {
  const body = body1k();
  const count = BLOCK * (BLOCKS + 1);
  const setups = [await setup('EdDSA', count, body), await setup('ES256', count, body)];
  const times = setups.map(() => Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<Kind, number[]>);

  // Warm-up block (JIT, key-import cache), on request indices 0..BLOCK-1; the timed blocks use the rest.
  for (const s of setups) for (const kind of KINDS) for (let i = 0; i < BLOCK; i++) await s.run[kind](i);
  // A round is one block of every kind (order rotating per round), each block on the same request indices.
  for (let b = 0; b < BLOCKS; b++) {
    const offset = BLOCK * (b + 1);
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(k + b) % KINDS.length]!;
      for (let a = 0; a < setups.length; a++) {
        const run = setups[a]!.run[kind];
        const t = performance.now();
        for (let i = 0; i < BLOCK; i++) await run(offset + i);
        times[a]![kind].push(((performance.now() - t) * 1000) / BLOCK);
      }
    }
  }
  return setups.map((s, a) => ({
    algorithm: s.algorithm,
    bodyBytes: body.byteLength,
    baseBytes: s.baseBytes,
    us: Object.fromEntries(KINDS.map((k) => [k, median(times[a]![k])])) as Record<Kind, number>,
    rounds: times[a]!,
  }));
}

/** The RESULTS.md bullet lines, with PASS/FAIL against the targets: <= 1.3x the floor, faster than both peers. */
export function httpSigCostLines(costs: HttpSigCost[]): string[] {
  const x = (n: number) => `${n.toFixed(2)}x`;
  const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const us = (n: number) => `${n.toFixed(0)} us`;
  const [hms, hmss] = ['http-message-sig', 'http-message-signatures'] as const;
  return costs.flatMap((c) => {
    const r = (kind: Kind, base: Kind) => pairedRatio(c, kind, base);
    const line = (kind: 'portcullis-core' | 'portcullis-wimse', what: string) => {
      const floor = r(kind, 'floor');
      const peers = [r(kind, hms), r(kind, hmss)];
      return `  - ${kind} (${what}): ${us(c.us[kind])}, **${x(floor)} the floor**: ${pass(floor <= 1.3)} (target <= 1.3x); ` +
        `**${x(peers[0]!)}** ${hms} ${HTTP_SIG_PEERS[hms]}, **${x(peers[1]!)}** ${hmss} ${HTTP_SIG_PEERS[hmss]}: ${pass(peers.every((p) => p < 1))} (target < 1x both)`;
    };
    return [
      `- HTTP signature verification, ${c.algorithm}, POST with a ${c.bodyBytes}-byte body, base ${c.baseBytes} bytes (in-process, Node, ${c.rounds.floor.length} rounds of one ${BLOCK}-request block per kind; medians; ratios are medians of per-round ratios): floor (1 verify + 1 digest, Web Crypto) ${us(c.us.floor)}`,
      line('portcullis-core', 'verifyMessage by tag + checkDigestField'),
      line('portcullis-wimse', 'verifyWimseSignature: also wimse-aud, lifetime, cnf key cache, replay store'),
      `  - peers, each + the same Web Crypto Content-Digest check: ${hms} ${us(c.us[hms])} (${x(r(hms, 'floor'))} the floor), ${hmss} ${us(c.us[hmss])} (${x(r(hmss, 'floor'))}); informative: ${hmss} with its node:crypto verifier ${us(c.us['http-message-signatures (node:crypto)'])} (${x(r('http-message-signatures (node:crypto)', 'floor'))} the Web Crypto floor)`,
    ];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const costs = await measureHttpSigCost();
  for (const c of costs) console.log(`${c.algorithm}: ${KINDS.map((k) => `${k} ${c.us[k].toFixed(1)} us`).join('; ')}`);
  console.log(httpSigCostLines(costs).join('\n'));
}
