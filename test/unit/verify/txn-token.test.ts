/**
 * Txn-Token verification (src/verify/txn-token.ts; draft-ietf-oauth-transaction-tokens): one negative test per
 * validation step asserting its code, the draft's example body re-signed with a test key and verified with the clock
 * pinned, and the replay option.
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_TXN_TOKEN_BYTES, MAX_TXN_TOKEN_LIFETIME_SECONDS } from '../../../src/limits.ts';
import { mintTxnToken } from '../../../src/mint/txn-token.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import { TXN_TOKEN_ERRORS, type TxnTokenErrorCode } from '../../../src/verify/errors.ts';
import { verifyTxnToken, type TxnTokenContext } from '../../../src/verify/txn-token.ts';
import { expectFailure, expectOk, generateKey, sign, signHs256, without, type TestKey } from './mint.ts';

const NOW = 1_800_000_000;
const TD = 'trust-domain.example';
const KID = 'k1';

let key: TestKey;
let attacker: TestKey;
let es384: TestKey;
let cache: KeyImportCache;
const seen = new Set<TxnTokenErrorCode>();

beforeAll(async () => {
  [key, attacker, es384] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES384')]);
  cache = new KeyImportCache(16);
});

afterAll(() => {
  // Every code of the map has a test here.
  expect([...seen].sort()).toEqual(Object.keys(TXN_TOKEN_ERRORS).sort());
});

const header = (): Record<string, unknown> => ({ typ: 'txntoken+jwt', alg: 'ES256', kid: KID });
const claims = (): Record<string, unknown> => ({
  iat: NOW - 10,
  aud: TD,
  exp: NOW + 50,
  txn: '97053963-771d-49cc-a4e3-20aad399c312',
  sub: 'd084sdrt234fsaw34tr23t',
  scope: 'trade.stocks read',
  req_wl: 'apigateway.trust-domain.example',
  tctx: { action: 'BUY' },
  rctx: { req_ip: '69.151.72.123' },
});

function context(overrides: Partial<TxnTokenContext> = {}): TxnTokenContext {
  const keys = new Map<string, JWK>([[KID, { ...key.publicJwk, kid: KID, alg: 'ES256' }], ['k384', { ...es384.publicJwk, kid: 'k384' }]]);
  return {
    keys: async (kid) => (kid === undefined ? keys.get(KID) : keys.get(kid)),
    audience: TD,
    now: () => NOW * 1000,
    keyCache: cache,
    ...overrides,
  };
}

async function refused(token: string, code: TxnTokenErrorCode, ctx: TxnTokenContext = context()): Promise<void> {
  seen.add(code);
  expectFailure(await verifyTxnToken(token, ctx), code, [token, String(key.publicJwk.x)]);
}

describe('verifyTxnToken: valid tokens', () => {
  it('accepts a minted token and returns its claims (ms times, scope split, token hash)', async () => {
    const token = await sign(header(), { ...claims(), iss: 'https://tts.trust-domain.example' }, key);
    const v = expectOk(await verifyTxnToken(token, context()));
    expect(v).toEqual({
      txn: '97053963-771d-49cc-a4e3-20aad399c312',
      sub: 'd084sdrt234fsaw34tr23t',
      scope: ['trade.stocks', 'read'],
      reqWl: 'apigateway.trust-domain.example',
      aud: [TD],
      iat: (NOW - 10) * 1000,
      exp: (NOW + 50) * 1000,
      tctx: { action: 'BUY' },
      rctx: { req_ip: '69.151.72.123' },
      iss: 'https://tts.trust-domain.example',
      tokenHash: await sha256b64url(token),
    });
  });

  it('accepts aud as an array containing the trust domain, typ in any case and with application/, no kid with a single key, no tctx/rctx', async () => {
    const body = without({ ...claims(), aud: ['other.example', TD] }, 'tctx', 'rctx');
    expectOk(await verifyTxnToken(await sign({ ...header(), typ: 'Application/TxnToken+JWT' }, body, key), context()));
    expectOk(await verifyTxnToken(await sign(without(header(), 'kid'), claims(), key), context()));
  });

  it('verifies what mintTxnToken produces with a CryptoKey from the key source', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
    const token = await mintTxnToken({ aud: TD, sub: 'user-1', scope: 'a b', req_wl: 'gw' }, { key: { kid: 'm1', alg: 'ES256', key: pair.privateKey }, now: () => NOW * 1000 });
    const v = expectOk(await verifyTxnToken(token, context({ keys: async (kid) => (kid === 'm1' ? pair.publicKey : undefined) })));
    expect(v.scope).toEqual(['a', 'b']);
    expect(v.exp - v.iat).toBe(60_000);
  });

  it('the draft example body (comments stripped), re-signed with a test key, verifies with the clock pinned', async () => {
    const body = JSON.parse(readFileSync(new URL('../../vectors/txn-token/draft-example.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const token = await sign(header(), body, key);
    const pinned = context({ now: () => ((body.iat as number) + 30) * 1000 });
    const v = expectOk(await verifyTxnToken(token, pinned));
    expect(v).toMatchObject({
      txn: '97053963-771d-49cc-a4e3-20aad399c312',
      sub: 'd084sdrt234fsaw34tr23t',
      scope: ['trade.stocks'],
      reqWl: 'apigateway.trust-domain.example',
      aud: ['trust-domain.example'],
      iat: 1686536226_000,
      exp: 1686536586_000,
      rctx: { req_ip: '69.151.72.123', authn: 'face' },
    });
    expect(v.tctx).toEqual({ action: 'BUY', ticker: 'MSFT', quantity: '100', customer_type: { geo: 'US', level: 'VIP' } });
    // The example is valid for 360 s: past exp + skew it is refused.
    await refused(token, 'ERR_TXN_TOKEN_EXPIRED', context({ now: () => ((body.exp as number) + 61) * 1000 }));
  });
});

describe('verifyTxnToken: one code per step, in order', () => {
  it('1 size', async () => {
    await refused('a'.repeat(MAX_TXN_TOKEN_BYTES + 1), 'ERR_TXN_TOKEN_TOO_LARGE');
  });
  it('2 shape', async () => {
    await refused('abc.def', 'ERR_TXN_TOKEN_MALFORMED');
    const token = await sign(header(), claims(), key);
    await refused(`${token}, ${token}`, 'ERR_TXN_TOKEN_MALFORMED');
  });
  it('3 typ: absent, JWT, or the -01 value txn_token', async () => {
    for (const typ of [undefined, 'JWT', 'txn_token', 'text/txntoken+jwt']) {
      await refused(await sign({ ...header(), typ }, claims(), key), 'ERR_TXN_TOKEN_TYP_INVALID');
    }
  });
  it('4 alg: none, HS256, or not in the policy', async () => {
    await refused(await signHs256({ ...header(), alg: 'HS256' }, claims(), new Uint8Array(32)), 'ERR_TXN_TOKEN_ALG_NOT_ALLOWED');
    await refused(await sign({ ...header(), alg: 'none' }, claims(), key), 'ERR_TXN_TOKEN_ALG_NOT_ALLOWED');
    await refused(await sign({ ...header(), alg: 'ES384', kid: 'k384' }, claims(), es384), 'ERR_TXN_TOKEN_ALG_NOT_ALLOWED');
    // …and accepted once the policy lists it.
    expectOk(await verifyTxnToken(await sign({ ...header(), alg: 'ES384', kid: 'k384' }, claims(), es384), context({ algorithms: ['ES384'] })));
  });
  it('5 crit', async () => {
    await refused(await sign({ ...header(), crit: ['exp'] }, claims(), key), 'ERR_TXN_TOKEN_CRIT_UNSUPPORTED');
  });
  it('6 kid', async () => {
    await refused(await sign({ ...header(), kid: 7 }, claims(), key), 'ERR_TXN_TOKEN_KID_INVALID');
    await refused(await sign({ ...header(), kid: 'x'.repeat(300) }, claims(), key), 'ERR_TXN_TOKEN_KID_INVALID');
  });
  it('7 key source fails: fail closed, without quoting the error message', async () => {
    const ctx = context({ keys: async () => { throw new Error('https://secret.example/jwks said 500'); } });
    const token = await sign(header(), claims(), key);
    await refused(token, 'ERR_TXN_TOKEN_KEY_SOURCE_FAILED', ctx);
    const result = await verifyTxnToken(token, ctx);
    expect(!result.ok && result.detail).not.toContain('secret.example');
  });
  it('8 key not found (a jwk header is never used)', async () => {
    await refused(await sign({ ...header(), kid: 'unknown', jwk: attacker.publicJwk }, claims(), attacker), 'ERR_TXN_TOKEN_KEY_NOT_FOUND');
  });
  it('9 signature: forged, tampered, or key of another curve', async () => {
    await refused(await sign(header(), claims(), attacker), 'ERR_TXN_TOKEN_SIGNATURE_INVALID');
    const [h, , s] = (await sign(header(), claims(), key)).split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims(), scope: 'admin' })).toString('base64url')}.${s}`;
    await refused(tampered, 'ERR_TXN_TOKEN_SIGNATURE_INVALID');
    await refused(await sign({ ...header(), kid: 'k384' }, claims(), key), 'ERR_TXN_TOKEN_SIGNATURE_INVALID');
  });
  it('10 aud: another trust domain, absent, or not strings', async () => {
    for (const aud of ['other-domain.example', undefined, [], [TD, 1], 'TRUST-DOMAIN.EXAMPLE']) {
      await refused(await sign(header(), { ...claims(), aud }, key), 'ERR_TXN_TOKEN_AUD_MISMATCH');
    }
  });
  it('11 exp absent or not a NumericDate', async () => {
    await refused(await sign(header(), without(claims(), 'exp'), key), 'ERR_TXN_TOKEN_EXP_INVALID');
    await refused(await sign(header(), { ...claims(), exp: String(NOW + 50) }, key), 'ERR_TXN_TOKEN_EXP_INVALID');
  });
  it('12 expired beyond the skew (and accepted within it)', async () => {
    const body = { ...claims(), iat: NOW - 100, exp: NOW - 61 };
    await refused(await sign(header(), body, key), 'ERR_TXN_TOKEN_EXPIRED');
    expectOk(await verifyTxnToken(await sign(header(), { ...body, exp: NOW - 59 }, key), context()));
    await refused(await sign(header(), { ...body, exp: NOW - 1 }, key), 'ERR_TXN_TOKEN_EXPIRED', context({ clockSkewSeconds: 0 }));
  });
  it('13 iat absent', async () => {
    await refused(await sign(header(), without(claims(), 'iat'), key), 'ERR_TXN_TOKEN_IAT_INVALID');
  });
  it('14 iat in the future beyond the skew', async () => {
    await refused(await sign(header(), { ...claims(), iat: NOW + 120, exp: NOW + 150 }, key), 'ERR_TXN_TOKEN_NOT_YET_VALID');
  });
  it('15 lifetime over the maximum (default MAX_TXN_TOKEN_LIFETIME_SECONDS, or the context)', async () => {
    await refused(await sign(header(), { ...claims(), iat: NOW, exp: NOW + MAX_TXN_TOKEN_LIFETIME_SECONDS + 1 }, key), 'ERR_TXN_TOKEN_LIFETIME_TOO_LONG');
    await refused(await sign(header(), claims(), key), 'ERR_TXN_TOKEN_LIFETIME_TOO_LONG', context({ maxLifetimeSeconds: 30 }));
  });
  it('16 txn', async () => {
    for (const txn of [undefined, '', 42, 'x'.repeat(257)]) await refused(await sign(header(), { ...claims(), txn }, key), 'ERR_TXN_TOKEN_TXN_INVALID');
  });
  it('17 sub', async () => {
    for (const sub of [undefined, '', { id: 1 }]) await refused(await sign(header(), { ...claims(), sub }, key), 'ERR_TXN_TOKEN_SUB_INVALID');
  });
  it('18 scope: absent, empty (decision: REQUIRED means one or more scope-tokens), array, bad syntax', async () => {
    for (const scope of [undefined, '', ['trade.stocks'], 'a  b', ' a', 'a"b']) {
      await refused(await sign(header(), { ...claims(), scope }, key), 'ERR_TXN_TOKEN_SCOPE_INVALID');
    }
  });
  it('19 req_wl: absent, empty, or the old array form', async () => {
    for (const req_wl of [undefined, '', ['a', 'b']]) await refused(await sign(header(), { ...claims(), req_wl }, key), 'ERR_TXN_TOKEN_REQ_WL_INVALID');
  });
  it('20 tctx / rctx not objects', async () => {
    await refused(await sign(header(), { ...claims(), tctx: ['BUY'] }, key), 'ERR_TXN_TOKEN_CONTEXT_INVALID');
    await refused(await sign(header(), { ...claims(), rctx: 'ip' }, key), 'ERR_TXN_TOKEN_CONTEXT_INVALID');
    await refused(await sign(header(), { ...claims(), tctx: null }, key), 'ERR_TXN_TOKEN_CONTEXT_INVALID');
  });
  it('21 iss present but not a string', async () => {
    await refused(await sign(header(), { ...claims(), iss: 5 }, key), 'ERR_TXN_TOKEN_ISS_INVALID');
  });
  it('22 replay (opt-in): the second token with a txn is refused; a failing store fails closed', async () => {
    const replay = memoryReplayStore({ now: () => NOW * 1000 });
    const token = await sign(header(), claims(), key);
    expectOk(await verifyTxnToken(token, context({ replay })));
    await refused(token, 'ERR_TXN_TOKEN_REPLAYED', context({ replay }));
    // Without the option the same token verifies again (propagated tokens are received many times).
    expectOk(await verifyTxnToken(token, context()));
    // Another trust domain's marker space is separate.
    const other = await sign(header(), { ...claims(), aud: [TD, 'b.example'] }, key);
    expectOk(await verifyTxnToken(other, context({ replay, audience: 'b.example' })));
    const broken = { checkAndSet: async () => { throw new Error('down'); } };
    await refused(await sign(header(), { ...claims(), txn: 'fresh' }, key), 'ERR_TXN_TOKEN_REPLAY_STORE_FAILED', context({ replay: broken }));
  });
  it('an invalid token spends no replay marker (replay is the last step)', async () => {
    const replay = memoryReplayStore({ now: () => NOW * 1000 });
    await refused(await sign(header(), { ...claims(), txn: 't2', req_wl: '' }, key), 'ERR_TXN_TOKEN_REQ_WL_INVALID', context({ replay }));
    expectOk(await verifyTxnToken(await sign(header(), { ...claims(), txn: 't2' }, key), context({ replay })));
  });
});
