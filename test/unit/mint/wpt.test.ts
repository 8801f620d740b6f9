import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { parseCompactJwt } from '../../../src/crypto/jws.ts';
import { DEFAULT_WPT_MAX_LIFETIME_SECONDS, MAX_OTH_ENTRIES } from '../../../src/limits.ts';
import { generateSigningKey, publicJwks } from '../../../src/mint/keys.ts';
import { mintWit, type MintedWit } from '../../../src/mint/wit.ts';
import { createWptSigner, DEFAULT_WPT_TTL_SECONDS, mintWpt } from '../../../src/mint/wpt.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import { verifyWit, type VerifiedWit } from '../../../src/verify/wit.ts';
import { verifyWpt, type WptContext } from '../../../src/verify/wpt.ts';
import { expectFailure, expectOk } from '../verify/mint.ts';

const NOW = 1_800_000_000_000;
const AUD = 'https://gw.example.org/mcp';
const TXN = 'eyJhbGciOiJFUzI1NiJ9.eyJ0eG4iOiIxIn0.c2ln';
const AT = '16_mAd0GiwaZokU26_0902100';

let issuerKey: JWK;
let minted: MintedWit;
let wit: VerifiedWit;
let mintedEd: MintedWit;
let witEd: VerifiedWit;

async function verifiedWit(m: MintedWit): Promise<VerifiedWit> {
  const jwks = publicJwks([issuerKey]);
  return expectOk(await verifyWit(m.wit, { keys: async (_td, kid) => jwks.keys.find((k) => k.kid === kid), policy: { confirmationAlgorithms: ['ES256', 'EdDSA'] }, now: () => NOW }));
}

function context(overrides: Partial<WptContext> = {}): WptContext {
  return { wit, witToken: minted.wit, audience: AUD, replay: memoryReplayStore({ now: () => NOW }), now: () => NOW, ...overrides };
}

beforeAll(async () => {
  issuerKey = await generateSigningKey('ES256');
  minted = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent', now: () => NOW });
  mintedEd = await mintWit({ issuerKey, subject: 'wimse://example.org/agent', confirmationAlgorithm: 'EdDSA', now: () => NOW });
  wit = await verifiedWit(minted);
  witEd = await verifiedWit(mintedEd);
});

describe('mintWpt', () => {
  it('mints a -02 proof that verifyWpt accepts', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, now: () => NOW });
    const verified = expectOk(await verifyWpt(wpt, context()));
    expect(verified).toMatchObject({ audience: AUD, carriage: 'authorization', expiresAt: NOW + DEFAULT_WPT_TTL_SECONDS * 1000, bound: { accessToken: false, txnToken: false, otherTokens: [] } });
  });

  it('writes the header and claims of wpt-02 §2, hashes as the verifier computes them', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, ttlSeconds: 30, txnToken: TXN, otherTokens: { 'X-Custom-Token': ' some-example-other-token\t' }, now: () => NOW });
    const { header, claims } = parsed(wpt);
    expect(header).toEqual({ alg: 'ES256', typ: 'wpt+jwt' });
    expect(claims).toEqual({
      aud: AUD,
      exp: NOW / 1000 + 30,
      iat: NOW / 1000,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      wth: await sha256b64url(minted.wit),
      tth: await sha256b64url(TXN),
      // wimse WG example (reference V4): b64url(SHA-256("some-example-other-token")), key lowercased
      oth: { 'x-custom-token': 'x-Uy6Ch_xn3AbUVKDjPMQQugtcn2erLWrkvVWAmKl1k' },
    });
  });

  it('binds tth and oth so that verifyWpt accepts them', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, txnToken: TXN, otherTokens: { 'x-user-context': 'user-ctx-token' }, now: () => NOW });
    const verified = expectOk(await verifyWpt(wpt, context({ txnToken: TXN, otherTokens: { 'x-user-context': '  user-ctx-token ' } })));
    expect(verified.bound).toEqual({ accessToken: false, txnToken: true, otherTokens: ['x-user-context'] });
  });

  it('a proof bound to one Txn-Token or context token fails with another', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, txnToken: TXN, otherTokens: { 'x-user-context': 'a' }, now: () => NOW });
    expectFailure(await verifyWpt(wpt, context({ txnToken: `${TXN}x`, otherTokens: { 'x-user-context': 'a' } })), 'ERR_WPT_TTH_MISMATCH');
    expectFailure(await verifyWpt(wpt, context({ txnToken: TXN, otherTokens: { 'x-user-context': 'b' } })), 'ERR_WPT_OTH_MISMATCH');
    expectFailure(await verifyWpt(wpt, context({ otherTokens: { 'x-user-context': 'a' } })), 'ERR_WPT_TTH_MISMATCH');
  });

  it('binds ath for the -01 carriage', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, accessToken: AT, now: () => NOW });
    expect(parsed(wpt).claims.ath).toBe('CL4wjfpRmNf-bdYIbYLnV9d5rMARGwKYE10wUwzC0jI'); // reference V2
    expect(expectOk(await verifyWpt(wpt, context({ carriage: 'header', accessToken: AT }))).bound.accessToken).toBe(true);
    expectFailure(await verifyWpt(wpt, context({ carriage: 'header', accessToken: 'other' })), 'ERR_WPT_ATH_MISMATCH');
  });

  it('signs with EdDSA when the WIT confirms an Ed25519 key', async () => {
    const wpt = await mintWpt({ wit: mintedEd.wit, key: mintedEd.key, audience: AUD, now: () => NOW });
    expect(parsed(wpt).header).toEqual({ alg: 'EdDSA', typ: 'wpt+jwt' });
    expectOk(await verifyWpt(wpt, context({ wit: witEd, witToken: mintedEd.wit })));
  });

  it('gives every proof a fresh jti; a signer reused across requests passes the replay check each time', async () => {
    const sign = await createWptSigner(minted.wit, minted.key);
    const ctx = context();
    const jtis = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const wpt = await sign({ audience: AUD, now: () => NOW });
      jtis.add(parsed(wpt).claims.jti as string);
      expectOk(await verifyWpt(wpt, ctx));
    }
    expect(jtis.size).toBe(5);
  });

  it('expires: after exp (+ skew) verifyWpt says ERR_WPT_EXPIRED', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, ttlSeconds: 10, now: () => NOW });
    expectFailure(await verifyWpt(wpt, context({ now: () => NOW + 71_000 })), 'ERR_WPT_EXPIRED');
  });

  it('the longest allowed lifetime passes a default verifier', async () => {
    const wpt = await mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, ttlSeconds: DEFAULT_WPT_MAX_LIFETIME_SECONDS, now: () => NOW });
    expectOk(await verifyWpt(wpt, context()));
  });

  it('refuses a key that is not the WIT\'s confirmation key', async () => {
    const other = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent', now: () => NOW });
    await expect(mintWpt({ wit: minted.wit, key: other.key, audience: AUD })).rejects.toThrow(/not the private half/);
    await expect(mintWpt({ wit: minted.wit, key: mintedEd.key, audience: AUD })).rejects.toThrow(/differs from the WIT's cnf.jwk.alg/);
    const { d: _d, ...publicOnly } = minted.key;
    await expect(mintWpt({ wit: minted.wit, key: publicOnly, audience: AUD })).rejects.toThrow(/public key/);
  });

  it('refuses to sign once the WIT has expired', async () => {
    const later = NOW + 3600_000;
    await expect(mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, now: () => later })).rejects.toThrow(/WIT has expired/);
  });

  it('refuses malformed input', async () => {
    await expect(mintWpt({ wit: 'not.a.jwt!', key: minted.key, audience: AUD })).rejects.toThrow(/not a compact JWT/);
    await expect(mintWpt({ wit: minted.wit, key: minted.key, audience: '' })).rejects.toThrow(/audience/);
    await expect(mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, ttlSeconds: DEFAULT_WPT_MAX_LIFETIME_SECONDS + 1 })).rejects.toThrow(/ttlSeconds/);
    await expect(mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, txnToken: '' })).rejects.toThrow(/txnToken/);
  });

  it.each([
    [{ 'bad header': 'x' }, /not an HTTP header field name/],
    [{ Authorization: 'x' }, /own binding/],
    [{ 'Txn-Token': 'x' }, /own binding/],
    [{ 'Workload-Identity-Token': 'x' }, /own binding/],
    [{ 'X-A': 'x', 'x-a': 'y' }, /twice/],
    [Object.fromEntries(Array.from({ length: MAX_OTH_ENTRIES + 1 }, (_, i) => [`x-${i}`, 'v'])), /at most/],
  ])('refuses otherTokens %o', async (otherTokens, message) => {
    await expect(mintWpt({ wit: minted.wit, key: minted.key, audience: AUD, otherTokens, now: () => NOW })).rejects.toThrow(message);
  });
});

function parsed(token: string) {
  const result = parseCompactJwt(token);
  if (!result.ok) throw new Error(result.detail);
  return result.value;
}
