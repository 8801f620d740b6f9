import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_DPOP_PROOF_BYTES, MAX_JTI_LENGTH, MAX_STATE_KEY_LENGTH } from '../../../src/limits.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import type { ReplayStore } from '../../../src/state/ports.ts';
import { DPOP_ERRORS, normalizeHtu, verifyDpopProof, type DpopContext, type DpopErrorCode } from '../../../src/verify/dpop.ts';
import { expectFailure, expectOk, generateKey, sign, signHs256, without, type TestKey } from './mint.ts';

const NOW = 1_800_000_000; // epoch seconds of the fixed test clock
const URL_ = 'https://gw.example.com/mcp';
const AT = 'access-token-value-123';

let es: TestKey;
let ed: TestKey;
let es384: TestKey;
let intruder: TestKey;
let cache: KeyImportCache;
let jtiCounter = 0;
/** Every proof minted here, so the leak check covers them all. */
const minted: string[] = [];

function ctx(overrides: Partial<DpopContext> = {}): DpopContext {
  return { method: 'POST', url: URL_, replay: memoryReplayStore(), now: () => NOW * 1000, keyCache: cache, ...overrides };
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { jti: `jti-${++jtiCounter}-${Math.random().toString(36).slice(2)}`, htm: 'POST', htu: URL_, iat: NOW, ...overrides };
}

async function proof(key: TestKey, claimSet: Record<string, unknown> = claims(), header: Record<string, unknown> = {}): Promise<string> {
  const token = await sign({ typ: 'dpop+jwt', alg: key.alg, jwk: key.publicJwk, ...header }, claimSet, key);
  minted.push(token);
  return token;
}

async function expectCode(token: string, code: DpopErrorCode, context: DpopContext = ctx()): Promise<void> {
  expectFailure(await verifyDpopProof(token, context), code, [token]);
}

beforeAll(async () => {
  [es, ed, es384, intruder] = await Promise.all([generateKey('ES256'), generateKey('EdDSA'), generateKey('ES384'), generateKey('ES256')]);
  cache = new KeyImportCache(64);
});

describe('verifyDpopProof: valid proofs', () => {
  it('accepts an ES256 proof and returns its key thumbprint, jti, iat, htm and htu', async () => {
    const c = claims();
    const value = expectOk(await verifyDpopProof(await proof(es, c), ctx()));
    expect(value).toEqual({ jkt: await calculateJwkThumbprint(es.publicJwk, 'sha256'), jti: c.jti, iat: NOW, htm: 'POST', htu: URL_ });
  });

  it('accepts an EdDSA proof bound to an access token (ath, cnf.jkt) and a server nonce', async () => {
    const jkt = await calculateJwkThumbprint(ed.publicJwk, 'sha256');
    const token = await proof(ed, claims({ htm: 'GET', ath: await sha256b64url(AT), nonce: 'n-2' }));
    const value = expectOk(await verifyDpopProof(token, ctx({ method: 'GET', accessToken: AT, expectedJkt: jkt, nonce: ['n-1', 'n-2'] })));
    expect(value.jkt).toBe(jkt);
  });

  it('accepts alg Ed25519 (RFC 9864) with an Ed25519 key', async () => {
    expectOk(await verifyDpopProof(await proof(ed, claims(), { alg: 'Ed25519' }), ctx()));
  });

  it('accepts iat at the edges of the window (max age + skew behind, skew ahead)', async () => {
    expectOk(await verifyDpopProof(await proof(es, claims({ iat: NOW - 120 })), ctx()));
    expectOk(await verifyDpopProof(await proof(es, claims({ iat: NOW + 60 })), ctx()));
    expectOk(await verifyDpopProof(await proof(es, claims({ iat: NOW - 15 })), ctx({ policy: { maxAgeSeconds: 10, clockSkewSeconds: 5 } })));
  });

  it('ignores ath when no access token is presented (token endpoint), and nonce when none is required', async () => {
    expectOk(await verifyDpopProof(await proof(es, claims({ ath: 'whatever', nonce: 'x' })), ctx()));
  });

  it('keys the replay marker by the thumbprint and a hash of jti, partitioned by thumbprint, for the window', async () => {
    const calls: [string, number, string | undefined][] = [];
    const replay: ReplayStore = { checkAndSet: async (key, ttl, partition) => (calls.push([key, ttl, partition]), true) };
    const c = claims({ iat: NOW - 30, jti: 'x'.repeat(MAX_JTI_LENGTH) });
    const value = expectOk(await verifyDpopProof(await proof(es, c), ctx({ replay })));
    expect(calls).toHaveLength(1);
    const [key, ttl, partition] = calls[0]!;
    expect(key).toBe(`dpop-jti:${value.jkt}:h.${await sha256b64url(c.jti as string)}`);
    expect(key.length).toBeLessThanOrEqual(MAX_STATE_KEY_LENGTH);
    expect(ttl).toBe((60 + 60 - 30) * 1000);
    expect(partition).toBe(`dpop-jkt:${value.jkt}`);
  });

  it('keys a short base64url jti as it is (no digest), apart from hashed ones', async () => {
    const calls: string[] = [];
    const replay: ReplayStore = { checkAndSet: async (key) => (calls.push(key), true) };
    const value = expectOk(await verifyDpopProof(await proof(es, claims({ jti: 'e1j3V_bKic8-LAEB' })), ctx({ replay })));
    expect(calls).toEqual([`dpop-jti:${value.jkt}:r.e1j3V_bKic8-LAEB`]);
    // A jti outside the short base64url alphabet is hashed, so a raw jti can never equal a hashed one's key.
    expectOk(await verifyDpopProof(await proof(es, claims({ jti: 'has:colon' })), ctx({ replay })));
    expect(calls[1]).toBe(`dpop-jti:${value.jkt}:h.${await sha256b64url('has:colon')}`);
  });

  it('takes the caller\'s hash of the access token for ath, and refuses a proof whose ath differs from it', async () => {
    const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
    const c = claims({ ath: await sha256b64url(token) });
    expectOk(await verifyDpopProof(await proof(es, c), ctx({ accessToken: token, accessTokenHash: await sha256b64url(token) })));
    const wrong = await verifyDpopProof(await proof(es, claims({ ath: await sha256b64url(token) })), ctx({ accessToken: token, accessTokenHash: await sha256b64url('another token') }));
    expect(wrong.ok ? undefined : wrong.code).toBe('ERR_DPOP_ATH_MISMATCH');
  });
});

describe('RFC 9449 vector', () => {
  const v = JSON.parse(readFileSync(new URL('../../vectors/dpop/rfc9449-figure13.json', import.meta.url), 'utf8')) as {
    source: string; verifyAt: number; method: string; url: string; accessToken: string; proof: string; jkt: string;
    decoded: { header: Record<string, unknown>; claims: Record<string, unknown> };
  };
  const vctx = (overrides: Partial<DpopContext> = {}) =>
    ctx({ method: v.method, url: v.url, accessToken: v.accessToken, expectedJkt: v.jkt, now: () => v.verifyAt * 1000, ...overrides });

  it('is the published proof, decoding to Figure 14', () => {
    expect(v.source).toMatch(/RFC 9449/);
    const [h, p] = v.proof.split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual(v.decoded.header);
    expect(JSON.parse(Buffer.from(p!, 'base64url').toString())).toEqual(v.decoded.claims);
  });

  it('verifies with its embedded jwk, ath and cnf.jkt at a fixed clock', async () => {
    expect(v.decoded.claims.iat).toBe(1562262618);
    const value = expectOk(await verifyDpopProof(v.proof, vctx()));
    expect(value).toEqual({ jkt: v.jkt, jti: 'e1j3V_bKic8-LAEB', iat: 1562262618, htm: 'GET', htu: v.url });
  });

  it('is refused at today\'s clock, with another token, or another key binding', async () => {
    await expectCode(v.proof, 'ERR_DPOP_IAT_OUT_OF_WINDOW', vctx({ now: () => NOW * 1000 }));
    await expectCode(v.proof, 'ERR_DPOP_ATH_MISMATCH', vctx({ accessToken: AT }));
    await expectCode(v.proof, 'ERR_DPOP_KEY_MISMATCH', vctx({ expectedJkt: await calculateJwkThumbprint(es.publicJwk, 'sha256') }));
  });
});

describe('verifyDpopProof: one refusal per step', () => {
  it('1. refuses a proof longer than MAX_DPOP_PROOF_BYTES before parsing', async () => {
    await expectCode('a'.repeat(MAX_DPOP_PROOF_BYTES + 1), 'ERR_DPOP_TOO_LARGE');
  });

  it('2. refuses anything but a single compact JWS', async () => {
    const good = await proof(es);
    for (const bad of ['', 'a.b', `${good}.x`, `${good}, ${good}`, `${good} ${good}`, 'e30.e30.', 'W10.e30.c2ln']) await expectCode(bad, 'ERR_DPOP_MALFORMED');
    expectFailure(await verifyDpopProof(undefined as unknown as string, ctx()), 'ERR_DPOP_MALFORMED');
  });

  it('3. refuses typ other than exactly dpop+jwt', async () => {
    for (const typ of [undefined, 'JWT', 'application/dpop+jwt', 'DPOP+JWT', 'at+jwt']) await expectCode(await proof(es, claims(), { typ }), 'ERR_DPOP_TYP_INVALID');
  });

  it('4. refuses none, symmetric, unknown, and algorithms outside the policy', async () => {
    const hs = await signHs256({ typ: 'dpop+jwt', alg: 'HS256', jwk: es.publicJwk }, claims(), new Uint8Array(32));
    minted.push(hs);
    await expectCode(hs, 'ERR_DPOP_ALG_NOT_ALLOWED');
    for (const alg of [undefined, 'none', 'ES256K', 7]) await expectCode(await proof(es, claims(), { alg }), 'ERR_DPOP_ALG_NOT_ALLOWED');
    await expectCode(await proof(es384), 'ERR_DPOP_ALG_NOT_ALLOWED'); // ES384 not in the default list
    expectOk(await verifyDpopProof(await proof(es384), ctx({ policy: { algorithms: ['ES384'] } })));
    await expectCode(await proof(ed), 'ERR_DPOP_ALG_NOT_ALLOWED', ctx({ policy: { algorithms: ['ES256', 'HS256', 'none'] } }));
  });

  it('5. refuses a proof without a jwk object', async () => {
    for (const jwk of [undefined, 'key', ['a'], null]) await expectCode(await proof(es, claims(), { jwk }), 'ERR_DPOP_JWK_MISSING');
  });

  it('6. refuses a jwk with private members', async () => {
    await expectCode(await proof(es, claims(), { jwk: { ...es.publicJwk, d: 'c2VjcmV0LXByaXZhdGUta2V5LW1hdGVyaWFs' } }), 'ERR_DPOP_JWK_PRIVATE', ctx());
    await expectCode(await proof(es, claims(), { jwk: { kty: 'oct', k: 'c2VjcmV0LXByaXZhdGUta2V5LW1hdGVyaWFs' } }), 'ERR_DPOP_JWK_PRIVATE');
  });

  it('7. refuses a jwk that does not fit alg or does not import', async () => {
    await expectCode(await proof(es, claims(), { jwk: ed.publicJwk }), 'ERR_DPOP_JWK_INVALID'); // OKP key, ES256
    await expectCode(await proof(ed, claims(), { jwk: es.publicJwk }), 'ERR_DPOP_JWK_INVALID'); // EC key, EdDSA
    await expectCode(await proof(es, claims(), { jwk: es384.publicJwk }), 'ERR_DPOP_JWK_INVALID'); // P-384 key, ES256
    await expectCode(await proof(es, claims(), { jwk: { ...es.publicJwk, alg: 'ES384' } }), 'ERR_DPOP_JWK_INVALID');
    await expectCode(await proof(es, claims(), { jwk: { ...es.publicJwk, x: 'AAAA' } }), 'ERR_DPOP_JWK_INVALID');
    await expectCode(await proof(es, claims(), { jwk: { ...es.publicJwk, y: 5 } }), 'ERR_DPOP_JWK_INVALID');
  });

  it('8. refuses a crit header', async () => {
    await expectCode(await proof(es, claims(), { crit: ['exp'], exp: 1 }), 'ERR_DPOP_CRIT_UNSUPPORTED');
  });

  it('9. refuses a signature made with another key than the jwk header', async () => {
    await expectCode(await proof(intruder, claims(), { jwk: es.publicJwk }), 'ERR_DPOP_SIGNATURE_INVALID');
    const good = await proof(es);
    const [h, p, s] = good.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith('AA') ? 'BA' : 'AA'}`;
    minted.push(flipped);
    await expectCode(flipped, 'ERR_DPOP_SIGNATURE_INVALID');
  });

  it('10. refuses an absent, empty, non-string or overlong jti', async () => {
    await expectCode(await proof(es, without(claims(), 'jti')), 'ERR_DPOP_JTI_INVALID');
    for (const jti of ['', 42, 'j'.repeat(MAX_JTI_LENGTH + 1)]) await expectCode(await proof(es, claims({ jti })), 'ERR_DPOP_JTI_INVALID');
  });

  it('11. refuses htm that is absent or not the request method (case-sensitive)', async () => {
    await expectCode(await proof(es, without(claims(), 'htm')), 'ERR_DPOP_HTM_MISMATCH');
    await expectCode(await proof(es, claims({ htm: 'post' })), 'ERR_DPOP_HTM_MISMATCH');
    await expectCode(await proof(es, claims({ htm: 'GET' })), 'ERR_DPOP_HTM_MISMATCH');
  });

  it('12. refuses htu that is absent, not a URI, or another target', async () => {
    await expectCode(await proof(es, without(claims(), 'htu')), 'ERR_DPOP_HTU_MISMATCH');
    for (const htu of [7, '/mcp', 'gw.example.com/mcp', 'https://gw.example.com/other']) await expectCode(await proof(es, claims({ htu })), 'ERR_DPOP_HTU_MISMATCH');
    await expectCode(await proof(es), 'ERR_DPOP_HTU_MISMATCH', ctx({ url: 'not a url' }));
  });

  it('13. refuses iat absent, not a NumericDate, too old, or in the future', async () => {
    await expectCode(await proof(es, without(claims(), 'iat')), 'ERR_DPOP_IAT_INVALID');
    await expectCode(await proof(es, claims({ iat: String(NOW) })), 'ERR_DPOP_IAT_INVALID');
    await expectCode(await proof(es, claims({ iat: NOW - 121 })), 'ERR_DPOP_IAT_OUT_OF_WINDOW');
    await expectCode(await proof(es, claims({ iat: NOW + 61 })), 'ERR_DPOP_IAT_OUT_OF_WINDOW');
    await expectCode(await proof(es, claims({ iat: NOW - 16 })), 'ERR_DPOP_IAT_OUT_OF_WINDOW', ctx({ policy: { maxAgeSeconds: 10, clockSkewSeconds: 5 } }));
  });

  it('14. tells a missing nonce from a wrong one when the server requires one', async () => {
    await expectCode(await proof(es), 'ERR_DPOP_NONCE_REQUIRED', ctx({ nonce: 'n-1' }));
    await expectCode(await proof(es, claims({ nonce: 'n-0' })), 'ERR_DPOP_NONCE_INVALID', ctx({ nonce: ['n-1', 'n-2'] }));
    await expectCode(await proof(es, claims({ nonce: 1 })), 'ERR_DPOP_NONCE_INVALID', ctx({ nonce: 'n-1' }));
    await expectCode(await proof(es, claims({ nonce: 'n-1' })), 'ERR_DPOP_NONCE_INVALID', ctx({ nonce: [] }));
  });

  it('15. refuses ath absent or not the access token hash when a token is presented', async () => {
    await expectCode(await proof(es), 'ERR_DPOP_ATH_MISMATCH', ctx({ accessToken: AT }));
    await expectCode(await proof(es, claims({ ath: await sha256b64url('other-token') })), 'ERR_DPOP_ATH_MISMATCH', ctx({ accessToken: AT }));
    await expectCode(await proof(es, claims({ ath: AT })), 'ERR_DPOP_ATH_MISMATCH', ctx({ accessToken: AT }));
  });

  it('16. refuses a proof key that is not the token\'s cnf.jkt', async () => {
    await expectCode(await proof(es), 'ERR_DPOP_KEY_MISMATCH', ctx({ expectedJkt: await calculateJwkThumbprint(intruder.publicJwk, 'sha256') }));
  });

  it('17. refuses a replayed jti, and fails closed when the store fails', async () => {
    const replay = memoryReplayStore();
    const token = await proof(es);
    expectOk(await verifyDpopProof(token, ctx({ replay })));
    await expectCode(token, 'ERR_DPOP_REPLAYED', ctx({ replay }));
    const broken: ReplayStore = { checkAndSet: async () => { throw new Error(`boom ${token}`); } };
    await expectCode(await proof(es), 'ERR_DPOP_REPLAY_STORE_FAILED', ctx({ replay: broken }));
  });

  it('does not burn a jti on a proof refused by an earlier check', async () => {
    const replay = memoryReplayStore();
    const token = await proof(es);
    await expectCode(token, 'ERR_DPOP_HTM_MISMATCH', ctx({ replay, method: 'GET' }));
    await expectCode(token, 'ERR_DPOP_NONCE_REQUIRED', ctx({ replay, nonce: 'n' }));
    expectOk(await verifyDpopProof(token, ctx({ replay })));
  });

  it('accepts the same proof exactly once under concurrency', async () => {
    const replay = memoryReplayStore();
    const token = await proof(ed);
    const results = await Promise.all(Array.from({ length: 8 }, () => verifyDpopProof(token, ctx({ replay }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok)) expectFailure(r, 'ERR_DPOP_REPLAYED', [token]);
  });

  it('documents every code it can return', () => {
    expect(Object.keys(DPOP_ERRORS)).toHaveLength(20);
    for (const description of Object.values(DPOP_ERRORS)) expect(description.length).toBeGreaterThan(10);
  });
});

describe('htu normalisation (RFC 9449 §4.3 step 9; RFC 3986 §6.2.2, §6.2.3)', () => {
  it.each([
    ['HTTPS://GW.Example.COM/mcp', 'https://gw.example.com/mcp'],
    ['https://gw.example.com:443/mcp', 'https://gw.example.com/mcp'],
    ['http://gw.example.com:80/mcp', 'http://gw.example.com/mcp'],
    ['https://gw.example.com', 'https://gw.example.com/'],
    ['https://gw.example.com/mcp?x=1#frag', 'https://gw.example.com/mcp'],
    ['https://gw.example.com/a/./b/../mcp', 'https://gw.example.com/a/mcp'],
    ['https://gw.example.com/%7Euser/%6dcp', 'https://gw.example.com/~user/mcp'],
    ['https://gw.example.com/a%2fb', 'https://gw.example.com/a%2Fb'],
    ['https://gw.example.com:8443/mcp', 'https://gw.example.com:8443/mcp'],
  ])('normalises %s to %s', (input, expected) => {
    expect(normalizeHtu(input)).toBe(expected);
  });

  it.each(['/mcp', 'gw.example.com/mcp', 'ftp://gw.example.com/mcp', 'urn:x:y', 'https://gw.example.com/ mcp', 'https:///mcp', 'https:gw.example.com/mcp', 'https://gw.example.com\\mcp', ''])('refuses %j', (input) => {
    expect(normalizeHtu(input)).toBeUndefined();
  });

  it.each([
    ['HTTPS://GW.EXAMPLE.COM:443/mcp', URL_],
    ['https://gw.example.com/mcp?session=1', URL_],
    ['https://gw.example.com/mcp#x', URL_],
    ['https://gw.example.com/%6Dcp', URL_],
    ['https://gw.example.com', 'https://gw.example.com/'],
    ['https://gw.example.com/', 'https://gw.example.com'],
  ])('accepts htu %s for target %s', async (htu, url) => {
    expectOk(await verifyDpopProof(await proof(es, claims({ htu })), ctx({ url })));
  });

  it.each([
    ['http://gw.example.com/mcp', URL_], // scheme
    ['https://gw.example.com:8443/mcp', URL_], // port
    ['https://gw.example.com/MCP', URL_], // path case is significant
    ['https://gw.example.com/mcp/', URL_], // trailing slash
    ['https://gw2.example.com/mcp', URL_], // host
    ['https://user@gw.example.com/mcp', URL_], // userinfo
    ['https://gw.example.com/m%2Fcp', 'https://gw.example.com/m/cp'], // reserved escape is not decoded
  ])('refuses htu %s for target %s', async (htu, url) => {
    await expectCode(await proof(es, claims({ htu })), 'ERR_DPOP_HTU_MISMATCH', ctx({ url }));
  });
});

describe('details', () => {
  it('never contain the proof or key material', async () => {
    // Every failure above went through expectCode with its own proof as a secret; re-check across all of them,
    // since a detail could quote another proof's segments only by echoing input.
    const failures = await Promise.all(minted.slice(0, 40).map((token) => verifyDpopProof(token, ctx({ method: 'PATCH' }))));
    for (const r of failures) {
      if (r.ok) continue;
      for (const token of minted) for (const piece of token.split('.')) if (piece.length >= 16) expect(r.detail).not.toContain(piece);
      for (const key of [es, ed, es384, intruder]) expect(r.detail).not.toContain(key.publicJwk.x);
    }
    expect(minted.length).toBeGreaterThan(40);
  });
});
