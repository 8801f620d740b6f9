/**
 * The shared, rotating Txn-Token signing keys (src/txn/key-ring.ts): rotation by period, what is published when,
 * convergence of isolates sharing one cache (including a generate-if-absent race), and the per-isolate memo.
 */
import { calculateJwkThumbprint, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { MIN_TXN_KEY_ROTATION_MS, TXN_KEY_RING_REREAD_MS } from '../../../src/limits.ts';
import { mintTxnToken } from '../../../src/mint/txn-token.ts';
import { memoryCache } from '../../../src/state/memory.ts';
import type { Cache } from '../../../src/state/ports.ts';
import { TXN_KEY_RING_CACHE_KEY, txnKeyRing } from '../../../src/txn/key-ring.ts';
import { verifyTxnToken } from '../../../src/verify/txn-token.ts';

const ROTATION = MIN_TXN_KEY_ROTATION_MS;
/** The start of a period. */
const T0 = Math.ceil(1_800_000_000_000 / ROTATION) * ROTATION;

function clock(start = T0) {
  const c = { now: start };
  return { c, now: () => c.now };
}

/** A cache that counts reads and writes. */
function counting(inner: Cache) {
  const counts = { get: 0, set: 0 };
  const cache: Cache = {
    get: (key) => (counts.get++, inner.get(key)),
    set: (key, value, ttl) => (counts.set++, inner.set(key, value, ttl)),
    delete: (key) => inner.delete(key),
  };
  return { cache, counts };
}

const kids = (keys: { kid: string }[]) => keys.map((k) => k.kid);

describe('txnKeyRing', () => {
  it('generates an ES256 key whose kid is its RFC 7638 thumbprint, and publishes only its public half with alg and use sig', async () => {
    const { now } = clock();
    const ring = txnKeyRing(memoryCache({ now }), { now, rotationMs: ROTATION });
    const signing = await ring.signingKey();
    expect(signing.alg).toBe('ES256');
    expect(signing.key.type).toBe('private');
    expect(signing.key.extractable).toBe(false);
    const published = await ring.publicKeys();
    expect(published).toHaveLength(1);
    const [jwk] = published;
    expect(Object.keys(jwk!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: signing.kid });
    expect(await calculateJwkThumbprint(jwk as JWK)).toBe(signing.kid);
  });

  it('hot path: no cache round trip within the re-read interval; one read after it', async () => {
    const { c, now } = clock();
    const { cache, counts } = counting(memoryCache({ now }));
    const ring = txnKeyRing(cache, { now, rotationMs: ROTATION });
    const first = await ring.signingKey();
    const after = { ...counts };
    for (let i = 0; i < 50; i++) expect(await ring.signingKey()).toBe(first);
    expect(counts).toEqual(after);
    c.now += TXN_KEY_RING_REREAD_MS;
    expect((await ring.signingKey()).kid).toBe(first.kid);
    expect(counts.get).toBe(after.get + 1);
    expect(counts.set).toBe(after.set);
  });

  it('rotates each period; publishes the previous key through the next period, then drops it', async () => {
    const { c, now } = clock();
    const ring = txnKeyRing(memoryCache({ now }), { now, rotationMs: ROTATION });
    const k0 = (await ring.signingKey()).kid;
    c.now = T0 + ROTATION;
    const k1 = (await ring.signingKey()).kid;
    expect(k1).not.toBe(k0);
    expect(kids(await ring.publicKeys())).toEqual([k0, k1]);
    c.now = T0 + 2 * ROTATION;
    const k2 = (await ring.signingKey()).kid;
    expect(kids(await ring.publicKeys())).toEqual([k1, k2]);
  });

  it('pre-generates and publishes the next period\'s key from mid-period, and signs with it after the rotation', async () => {
    const { c, now } = clock();
    const ring = txnKeyRing(memoryCache({ now }), { now, rotationMs: ROTATION });
    const k0 = (await ring.signingKey()).kid;
    expect(kids(await ring.publicKeys())).toEqual([k0]);
    c.now = T0 + ROTATION / 2;
    const published = kids(await ring.publicKeys());
    expect(published).toHaveLength(2);
    expect(published[0]).toBe(k0);
    expect((await ring.signingKey()).kid).toBe(k0);
    c.now = T0 + ROTATION;
    expect((await ring.signingKey()).kid).toBe(published[1]);
  });

  it('a token signed just before a rotation still verifies against the published keys after it', async () => {
    const { c, now } = clock(T0 + ROTATION - 1000);
    const ring = txnKeyRing(memoryCache({ now }), { now, rotationMs: ROTATION });
    const token = await mintTxnToken({ aud: 'td', sub: 's', scope: 'x', req_wl: 'gw' }, { key: await ring.signingKey(), now, lifetimeSeconds: 600 });
    c.now = T0 + ROTATION + 500_000;
    const published = await ring.publicKeys();
    const result = await verifyTxnToken(token, { keys: async (kid) => published.find((k) => k.kid === kid), audience: 'td', now });
    expect(result.ok).toBe(true);
  });

  it('isolates sharing one cache sign with the same key; the ring holds private JWKs under one key', async () => {
    const { now } = clock();
    const cache = memoryCache({ now });
    const a = txnKeyRing(cache, { now, rotationMs: ROTATION });
    const b = txnKeyRing(cache, { now, rotationMs: ROTATION });
    const ka = await a.signingKey();
    expect((await b.signingKey()).kid).toBe(ka.kid);
    const stored = (await cache.get<{ keys: { period: number; jwk: JWK }[] }>(TXN_KEY_RING_CACHE_KEY))!;
    expect(stored.keys).toHaveLength(1);
    expect(stored.keys[0]!.jwk).toMatchObject({ kid: ka.kid, alg: 'ES256', d: expect.any(String) });
    expect(stored.keys[0]!.period).toBe(T0 / ROTATION);
  });

  it('a generate-if-absent race converges on the stored key, and the loser\'s key stays published', async () => {
    const { c, now } = clock();
    const cache = memoryCache({ now });
    const a = txnKeyRing(cache, { now, rotationMs: ROTATION });
    const b = txnKeyRing(cache, { now, rotationMs: ROTATION });
    // Both find the ring empty at once: each generates, writes and reads back.
    const [ka, kb] = await Promise.all([a.signingKey(), b.signingKey()]);
    c.now += TXN_KEY_RING_REREAD_MS;
    const [ka2, kb2] = await Promise.all([a.signingKey(), b.signingKey()]);
    expect(ka2.kid).toBe(kb2.kid);
    // Every key that signed anything is still published.
    const published = kids(await a.publicKeys());
    expect(published).toEqual(expect.arrayContaining([ka.kid, kb.kid]));
    expect(kids(await b.publicKeys()).sort()).toEqual([...published].sort());
  });

  it('replaces a corrupt stored ring, and refuses to sign when the cache fails (a key no other isolate could publish)', async () => {
    const { now } = clock();
    const cache = memoryCache({ now });
    await cache.set(TXN_KEY_RING_CACHE_KEY, { keys: [{ period: T0 / ROTATION, jwk: { kty: 'oct', k: 'AAAA' } }, 'junk'] }, 60_000);
    const ring = txnKeyRing(cache, { now, rotationMs: ROTATION });
    const k = await ring.signingKey();
    expect(kids(await ring.publicKeys())).toEqual([k.kid]);
    const broken: Cache = { get: async () => { throw new Error('down'); }, set: async () => { throw new Error('down'); }, delete: async () => {} };
    const lone = txnKeyRing(broken, { now, rotationMs: ROTATION });
    await expect(lone.signingKey()).rejects.toThrow('down');
    await expect(lone.publicKeys()).rejects.toThrow('down');
  });

  it('refuses a rotation period shorter than the longest token plus skew', () => {
    const { now } = clock();
    expect(() => txnKeyRing(memoryCache({ now }), { now, rotationMs: ROTATION - 1 })).toThrow(RangeError);
  });
});
