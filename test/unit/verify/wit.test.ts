import { calculateJwkThumbprint, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_KID_LENGTH, MAX_WIT_BYTES } from '../../../src/limits.ts';
import { WIT_ERRORS, type WitErrorCode } from '../../../src/verify/errors.ts';
import { verifyWit, type WitContext, type WitPolicy } from '../../../src/verify/wit.ts';
import { encodeSegment, expectFailure, expectOk, generateKey, sign, signHs256, without, type TestKey } from './mint.ts';

const NOW = 1_800_000_000; // epoch seconds of the fixed test clock
const ISSUER = 'https://issuer.example.com';
const SUB = 'wimse://example.com/svc-a';

let issuer: TestKey; // ES256, trust anchor of example.com, kid "is-1"
let otherIssuer: TestKey; // ES256, trust anchor of other.example
let workload: TestKey; // Ed25519 confirmation key
let workloadEs: TestKey; // ES256 confirmation key
let cache: KeyImportCache;

beforeAll(async () => {
  [issuer, otherIssuer, workload, workloadEs] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('EdDSA'), generateKey('ES256')]);
  cache = new KeyImportCache(64);
});

const header = () => ({ alg: 'ES256', kid: 'is-1', typ: 'wit+jwt' });
const claims = (): Record<string, unknown> => ({
  iss: ISSUER,
  sub: SUB,
  iat: NOW - 60,
  exp: NOW + 3600,
  jti: 'wit-1',
  cnf: { jwk: { ...workload.publicJwk, alg: 'EdDSA' } },
});

const policy: WitPolicy = { algorithms: ['ES256', 'EdDSA'], issuers: [ISSUER] };

function context(overrides: Partial<WitContext> = {}, policyOverrides: Partial<WitPolicy> = {}, nowSeconds = NOW): WitContext {
  return {
    keys: async (trustDomain, kid) => {
      if (trustDomain === 'example.com' && (kid === 'is-1' || kid === undefined)) return issuer.publicJwk;
      if (trustDomain === 'other.example') return otherIssuer.publicJwk;
      return undefined;
    },
    policy: { ...policy, ...policyOverrides },
    now: () => nowSeconds * 1000,
    keyCache: cache,
    ...overrides,
  };
}

async function wit(h: Record<string, unknown> = header(), c: Record<string, unknown> = claims(), key: TestKey = issuer) {
  return sign(h, c, key);
}

async function expectWitFailure(token: string, code: WitErrorCode, ctx: WitContext = context()) {
  const result = await verifyWit(token, ctx);
  expectFailure(result, code, [token, String(workload.publicJwk.x), String(issuer.publicJwk.x)]);
}

describe('verifyWit: a valid WIT', () => {
  it('verifies and returns the subject, the confirmation key and hashes', async () => {
    const token = await wit();
    const value = expectOk(await verifyWit(token, context()));
    expect(value.subject).toEqual({ uri: SUB, scheme: 'wimse', trustDomain: 'example.com', path: '/svc-a' });
    expect(value.issuer).toBe(ISSUER);
    expect(value.jti).toBe('wit-1');
    expect(value.expiresAt).toBe((NOW + 3600) * 1000);
    expect(value.issuedAt).toBe((NOW - 60) * 1000);
    expect(value.keyId).toBe('is-1');
    expect(value.confirmationAlgorithm).toBe('EdDSA');
    expect(value.confirmationKey).toEqual({ ...workload.publicJwk, alg: 'EdDSA' });
    expect(value.confirmationThumbprint).toBe(await calculateJwkThumbprint(workload.publicJwk));
    expect(value.tokenHash).toBe(await sha256b64url(token));
    expect(JSON.parse(JSON.stringify(value))).toEqual(value); // cacheable as JSON
  });

  it('ignores unknown claims (§5.1.2) and accepts a WIT without iss, jti or iat when no allowlist is set', async () => {
    const token = await wit(header(), { ...without(claims(), 'iss', 'jti', 'iat'), 'example.com/team': 'payments', extra: [1, 2] });
    const value = expectOk(await verifyWit(token, context({}, { issuers: undefined })));
    expect(value.issuer).toBeUndefined();
    expect(value.jti).toBeUndefined();
  });

  it('accepts typ as application/wit+jwt and in any case (RFC 7515 §4.1.9)', async () => {
    for (const typ of ['application/wit+jwt', 'WIT+JWT', 'Application/Wit+Jwt']) {
      expectOk(await verifyWit(await wit({ ...header(), typ }), context()));
    }
  });

  it('accepts exp just inside the clock skew, and iat/nbf slightly ahead', async () => {
    expectOk(await verifyWit(await wit(header(), { ...claims(), exp: NOW - 30 }), context({}, { clockSkewSeconds: 60 })));
    expectOk(await verifyWit(await wit(header(), { ...claims(), iat: NOW + 30, nbf: NOW + 30 }), context({}, { clockSkewSeconds: 60 })));
  });

  it('accepts an ES256 confirmation key, and a kid-less WIT when the key source has an unambiguous key', async () => {
    const token = await wit(without(header(), 'kid'), { ...claims(), cnf: { jwk: { ...workloadEs.publicJwk, alg: 'ES256', kid: 'svc-a-key' } } });
    const value = expectOk(await verifyWit(token, context()));
    expect(value.confirmationKey).toEqual({ ...workloadEs.publicJwk, alg: 'ES256', kid: 'svc-a-key' });
    expect(value.keyId).toBeUndefined();
  });

  it('accepts a CryptoKey from the key source', async () => {
    const key = await crypto.subtle.importKey('jwk', issuer.publicJwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    expectOk(await verifyWit(await wit(), context({ keys: async () => key })));
  });

  it('accepts a WIT-SVID under the wit-svid profile', async () => {
    const token = await wit(header(), { ...claims(), sub: 'spiffe://example.com/ns/prod/sa/api', cnf: { jwk: { ...workloadEs.publicJwk, alg: 'ES256' } } });
    expectOk(await verifyWit(token, context({}, { profile: 'wit-svid' })));
  });

  it('documents every code it can return', () => {
    expect(Object.keys(WIT_ERRORS).every((code) => /^ERR_WIT_[A-Z_]+$/.test(code))).toBe(true);
  });
});

describe('verifyWit: step 1, size bound', () => {
  it('refuses a token over MAX_WIT_BYTES before parsing it', async () => {
    const token = await wit(header(), { ...claims(), pad: 'x'.repeat(MAX_WIT_BYTES) });
    await expectWitFailure(token, 'ERR_WIT_TOO_LARGE');
    await expectWitFailure('.'.repeat(MAX_WIT_BYTES + 1), 'ERR_WIT_TOO_LARGE');
  });
});

describe('verifyWit: step 2, compact JWS shape', () => {
  it('refuses wrong segment counts and truncated tokens', async () => {
    const token = await wit();
    const [h, p, s] = token.split('.') as [string, string, string];
    for (const broken of [`${h}.${p}`, `${h}.${p}.${s}.${s}`, h, token.slice(0, token.lastIndexOf('.')), token.slice(0, 40), '', `${h}.${p}.`, `.${p}.${s}`]) {
      await expectWitFailure(broken, 'ERR_WIT_MALFORMED');
    }
  });

  it('refuses characters outside base64url, padding, whitespace, and JWS JSON serialisation', async () => {
    const token = await wit();
    const [h, p, s] = token.split('.') as [string, string, string];
    for (const broken of [`${h}.${p}.${s}=`, `${h}.${p.replace(/-/g, '+').replace(/_/g, '/')}+/.${s}`, ` ${token}`, `${token}\n`, `${h}.${p}.${s.slice(0, -1)}*`, JSON.stringify({ protected: h, payload: p, signature: s })]) {
      await expectWitFailure(broken, 'ERR_WIT_MALFORMED');
    }
  });

  it('refuses a header or payload that is not a JSON object, or not UTF-8', async () => {
    const token = await wit();
    const [h, p, s] = token.split('.') as [string, string, string];
    const notJson = Buffer.from('not json').toString('base64url');
    const array = encodeSegment([1, 2]);
    const badUtf8 = Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url');
    for (const broken of [`${notJson}.${p}.${s}`, `${h}.${notJson}.${s}`, `${array}.${p}.${s}`, `${h}.${array}.${s}`, `${h}.${encodeSegment('str')}.${s}`, `${badUtf8}.${p}.${s}`, `${h}.${Buffer.from('x').toString('base64url').slice(0, 1)}.${s}`]) {
      await expectWitFailure(broken, 'ERR_WIT_MALFORMED');
    }
  });

  it('refuses alg none with an empty signature as malformed (the ABNF needs three non-empty segments)', async () => {
    await expectWitFailure(`${encodeSegment({ ...header(), alg: 'none' })}.${encodeSegment(claims())}.`, 'ERR_WIT_MALFORMED');
  });
});

describe('verifyWit: step 3, typ', () => {
  it('refuses a missing or wrong typ', async () => {
    for (const typ of [undefined, 'JWT', 'jwt', 'wpt+jwt', 'text/wit+jwt', 'wit+jwt; charset=utf-8', 7]) {
      await expectWitFailure(await wit({ ...header(), typ }), 'ERR_WIT_TYP_INVALID');
    }
  });
});

describe('verifyWit: step 4, alg', () => {
  it('refuses alg none, even with a signature segment', async () => {
    await expectWitFailure(`${encodeSegment({ ...header(), alg: 'none' })}.${encodeSegment(claims())}.AAAA`, 'ERR_WIT_ALG_NOT_ALLOWED');
  });

  it('refuses HS256 signed with the public key as the HMAC secret, even if the policy lists HS256', async () => {
    const secrets = [new TextEncoder().encode(JSON.stringify(issuer.publicJwk)), Buffer.from(String(issuer.publicJwk.x), 'base64url')];
    for (const secret of secrets) {
      const token = await signHs256({ ...header(), alg: 'HS256' }, claims(), secret);
      await expectWitFailure(token, 'ERR_WIT_ALG_NOT_ALLOWED', context({}, { algorithms: ['ES256', 'EdDSA', 'HS256'] }));
    }
  });

  it('refuses a missing alg, an alg outside the policy, and an unknown alg', async () => {
    await expectWitFailure(await wit(without(header(), 'alg')), 'ERR_WIT_ALG_NOT_ALLOWED');
    const es384 = await generateKey('ES384');
    await expectWitFailure(await wit({ ...header(), alg: 'ES384' }, claims(), es384), 'ERR_WIT_ALG_NOT_ALLOWED');
    await expectWitFailure(await wit({ ...header(), alg: 'ES256K' }), 'ERR_WIT_ALG_NOT_ALLOWED');
    await expectWitFailure(await wit({ ...header(), alg: 'RSA-OAEP' }), 'ERR_WIT_ALG_NOT_ALLOWED');
  });

  it('uses ES256 only by default', async () => {
    const edIssuer = await generateKey('EdDSA');
    const token = await wit({ ...header(), alg: 'EdDSA' }, claims(), edIssuer);
    await expectWitFailure(token, 'ERR_WIT_ALG_NOT_ALLOWED', context({ keys: async () => edIssuer.publicJwk }, { algorithms: undefined }));
  });

  it('refuses EdDSA under the wit-svid profile even if the policy lists it (SPIFFE WIT-SVID §3)', async () => {
    const edIssuer = await generateKey('EdDSA');
    const token = await wit({ ...header(), alg: 'EdDSA' }, { ...claims(), sub: 'spiffe://example.com/a' }, edIssuer);
    await expectWitFailure(token, 'ERR_WIT_ALG_NOT_ALLOWED', context({ keys: async () => edIssuer.publicJwk }, { profile: 'wit-svid' }));
  });
});

describe('verifyWit: step 5, crit', () => {
  it('refuses any crit header', async () => {
    await expectWitFailure(await wit({ ...header(), crit: ['exp'], exp: 1 }), 'ERR_WIT_CRIT_UNSUPPORTED');
    await expectWitFailure(await wit({ ...header(), crit: ['b64'], b64: false }), 'ERR_WIT_CRIT_UNSUPPORTED');
    await expectWitFailure(await wit({ ...header(), crit: [] }), 'ERR_WIT_CRIT_UNSUPPORTED');
    await expectWitFailure(await wit({ ...header(), crit: 'x' }), 'ERR_WIT_CRIT_UNSUPPORTED');
  });
});

describe('verifyWit: step 6, kid', () => {
  it('refuses a kid that is not a short non-empty string', async () => {
    for (const kid of [7, '', 'k'.repeat(MAX_KID_LENGTH + 1), ['is-1'], null]) {
      await expectWitFailure(await wit({ ...header(), kid }), 'ERR_WIT_KID_INVALID');
    }
  });

  it('requires kid under the wit-svid profile', async () => {
    const token = await wit(without(header(), 'kid'), { ...claims(), sub: 'spiffe://example.com/a', cnf: { jwk: { ...workloadEs.publicJwk, alg: 'ES256' } } });
    await expectWitFailure(token, 'ERR_WIT_KID_INVALID', context({}, { profile: 'wit-svid' }));
  });
});

describe('verifyWit: step 7, sub', () => {
  it('refuses a missing or non-string sub', async () => {
    await expectWitFailure(await wit(header(), without(claims(), 'sub')), 'ERR_WIT_SUB_INVALID');
    await expectWitFailure(await wit(header(), { ...claims(), sub: 42 }), 'ERR_WIT_SUB_INVALID');
    await expectWitFailure(await wit(header(), { ...claims(), sub: [SUB] }), 'ERR_WIT_SUB_INVALID');
  });

  it('refuses unicode, lookalike and non-canonical identifiers without repairing them', async () => {
    const subs = [
      'wimse://example.com/svc-\u0430', // Cyrillic a
      'wimse://ex\u0430mple.com/svc-a',
      'wimse://example.com/svc\u200b-a', // zero-width space
      'wimse://Example.com/svc-a',
      'WIMSE://example.com/svc-a',
      'wimse://example.com/%73vc-a',
      'wimse://example.com/svc-a/',
      'wimse://example.com//svc-a',
      'wimse://example.com/./svc-a',
      'wimse://example.com./svc-a',
      'wimse://example.com:443/svc-a',
      'wimse://user@example.com/svc-a',
      'wimse://example.com/svc-a?x=1',
      'wimse://example.com',
      'https://example.com/svc-a',
      ` ${SUB}`,
    ];
    for (const sub of subs) await expectWitFailure(await wit(header(), { ...claims(), sub }), 'ERR_WIT_SUB_INVALID');
  });

  it('refuses a bare SPIFFE trust-domain id as a workload subject', async () => {
    await expectWitFailure(await wit(header(), { ...claims(), sub: 'spiffe://example.com' }), 'ERR_WIT_SUB_INVALID');
  });

  it('refuses a wimse subject under the wit-svid profile', async () => {
    const token = await wit(header(), { ...claims(), cnf: { jwk: { ...workloadEs.publicJwk, alg: 'ES256' } } });
    await expectWitFailure(token, 'ERR_WIT_SUB_INVALID', context({}, { profile: 'wit-svid' }));
  });
});

describe('verifyWit: step 8, key from the trust domain of sub', () => {
  it('asks the key source for the trust domain of sub and the header kid, nothing from elsewhere in the token', async () => {
    const asked: unknown[] = [];
    const token = await wit({ ...header(), jku: 'https://attacker.example/jwks', x5u: 'https://attacker.example/x' }, { ...claims(), iss: 'https://attacker.example' });
    await verifyWit(token, context({ keys: async (td, kid, subject) => (asked.push([td, kid, subject.uri]), issuer.publicJwk) }, { issuers: undefined }));
    expect(asked).toEqual([['example.com', 'is-1', SUB]]);
  });

  it('refuses an unknown trust domain or kid', async () => {
    await expectWitFailure(await wit(header(), { ...claims(), sub: 'wimse://unknown.example/svc' }), 'ERR_WIT_KEY_NOT_FOUND');
    await expectWitFailure(await wit({ ...header(), kid: 'is-2' }), 'ERR_WIT_KEY_NOT_FOUND');
  });

  it('fails closed when the key source throws, without its message', async () => {
    const result = await verifyWit(await wit(), context({ keys: async () => { throw new Error('secret-bearing message'); } }));
    expectFailure(result, 'ERR_WIT_KEY_SOURCE_FAILED');
    expect(result.ok || result.detail).not.toContain('secret-bearing');
  });
});

describe('verifyWit: step 9, signature', () => {
  it('refuses a token signed by another trust domain\'s issuer for this subject', async () => {
    await expectWitFailure(await wit(header(), claims(), otherIssuer), 'ERR_WIT_SIGNATURE_INVALID');
    // and the other issuer cannot mint for example.com by naming its own trust domain in iss
    await expectWitFailure(await wit(header(), { ...claims(), iss: 'https://other.example' }, otherIssuer), 'ERR_WIT_SIGNATURE_INVALID', context({}, { issuers: undefined }));
  });

  it('refuses a tampered payload', async () => {
    const [h, , s] = (await wit()).split('.');
    await expectWitFailure(`${h}.${encodeSegment({ ...claims(), sub: 'wimse://example.com/svc-admin' })}.${s}`, 'ERR_WIT_SIGNATURE_INVALID');
  });

  it('refuses a truncated or wrong-length signature', async () => {
    const token = await wit();
    // 84 of 86 characters: still canonical base64url (63 bytes), so the signature check is what refuses it.
    await expectWitFailure(token.slice(0, -2), 'ERR_WIT_SIGNATURE_INVALID');
    await expectWitFailure(`${token.slice(0, token.lastIndexOf('.'))}.AAAA`, 'ERR_WIT_SIGNATURE_INVALID');
  });

  it('refuses a second spelling of a valid signature (non-zero unused bits) as malformed', async () => {
    const token = await wit();
    const last = token.at(-1)!;
    // The 86-character ES256 signature ends in a character whose low 4 bits are unused: flip one of them.
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${token.slice(0, -1)}${digits[digits.indexOf(last) ^ 1]}`;
    await expectWitFailure(respelled, 'ERR_WIT_MALFORMED');
  });

  it('refuses when the trust anchor key does not fit the alg', async () => {
    await expectWitFailure(await wit(), 'ERR_WIT_SIGNATURE_INVALID', context({ keys: async () => ({ ...issuer.publicJwk, alg: 'ES384' }) }));
    await expectWitFailure(await wit(), 'ERR_WIT_SIGNATURE_INVALID', context({ keys: async () => workload.publicJwk }));
  });
});

describe('verifyWit: step 10, registered claim types', () => {
  it('refuses iss, jti, iat or nbf of the wrong type', async () => {
    for (const extra of [{ iss: 7 }, { jti: 7 }, { iat: '1800000000' }, { nbf: null }, { iat: Number.NaN }]) {
      await expectWitFailure(await wit(header(), { ...claims(), ...extra }), 'ERR_WIT_CLAIM_INVALID', context({}, { issuers: undefined }));
    }
  });

  it('refuses aud in a WIT-SVID', async () => {
    const token = await wit(header(), { ...claims(), sub: 'spiffe://example.com/a', aud: 'x', cnf: { jwk: { ...workloadEs.publicJwk, alg: 'ES256' } } });
    await expectWitFailure(token, 'ERR_WIT_CLAIM_INVALID', context({}, { profile: 'wit-svid' }));
  });
});

describe('verifyWit: step 10, aud restricts a WIT to its recipients', () => {
  it('accepts a WIT without aud, or whose aud names this recipient; refuses any other aud', async () => {
    const named = { audiences: ['https://gw.example'] };
    expect((await verifyWit(await wit(), context({}, named))).ok).toBe(true);
    expect((await verifyWit(await wit(header(), { ...claims(), aud: 'https://gw.example' }), context({}, named))).ok).toBe(true);
    expect((await verifyWit(await wit(header(), { ...claims(), aud: ['https://other.example', 'https://gw.example'] }), context({}, named))).ok).toBe(true);
    await expectWitFailure(await wit(header(), { ...claims(), aud: 'https://other.example' }), 'ERR_WIT_CLAIM_INVALID', context({}, named));
    await expectWitFailure(await wit(header(), { ...claims(), aud: ['https://other.example'] }), 'ERR_WIT_CLAIM_INVALID', context({}, named));
    await expectWitFailure(await wit(header(), { ...claims(), aud: 7 }), 'ERR_WIT_CLAIM_INVALID', context({}, named));
    await expectWitFailure(await wit(header(), { ...claims(), aud: 'https://gw.example' }), 'ERR_WIT_CLAIM_INVALID'); // no audiences configured
  });
});

describe('verifyWit: step 11, iss allowlist', () => {
  it('refuses an iss outside the allowlist, and a missing iss when an allowlist is set', async () => {
    await expectWitFailure(await wit(header(), { ...claims(), iss: 'https://issuer.example.com/' }), 'ERR_WIT_ISSUER_NOT_ALLOWED');
    await expectWitFailure(await wit(header(), without(claims(), 'iss')), 'ERR_WIT_ISSUER_NOT_ALLOWED');
  });
});

describe('verifyWit: steps 12–15, time', () => {
  it('refuses a missing or non-numeric exp', async () => {
    await expectWitFailure(await wit(header(), without(claims(), 'exp')), 'ERR_WIT_EXP_INVALID');
    await expectWitFailure(await wit(header(), { ...claims(), exp: String(NOW + 60) }), 'ERR_WIT_EXP_INVALID');
  });

  it('refuses an expired WIT beyond the skew, at the boundary too', async () => {
    await expectWitFailure(await wit(header(), { ...claims(), exp: NOW - 61 }), 'ERR_WIT_EXPIRED');
    await expectWitFailure(await wit(header(), { ...claims(), exp: NOW - 60 }), 'ERR_WIT_EXPIRED');
    await expectWitFailure(await wit(header(), { ...claims(), exp: NOW }), 'ERR_WIT_EXPIRED', context({}, { clockSkewSeconds: 0 }));
  });

  it('refuses iat or nbf in the future beyond the skew', async () => {
    await expectWitFailure(await wit(header(), { ...claims(), iat: NOW + 120 }), 'ERR_WIT_NOT_YET_VALID');
    await expectWitFailure(await wit(header(), { ...claims(), nbf: NOW + 120 }), 'ERR_WIT_NOT_YET_VALID');
  });

  it('does not use iat as a not-before under the wit-svid profile (WIT-SVID §3.6), but honours nbf', async () => {
    const svid = { ...claims(), sub: 'spiffe://example.com/a', cnf: { jwk: { ...workloadEs.publicJwk, alg: 'ES256' } } };
    expectOk(await verifyWit(await wit(header(), { ...svid, iat: NOW + 600 }), context({}, { profile: 'wit-svid' })));
    await expectWitFailure(await wit(header(), { ...svid, nbf: NOW + 600 }), 'ERR_WIT_NOT_YET_VALID', context({}, { profile: 'wit-svid' }));
    await expectWitFailure(await wit(header(), { ...svid, iat: NOW + 600 }), 'ERR_WIT_NOT_YET_VALID');
  });

  it('refuses a lifetime over the maximum, measured from iat, nbf or now', async () => {
    await expectWitFailure(await wit(header(), { ...claims(), iat: NOW - 7200, exp: NOW + 3600 }), 'ERR_WIT_LIFETIME_TOO_LONG', context({}, { maxLifetimeSeconds: 7200 }));
    await expectWitFailure(await wit(header(), { ...without(claims(), 'iat'), nbf: NOW - 7200, exp: NOW + 3600 }), 'ERR_WIT_LIFETIME_TOO_LONG', context({}, { maxLifetimeSeconds: 7200 }));
    await expectWitFailure(await wit(header(), { ...without(claims(), 'iat'), exp: NOW + 2 * 86400 }), 'ERR_WIT_LIFETIME_TOO_LONG');
  });
});

describe('verifyWit: steps 16–19, cnf.jwk', () => {
  const withJwk = (jwk: unknown) => wit(header(), { ...claims(), cnf: { jwk } });

  it('refuses a missing cnf or cnf.jwk (step 16)', async () => {
    await expectWitFailure(await wit(header(), without(claims(), 'cnf')), 'ERR_WIT_CNF_MISSING');
    await expectWitFailure(await wit(header(), { ...claims(), cnf: { jkt: 'abc' } }), 'ERR_WIT_CNF_MISSING');
    await expectWitFailure(await wit(header(), { ...claims(), cnf: [] }), 'ERR_WIT_CNF_MISSING');
    await expectWitFailure(await withJwk('key'), 'ERR_WIT_CNF_MISSING');
  });

  it('refuses private or symmetric key members in cnf.jwk (step 17)', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const privateJwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
    const result = await verifyWit(await withJwk({ ...privateJwk, alg: 'EdDSA' }), context());
    expectFailure(result, 'ERR_WIT_CNF_PRIVATE_KEY', [String(privateJwk.d)]);
    await expectWitFailure(await withJwk({ kty: 'oct', k: 'c2VjcmV0', alg: 'HS256' }), 'ERR_WIT_CNF_PRIVATE_KEY');
  });

  it('refuses a missing, none, symmetric, encryption or disallowed cnf.jwk.alg (step 18)', async () => {
    for (const alg of [undefined, 'none', 'HS256', 'RSA-OAEP', 'ECDH-ES', 'ES384', 7]) {
      await expectWitFailure(await withJwk({ ...workload.publicJwk, alg }), 'ERR_WIT_CNF_ALG_INVALID');
    }
    await expectWitFailure(await withJwk({ ...workload.publicJwk, alg: 'EdDSA' }), 'ERR_WIT_CNF_ALG_INVALID', context({}, { confirmationAlgorithms: ['ES256'] }));
  });

  it('refuses EdDSA confirmation keys under the wit-svid profile (step 18)', async () => {
    const token = await wit(header(), { ...claims(), sub: 'spiffe://example.com/a' });
    await expectWitFailure(token, 'ERR_WIT_CNF_ALG_INVALID', context({}, { profile: 'wit-svid' }));
  });

  it('refuses a key that does not fit its alg, a non-signing use, or one that does not import (step 19)', async () => {
    await expectWitFailure(await withJwk({ ...workload.publicJwk, alg: 'ES256' }), 'ERR_WIT_CNF_KEY_INVALID');
    await expectWitFailure(await withJwk({ ...workloadEs.publicJwk, alg: 'EdDSA' }), 'ERR_WIT_CNF_KEY_INVALID');
    await expectWitFailure(await withJwk({ ...workloadEs.publicJwk, crv: 'P-384', alg: 'ES256' }), 'ERR_WIT_CNF_KEY_INVALID');
    await expectWitFailure(await withJwk({ ...workload.publicJwk, alg: 'EdDSA', use: 'enc' }), 'ERR_WIT_CNF_KEY_INVALID');
    await expectWitFailure(await withJwk({ ...workload.publicJwk, alg: 'EdDSA', key_ops: ['encrypt'] }), 'ERR_WIT_CNF_KEY_INVALID');
    await expectWitFailure(await withJwk({ ...workloadEs.publicJwk, y: 'AAAA', alg: 'ES256' }), 'ERR_WIT_CNF_KEY_INVALID');
    await expectWitFailure(await withJwk({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', alg: 'EdDSA' }), 'ERR_WIT_CNF_KEY_INVALID');
  });
});
