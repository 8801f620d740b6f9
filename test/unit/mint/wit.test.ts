import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCompactJwt } from '../../../src/crypto/jws.ts';
import { jwkThumbprint } from '../../../src/crypto/thumbprint.ts';
import { DEFAULT_WIT_MAX_LIFETIME_SECONDS } from '../../../src/limits.ts';
import { DEV_ISSUER, devJwks, generateDevIssuerKey, mintDevWit } from '../../../src/mint/dev-issuer.ts';
import { generateSigningKey, publicJwks, publicSigningJwk } from '../../../src/mint/keys.ts';
import { DEFAULT_WIT_TTL_SECONDS, mintWit } from '../../../src/mint/wit.ts';
import { verifyWit, type WitKeySource } from '../../../src/verify/wit.ts';
import { expectFailure, expectOk } from '../verify/mint.ts';

const TD = 'example.org';
const SUB = `spiffe://${TD}/agents/planner`;
const NOW = 1_800_000_000_000;

let issuerKey: JWK;
let jwks: { keys: JWK[] };

/** The trust-domain binding a gateway does: keys for TD only, selected by kid. */
const keysFor = (domain: string, set: () => { keys: JWK[] }): WitKeySource => async (trustDomain, kid) =>
  trustDomain === domain ? set().keys.find((key) => key.kid === kid) : undefined;

beforeAll(async () => {
  issuerKey = await generateSigningKey('ES256');
  jwks = publicJwks([issuerKey]);
});

describe('mintWit', () => {
  it('mints a WIT that verifyWit accepts with the trust domain JWKS', async () => {
    const { wit, key, expiresAt } = await mintWit({ issuerKey, issuer: 'https://issuer.example.org', subject: SUB, now: () => NOW });
    const verified = expectOk(await verifyWit(wit, { keys: keysFor(TD, () => jwks), policy: { issuers: ['https://issuer.example.org'] }, now: () => NOW + 1000 }));
    expect(verified.subject.uri).toBe(SUB);
    expect(verified.issuer).toBe('https://issuer.example.org');
    expect(verified.keyId).toBe(issuerKey.kid);
    expect(verified.confirmationAlgorithm).toBe('ES256');
    expect(verified.confirmationThumbprint).toBe(key.kid);
    expect(verified.expiresAt).toBe(expiresAt);
    expect(expiresAt).toBe(NOW + DEFAULT_WIT_TTL_SECONDS * 1000);
  });

  it('writes the header and claims of workload-creds-02 §5.1', async () => {
    const { wit, key } = await mintWit({ issuerKey, issuer: DEV_ISSUER, subject: SUB, ttlSeconds: 600, now: () => NOW });
    const { header, claims } = expectParsed(wit);
    expect(header).toEqual({ alg: 'ES256', kid: issuerKey.kid, typ: 'wit+jwt' });
    expect(Object.keys(claims).sort()).toEqual(['cnf', 'exp', 'iat', 'iss', 'jti', 'sub']);
    expect(claims).toMatchObject({ iss: DEV_ISSUER, sub: SUB, iat: NOW / 1000, exp: NOW / 1000 + 600 });
    expect(claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((claims.cnf as { jwk: JWK }).jwk).toEqual(publicSigningJwk(key));
    expect((claims.cnf as { jwk: JWK }).jwk).not.toHaveProperty('d');
  });

  it('omits iss when no issuer is given', async () => {
    const { wit } = await mintWit({ issuerKey, subject: SUB });
    expect(expectParsed(wit).claims).not.toHaveProperty('iss');
  });

  it('returns the fresh private confirmation key with alg and kid = its thumbprint, new for every WIT', async () => {
    const a = await mintWit({ issuerKey, subject: SUB });
    const b = await mintWit({ issuerKey, subject: SUB });
    for (const { key } of [a, b]) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', d: expect.any(String) });
      expect(key.kid).toBe(await jwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y } as JWK));
    }
    expect(a.key.kid).not.toBe(b.key.kid);
    expect(expectParsed(a.wit).claims.jti).not.toBe(expectParsed(b.wit).claims.jti);
  });

  it.each(['EdDSA', 'Ed25519', 'ES384'] as const)('binds a %s confirmation key when asked (and the policy allows it)', async (alg) => {
    const { wit, key } = await mintWit({ issuerKey, subject: SUB, confirmationAlgorithm: alg });
    expect(key.alg).toBe(alg);
    const verified = expectOk(await verifyWit(wit, { keys: keysFor(TD, () => jwks), policy: { confirmationAlgorithms: [alg] }, now: Date.now }));
    expect(verified.confirmationAlgorithm).toBe(alg);
    // The default policy (ES256 only) refuses it: the verifier, not the minter, decides what it accepts.
    expectFailure(await verifyWit(wit, { keys: keysFor(TD, () => jwks), now: Date.now }), 'ERR_WIT_CNF_ALG_INVALID');
  });

  it('mints WITs that expire: after exp (+ skew) verifyWit says ERR_WIT_EXPIRED', async () => {
    const { wit } = await mintWit({ issuerKey, subject: SUB, ttlSeconds: 60, now: () => NOW });
    expectFailure(await verifyWit(wit, { keys: keysFor(TD, () => jwks), now: () => NOW + 121_000 }), 'ERR_WIT_EXPIRED');
  });

  it('the longest allowed lifetime passes a default verifier', async () => {
    const { wit } = await mintWit({ issuerKey, subject: SUB, ttlSeconds: DEFAULT_WIT_MAX_LIFETIME_SECONDS, now: () => NOW });
    expectOk(await verifyWit(wit, { keys: keysFor(TD, () => jwks), now: () => NOW }));
  });

  it('is not accepted for another trust domain, or with another issuer key', async () => {
    const { wit } = await mintWit({ issuerKey, subject: SUB });
    expectFailure(await verifyWit(wit, { keys: keysFor('other.example', () => jwks), now: Date.now }), 'ERR_WIT_KEY_NOT_FOUND');
    const stranger = await generateSigningKey('ES256');
    const forged = await mintWit({ issuerKey: { ...stranger, kid: issuerKey.kid }, subject: SUB });
    expectFailure(await verifyWit(forged.wit, { keys: keysFor(TD, () => jwks), now: Date.now }), 'ERR_WIT_SIGNATURE_INVALID');
  });

  it.each([
    ['not canonical', 'spiffe://Example.org/a', /ERR_ID_NOT_CANONICAL/],
    ['a dot segment', 'spiffe://example.org/a/../b', /ERR_ID_NOT_CANONICAL/],
    ['another scheme', 'https://example.org/a', /ERR_ID_SCHEME/],
    ['a bare trust domain', 'spiffe://example.org', /trust domain identifier/],
  ])('refuses a subject that is %s', async (_what, subject, message) => {
    await expect(mintWit({ issuerKey, subject })).rejects.toThrow(message);
  });

  it.each([0, -1, 1.5, DEFAULT_WIT_MAX_LIFETIME_SECONDS + 1, Number.NaN])('refuses ttlSeconds %s', async (ttlSeconds) => {
    await expect(mintWit({ issuerKey, subject: SUB, ttlSeconds })).rejects.toThrow(/ttlSeconds/);
  });

  it('refuses issuer keys that cannot sign a WIT, without echoing key material', async () => {
    const { d: _d, ...publicOnly } = issuerKey;
    const { kid: _kid, ...noKid } = issuerKey;
    const cases: [unknown, RegExp][] = [
      [publicOnly, /public key/],
      [noKid, /kid/],
      [{ ...issuerKey, alg: 'HS256' }, /asymmetric/],
      [{ ...issuerKey, alg: undefined }, /alg/],
      [{ ...issuerKey, alg: 'EdDSA' }, /OKP/],
      [{ ...issuerKey, d: 'AAAA' }, /does not import|not a private/],
      ['not a key', /private JWK object/],
    ];
    for (const [key, message] of cases) {
      const error = await mintWit({ issuerKey: key as JWK, subject: SUB }).then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain(issuerKey.d);
      expect(error?.message).not.toContain(issuerKey.x);
    }
  });
});

describe('dev issuer (mint/dev-issuer.ts)', () => {
  it('mints for spiffe://dev.portcullis.local only, verifiable with devJwks', async () => {
    const devKey = await generateDevIssuerKey();
    const { wit } = await mintDevWit(devKey, 'spiffe://dev.portcullis.local/agent');
    const verified = expectOk(await verifyWit(wit, { keys: keysFor('dev.portcullis.local', () => devJwks([devKey])), policy: { issuers: [DEV_ISSUER] }, now: Date.now }));
    expect(verified.subject.uri).toBe('spiffe://dev.portcullis.local/agent');
    await expect(mintDevWit(devKey, 'spiffe://prod.example/agent')).rejects.toThrow(/only mints for spiffe:\/\/dev\.portcullis\.local/);
    await expect(mintDevWit(devKey, 'wimse://dev.portcullis.local/agent')).rejects.toThrow(/only mints/);
  });

  it('publishes public members, alg, kid and use only', async () => {
    const devKey = await generateDevIssuerKey();
    expect(devJwks([devKey])).toEqual({ keys: [{ kty: 'EC', crv: 'P-256', x: devKey.x, y: devKey.y, alg: 'ES256', kid: devKey.kid, use: 'sig' }] });
  });
});

function expectParsed(token: string) {
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.value;
}
