/** Legacy MCP session binding (src/protocols/mcp-session.ts) over the in-memory cache with an injected clock. */
import { describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import type { Principal } from '../../../src/identity/principal.ts';
import { sessionBinding, sessionOwner } from '../../../src/protocols/mcp-session.ts';
import { memoryState } from '../../../src/state/memory.ts';
import type { Cache } from '../../../src/state/ports.ts';

function clockedCache() {
  let now = 1_000_000;
  const state = memoryState({ now: () => now });
  return { cache: state.cache, advance: (ms: number) => (now += ms) };
}

/** A Cache that records the keys and values it is given. */
function spyCache(inner: Cache) {
  const keys: string[] = [];
  const values: unknown[] = [];
  const cache: Cache = {
    get: (key) => (keys.push(key), inner.get(key)),
    set: (key, value, ttl) => (keys.push(key), values.push(value), inner.set(key, value, ttl)),
    delete: (key) => (keys.push(key), inner.delete(key)),
  };
  return { cache, keys, values };
}

const base = { credential: 'wit+wpt', expiresAt: '2030-01-01T00:00:00Z', tokenHash: 'h' } as const;
const workload = (workloadId: string, trustDomain = 'spiffe://example.org'): Principal => ({ ...base, workloadId, trustDomain }) as Principal;
const withUser = (p: Principal, issuer: string, subject: string): Principal =>
  ({ ...p, user: { issuer, subject, clientId: 'c', scopes: [], token: 'jwt', tokenHash: 't', expiresAt: base.expiresAt } }) as Principal;

describe('sessionOwner', () => {
  it('is a base64url SHA-256, stable across credential renewals (token hash, key, expiry)', async () => {
    const a = await sessionOwner(workload('spiffe://example.org/agent'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const renewed = { ...workload('spiffe://example.org/agent'), tokenHash: 'other', keyThumbprint: 'k2', expiresAt: '2031-01-01T00:00:00Z', credential: 'jwt-svid' } as Principal;
    expect(await sessionOwner(renewed)).toBe(a);
  });

  it('differs by workload, trust domain, user issuer and user subject, and never is the raw id', async () => {
    const agent = workload('spiffe://example.org/agent');
    const owners = await Promise.all([
      sessionOwner(agent),
      sessionOwner(workload('spiffe://example.org/other')),
      sessionOwner(workload('spiffe://example.org/agent', 'spiffe://example.net')),
      sessionOwner(withUser(agent, 'https://as.example', 'alice')),
      sessionOwner(withUser(agent, 'https://as.example', 'bob')),
      sessionOwner(withUser(agent, 'https://other-as.example', 'alice')),
      sessionOwner({ ...base, credential: 'access-token', user: { issuer: 'https://as.example', subject: 'alice' } } as unknown as Principal),
    ]);
    expect(new Set(owners).size).toBe(owners.length);
    for (const owner of owners) expect(owner).not.toContain('example');
  });

  it('does not let field boundaries blur (issuer "a|b" + subject "c" vs "a" + "b|c")', async () => {
    const agent = workload('spiffe://example.org/agent');
    expect(await sessionOwner(withUser(agent, 'a|b', 'c'))).not.toBe(await sessionOwner(withUser(agent, 'a', 'b|c')));
  });

  it('binds a user without a subject (introspected, no sub nor client_id) to its token, not to every such token', async () => {
    const anonymous = (tokenHash: string) =>
      ({ ...base, credential: 'access-token', user: { issuer: 'https://as.example', subject: '', clientId: '', scopes: [], token: 'introspected', tokenHash, expiresAt: base.expiresAt } }) as unknown as Principal;
    expect(await sessionOwner(anonymous('token-1'))).not.toBe(await sessionOwner(anonymous('token-2')));
    expect(await sessionOwner(anonymous('token-1'))).toBe(await sessionOwner(anonymous('token-1')));
  });

  it('rejects a principal that names neither a workload nor a user', async () => {
    await expect(sessionOwner({ ...base } as unknown as Principal)).rejects.toThrow(TypeError);
  });
});

describe('sessionBinding', () => {
  it('binds, checks ok for the owner and foreign for anyone else, unknown for unbound ids', async () => {
    const { cache } = clockedCache();
    const sessions = sessionBinding(cache);
    await sessions.bind('sess-1', 'owner-a', 60_000);
    expect(await sessions.check('sess-1', 'owner-a')).toBe('ok');
    expect(await sessions.check('sess-1', 'owner-b')).toBe('foreign');
    expect(await sessions.check('sess-2', 'owner-a')).toBe('unknown');
  });

  it('expires after ttlMs; check refreshes nothing, a new bind by the owner does', async () => {
    const { cache, advance } = clockedCache();
    const sessions = sessionBinding(cache);
    await sessions.bind('s', 'a', 10_000);
    advance(9_000);
    expect(await sessions.check('s', 'a')).toBe('ok');
    advance(1_000);
    expect(await sessions.check('s', 'a')).toBe('unknown');
    await sessions.bind('s', 'a', 10_000);
    advance(9_000);
    await sessions.bind('s', 'a', 10_000);
    advance(9_000);
    expect(await sessions.check('s', 'a')).toBe('ok');
  });

  it('never lets a later owner take over a live binding; after expiry anyone may bind', async () => {
    const { cache, advance } = clockedCache();
    const sessions = sessionBinding(cache);
    await sessions.bind('s', 'a', 10_000);
    await sessions.bind('s', 'b', 10_000);
    expect(await sessions.check('s', 'a')).toBe('ok');
    expect(await sessions.check('s', 'b')).toBe('foreign');
    advance(10_000);
    await sessions.bind('s', 'b', 10_000);
    expect(await sessions.check('s', 'b')).toBe('ok');
  });

  it('end forgets the binding', async () => {
    const { cache } = clockedCache();
    const sessions = sessionBinding(cache);
    await sessions.bind('s', 'a', 10_000);
    await sessions.end('s');
    expect(await sessions.check('s', 'a')).toBe('unknown');
    await sessions.end('never-bound');
  });

  it('stores under mcp-session:<hash(sessionId)>, never the raw id, with the owner hash as the value', async () => {
    const { cache: inner } = clockedCache();
    const spy = spyCache(inner);
    const sessions = sessionBinding(spy.cache);
    const owner = await sessionOwner(workload('spiffe://example.org/agent'));
    await sessions.bind('raw-session-id', owner, 10_000);
    await sessions.check('raw-session-id', owner);
    await sessions.end('raw-session-id');
    const expected = `mcp-session:${await sha256b64url('raw-session-id')}`;
    expect(new Set(spy.keys)).toEqual(new Set([expected]));
    expect(spy.values).toEqual([{ owner }]);
  });

  it('keeps namespaces apart', async () => {
    const { cache: inner } = clockedCache();
    const spy = spyCache(inner);
    const one = sessionBinding(spy.cache, { namespace: 'route-1' });
    const two = sessionBinding(spy.cache, { namespace: 'route-2' });
    await one.bind('s', 'a', 10_000);
    expect(await one.check('s', 'a')).toBe('ok');
    expect(await two.check('s', 'a')).toBe('unknown');
    expect(await sessionBinding(spy.cache).check('s', 'a')).toBe('unknown');
    expect(spy.keys[0]).toBe(`mcp-session:route-1:${await sha256b64url('s')}`);
  });

  it('treats a stored value of the wrong shape as foreign (fail closed) and does not overwrite it', async () => {
    const { cache } = clockedCache();
    const sessions = sessionBinding(cache);
    const key = `mcp-session:${await sha256b64url('s')}`;
    for (const value of ['a', null, { owner: 7 }, []]) {
      await cache.set(key, value, 10_000);
      expect(await sessions.check('s', 'a')).toBe('foreign');
      await sessions.bind('s', 'a', 10_000);
      expect(await sessions.check('s', 'a')).toBe('foreign');
    }
  });

  it('refuses bad arguments: empty ids or owners, non-positive TTLs, bad namespaces', async () => {
    const { cache } = clockedCache();
    const sessions = sessionBinding(cache);
    await expect(sessions.bind('', 'a', 1)).rejects.toThrow(RangeError);
    await expect(sessions.bind('s', '', 1)).rejects.toThrow(RangeError);
    await expect(sessions.check('', 'a')).rejects.toThrow(RangeError);
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) await expect(sessions.bind('s', 'a', ttl)).rejects.toThrow(RangeError);
    for (const namespace of ['', 'has space', 'x'.repeat(129), 'é']) expect(() => sessionBinding(cache, { namespace })).toThrow(RangeError);
  });

  it('propagates cache failures (callers fail closed)', async () => {
    const broken: Cache = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
    };
    const sessions = sessionBinding(broken);
    await expect(sessions.check('s', 'a')).rejects.toThrow('down');
    await expect(sessions.bind('s', 'a', 1000)).rejects.toThrow('down');
    await expect(sessions.end('s')).rejects.toThrow('down');
  });
});
