import { describe, expect, it } from 'vitest';
import { MAX_REPLAY_MARKERS_PER_PARTITION, MAX_STATE_KEY_LENGTH } from '../../src/limits.ts';
import { memoryCache, memoryReplayStore, memoryRevocationStore, ReplayQuotaExceededError, StateFullError } from '../../src/state/memory.ts';

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

describe('memory replay store: quota per partition', () => {
  const quotaError = { name: 'ReplayQuotaExceededError', message: 'replay quota exceeded: the partition holds 2 live markers' };

  it('refuses a partition at its quota with a distinct error while other partitions go on', async () => {
    const replay = memoryReplayStore({ maxMarkersPerPartition: 2 });
    expect(await replay.checkAndSet('a1', 60_000, 'A')).toBe(true);
    expect(await replay.checkAndSet('a2', 60_000, 'A')).toBe(true);
    const refused = replay.checkAndSet('a3', 60_000, 'A');
    await expect(refused).rejects.toBeInstanceOf(ReplayQuotaExceededError);
    await expect(refused).rejects.toBeInstanceOf(StateFullError); // handled wherever a full store is
    await expect(refused).rejects.toMatchObject(quotaError);
    expect(await replay.checkAndSet('b1', 60_000, 'B')).toBe(true);
    expect(await replay.checkAndSet('b2', 60_000, 'B')).toBe(true);
    expect(await replay.checkAndSet('u1', 60_000)).toBe(true); // no partition: only the global bound applies
    await expect(replay.checkAndSet('a3', 60_000, 'A')).rejects.toMatchObject(quotaError); // a refusal records nothing
  });

  it('still detects replays in a partition at its quota, whatever partition comes with the key', async () => {
    const replay = memoryReplayStore({ maxMarkersPerPartition: 2 });
    await replay.checkAndSet('a1', 60_000, 'A');
    await replay.checkAndSet('a2', 60_000, 'A');
    expect(await replay.checkAndSet('a1', 60_000, 'A')).toBe(false);
    expect(await replay.checkAndSet('a2', 60_000, 'B')).toBe(false);
    expect(await replay.checkAndSet('a2', 60_000)).toBe(false);
  });

  it('frees quota as markers expire, in expiry order rather than insertion order', async () => {
    const c = clock();
    const replay = memoryReplayStore({ maxMarkersPerPartition: 3, now: c.now });
    expect(await replay.checkAndSet('k300', 300, 'A')).toBe(true);
    expect(await replay.checkAndSet('k100', 100, 'A')).toBe(true);
    expect(await replay.checkAndSet('k200', 200, 'A')).toBe(true);
    await expect(replay.checkAndSet('x', 1_000, 'A')).rejects.toBeInstanceOf(ReplayQuotaExceededError);
    c.advance(99);
    await expect(replay.checkAndSet('x', 1_000, 'A')).rejects.toBeInstanceOf(ReplayQuotaExceededError);
    c.advance(1); // k100 expired, the others live
    expect(await replay.checkAndSet('x', 1_000, 'A')).toBe(true);
    await expect(replay.checkAndSet('y', 1_000, 'A')).rejects.toBeInstanceOf(ReplayQuotaExceededError);
    expect(await replay.checkAndSet('k200', 1_000, 'A')).toBe(false); // the expired one did not take a live one along
    c.advance(200); // k200 and k300 expired
    expect(await replay.checkAndSet('y', 1_000, 'A')).toBe(true);
    expect(await replay.checkAndSet('z', 1_000, 'A')).toBe(true);
    await expect(replay.checkAndSet('w', 1_000, 'A')).rejects.toBeInstanceOf(ReplayQuotaExceededError);
  });

  it('counts exactly the live markers of each partition under random TTLs and clock steps', async () => {
    const c = clock();
    const quota = 5;
    const replay = memoryReplayStore({ maxMarkersPerPartition: quota, now: c.now });
    const model = new Map<string, number[]>(); // partition -> expiry times
    let seed = 42;
    const random = (n: number) => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) % n);
    for (let i = 0; i < 2_000; i++) {
      c.advance(random(20));
      const partition = `p${random(3)}`;
      const ttl = 1 + random(200);
      const liveExpiries = (model.get(partition) ?? []).filter((at) => at > c.now());
      const attempt = replay.checkAndSet(`k${i}`, ttl, partition);
      if (liveExpiries.length < quota) {
        expect(await attempt, `step ${i}`).toBe(true);
        liveExpiries.push(c.now() + ttl);
      } else {
        await expect(attempt, `step ${i}`).rejects.toBeInstanceOf(ReplayQuotaExceededError);
      }
      model.set(partition, liveExpiries);
    }
  });

  it('keeps the global bound: a partition under its quota is refused when the store is full', async () => {
    const replay = memoryReplayStore({ maxEntries: 3, maxMarkersPerPartition: 2 });
    await replay.checkAndSet('a1', 60_000, 'A');
    await replay.checkAndSet('a2', 60_000, 'A');
    expect(await replay.checkAndSet('b1', 60_000, 'B')).toBe(true);
    await expect(replay.checkAndSet('b2', 60_000, 'B')).rejects.toMatchObject({ name: 'StateFullError', message: 'replay store full of live markers' });
    await expect(replay.checkAndSet('b2', 60_000, 'B')).rejects.not.toBeInstanceOf(ReplayQuotaExceededError);
    await expect(replay.checkAndSet('c1', 60_000, 'C')).rejects.toMatchObject({ name: 'StateFullError' });
    expect(await replay.checkAndSet('b1', 60_000, 'B')).toBe(false);
  });

  it('defaults to MAX_REPLAY_MARKERS_PER_PARTITION, half of the store, scaled with a custom size', async () => {
    expect(MAX_REPLAY_MARKERS_PER_PARTITION).toBe(50_000);
    const replay = memoryReplayStore();
    const filled = await Promise.all(Array.from({ length: MAX_REPLAY_MARKERS_PER_PARTITION }, (_, i) => replay.checkAndSet(`a${i}`, 60_000, 'A')));
    expect(filled.every((fresh) => fresh)).toBe(true);
    await expect(replay.checkAndSet('one-more', 60_000, 'A')).rejects.toMatchObject({ name: 'ReplayQuotaExceededError' });
    expect(await replay.checkAndSet('b0', 60_000, 'B')).toBe(true);

    const small = memoryReplayStore({ maxEntries: 6 });
    for (let i = 0; i < 3; i++) expect(await small.checkAndSet(`a${i}`, 60_000, 'A')).toBe(true);
    await expect(small.checkAndSet('a3', 60_000, 'A')).rejects.toBeInstanceOf(ReplayQuotaExceededError);
    expect(await memoryReplayStore({ maxEntries: 1 }).checkAndSet('a0', 60_000, 'A')).toBe(true); // at least one
  });

  it('refuses partitions that are not state keys, and a quota that is not a positive integer', async () => {
    const replay = memoryReplayStore();
    await expect(replay.checkAndSet('k', 10, '')).rejects.toBeInstanceOf(RangeError);
    await expect(replay.checkAndSet('k', 10, 'p'.repeat(MAX_STATE_KEY_LENGTH + 1))).rejects.toBeInstanceOf(RangeError);
    expect(await replay.checkAndSet('k', 10, 'p'.repeat(MAX_STATE_KEY_LENGTH))).toBe(true);
    for (const quota of [0, -1, 1.5, Number.NaN]) expect(() => memoryReplayStore({ maxMarkersPerPartition: quota }), String(quota)).toThrow(RangeError);
  });
});
