/**
 * Remote trust-domain key sets (src/trust/): parsing JWK Sets and SPIFFE bundles, bounded loading, and the
 * caching rules: served from memory, background refresh, refetch on an unknown kid with a cooldown, last-known
 * keys through a bounded outage, a copy shared across isolates, and SPIFFE refresh hints and sequence numbers.
 * The clock and the source are fakes; the keys are real.
 */
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { memoryCache } from '../../../src/state/memory.ts';
import { fetchKeySetText, readKeySetFile } from '../../../src/trust/key-source-load.ts';
import { trustKeySource, type Background, type TrustKeySource } from '../../../src/trust/key-source.ts';
import { buildKeySet, parseKeySet } from '../../../src/trust/key-set.ts';
import { KeySourceUnavailableError } from '../../../src/trust/remote-key-set.ts';
import type { Cache } from '../../../src/state/ports.ts';
import { generateKey } from '../verify/mint.ts';

const TD = 'spiffe://remote.test';
const URL_ = 'https://keys.remote.test/jwks.json';
let k1: JWK;
let k2: JWK;

beforeAll(async () => {
  k1 = { ...(await generateKey('ES256')).publicJwk, kid: 'k1' };
  k2 = { ...(await generateKey('ES256')).publicJwk, kid: 'k2' };
});

/** A key source in front of a fake URL whose body and status the test changes, with a movable clock. */
function harness(keySource: Record<string, unknown> = {}, shared: Cache = memoryCache()) {
  const clock = { now: 1_000_000 };
  const origin = { body: JSON.stringify({ keys: [k1] }) as string, status: 200, fetches: 0, fail: false };
  const parsed = parseConfig({
    publicUrl: 'https://gw.example',
    trustDomains: { [TD]: { keySource: { url: URL_, ...keySource } } },
    routes: [{ path: '/api', protocol: 'http', upstream: 'https://up.example/', auth: { wit: { trustDomains: [TD] } } }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const warnings: Record<string, unknown>[] = [];
  const background: Promise<unknown>[] = [];
  const source: TrustKeySource = trustKeySource(parsed.config.trustDomains, {
    cache: shared,
    now: () => clock.now,
    warn: (line) => warnings.push(line),
    fetch: async (url, init) => {
      expect(url).toBe(URL_);
      expect(init.redirect).toBe('manual');
      origin.fetches++;
      if (origin.fail) throw new TypeError('network down');
      return new Response(origin.body, { status: origin.status });
    },
  });
  const bg: Background = (p) => void background.push(p);
  const key = (kid: string | undefined) => source.key(TD, kid, 'wit', bg);
  const settle = () => Promise.all(background.splice(0));
  return { clock, origin, key, settle, warnings, shared };
}

describe('remote key set: caching and refresh', () => {
  it('loads on first use and then serves from memory: the steady state fetches nothing', async () => {
    const h = harness();
    expect((await h.key('k1'))?.jwk.kid).toBe('k1');
    for (let i = 0; i < 5; i++) await h.key('k1');
    expect(h.origin.fetches).toBe(1);
  });

  it('hands a due refresh to the background and keeps serving the current keys meanwhile', async () => {
    const h = harness({ refreshSeconds: 60 });
    await h.key('k1');
    h.origin.body = JSON.stringify({ keys: [k2] });
    h.clock.now += 61_000;
    expect((await h.key('k1'))?.jwk.kid).toBe('k1'); // served while the refresh runs
    await h.settle();
    expect(h.origin.fetches).toBe(2);
    expect(await h.key('k1')).toBeUndefined(); // rotated out at the source: no longer trusted
    expect((await h.key('k2'))?.jwk.kid).toBe('k2');
  });

  it('refetches at once for an unknown kid, at most once per cooldown', async () => {
    const h = harness({ unknownKidCooldownSeconds: 30 });
    await h.key('k1');
    h.origin.body = JSON.stringify({ keys: [k1, k2] });
    expect((await h.key('k2'))?.jwk.kid).toBe('k2'); // rotated in: picked up without waiting for the refresh
    expect(h.origin.fetches).toBe(2);
    expect(await h.key('junk-1')).toBeUndefined();
    expect(await h.key('junk-2')).toBeUndefined();
    expect(h.origin.fetches).toBe(2); // within the cooldown of the refetch for k2: no more fetches
    h.clock.now += 30_000;
    expect(await h.key('junk-3')).toBeUndefined();
    expect(await h.key('junk-4')).toBeUndefined();
    expect(h.origin.fetches).toBe(3);
  });

  it('keeps last-known keys through an outage of at most maxStaleSeconds, then fails closed', async () => {
    const h = harness({ refreshSeconds: 60, maxStaleSeconds: 600 });
    await h.key('k1');
    h.origin.fail = true;
    h.clock.now += 120_000;
    expect((await h.key('k1'))?.jwk.kid).toBe('k1');
    await h.settle();
    expect(h.warnings).toContainEqual(expect.objectContaining({ event: 'key_set_load_failed', trustDomain: TD, servingStale: true, reason: 'request failed (TypeError)' }));
    h.clock.now += 479_000; // 599 s after the last good load
    expect((await h.key('k1'))?.jwk.kid).toBe('k1');
    h.clock.now += 1_000;
    await expect(h.key('k1')).rejects.toThrow(KeySourceUnavailableError);
    // The source is back: the next attempt (after the retry delay) recovers.
    h.origin.fail = false;
    h.clock.now += 30_000;
    expect((await h.key('k1'))?.jwk.kid).toBe('k1');
  });

  it('fails closed when nothing was ever loaded, and does not retry on every request', async () => {
    const h = harness();
    h.origin.status = 503;
    await expect(h.key('k1')).rejects.toThrow(/answered 503/);
    await expect(h.key('k1')).rejects.toThrow(KeySourceUnavailableError);
    expect(h.origin.fetches).toBe(1);
  });

  it('refuses a redirect rather than follow it', async () => {
    const h = harness();
    h.origin.status = 302;
    await expect(h.key('k1')).rejects.toThrow(/answered 302: redirects are not followed/);
  });

  it('shares a loaded set across isolates: a second isolate over the same cache fetches nothing', async () => {
    const first = harness();
    await first.key('k1');
    const second = harness({}, first.shared);
    second.origin.fail = true;
    expect((await second.key('k1'))?.jwk.kid).toBe('k1');
    expect(second.origin.fetches).toBe(0);
  });

  it('does not adopt a shared copy whose spiffe_sequence is older than the keys in use', async () => {
    const h = harness({ format: 'spiffe-bundle', refreshSeconds: 30 });
    h.origin.body = JSON.stringify({ spiffe_sequence: 9, keys: [{ ...k1, use: 'wit-svid' }] });
    await h.key('k1');
    // Another isolate (or a poisoned store) left an older bundle in the shared copy, stamped as newer.
    const cacheKey = `trust-keys:${await sha256b64url(JSON.stringify([TD, 'spiffe-bundle', URL_]))}`;
    await h.shared.set(cacheKey, { keys: [{ ...k2, use: 'wit-svid' }], fetchedAt: h.clock.now + 1, refreshAt: h.clock.now + 3_600_000, sequence: 3 }, 86_400_000);
    h.origin.fail = true;
    h.clock.now += 31_000;
    await h.key('k1');
    await h.settle();
    expect((await h.key('k1'))?.jwk.kid).toBe('k1');
    expect(await h.key('k2')).toBeUndefined();
  });

  it('honours spiffe_refresh_hint (clamped) and refuses a bundle whose spiffe_sequence goes back', async () => {
    const h = harness({ format: 'spiffe-bundle' });
    h.origin.body = JSON.stringify({ spiffe_sequence: 7, spiffe_refresh_hint: 5, keys: [{ ...k1, use: 'wit-svid' }] });
    await h.key('k1');
    h.clock.now += 30_000; // hint 5 s is clamped to 30 s
    h.origin.body = JSON.stringify({ spiffe_sequence: 6, keys: [{ ...k2, use: 'wit-svid' }] });
    await h.key('k1');
    await h.settle();
    expect(h.warnings).toContainEqual(expect.objectContaining({ event: 'key_set_load_failed', reason: 'spiffe_sequence went back from 7 to 6' }));
    expect((await h.key('k1'))?.jwk.kid).toBe('k1');
  });
});

describe('key set documents', () => {
  it('skips unusable keys with a reason and keeps the rest (RFC 7517 §5)', async () => {
    const parsed = parseKeySet(JSON.stringify({ keys: [k1, { kty: 'oct', k: 'c2VjcmV0', kid: 's' }, { ...k2, d: 'AAAA' }, { kty: 'EC', crv: 'P-256', kid: 'nox' }, 'junk'] }), 'jwks');
    expect(parsed.ok && parsed.value.keys.map((k) => k.kid)).toEqual(['k1']);
    expect(parsed.ok && parsed.value.skipped).toHaveLength(4);
    expect(JSON.stringify(parsed)).not.toContain('AAAA'); // no key material in reasons
  });

  it('SPIFFE bundles: keys need a use; x509-svid and unknown uses are ignored; use selects the credential', async () => {
    const parsed = parseKeySet(JSON.stringify({ keys: [{ ...k1, use: 'wit-svid' }, { ...k2, use: 'jwt-svid' }, { ...k2, kid: 'nouse' }, { kty: 'EC', use: 'x509-svid', x5c: ['AAAA'] }] }), 'spiffe-bundle');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
    const set = await buildKeySet(parsed.value.keys, 'spiffe-bundle');
    expect(set.find('wit', 'k1')?.jwk.kid).toBe('k1');
    expect(set.find('wit', 'k2')).toBeUndefined();
    expect(set.find('jwt-svid', 'k2')?.jwk.kid).toBe('k2');
  });

  it('never chooses a kid that appears twice, nor guesses among several keys for a token without kid', async () => {
    const set = await buildKeySet([k1, { ...k2, kid: 'k1' }, { ...k2, kid: 'k3' }], 'jwks');
    expect(set.find('wit', 'k1')).toBeUndefined();
    expect(set.find('wit', 'k3')?.jwk.kid).toBe('k3');
    expect(set.find('wit', undefined)).toBeUndefined();
    const single = await buildKeySet([k1], 'jwks');
    expect(single.find('wit', undefined)?.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.isFrozen(single.find('wit', 'k1')?.jwk)).toBe(true);
  });

  it('refuses documents that are not JWK Sets', () => {
    for (const [text, detail] of [['nope', 'not JSON'], ['[]', 'not a JSON object'], ['{}', 'has no "keys" array'], [JSON.stringify({ keys: Array(257).fill(k1) }), 'lists 257 keys, limit 256']] as const) {
      expect(parseKeySet(text, 'jwks')).toEqual({ ok: false, code: 'ERR_KEY_SET_INVALID', detail });
    }
    expect(parseKeySet(JSON.stringify({ keys: [], spiffe_sequence: -1 }), 'spiffe-bundle')).toMatchObject({ ok: false, detail: 'spiffe_sequence is not a non-negative integer' });
  });
});

describe('loading a key set document', () => {
  const fetchOf = (response: () => Response) => async () => response();

  it('bounds the body: declared and streamed sizes over the limit are refused', async () => {
    await expect(fetchKeySetText(fetchOf(() => new Response('{}', { headers: { 'content-length': String(300 * 1024) } })), URL_)).rejects.toThrow(/declares 307200 bytes/);
    const big = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(new Uint8Array(64 * 1024)) });
    await expect(fetchKeySetText(fetchOf(() => new Response(big)), URL_)).rejects.toThrow(/body is over 262144 bytes/);
  });

  it('times out a source that does not answer, and refuses bodies that are not UTF-8', async () => {
    const hang = (_url: string, init: RequestInit) => new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    await expect(fetchKeySetText(hang, URL_, 50)).rejects.toThrow('no answer within 50 ms');
    await expect(fetchKeySetText(fetchOf(() => new Response(new Uint8Array([0xff, 0xfe]))), URL_)).rejects.toThrow('body is not UTF-8');
  });

  it('reads files through the runtime port, bounded, naming the error code only', async () => {
    expect(await readKeySetFile(async () => '{"keys":[]}', 'k.json')).toBe('{"keys":[]}');
    await expect(readKeySetFile(async () => 'x'.repeat(300 * 1024), 'k.json')).rejects.toThrow(/is over 262144 bytes/);
    await expect(readKeySetFile(async () => { throw Object.assign(new Error('ENOENT: /secret/path'), { code: 'ENOENT' }); }, 'k.json')).rejects.toThrow('cannot be read (ENOENT)');
  });
});

describe('keySource in the config', () => {
  const base = (keySource: unknown, extra: Record<string, unknown> = {}) => ({
    publicUrl: 'https://gw.example',
    trustDomains: { [TD]: { keySource, ...extra } },
    routes: [{ path: '/api', protocol: 'http', upstream: 'https://up.example/', public: true }],
  });
  const problems = (doc: unknown) => {
    const parsed = parseConfig(doc);
    return parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('accepts an https URL, a loopback http URL and a file, with defaults', () => {
    expect(problems(base({ url: URL_ }))).toEqual([]);
    expect(problems(base({ url: 'http://127.0.0.1:9000/keys', format: 'spiffe-bundle' }))).toEqual([]);
    expect(problems(base({ file: 'keys.json', refreshSeconds: 60, unknownKidCooldownSeconds: 5, maxStaleSeconds: 3600 }))).toEqual([]);
  });

  it('refuses insecure, credentialed and relative URLs, both or neither of url and file, and both jwks and keySource', () => {
    const path = `trustDomains["${TD}"].keySource`;
    expect(problems(base({ url: 'http://keys.example/jwks' }))).toEqual([`${path}.url: must be https (plain http only to a loopback host): keys and answers fetched in clear text could be replaced on the way`]);
    expect(problems(base({ url: 'https://u:p@keys.example/' }))).toEqual([`${path}.url: must not carry credentials`]);
    expect(problems(base({ url: '/jwks.json' }))).toEqual([`${path}.url: must be an absolute URL`]);
    expect(problems(base({ url: URL_, file: 'k.json' }))).toEqual([`${path}: set exactly one of url and file`]);
    expect(problems(base({ refreshSeconds: 10, url: URL_ }))).toEqual([`${path}.refreshSeconds: Too small: expected number to be >=30`]);
    expect(problems(base({ url: URL_ }, { jwks: { keys: [k1] } }))).toEqual([`trustDomains["${TD}"]: set exactly one of jwks (inline keys) and keySource (a URL or file)`]);
    expect(problems({ ...base(undefined), trustDomains: { [TD]: {} } })).toEqual([`trustDomains["${TD}"]: set exactly one of jwks (inline keys) and keySource (a URL or file), and/or x509Authorities (for mTLS)`]);
  });
});
