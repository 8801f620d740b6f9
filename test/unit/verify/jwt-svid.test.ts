import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_JWT_SVID_BYTES } from '../../../src/limits.ts';
import { JWT_SVID_ERRORS, type JwtSvidErrorCode } from '../../../src/verify/errors.ts';
import { verifyJwtSvid, type JwtSvidContext } from '../../../src/verify/jwt-svid.ts';
import { encodeSegment, expectFailure, expectOk, generateKey, sign, signHs256, without, type TestKey } from './mint.ts';

const NOW = 1_800_000_000;
const AUD = 'https://gw.example.com/mcp';
const SUB = 'spiffe://example.org/ns/prod/sa/agent';

let bundleKey: TestKey; // ES256, example.org, kid "b1"
let otherKey: TestKey;
let edKey: TestKey;
let cache: KeyImportCache;

beforeAll(async () => {
  [bundleKey, otherKey, edKey] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('EdDSA')]);
  cache = new KeyImportCache(16);
});

const header = () => ({ alg: 'ES256', kid: 'b1', typ: 'JWT' });
const claims = (): Record<string, unknown> => ({ sub: SUB, aud: [AUD], exp: NOW + 300, iat: NOW - 5, iss: 'https://spire.example.org' });

function context(overrides: Partial<JwtSvidContext> = {}): JwtSvidContext {
  return {
    keys: async (trustDomain, kid) => (trustDomain === 'example.org' && (kid === 'b1' || kid === undefined) ? bundleKey.publicJwk : undefined),
    audience: AUD,
    now: () => NOW * 1000,
    keyCache: cache,
    ...overrides,
  };
}

const svid = (h: Record<string, unknown> = header(), c: Record<string, unknown> = claims(), key: TestKey = bundleKey) => sign(h, c, key);

async function expectSvidFailure(token: string, code: JwtSvidErrorCode, ctx: JwtSvidContext = context()) {
  expectFailure(await verifyJwtSvid(token, ctx), code, [token, String(bundleKey.publicJwk.x)]);
}

describe('verifyJwtSvid: a valid JWT-SVID', () => {
  it('verifies and returns subject, audience and hash', async () => {
    const token = await svid();
    const value = expectOk(await verifyJwtSvid(token, context()));
    expect(value).toEqual({
      subject: { uri: SUB, scheme: 'spiffe', trustDomain: 'example.org', path: '/ns/prod/sa/agent' },
      audience: [AUD],
      issuer: 'https://spire.example.org',
      expiresAt: (NOW + 300) * 1000,
      keyId: 'b1',
      tokenHash: await sha256b64url(token),
    });
  });

  it('accepts a string aud, typ JOSE or no typ, and no kid', async () => {
    expectOk(await verifyJwtSvid(await svid(header(), { ...claims(), aud: AUD }), context()));
    expectOk(await verifyJwtSvid(await svid({ ...header(), typ: 'JOSE' }), context()));
    expectOk(await verifyJwtSvid(await svid(without(header(), 'typ', 'kid')), context()));
  });

  it('accepts when any configured audience is among several aud values', async () => {
    expectOk(await verifyJwtSvid(await svid(header(), { ...claims(), aud: ['https://x.example', AUD] }), context({ audience: ['https://y.example', AUD] })));
  });

  it('documents every code it can return', () => {
    expect(Object.keys(JWT_SVID_ERRORS).every((code) => /^ERR_JWT_SVID_[A-Z_]+$/.test(code))).toBe(true);
  });
});

describe('verifyJwtSvid: steps 1–2, size and shape', () => {
  it('refuses an oversized token', async () => {
    await expectSvidFailure(await svid(header(), { ...claims(), pad: 'x'.repeat(MAX_JWT_SVID_BYTES) }), 'ERR_JWT_SVID_TOO_LARGE');
  });

  it('refuses wrong segment counts, truncation and non-base64url', async () => {
    const token = await svid();
    const [h, p] = token.split('.');
    for (const broken of [`${h}.${p}`, `${token}.x`, token.slice(0, 20), `${token}=`, `Bearer ${token}`]) await expectSvidFailure(broken, 'ERR_JWT_SVID_MALFORMED');
  });
});

describe('verifyJwtSvid: step 3, only alg / kid / typ in the header', () => {
  it('refuses crit, jku, x5u, jwk and private header parameters', async () => {
    for (const extra of [{ crit: ['exp'] }, { jku: 'https://attacker.example/jwks' }, { x5u: 'https://x' }, { jwk: otherKey.publicJwk }, { 'example.com/x': 1 }]) {
      await expectSvidFailure(await svid({ ...header(), ...extra }), 'ERR_JWT_SVID_HEADER_INVALID');
    }
  });
});

describe('verifyJwtSvid: step 4, typ', () => {
  it('refuses a typ other than JWT or JOSE', async () => {
    for (const typ of ['jwt', 'wit+jwt', 'at+jwt', 1]) await expectSvidFailure(await svid({ ...header(), typ }), 'ERR_JWT_SVID_TYP_INVALID');
  });
});

describe('verifyJwtSvid: step 5, alg', () => {
  it('refuses none, HS256 with the public key as secret, EdDSA, and algorithms outside the policy', async () => {
    await expectSvidFailure(`${encodeSegment({ ...header(), alg: 'none' })}.${encodeSegment(claims())}.AAAA`, 'ERR_JWT_SVID_ALG_NOT_ALLOWED');
    const forged = await signHs256({ ...header(), alg: 'HS256' }, claims(), new TextEncoder().encode(JSON.stringify(bundleKey.publicJwk)));
    await expectSvidFailure(forged, 'ERR_JWT_SVID_ALG_NOT_ALLOWED', context({ policy: { algorithms: ['ES256', 'HS256'] } }));
    await expectSvidFailure(await svid({ ...header(), alg: 'EdDSA' }, claims(), edKey), 'ERR_JWT_SVID_ALG_NOT_ALLOWED', context({ policy: { algorithms: ['ES256', 'EdDSA'] } }));
    await expectSvidFailure(await svid(), 'ERR_JWT_SVID_ALG_NOT_ALLOWED', context({ policy: { algorithms: ['RS256'] } }));
  });
});

describe('verifyJwtSvid: step 6, kid', () => {
  it('refuses a non-string or empty kid', async () => {
    for (const kid of [1, '', null]) await expectSvidFailure(await svid({ ...header(), kid }), 'ERR_JWT_SVID_KID_INVALID');
  });
});

describe('verifyJwtSvid: step 7, sub', () => {
  it('refuses a missing, non-SPIFFE, non-canonical or trust-domain-only sub', async () => {
    await expectSvidFailure(await svid(header(), without(claims(), 'sub')), 'ERR_JWT_SVID_SUB_INVALID');
    for (const sub of ['wimse://example.org/ns/prod', 'spiffe://Example.org/a', 'spiffe://example.org/a/', 'spiffe://example.org/%61', 'spiffe://example.org/\u0430', 'spiffe://example.org', 'spiffe://example.org/a~b']) {
      await expectSvidFailure(await svid(header(), { ...claims(), sub }), 'ERR_JWT_SVID_SUB_INVALID');
    }
  });
});

describe('verifyJwtSvid: step 8, key from the trust domain of sub', () => {
  it('refuses an unknown trust domain or kid, and fails closed when the key source throws', async () => {
    await expectSvidFailure(await svid(header(), { ...claims(), sub: 'spiffe://other.org/a' }), 'ERR_JWT_SVID_KEY_NOT_FOUND');
    await expectSvidFailure(await svid({ ...header(), kid: 'b2' }), 'ERR_JWT_SVID_KEY_NOT_FOUND');
    await expectSvidFailure(await svid(), 'ERR_JWT_SVID_KEY_SOURCE_FAILED', context({ keys: async () => { throw new TypeError('x'); } }));
  });
});

describe('verifyJwtSvid: step 9, signature', () => {
  it('refuses a token signed by a key outside the bundle, or tampered', async () => {
    await expectSvidFailure(await svid(header(), claims(), otherKey), 'ERR_JWT_SVID_SIGNATURE_INVALID');
    const [h, , s] = (await svid()).split('.');
    await expectSvidFailure(`${h}.${encodeSegment({ ...claims(), sub: 'spiffe://example.org/admin' })}.${s}`, 'ERR_JWT_SVID_SIGNATURE_INVALID');
  });
});

describe('verifyJwtSvid: steps 10–11, claim types and issuer', () => {
  it('refuses iss, iat or nbf of the wrong type', async () => {
    for (const extra of [{ iss: 1 }, { iat: '0' }, { nbf: {} }]) await expectSvidFailure(await svid(header(), { ...claims(), ...extra }), 'ERR_JWT_SVID_CLAIM_INVALID');
  });

  it('refuses an issuer outside a configured allowlist', async () => {
    await expectSvidFailure(await svid(), 'ERR_JWT_SVID_ISSUER_NOT_ALLOWED', context({ policy: { issuers: ['https://other-spire.example.org'] } }));
    await expectSvidFailure(await svid(header(), without(claims(), 'iss')), 'ERR_JWT_SVID_ISSUER_NOT_ALLOWED', context({ policy: { issuers: ['https://spire.example.org'] } }));
  });
});

describe('verifyJwtSvid: step 12, aud', () => {
  it('refuses a missing, empty, malformed or foreign aud', async () => {
    await expectSvidFailure(await svid(header(), without(claims(), 'aud')), 'ERR_JWT_SVID_AUD_MISMATCH');
    for (const aud of [[], ['https://other.example'], 'https://other.example', [AUD, 7], 7]) {
      await expectSvidFailure(await svid(header(), { ...claims(), aud }), 'ERR_JWT_SVID_AUD_MISMATCH');
    }
  });
});

describe('verifyJwtSvid: steps 13–16, time', () => {
  it('refuses a missing exp, an expired token, a future iat/nbf and a too-long lifetime', async () => {
    await expectSvidFailure(await svid(header(), without(claims(), 'exp')), 'ERR_JWT_SVID_EXP_INVALID');
    await expectSvidFailure(await svid(header(), { ...claims(), exp: NOW - 61 }), 'ERR_JWT_SVID_EXPIRED');
    await expectSvidFailure(await svid(header(), { ...claims(), iat: NOW + 120 }), 'ERR_JWT_SVID_NOT_YET_VALID');
    await expectSvidFailure(await svid(header(), { ...claims(), nbf: NOW + 120 }), 'ERR_JWT_SVID_NOT_YET_VALID');
    await expectSvidFailure(await svid(header(), { ...claims(), iat: NOW - 10, exp: NOW + 7200 }), 'ERR_JWT_SVID_LIFETIME_TOO_LONG');
    await expectSvidFailure(await svid(header(), { ...without(claims(), 'iat'), exp: NOW + 7200 }), 'ERR_JWT_SVID_LIFETIME_TOO_LONG');
  });
});
