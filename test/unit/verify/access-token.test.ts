import { exportJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { base64urlEncode } from '../../../src/crypto/base64url.ts';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_ACCESS_TOKEN_BYTES } from '../../../src/limits.ts';
import { verifyAccessToken, type AccessTokenContext, type AccessTokenPolicy } from '../../../src/verify/access-token.ts';
import { ACCESS_TOKEN_ERRORS, type AccessTokenErrorCode } from '../../../src/verify/errors.ts';
import { verifyAccessToken as fromBarrel } from '../../../src/verify/index.ts';
import { encodeSegment, expectFailure, expectOk, generateKey, sign, signHs256, without, type TestKey } from './mint.ts';

const NOW = 1_800_000_000;
const ISS = 'https://as.example.com/';
const OTHER_ISS = 'https://other-as.example.com/';
const RESOURCE = 'https://gw.example.com/mcp';
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

interface RsaKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

let rsaKey: RsaKey; // RS256, ISS, kid "r1"
let ecKey: TestKey; // ES256, ISS, kid "e1"
let otherIssuerKey: TestKey; // ES256, OTHER_ISS, kid "e1"
let attackerKey: TestKey;
let cache: KeyImportCache;

beforeAll(async () => {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  const { kty, n, e } = await exportJWK(pair.publicKey);
  rsaKey = { privateKey: pair.privateKey, publicJwk: { kty, n, e } };
  [ecKey, otherIssuerKey, attackerKey] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  cache = new KeyImportCache(16);
});

async function signRs256(header: Record<string, unknown>, claims: Record<string, unknown>, key: RsaKey = rsaKey): Promise<string> {
  const input = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key.privateKey, new TextEncoder().encode(input));
  return `${input}.${base64urlEncode(new Uint8Array(signature))}`;
}

const rsHeader = (): Record<string, unknown> => ({ typ: 'at+jwt', alg: 'RS256', kid: 'r1' });
const esHeader = (): Record<string, unknown> => ({ typ: 'at+jwt', alg: 'ES256', kid: 'e1' });
const claims = (): Record<string, unknown> => ({
  iss: ISS,
  sub: '5ba552d67',
  aud: RESOURCE,
  exp: NOW + 300,
  iat: NOW - 5,
  jti: 'dbe39bf3a3ba4238a513f51d6e1691c4',
  client_id: 's6BhdRkqt3',
  scope: 'openid profile tools:read',
});

const policy = (overrides: Partial<AccessTokenPolicy> = {}): AccessTokenPolicy => ({ issuers: [ISS, OTHER_ISS], audience: RESOURCE, ...overrides });

const lookups: Array<[string, string | undefined]> = [];

function context(overrides: Partial<AccessTokenContext> = {}): AccessTokenContext {
  return {
    keys: async (issuer, kid) => {
      lookups.push([issuer, kid]);
      if (issuer === ISS && kid === 'r1') return rsaKey.publicJwk;
      if (issuer === ISS && kid === 'e1') return ecKey.publicJwk;
      if (issuer === OTHER_ISS && kid === 'e1') return otherIssuerKey.publicJwk;
      return undefined;
    },
    policy: policy(),
    now: () => NOW * 1000,
    keyCache: cache,
    ...overrides,
  };
}

/** An ES256 access token, by default valid. */
const at = (c: Record<string, unknown> = claims(), h: Record<string, unknown> = esHeader(), key: TestKey = ecKey) => sign(h, c, key);

async function expectAtFailure(token: string, code: AccessTokenErrorCode, ctx: AccessTokenContext = context()) {
  expectFailure(await verifyAccessToken(token, ctx), code, [token, String(ecKey.publicJwk.x), String(rsaKey.publicJwk.n)]);
}

describe('verifyAccessToken: valid tokens', () => {
  it('verifies an RS256 token (RFC 9068 §2.1: RS256 MUST be supported) and returns its claims', async () => {
    const token = await signRs256(rsHeader(), claims());
    const value = expectOk(await verifyAccessToken(token, context()));
    expect(value).toEqual({
      issuer: ISS,
      subject: '5ba552d67',
      clientId: 's6BhdRkqt3',
      scopes: ['openid', 'profile', 'tools:read'],
      audience: [RESOURCE],
      expiresAt: (NOW + 300) * 1000,
      issuedAt: (NOW - 5) * 1000,
      jti: 'dbe39bf3a3ba4238a513f51d6e1691c4',
      tokenHash: await sha256b64url(token),
    });
  });

  it('verifies an ES256 token with authentication claims and cnf.jkt', async () => {
    const token = await at({ ...claims(), auth_time: NOW - 60, acr: 'urn:mace:incommon:iap:silver', amr: ['pwd', 'otp'], cnf: { jkt: JKT } });
    const value = expectOk(await verifyAccessToken(token, context()));
    expect(value).toMatchObject({ issuer: ISS, authTime: (NOW - 60) * 1000, acr: 'urn:mace:incommon:iap:silver', amr: ['pwd', 'otp'], cnfJkt: JKT });
  });

  it('is exported from the verify barrel', () => {
    expect(fromBarrel).toBe(verifyAccessToken);
  });

  it('accepts typ at+JWT and application/at+jwt (media types compare case-insensitively)', async () => {
    expectOk(await verifyAccessToken(await at(claims(), { ...esHeader(), typ: 'at+JWT' }), context()));
    expectOk(await verifyAccessToken(await at(claims(), { ...esHeader(), typ: 'application/at+jwt' }), context()));
  });

  it('accepts aud as a string or an array, and several audiences containing the resource', async () => {
    expect(expectOk(await verifyAccessToken(await at({ ...claims(), aud: RESOURCE }), context())).audience).toEqual([RESOURCE]);
    expect(expectOk(await verifyAccessToken(await at({ ...claims(), aud: [RESOURCE] }), context())).audience).toEqual([RESOURCE]);
    const many = ['https://api.example.com', RESOURCE, 'https://other.example.com'];
    expect(expectOk(await verifyAccessToken(await at({ ...claims(), aud: many }), context())).audience).toEqual(many);
  });

  it('accepts a token without scope (empty scopes) and without nbf, and with a past nbf', async () => {
    expect(expectOk(await verifyAccessToken(await at(without(claims(), 'scope')), context())).scopes).toEqual([]);
    expectOk(await verifyAccessToken(await at({ ...claims(), nbf: NOW - 5 }), context()));
  });

  it('accepts when every required scope is granted', async () => {
    expectOk(await verifyAccessToken(await at(), context({ policy: policy({ requiredScopes: ['tools:read', 'openid'] }) })));
  });

  it('tolerates clock skew on exp and iat', async () => {
    expectOk(await verifyAccessToken(await at({ ...claims(), exp: NOW - 30, iat: NOW - 100 }), context()));
    expectOk(await verifyAccessToken(await at({ ...claims(), iat: NOW + 30 }), context()));
  });

  it('documents every code under the ACCESS_TOKEN prefix with an RFC section', () => {
    for (const [code, text] of Object.entries(ACCESS_TOKEN_ERRORS)) {
      expect(code).toMatch(/^ERR_ACCESS_TOKEN_[A-Z_]+$/);
      if (code !== 'ERR_ACCESS_TOKEN_TOO_LARGE') expect(text).toMatch(/RFC \d+/);
    }
  });
});

describe('verifyAccessToken: steps 1–2, size and shape', () => {
  it('refuses an oversized token before parsing', async () => {
    await expectAtFailure(await at({ ...claims(), pad: 'x'.repeat(MAX_ACCESS_TOKEN_BYTES) }), 'ERR_ACCESS_TOKEN_TOO_LARGE');
  });

  it('refuses wrong segment counts, a JWE shape and non-base64url', async () => {
    const token = await at();
    const [h, p] = token.split('.');
    for (const broken of [`${h}.${p}`, `${token}.x.y`, token.slice(0, 20), `${token}=`, `Bearer ${token}`, `${h}..sig`]) {
      await expectAtFailure(broken, 'ERR_ACCESS_TOKEN_MALFORMED');
    }
  });

  it('refuses a claims segment that is not a JSON object', async () => {
    const token = await at();
    const [h, , s] = token.split('.');
    await expectAtFailure(`${h}.${encodeSegment(['x'])}.${s}`, 'ERR_ACCESS_TOKEN_MALFORMED');
  });
});

describe('verifyAccessToken: step 3, typ (RFC 9068 §4)', () => {
  it('refuses typ JWT, an absent typ and other media types', async () => {
    for (const typ of ['JWT', undefined, 'jwt', 'application/jwt', 'wit+jwt', 'at+jwt; q=1', 'text/at+jwt']) {
      await expectAtFailure(await at(claims(), { ...esHeader(), typ }), 'ERR_ACCESS_TOKEN_TYP_INVALID');
    }
  });
});

describe('verifyAccessToken: step 4, alg', () => {
  it('refuses alg none with an empty signature', async () => {
    const unsigned = `${encodeSegment({ ...esHeader(), alg: 'none' })}.${encodeSegment(claims())}.`;
    await expectAtFailure(unsigned, 'ERR_ACCESS_TOKEN_MALFORMED');
  });

  it('refuses alg none with a signature segment', async () => {
    const token = await at(claims(), { ...esHeader(), alg: 'none' });
    await expectAtFailure(token, 'ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses HS256 signed with the issuer public key as the secret', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(rsaKey.publicJwk));
    const forged = await signHs256({ ...rsHeader(), alg: 'HS256' }, claims(), secret);
    await expectAtFailure(forged, 'ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED');
  });

  it('refuses an algorithm not in the policy, and HS256 even when the policy lists it', async () => {
    await expectAtFailure(await at(), 'ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED', context({ policy: policy({ algorithms: ['RS256'] }) }));
    const secret = new TextEncoder().encode('secret');
    await expectAtFailure(await signHs256({ ...esHeader(), alg: 'HS256' }, claims(), secret), 'ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED', context({ policy: policy({ algorithms: ['HS256', 'ES256'] }) }));
  });

  it('refuses a missing alg', async () => {
    await expectAtFailure(await at(claims(), without(esHeader(), 'alg')), 'ERR_ACCESS_TOKEN_ALG_NOT_ALLOWED');
  });
});

describe('verifyAccessToken: steps 5–6, crit and kid', () => {
  it('refuses any crit header', async () => {
    await expectAtFailure(await at(claims(), { ...esHeader(), crit: ['exp'], exp: 1 }), 'ERR_ACCESS_TOKEN_CRIT_UNSUPPORTED');
  });

  it('refuses a kid that is not a short string', async () => {
    await expectAtFailure(await at(claims(), { ...esHeader(), kid: 7 }), 'ERR_ACCESS_TOKEN_KID_INVALID');
    await expectAtFailure(await at(claims(), { ...esHeader(), kid: 'k'.repeat(300) }), 'ERR_ACCESS_TOKEN_KID_INVALID');
  });
});

describe('verifyAccessToken: step 7, iss before key lookup', () => {
  it('refuses an issuer outside the allow-list without asking any key source', async () => {
    lookups.length = 0;
    await expectAtFailure(await at({ ...claims(), iss: 'https://evil.example.com/' }), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED');
    expect(lookups).toEqual([]);
  });

  it('refuses an absent or non-string iss, and one that differs only by a trailing slash', async () => {
    await expectAtFailure(await at(without(claims(), 'iss')), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED');
    await expectAtFailure(await at({ ...claims(), iss: [ISS] }), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED');
    await expectAtFailure(await at({ ...claims(), iss: 'https://as.example.com' }), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED');
  });

  it('refuses every token when the allow-list is empty', async () => {
    await expectAtFailure(await at(), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED', context({ policy: policy({ issuers: [] }) }));
  });
});

describe('verifyAccessToken: steps 8–9, key and signature', () => {
  it('looks the key up by the issuer and kid', async () => {
    lookups.length = 0;
    expectOk(await verifyAccessToken(await at(), context()));
    expect(lookups).toEqual([[ISS, 'e1']]);
  });

  it('refuses an unknown kid', async () => {
    await expectAtFailure(await at(claims(), { ...esHeader(), kid: 'nope' }), 'ERR_ACCESS_TOKEN_KEY_NOT_FOUND');
  });

  it('reports a failing key source without its message', async () => {
    const ctx = context({ keys: async () => { throw new Error('GET https://as.example.com/jwks secret-body'); } });
    const result = await verifyAccessToken(await at(), ctx);
    expectFailure(result, 'ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED');
    if (!result.ok) expect(result.detail).not.toContain('secret-body');
  });

  it('refuses a token signed by another key', async () => {
    await expectAtFailure(await at(claims(), esHeader(), attackerKey), 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID');
  });

  it('never takes a key from another issuer: a token claiming ISS signed with OTHER_ISS key fails', async () => {
    await expectAtFailure(await at(claims(), esHeader(), otherIssuerKey), 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID');
    expectOk(await verifyAccessToken(await at({ ...claims(), iss: OTHER_ISS }, esHeader(), otherIssuerKey), context()));
  });

  it('ignores jku, x5u and jwk headers: the key still comes from the issuer source', async () => {
    const evil = { jku: 'https://evil.example/jwks.json', x5u: 'https://evil.example/cert.pem', jwk: attackerKey.publicJwk };
    await expectAtFailure(await at(claims(), { ...esHeader(), ...evil }, attackerKey), 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID');
    lookups.length = 0;
    expectOk(await verifyAccessToken(await at(claims(), { ...esHeader(), ...evil }), context()));
    expect(lookups).toEqual([[ISS, 'e1']]);
  });

  it('refuses an RS256 header over an EC key (key does not fit alg)', async () => {
    await expectAtFailure(await at(claims(), { ...esHeader(), alg: 'RS256' }), 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID');
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await at()).split('.');
    await expectAtFailure(`${h}.${encodeSegment({ ...claims(), sub: 'admin' })}.${s}`, 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID');
  });
});

describe('verifyAccessToken: step 10, aud (RFC 8707)', () => {
  it('refuses an aud that does not contain the resource', async () => {
    await expectAtFailure(await at({ ...claims(), aud: 'https://api.example.com' }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH');
    await expectAtFailure(await at({ ...claims(), aud: ['https://api.example.com', 'https://gw.example.com'] }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH');
  });

  it('refuses an absent, empty or non-string aud', async () => {
    for (const aud of [undefined, [], 42, [RESOURCE, 7], { RESOURCE }]) await expectAtFailure(await at({ ...claims(), aud }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH');
  });
});

describe('verifyAccessToken: steps 11–17, time', () => {
  it('refuses an absent or non-numeric exp', async () => {
    await expectAtFailure(await at(without(claims(), 'exp')), 'ERR_ACCESS_TOKEN_EXP_INVALID');
    await expectAtFailure(await at({ ...claims(), exp: String(NOW + 300) }), 'ERR_ACCESS_TOKEN_EXP_INVALID');
  });

  it('refuses an expired token beyond the skew', async () => {
    await expectAtFailure(await at({ ...claims(), exp: NOW - 61, iat: NOW - 300 }), 'ERR_ACCESS_TOKEN_EXPIRED');
    await expectAtFailure(await at({ ...claims(), exp: NOW - 10, iat: NOW - 300 }), 'ERR_ACCESS_TOKEN_EXPIRED', context({ policy: policy({ clockSkewSeconds: 0 }) }));
  });

  it('refuses an absent or non-numeric iat (RFC 9068 §2.2: REQUIRED)', async () => {
    await expectAtFailure(await at(without(claims(), 'iat')), 'ERR_ACCESS_TOKEN_IAT_INVALID');
    await expectAtFailure(await at({ ...claims(), iat: 'yesterday' }), 'ERR_ACCESS_TOKEN_IAT_INVALID');
  });

  it('refuses an iat in the future beyond the skew', async () => {
    await expectAtFailure(await at({ ...claims(), iat: NOW + 120 }), 'ERR_ACCESS_TOKEN_NOT_YET_VALID');
  });

  it('refuses a non-numeric nbf, and an nbf in the future', async () => {
    await expectAtFailure(await at({ ...claims(), nbf: 'soon' }), 'ERR_ACCESS_TOKEN_NBF_INVALID');
    await expectAtFailure(await at({ ...claims(), nbf: NOW + 120 }), 'ERR_ACCESS_TOKEN_NOT_YET_VALID');
  });

  it('refuses a lifetime over the maximum (exp − iat), also when most of it has passed', async () => {
    const ctx = context({ policy: policy({ maxLifetimeSeconds: 600 }) });
    await expectAtFailure(await at({ ...claims(), iat: NOW - 500, exp: NOW + 200 }), 'ERR_ACCESS_TOKEN_LIFETIME_TOO_LONG', ctx);
    await expectAtFailure(await at({ ...claims(), iat: NOW + 50, exp: NOW + 700 }), 'ERR_ACCESS_TOKEN_LIFETIME_TOO_LONG', ctx);
    expectOk(await verifyAccessToken(await at({ ...claims(), iat: NOW - 100, exp: NOW + 500 }), ctx));
    await expectAtFailure(await at({ ...claims(), exp: NOW + 2 * 24 * 60 * 60 }), 'ERR_ACCESS_TOKEN_LIFETIME_TOO_LONG');
  });
});

describe('verifyAccessToken: steps 18–20, sub, client_id, jti', () => {
  it('refuses an absent, empty or non-string sub', async () => {
    for (const sub of [undefined, '', 12]) await expectAtFailure(await at({ ...claims(), sub }), 'ERR_ACCESS_TOKEN_SUB_INVALID');
  });

  it('refuses an absent, empty or non-string client_id', async () => {
    for (const client_id of [undefined, '', ['c']]) await expectAtFailure(await at({ ...claims(), client_id }), 'ERR_ACCESS_TOKEN_CLIENT_ID_INVALID');
  });

  it('refuses an absent, empty, non-string or overlong jti', async () => {
    for (const jti of [undefined, '', 5, 'j'.repeat(257)]) await expectAtFailure(await at({ ...claims(), jti }), 'ERR_ACCESS_TOKEN_JTI_INVALID');
  });
});

describe('verifyAccessToken: steps 21–22, scope', () => {
  it('refuses a scope that is not a space-delimited string of scope-tokens (RFC 6749 §3.3)', async () => {
    for (const scope of [['openid'], '', ' openid', 'openid ', 'openid  profile', 'a"b', 'a\\b', 'a\tb', 'café']) {
      await expectAtFailure(await at({ ...claims(), scope }), 'ERR_ACCESS_TOKEN_SCOPE_INVALID');
    }
  });

  it('refuses with a distinct code when a required scope is missing', async () => {
    const ctx = context({ policy: policy({ requiredScopes: ['tools:read', 'tools:write'] }) });
    await expectAtFailure(await at(), 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', ctx);
    await expectAtFailure(await at(without(claims(), 'scope')), 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', ctx);
  });

  it('matches scopes exactly, not by prefix or case', async () => {
    await expectAtFailure(await at({ ...claims(), scope: 'tools:read:all TOOLS:READ' }), 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', context({ policy: policy({ requiredScopes: ['tools:read'] }) }));
  });
});

describe('verifyAccessToken: steps 23–24, authentication claims and cnf', () => {
  it('refuses mistyped auth_time, acr and amr', async () => {
    for (const extra of [{ auth_time: 'then' }, { acr: 2 }, { amr: 'pwd' }, { amr: ['pwd', 1] }]) {
      await expectAtFailure(await at({ ...claims(), ...extra }), 'ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID');
    }
  });

  it('refuses a cnf that is not an object, or a cnf.jkt that is not a thumbprint', async () => {
    for (const cnf of ['x', [JKT], { jkt: 5 }, { jkt: 'short' }, { jkt: `${JKT}=` }]) {
      await expectAtFailure(await at({ ...claims(), cnf }), 'ERR_ACCESS_TOKEN_CNF_INVALID');
    }
  });

  it('accepts a cnf without jkt (another confirmation method) and returns no cnfJkt', async () => {
    const value = expectOk(await verifyAccessToken(await at({ ...claims(), cnf: { 'x5t#S256': JKT } }), context()));
    expect(value.cnfJkt).toBeUndefined();
  });
});

describe('verifyAccessToken: details never contain the token', () => {
  it('keeps every segment of the token out of each failure detail', async () => {
    const longSub = 'u'.repeat(40);
    const cases: Array<[Promise<string>, AccessTokenErrorCode]> = [
      [at({ ...claims(), iss: `https://${'e'.repeat(40)}.example/` }), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED'],
      [at({ ...claims(), aud: `https://${'a'.repeat(40)}.example/` }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH'],
      [at(claims(), esHeader(), attackerKey), 'ERR_ACCESS_TOKEN_SIGNATURE_INVALID'],
      [at({ ...claims(), sub: 1, jti: longSub }), 'ERR_ACCESS_TOKEN_SUB_INVALID'],
      [at({ ...claims(), scope: `${'s'.repeat(40)}  x` }), 'ERR_ACCESS_TOKEN_SCOPE_INVALID'],
    ];
    for (const [pending, code] of cases) {
      const token = await pending;
      const result = await verifyAccessToken(token, context());
      expectFailure(result, code, [token]);
      if (!result.ok) {
        expect(result.detail).not.toContain(token);
        expect(result.detail).not.toMatch(/e{40}|a{40}|s{40}/);
      }
    }
  });
});
