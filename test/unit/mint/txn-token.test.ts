/**
 * Txn-Token minting (src/mint/txn-token.ts): header and claims per draft-ietf-oauth-transaction-tokens "Txn-Token
 * Format", lifetime bounds, input checks, and an independent check of the JWS with jose.
 */
import { compactVerify, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TXN_TOKEN_LIFETIME_SECONDS, MAX_TXN_TOKEN_BYTES, MAX_TXN_TOKEN_LIFETIME_SECONDS } from '../../../src/limits.ts';
import { mintTxnToken, type TxnTokenClaims } from '../../../src/mint/txn-token.ts';
import type { TxnSigningKey } from '../../../src/txn/key-ring.ts';
import { verifyTxnToken } from '../../../src/verify/txn-token.ts';

const NOW_MS = 1_800_000_000_500;
const NOW = 1_800_000_000;
const now = () => NOW_MS;

let signing: TxnSigningKey;
let publicKey: CryptoKey;

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  signing = { kid: 'kid-1', alg: 'ES256', key: pair.privateKey };
  publicKey = pair.publicKey;
});

const base = (): TxnTokenClaims => ({ aud: 'trust-domain.example', sub: 'user-1', scope: 'trade.stocks', req_wl: 'apigateway.trust-domain.example' });

function payload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('mintTxnToken', () => {
  it('signs header {alg ES256, typ txntoken+jwt, kid} and the REQUIRED claims, with the default lifetime and a fresh UUID txn', async () => {
    const token = await mintTxnToken(base(), { key: signing, now });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'txntoken+jwt', kid: 'kid-1' });
    const claims = payload(token);
    expect(claims).toEqual({ iat: NOW, aud: 'trust-domain.example', exp: NOW + DEFAULT_TXN_TOKEN_LIFETIME_SECONDS, txn: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/), sub: 'user-1', scope: 'trade.stocks', req_wl: 'apigateway.trust-domain.example' });
    expect(payload(await mintTxnToken(base(), { key: signing, now })).txn).not.toBe(claims.txn);
    // An independent JOSE implementation accepts it.
    const verified = await jwtVerify(token, publicKey, { typ: 'txntoken+jwt', audience: 'trust-domain.example', currentDate: new Date(NOW_MS), algorithms: ['ES256'] });
    expect(verified.payload.sub).toBe('user-1');
    expect((await compactVerify(token, publicKey)).protectedHeader.kid).toBe('kid-1');
  });

  it('keeps a given txn, adds tctx / rctx / iss only when given, and round-trips through verifyTxnToken (non-ASCII included)', async () => {
    const claims: TxnTokenClaims = { ...base(), txn: 'txn-42', tctx: { action: 'BUY', note: 'Zürich — 東京' }, rctx: { req_ip: '192.0.2.1' }, iss: 'https://gw.example' };
    const token = await mintTxnToken(claims, { key: signing, now, lifetimeSeconds: 300 });
    const result = await verifyTxnToken(token, { keys: async (kid) => (kid === 'kid-1' ? publicKey : undefined), audience: 'trust-domain.example', now });
    expect(result.ok && result.value).toMatchObject({ txn: 'txn-42', tctx: claims.tctx, rctx: claims.rctx, iss: 'https://gw.example', exp: (NOW + 300) * 1000 });
    expect(Object.keys(payload(await mintTxnToken(base(), { key: signing, now })))).not.toContain('tctx');
  });

  it('bounds the lifetime to 1..MAX_TXN_TOKEN_LIFETIME_SECONDS whole seconds', async () => {
    for (const lifetimeSeconds of [0, -1, 1.5, MAX_TXN_TOKEN_LIFETIME_SECONDS + 1, Number.NaN]) {
      await expect(mintTxnToken(base(), { key: signing, now, lifetimeSeconds })).rejects.toThrow(RangeError);
    }
    const longest = payload(await mintTxnToken(base(), { key: signing, now, lifetimeSeconds: MAX_TXN_TOKEN_LIFETIME_SECONDS }));
    expect((longest.exp as number) - (longest.iat as number)).toBe(MAX_TXN_TOKEN_LIFETIME_SECONDS);
  });

  it('refuses claims the verifier would refuse, naming the claim', async () => {
    const bad: Array<[Partial<Record<keyof TxnTokenClaims, unknown>>, RegExp]> = [
      [{ aud: '' }, /aud/],
      [{ sub: undefined }, /sub/],
      [{ req_wl: ['a'] }, /req_wl/],
      [{ scope: '' }, /scope/],
      [{ scope: 'a  b' }, /scope/],
      [{ txn: '' }, /txn/],
      [{ tctx: ['x'] }, /tctx/],
      [{ rctx: null }, /rctx/],
      [{ iss: '' }, /iss/],
    ];
    for (const [change, message] of bad) {
      await expect(mintTxnToken({ ...base(), ...change } as TxnTokenClaims, { key: signing, now })).rejects.toThrow(message);
    }
  });

  it('refuses a key that is not a private ES256 key with a kid, and a token verifiers would refuse as too large', async () => {
    await expect(mintTxnToken(base(), { key: { ...signing, kid: '' }, now })).rejects.toThrow(TypeError);
    await expect(mintTxnToken(base(), { key: { ...signing, key: publicKey }, now })).rejects.toThrow(/private/);
    await expect(mintTxnToken(base(), { key: { ...signing, alg: 'RS256' as 'ES256' }, now })).rejects.toThrow(TypeError);
    await expect(mintTxnToken({ ...base(), tctx: { blob: 'x'.repeat(MAX_TXN_TOKEN_BYTES) } }, { key: signing, now })).rejects.toThrow(RangeError);
  });

  it('never puts key material in the token', async () => {
    const jwk = await exportJWK(signing.key);
    const token = await mintTxnToken(base(), { key: signing, now });
    expect(token).not.toContain(jwk.d!);
  });
});
