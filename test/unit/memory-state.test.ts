import { describe, expect, it } from 'vitest';
import { ExpiringMap, memoryCache, memoryReplayStore, memoryRevocationStore } from '../../src/state/memory.ts';

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('memory replay store', () => {
  it('accepts a key once until it expires', async () => {
    const c = clock();
    const replay = memoryReplayStore({ now: c.now });
    expect(await replay.checkAndSet('k', 100)).toBe(true);
    expect(await replay.checkAndSet('k', 100)).toBe(false);
    c.advance(99);
    expect(await replay.checkAndSet('k', 100)).toBe(false);
    c.advance(1);
    expect(await replay.checkAndSet('k', 100)).toBe(true);
  });

  it('admits exactly one of many concurrent uses of one key', async () => {
    const replay = memoryReplayStore();
    const results = await Promise.all(Array.from({ length: 50 }, () => replay.checkAndSet('same', 1000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('memory revocation store', () => {
  it('records, expires and restores revocations', async () => {
    const c = clock();
    const store = memoryRevocationStore({ now: c.now });
    expect(await store.get('spiffe://td/a')).toBeNull();
    await store.revoke('spiffe://td/a', { reason: 'session-revoked', revokedAt: 5 }, 50);
    expect(await store.get('spiffe://td/a')).toEqual({ reason: 'session-revoked', revokedAt: 5 });
    await store.restore('spiffe://td/a');
    expect(await store.get('spiffe://td/a')).toBeNull();
    await store.revoke('spiffe://td/b', { reason: 'x', revokedAt: 5 }, 50);
    c.advance(50);
    expect(await store.get('spiffe://td/b')).toBeNull();
  });
});

describe('memory cache', () => {
  it('gets, expires and deletes values', async () => {
    const c = clock();
    const cache = memoryCache({ now: c.now });
    await cache.set('a', { n: 1 }, 10);
    expect(await cache.get('a')).toEqual({ n: 1 });
    await cache.delete('a');
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('b', 2, 10);
    c.advance(10);
    expect(await cache.get('b')).toBeUndefined();
  });
});

describe('ExpiringMap', () => {
  it('stays within its bound by evicting the oldest insertions', () => {
    const map = new ExpiringMap<number>({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) map.set(`k${i}`, i, 1000);
    expect(map.size).toBe(3);
    expect(map.get('k0')).toBeUndefined();
    expect(map.get('k1')).toBeUndefined();
    expect(map.get('k4')).toBe(4);
  });
});
