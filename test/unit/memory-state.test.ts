import { describe, expect, it } from 'vitest';
import { MAX_STATE_KEY_LENGTH } from '../../src/limits.ts';
import { memoryCache, memoryReplayStore, memoryRevocationStore, StateFullError } from '../../src/state/memory.ts';

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

describe('bounded memory state', () => {
  it('makes room by dropping expired entries first', async () => {
    const c = clock();
    const replay = memoryReplayStore({ maxEntries: 2, now: c.now });
    expect(await replay.checkAndSet('a', 10)).toBe(true);
    expect(await replay.checkAndSet('b', 10)).toBe(true);
    c.advance(10);
    expect(await replay.checkAndSet('c', 10)).toBe(true);
    expect(await replay.checkAndSet('d', 10)).toBe(true);
  });

  it('refuses a new replay marker rather than forget a live one (fails closed)', async () => {
    const replay = memoryReplayStore({ maxEntries: 2 });
    await replay.checkAndSet('a', 60_000);
    await replay.checkAndSet('b', 60_000);
    await expect(replay.checkAndSet('c', 60_000)).rejects.toBeInstanceOf(StateFullError);
    expect(await replay.checkAndSet('a', 60_000)).toBe(false); // still remembered
  });

  it('refuses a new revocation rather than forget a live one', async () => {
    const store = memoryRevocationStore({ maxEntries: 1 });
    await store.revoke('s1', { reason: 'r', revokedAt: 1 }, 60_000);
    await expect(store.revoke('s2', { reason: 'r', revokedAt: 1 }, 60_000)).rejects.toThrow('revocation store full');
    expect(await store.get('s1')).not.toBeNull();
  });

  it('lets the cache drop its oldest live entries', async () => {
    const cache = memoryCache({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) await cache.set(`k${i}`, i, 60_000);
    expect(await cache.get('k0')).toBeUndefined();
    expect(await cache.get('k1')).toBeUndefined();
    expect(await cache.get('k4')).toBe(4);
  });

  it('refuses TTLs that would disable expiry or replay detection, and unbounded keys', async () => {
    const replay = memoryReplayStore();
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) await expect(replay.checkAndSet('k', ttl), String(ttl)).rejects.toBeInstanceOf(RangeError);
    await expect(replay.checkAndSet('k'.repeat(MAX_STATE_KEY_LENGTH + 1), 10)).rejects.toBeInstanceOf(RangeError);
    await expect(replay.checkAndSet('', 10)).rejects.toBeInstanceOf(RangeError);
  });
});
