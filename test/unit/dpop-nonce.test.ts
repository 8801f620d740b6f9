/**
 * Server-issued DPoP nonces (src/gateway/dpop-nonce.ts, RFC 9449 §9): the current and previous period's nonce are
 * accepted, rotation follows the injected clock, and isolates sharing one cache agree on the nonces.
 */
import { describe, expect, it } from 'vitest';
import { dpopNonces } from '../../src/gateway/dpop-nonce.ts';
import { memoryCache } from '../../src/state/memory.ts';
import type { Cache } from '../../src/state/ports.ts';

const PERIOD = 60_000;
const T0 = 1_800_000_000_000;

function clock(start = T0) {
  const c = { now: start };
  return { c, now: () => c.now };
}

describe('dpopNonces', () => {
  it('hands out a base64url HMAC nonce and accepts the current and previous period', async () => {
    const { c, now } = clock();
    const nonces = dpopNonces(memoryCache({ now }), now, PERIOD);
    const first = await nonces.current();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await nonces.current()).toBe(first);
    expect((await nonces.accepted())[0]).toBe(first);

    c.now += PERIOD; // the next period: a new current nonce, the old one still accepted
    const second = await nonces.current();
    expect(second).not.toBe(first);
    expect(await nonces.accepted()).toEqual([second, first]);

    c.now += PERIOD; // two periods on: the first is no longer accepted
    const third = await nonces.current();
    expect(await nonces.accepted()).toEqual([third, second]);
    expect(await nonces.accepted()).not.toContain(first);
  });

  it('two instances sharing one cache agree (the secret is shared, not per instance)', async () => {
    const { c, now } = clock();
    const cache = memoryCache({ now });
    const a = dpopNonces(cache, now, PERIOD);
    const b = dpopNonces(cache, now, PERIOD);
    expect(await a.current()).toBe(await b.current());
    c.now += PERIOD;
    expect(await b.accepted()).toEqual(await a.accepted());
    // An instance with its own cache has its own secret.
    expect(await dpopNonces(memoryCache({ now }), now, PERIOD).current()).not.toBe(await a.current());
  });

  it('two instances starting at once converge on one stored secret', async () => {
    const { now } = clock();
    const cache = memoryCache({ now });
    const [x, y] = await Promise.all([dpopNonces(cache, now, PERIOD).current(), dpopNonces(cache, now, PERIOD).current()]);
    const z = await dpopNonces(cache, now, PERIOD).current();
    expect(z).toBe(y);
    expect([x, y]).toContain(z);
  });

  it('an instance re-reads the shared secret: after it expired and another instance stored a new one, both agree', async () => {
    const { c, now } = clock();
    const cache = memoryCache({ now });
    const a = dpopNonces(cache, now, PERIOD);
    await a.current();
    c.now += 31 * 24 * 60 * 60_000; // past the secret's TTL in the shared cache
    const b = dpopNonces(cache, now, PERIOD);
    expect(await a.current()).toBe(await b.current());
    expect(await a.accepted()).toEqual(await b.accepted());
  });

  it('a cache that fails still yields working nonces (per instance), and a junk stored value is replaced', async () => {
    const { now } = clock();
    const broken: Cache = { get: () => Promise.reject(new Error('down')), set: () => Promise.reject(new Error('down')), delete: async () => {} };
    const nonces = dpopNonces(broken, now, PERIOD);
    expect(await nonces.current()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cache = memoryCache({ now });
    await cache.set('dpop-nonce-secret:v1', '!!not base64url!!', 60_000);
    const fromJunk = dpopNonces(cache, now, PERIOD);
    expect(await fromJunk.current()).toBe(await dpopNonces(cache, now, PERIOD).current());
  });
});
