import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_JTI_LENGTH, MAX_STATE_KEY_LENGTH, MAX_WPT_BYTES } from '../../../src/limits.ts';
import type { ReplayStore } from '../../../src/state/ports.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import { WPT_ERRORS, wptChallenge, wptFailureStatus, type WptErrorCode } from '../../../src/verify/errors.ts';
import { verifyWit, type VerifiedWit } from '../../../src/verify/wit.ts';
import { verifyWpt, type WptContext } from '../../../src/verify/wpt.ts';
import { encodeSegment, expectFailure, expectOk, generateKey, rawSignature, sign, without, type TestKey } from './mint.ts';

const NOW = 1_800_000_000; // epoch seconds of the fixed test clock
const AUD = 'https://gw.example.com/mcp';
const TXN = 'eyJhbGciOiJFUzI1NiJ9.eyJ0eG4iOiIxIn0.c2ln';
const AT = 'access-token-value-123';

let issuer: TestKey;
let workload: TestKey; // Ed25519, cnf of witToken
let workloadEs: TestKey; // ES256, cnf of witTokenEs
let intruder: TestKey;
let witToken: string;
let wit: VerifiedWit;
let witTokenEs: string;
let witEs: VerifiedWit;
let cache: KeyImportCache;
let jtiCounter = 0;

async function mintWit(cnfKey: TestKey, cnfAlg: string, sub = 'wimse://example.com/svc-a') {
  const token = await sign({ alg: 'ES256', kid: 'is-1', typ: 'wit+jwt' }, { sub, iat: NOW - 60, exp: NOW + 3600, cnf: { jwk: { ...cnfKey.publicJwk, alg: cnfAlg } } }, issuer);
  const verified = expectOk(await verifyWit(token, { keys: async () => issuer.publicJwk, policy: { algorithms: ['ES256', 'EdDSA'] }, now: () => NOW * 1000, keyCache: cache }));
  return { token, verified };
}

beforeAll(async () => {
  [issuer, workload, workloadEs, intruder] = await Promise.all([generateKey('ES256'), generateKey('EdDSA'), generateKey('ES256'), generateKey('EdDSA')]);
  cache = new KeyImportCache(64);
  ({ token: witToken, verified: wit } = await mintWit(workload, 'EdDSA'));
  ({ token: witTokenEs, verified: witEs } = await mintWit(workloadEs, 'ES256'));
});

const header = () => ({ alg: 'EdDSA', typ: 'wpt+jwt' });
async function claims(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return { aud: AUD, exp: NOW + 60, jti: `jti-${++jtiCounter}-${crypto.randomUUID()}`, wth: await sha256b64url(witToken), ...overrides };
}
async function wpt(h: Record<string, unknown> = header(), c?: Record<string, unknown>, key: TestKey = workload) {
  return sign(h, c ?? (await claims()), key);
}

function context(overrides: Partial<WptContext> = {}): WptContext {
  return { wit, witToken, audience: AUD, replay: memoryReplayStore({ now: () => NOW * 1000 }), now: () => NOW * 1000, keyCache: cache, ...overrides };
}

async function expectWptFailure(token: string, code: WptErrorCode, ctx: WptContext = context()) {
  expectFailure(await verifyWpt(token, ctx), code, [token, witToken, String(workload.publicJwk.x)]);
}

describe('verifyWpt: a valid proof', () => {
  it('verifies (-02 carriage by default) and reports what it binds', async () => {
    const c = await claims();
    const token = await wpt(header(), c);
    const value = expectOk(await verifyWpt(token, context()));
    expect(value).toEqual({
      subject: wit.subject,
      witHash: wit.tokenHash,
      jti: c.jti,
      audience: AUD,
      expiresAt: (NOW + 60) * 1000,
      carriage: 'authorization',
      bound: { accessToken: false, txnToken: false, otherTokens: [] },
    });
  });

  it('verifies an ES256 proof against an ES256 confirmation key', async () => {
    const token = await sign({ alg: 'ES256', typ: 'wpt+jwt' }, await claims({ wth: await sha256b64url(witTokenEs) }), workloadEs);
    expectOk(await verifyWpt(token, context({ wit: witEs, witToken: witTokenEs })));
  });

  it('accepts typ application/wpt+jwt, an aud array of one, a configured alias, and ignores unknown claims', async () => {
    expectOk(await verifyWpt(await wpt({ ...header(), typ: 'application/wpt+jwt' }), context()));
    expectOk(await verifyWpt(await wpt(header(), await claims({ aud: [AUD] })), context()));
    expectOk(await verifyWpt(await wpt(header(), await claims({ aud: 'https://alias.example.com/mcp' })), context({ audience: [AUD, 'https://alias.example.com/mcp'] })));
    expectOk(await verifyWpt(await wpt(header(), await claims({ 'example.com/trace': 'abc', iat: NOW - 5 })), context()));
  });

  it('binds a Txn-Token and other context tokens (trimmed, lowercase names)', async () => {
    const c = await claims({ tth: await sha256b64url(TXN), oth: { 'x-user-token': await sha256b64url('user-token') } });
    const value = expectOk(await verifyWpt(await wpt(header(), c), context({ txnToken: TXN, otherTokens: { 'X-User-Token': '  user-token\t' } })));
    expect(value.bound).toEqual({ accessToken: false, txnToken: true, otherTokens: ['x-user-token'] });
  });

  it('ignores ath and the access token with -02 carriage', async () => {
    expectOk(await verifyWpt(await wpt(header(), await claims({ ath: 'whatever' })), context({ accessToken: AT })));
  });

  it('documents every code it can return, and the wire helpers follow wpt-02 §2.1 / -01', () => {
    expect(Object.keys(WPT_ERRORS).every((code) => /^ERR_WPT_[A-Z_]+$/.test(code))).toBe(true);
    expect(wptChallenge('ERR_WPT_REPLAYED')).toBe('WPT');
    expect(wptFailureStatus('authorization')).toBe(401);
    expect(wptFailureStatus('header')).toBe(400);
  });
});

describe('verifyWpt: step 0, the WIT it is checked against', () => {
  it('refuses a witToken that is not the token the verified WIT came from', async () => {
    await expectWptFailure(await wpt(), 'ERR_WPT_WIT_MISMATCH', context({ witToken: witTokenEs }));
  });

  it('refuses when the (cached) verified WIT has expired since', async () => {
    await expectWptFailure(await wpt(header(), await claims({ exp: NOW + 3700 })), 'ERR_WPT_WIT_EXPIRED', context({ now: () => (NOW + 3700) * 1000 }));
  });
});

describe('verifyWpt: step 1, size bound', () => {
  it('refuses a token over MAX_WPT_BYTES before parsing', async () => {
    await expectWptFailure(await wpt(header(), await claims({ pad: 'x'.repeat(MAX_WPT_BYTES) })), 'ERR_WPT_TOO_LARGE');
  });
});

describe('verifyWpt: step 2, a single well-formed JWT', () => {
  it('refuses truncated tokens, wrong segment counts and non-base64url', async () => {
    const token = await wpt();
    const [h, p, s] = token.split('.') as [string, string, string];
    for (const broken of [`${h}.${p}`, `${token}.${s}`, token.slice(0, 30), `${h}.${p}.`, `${h}.${p}.${s}==`, `${token} ${token}`, `WPT ${token}`, `${h}.${encodeSegment([1])}.${s}`]) {
      await expectWptFailure(broken, 'ERR_WPT_MALFORMED');
    }
  });
});

describe('verifyWpt: step 3, typ', () => {
  it('refuses a missing or wrong typ', async () => {
    for (const typ of [undefined, 'wit+jwt', 'JWT', 'dpop+jwt']) await expectWptFailure(await wpt({ ...header(), typ }), 'ERR_WPT_TYP_INVALID');
  });
});

describe('verifyWpt: step 4, alg string-equal to cnf.jwk.alg', () => {
  it('refuses Ed25519 when the WIT says EdDSA, even though the same key would verify it', async () => {
    await expectWptFailure(await wpt({ ...header(), alg: 'Ed25519' }), 'ERR_WPT_ALG_MISMATCH');
  });

  it('refuses none, HS256 and a different family', async () => {
    const c = await claims();
    await expectWptFailure(`${encodeSegment({ ...header(), alg: 'none' })}.${encodeSegment(c)}.AAAA`, 'ERR_WPT_ALG_MISMATCH');
    await expectWptFailure(await wpt({ ...header(), alg: 'HS256' }), 'ERR_WPT_ALG_MISMATCH');
    await expectWptFailure(await sign({ alg: 'ES256', typ: 'wpt+jwt' }, c, workloadEs), 'ERR_WPT_ALG_MISMATCH');
    await expectWptFailure(await wpt(without(header(), 'alg')), 'ERR_WPT_ALG_MISMATCH');
  });
});

describe('verifyWpt: step 5, crit', () => {
  it('refuses any crit header', async () => {
    await expectWptFailure(await wpt({ ...header(), crit: ['b64'], b64: false }), 'ERR_WPT_CRIT_UNSUPPORTED');
  });
});

describe('verifyWpt: step 6, signature with the WIT confirmation key', () => {
  it('refuses a proof signed by another key (a stolen WIT without its private key)', async () => {
    await expectWptFailure(await wpt(header(), await claims(), intruder), 'ERR_WPT_SIGNATURE_INVALID');
  });

  it('refuses a tampered payload and a key embedded in the header', async () => {
    const [h, , s] = (await wpt()).split('.');
    await expectWptFailure(`${h}.${encodeSegment(await claims({ aud: 'https://other.example/' }))}.${s}`, 'ERR_WPT_SIGNATURE_INVALID');
    await expectWptFailure(await wpt({ ...header(), jwk: { ...intruder.publicJwk } }, await claims(), intruder), 'ERR_WPT_SIGNATURE_INVALID');
  });
});

describe('verifyWpt: step 7, aud', () => {
  it('refuses another audience, a missing aud, a query-bearing aud and multi-audience arrays', async () => {
    for (const aud of ['https://gw.example.com/other', `${AUD}?x=1`, `${AUD}/`, 'https://GW.example.com/mcp', [AUD, 'https://other.example'], [], 7]) {
      await expectWptFailure(await wpt(header(), await claims({ aud })), 'ERR_WPT_AUD_MISMATCH');
    }
    await expectWptFailure(await wpt(header(), without(await claims(), 'aud')), 'ERR_WPT_AUD_MISMATCH');
  });
});

describe('verifyWpt: steps 8–11, time', () => {
  it('refuses a missing or non-numeric exp', async () => {
    await expectWptFailure(await wpt(header(), without(await claims(), 'exp')), 'ERR_WPT_EXP_INVALID');
    await expectWptFailure(await wpt(header(), await claims({ exp: `${NOW + 60}` })), 'ERR_WPT_EXP_INVALID');
  });

  it('refuses an expired proof beyond the skew', async () => {
    await expectWptFailure(await wpt(header(), await claims({ exp: NOW - 61 })), 'ERR_WPT_EXPIRED');
    await expectWptFailure(await wpt(header(), await claims({ exp: NOW - 1 })), 'ERR_WPT_EXPIRED', context({ policy: { clockSkewSeconds: 0 } }));
  });

  it('refuses an exp unreasonably far ahead, measured from now or from iat', async () => {
    await expectWptFailure(await wpt(header(), await claims({ exp: NOW + 3000 })), 'ERR_WPT_LIFETIME_TOO_LONG');
    await expectWptFailure(await wpt(header(), await claims({ iat: NOW - 400, exp: NOW + 30 })), 'ERR_WPT_LIFETIME_TOO_LONG');
    await expectWptFailure(await wpt(header(), await claims({ exp: NOW + 90 })), 'ERR_WPT_LIFETIME_TOO_LONG', context({ policy: { maxLifetimeSeconds: 20 } }));
  });

  it('refuses iat or nbf in the future, and of the wrong type', async () => {
    await expectWptFailure(await wpt(header(), await claims({ iat: NOW + 120, exp: NOW + 180 })), 'ERR_WPT_NOT_YET_VALID');
    await expectWptFailure(await wpt(header(), await claims({ nbf: NOW + 120, exp: NOW + 180 })), 'ERR_WPT_NOT_YET_VALID');
    await expectWptFailure(await wpt(header(), await claims({ iat: 'yesterday' })), 'ERR_WPT_CLAIM_INVALID');
  });
});

describe('verifyWpt: step 12, wth', () => {
  it('refuses a missing wth or the hash of another WIT', async () => {
    await expectWptFailure(await wpt(header(), without(await claims(), 'wth')), 'ERR_WPT_WTH_MISMATCH');
    await expectWptFailure(await wpt(header(), await claims({ wth: await sha256b64url(witTokenEs) })), 'ERR_WPT_WTH_MISMATCH');
  });
});

describe('verifyWpt: step 13, ath (-01 carriage only)', () => {
  const legacy = (overrides: Partial<WptContext> = {}) => context({ carriage: 'header', ...overrides });

  it('verifies a -01 proof with ath for the presented access token', async () => {
    const value = expectOk(await verifyWpt(await wpt(header(), await claims({ ath: await sha256b64url(AT) })), legacy({ accessToken: AT })));
    expect(value.bound.accessToken).toBe(true);
    expect(value.carriage).toBe('header');
  });

  it('refuses a missing ath with an access token, a wrong ath, and an ath without an access token', async () => {
    await expectWptFailure(await wpt(), 'ERR_WPT_ATH_MISMATCH', legacy({ accessToken: AT }));
    await expectWptFailure(await wpt(header(), await claims({ ath: await sha256b64url('other') })), 'ERR_WPT_ATH_MISMATCH', legacy({ accessToken: AT }));
    await expectWptFailure(await wpt(header(), await claims({ ath: await sha256b64url(AT) })), 'ERR_WPT_ATH_MISMATCH', legacy());
  });
});

describe('verifyWpt: step 14, tth', () => {
  it('refuses a missing tth with a Txn-Token, a wrong tth, and a tth without a Txn-Token', async () => {
    await expectWptFailure(await wpt(), 'ERR_WPT_TTH_MISMATCH', context({ txnToken: TXN }));
    await expectWptFailure(await wpt(header(), await claims({ tth: await sha256b64url(`${TXN}x`) })), 'ERR_WPT_TTH_MISMATCH', context({ txnToken: TXN }));
    await expectWptFailure(await wpt(header(), await claims({ tth: await sha256b64url(TXN) })), 'ERR_WPT_TTH_MISMATCH');
  });
});

describe('verifyWpt: step 15, oth', () => {
  const other = { 'x-user-token': 'user-token' };

  it('refuses an oth entry the route does not understand or the request does not carry', async () => {
    const c = await claims({ oth: { 'x-user-token': await sha256b64url('user-token'), 'x-unknown': await sha256b64url('u') } });
    await expectWptFailure(await wpt(header(), c), 'ERR_WPT_OTH_UNKNOWN_ENTRY', context({ otherTokens: other }));
    await expectWptFailure(await wpt(header(), await claims({ oth: { 'x-user-token': await sha256b64url('user-token') } })), 'ERR_WPT_OTH_UNKNOWN_ENTRY');
  });

  it('refuses a non-lowercase entry name, a malformed oth, and non-string hashes', async () => {
    await expectWptFailure(await wpt(header(), await claims({ oth: { 'X-User-Token': await sha256b64url('user-token') } })), 'ERR_WPT_OTH_UNKNOWN_ENTRY', context({ otherTokens: other }));
    for (const oth of ['abc', ['x'], { 'x-user-token': 7 }]) {
      await expectWptFailure(await wpt(header(), await claims({ oth })), 'ERR_WPT_OTH_UNKNOWN_ENTRY', context({ otherTokens: other }));
    }
  });

  it('refuses a presented context token that oth does not cover, and a wrong hash', async () => {
    await expectWptFailure(await wpt(), 'ERR_WPT_OTH_MISMATCH', context({ otherTokens: other }));
    await expectWptFailure(await wpt(header(), await claims({ oth: {} })), 'ERR_WPT_OTH_MISMATCH', context({ otherTokens: other }));
    await expectWptFailure(await wpt(header(), await claims({ oth: { 'x-user-token': await sha256b64url('other') } })), 'ERR_WPT_OTH_MISMATCH', context({ otherTokens: other }));
  });
});

describe('verifyWpt: step 16, jti', () => {
  it('refuses a missing, empty, non-string or oversized jti', async () => {
    await expectWptFailure(await wpt(header(), without(await claims(), 'jti')), 'ERR_WPT_JTI_INVALID');
    for (const jti of ['', 7, 'j'.repeat(MAX_JTI_LENGTH + 1)]) await expectWptFailure(await wpt(header(), await claims({ jti })), 'ERR_WPT_JTI_INVALID');
  });
});

describe('verifyWpt: step 17, replay', () => {
  it('accepts the first use and refuses the second with ERR_WPT_REPLAYED', async () => {
    const ctx = context();
    const token = await wpt();
    expectOk(await verifyWpt(token, ctx));
    await expectWptFailure(token, 'ERR_WPT_REPLAYED', ctx);
    // a re-signed proof reusing the jti is a replay too
    const [, p] = token.split('.');
    const again = await sign(header(), JSON.parse(Buffer.from(p!, 'base64url').toString()), workload);
    await expectWptFailure(again, 'ERR_WPT_REPLAYED', ctx);
  });

  it('scopes jti to the sender: another workload may use the same jti', async () => {
    const ctx = context();
    const c = await claims();
    expectOk(await verifyWpt(await wpt(header(), c), ctx));
    const es = await sign({ alg: 'ES256', typ: 'wpt+jwt' }, { ...c, wth: await sha256b64url(witTokenEs) }, workloadEs);
    // witEs has the same subject; mint a WIT for another subject to show sender scoping
    const { token: witB, verified: wB } = await mintWit(workloadEs, 'ES256', 'wimse://example.com/svc-b');
    const esB = await sign({ alg: 'ES256', typ: 'wpt+jwt' }, { ...c, wth: await sha256b64url(witB) }, workloadEs);
    expectOk(await verifyWpt(esB, { ...ctx, wit: wB, witToken: witB }));
    await expectWptFailure(es, 'ERR_WPT_REPLAYED', { ...ctx, wit: witEs, witToken: witTokenEs });
  });

  it('runs last: a proof failing any other check does not burn its jti', async () => {
    const ctx = context();
    const c = await claims();
    await expectWptFailure(await wpt(header(), { ...c, aud: 'https://other.example/' }), 'ERR_WPT_AUD_MISMATCH', ctx);
    await expectWptFailure(await wpt(header(), c, intruder), 'ERR_WPT_SIGNATURE_INVALID', ctx);
    await expectWptFailure(await wpt(header(), { ...c, tth: 'x' }), 'ERR_WPT_TTH_MISMATCH', ctx);
    expectOk(await verifyWpt(await wpt(header(), c), ctx));
  });

  it('keys the store by (subject hash, jti), partitions it by the subject hash, keeps it until exp + skew', async () => {
    const calls: [string, number, string | undefined][] = [];
    const spy: ReplayStore = { checkAndSet: async (key, ttl, partition) => (calls.push([key, ttl, partition]), true) };
    const c = await claims({ exp: NOW + 45 });
    expectOk(await verifyWpt(await wpt(header(), c), context({ replay: spy })));
    expect(calls).toHaveLength(1);
    const [key, ttl, partition] = calls[0]!;
    const subjectHash = await sha256b64url(wit.subject.uri);
    expect(wit.subjectHash).toBe(subjectHash);
    expect(key).toBe(`wpt-jti:${subjectHash}:${c.jti}`);
    expect(ttl).toBe((45 + 60) * 1000);
    expect(partition).toBe(`wpt-sub:${subjectHash}`);
  });

  it('hashes a jti with characters outside base64url into its own namespace, so it cannot collide with a raw one', async () => {
    const keys: string[] = [];
    const spy: ReplayStore = { checkAndSet: async (key) => (keys.push(key), true) };
    const odd = 'a:b#c d';
    expectOk(await verifyWpt(await wpt(header(), await claims({ jti: odd })), context({ replay: spy })));
    expect(keys).toEqual([`wpt-jti:${wit.subjectHash}:#${await sha256b64url(odd)}`]);
  });

  it('hashes a subject of any length into a bounded partition', async () => {
    const long = await mintWit(workload, 'EdDSA', `wimse://example.com/${'s'.repeat(MAX_STATE_KEY_LENGTH)}`);
    const partitions: (string | undefined)[] = [];
    const spy: ReplayStore = { checkAndSet: async (_key, _ttl, partition) => (partitions.push(partition), true) };
    const token = await wpt(header(), await claims({ wth: await sha256b64url(long.token) }));
    expectOk(await verifyWpt(token, context({ wit: long.verified, witToken: long.token, replay: spy })));
    expect(partitions).toEqual([`wpt-sub:${await sha256b64url(long.verified.subject.uri)}`]);
    expect(partitions[0]!.length).toBeLessThanOrEqual(MAX_STATE_KEY_LENGTH);
  });

  it('fails closed when the subject holds its replay quota, and other subjects are unaffected', async () => {
    const replay = memoryReplayStore({ now: () => NOW * 1000, maxMarkersPerPartition: 2 });
    expectOk(await verifyWpt(await wpt(), context({ replay })));
    expectOk(await verifyWpt(await wpt(), context({ replay })));
    const over = await verifyWpt(await wpt(), context({ replay }));
    expect(over).toMatchObject({ ok: false, code: 'ERR_WPT_REPLAY_STORE_FAILED', detail: 'replay store failed (ReplayQuotaExceededError)' });
    const other = await mintWit(workload, 'EdDSA', 'wimse://example.com/svc-b');
    const proof = await wpt(header(), await claims({ wth: await sha256b64url(other.token) }));
    expect(expectOk(await verifyWpt(proof, context({ wit: other.verified, witToken: other.token, replay }))).subject.uri).toBe('wimse://example.com/svc-b');
    await expectWptFailure(proof, 'ERR_WPT_REPLAYED', context({ wit: other.verified, witToken: other.token, replay }));
  });

  it('fails closed when the replay store fails', async () => {
    const broken: ReplayStore = { checkAndSet: async () => { throw new Error('down'); } };
    await expectWptFailure(await wpt(), 'ERR_WPT_REPLAY_STORE_FAILED', context({ replay: broken }));
  });
});

describe('verifyWpt: raw signature helper sanity', () => {
  it('rawSignature matches sign()', async () => {
    const token = await wpt();
    const input = token.slice(0, token.lastIndexOf('.'));
    expect(await rawSignature(input, workload)).toBe(token.slice(token.lastIndexOf('.') + 1));
  });
});
