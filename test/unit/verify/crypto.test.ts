import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { allowedAlgorithms, keyFits, keyMismatch, privateMembers, publicJwk } from '../../../src/crypto/algorithms.ts';
import { base64urlDecode, base64urlEncode, isBase64url } from '../../../src/crypto/base64url.ts';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { parseCompactJwt, signatureProblem, typMatches } from '../../../src/crypto/jws.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { jwkThumbprint } from '../../../src/crypto/thumbprint.ts';

// RFC 7638 §3.1 example key and thumbprint.
const RFC7638_KEY: JWK = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};

describe('base64url', () => {
  it('round-trips bytes and strings without padding', () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 7) % 256);
    expect(base64urlDecode(base64urlEncode(bytes))).toEqual(bytes);
    expect(base64urlEncode('\u00ff\u00fe?>')).toBe('w7_Dvj8-');
    expect(base64urlEncode(new Uint8Array([]))).toBe('');
  });

  it('refuses padding, the standard alphabet, whitespace and impossible lengths', () => {
    for (const bad of ['YQ==', 'a+b/', 'ab cd', 'abcde', '\u00e9']) {
      expect(isBase64url(bad)).toBe(false);
      expect(base64urlDecode(bad)).toBeUndefined();
    }
  });
});

describe('digest and thumbprint', () => {
  it('hashes the ASCII token string (FIPS 180-2 "abc")', async () => {
    expect(await sha256b64url('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('computes the RFC 7638 §3.1 thumbprint', async () => {
    expect(await jwkThumbprint(RFC7638_KEY)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('algorithms', () => {
  it('never allows none, HS* or unknown algorithms, whatever is configured', () => {
    expect([...allowedAlgorithms(['none', 'HS256', 'ES256', 'EdDSA', 'RSA-OAEP', 'ES256K'])]).toEqual(['ES256', 'EdDSA']);
  });

  it('matches key types and curves to algorithms', () => {
    expect(keyMismatch({ kty: 'EC', crv: 'P-256' }, 'ES256')).toBeUndefined();
    expect(keyMismatch({ kty: 'EC', crv: 'P-384' }, 'ES256')).toMatch(/P-256/);
    expect(keyMismatch({ kty: 'OKP', crv: 'Ed25519' }, 'Ed25519')).toBeUndefined();
    expect(keyMismatch({ kty: 'OKP', crv: 'Ed448' }, 'EdDSA')).toBeDefined();
    expect(keyMismatch({ kty: 'RSA' }, 'PS256')).toBeUndefined();
    expect(keyMismatch({ kty: 'EC', crv: 'P-256' }, 'RS256')).toBeDefined();
  });

  it('finds private members and projects public keys', () => {
    expect(privateMembers({ kty: 'EC', d: 'x' })).toEqual(['d']);
    expect(privateMembers({ kty: 'oct', k: 'x' })).toEqual(['k']);
    expect(publicJwk({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret', alg: 'ES256', use: 'sig' })).toEqual({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' });
  });
});

describe('compact JWT parsing and typ', () => {
  it('parses three base64url segments of JSON objects and nothing else', () => {
    const h = base64urlEncode('{"alg":"ES256"}');
    const p = base64urlEncode('{"sub":"x"}');
    expect(parseCompactJwt(`${h}.${p}.AAAA`)).toEqual({
      ok: true,
      value: { header: { alg: 'ES256' }, claims: { sub: 'x' }, signingInput: new TextEncoder().encode(`${h}.${p}`), signature: new Uint8Array([0, 0, 0]) },
    });
    for (const bad of [`${h}.${p}`, `${h}.${p}.`, `${h}..AAAA`, `${h}.${base64urlEncode('[]')}.AAAA`, `${h}.${base64urlEncode('null')}.AAAA`, 7]) {
      expect(parseCompactJwt(bad).ok).toBe(false);
    }
  });

  it('compares typ as a media type (RFC 7515 §4.1.9)', () => {
    expect(typMatches('wit+jwt', 'wit+jwt')).toBe(true);
    expect(typMatches('application/WIT+JWT', 'wit+jwt')).toBe(true);
    expect(typMatches('application/wit+jwt;x=1', 'wit+jwt')).toBe(false);
    expect(typMatches('image/wit+jwt', 'wit+jwt')).toBe(false);
    expect(typMatches(undefined, 'wit+jwt')).toBe(false);
  });
});

describe('KeyImportCache', () => {
  async function ecKey(): Promise<JWK> {
    const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    return (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JWK;
  }

  it('imports only the public key, even from a private JWK, and shares one import per (alg, thumbprint)', async () => {
    const cache = new KeyImportCache(4);
    const priv = await ecKey();
    const a = await cache.importPublic(priv, 'ES256');
    expect(a.key.type).toBe('public');
    const { d: _, ...pub } = priv;
    const b = await cache.importPublic({ ...pub, kid: 'other', key_ops: ['verify'] }, 'ES256');
    expect(b.key).toBe(a.key);
    expect(b.thumbprint).toBe(await jwkThumbprint(pub));
    expect(cache.size).toBe(1);
  });

  it('stays bounded, evicting the least recently used key', async () => {
    const cache = new KeyImportCache(2);
    const [k1, k2, k3] = await Promise.all([ecKey(), ecKey(), ecKey()]);
    const first = await cache.importPublic(k1, 'ES256');
    await cache.importPublic(k2, 'ES256');
    await cache.importPublic(k1, 'ES256'); // k1 is now most recent
    await cache.importPublic(k3, 'ES256'); // evicts k2
    expect(cache.size).toBe(2);
    expect((await cache.importPublic(k1, 'ES256')).key).toBe(first.key);
  });

  it('does not cache failed imports', async () => {
    const cache = new KeyImportCache(4);
    await expect(cache.importPublic({ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA' }, 'ES256')).rejects.toThrow();
    await Promise.resolve();
    expect(cache.size).toBe(0);
  });
});

describe('keyFits: a CryptoKey from a key source must be made for the header alg', () => {
  it('matches curve, hash, type and usage, not just the algorithm family', async () => {
    const p256 = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const p384 = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const rs256 = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    expect(keyFits(p256.publicKey, 'ES256')).toBe(true);
    expect(keyFits(p384.publicKey, 'ES256')).toBe(false);
    expect(keyFits(p256.privateKey, 'ES256')).toBe(false);
    expect(keyFits(rs256.publicKey, 'RS256')).toBe(true);
    expect(keyFits(rs256.publicKey, 'RS512')).toBe(false);
    expect(keyFits(rs256.publicKey, 'PS256')).toBe(false);
    expect(keyFits(p256.publicKey, 'EdDSA')).toBe(false);
  });

  it('signatureProblem refuses a P-384 key for an ES256 token before verifying', async () => {
    const p384 = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const h = base64urlEncode('{"alg":"ES256"}');
    const p = base64urlEncode('{"sub":"x"}');
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, p384.privateKey, new TextEncoder().encode(`${h}.${p}`)));
    const parsed = parseCompactJwt(`${h}.${p}.${base64urlEncode(sig)}`);
    expect(parsed.ok && (await signatureProblem(parsed.value, p384.publicKey, 'ES256'))).toBe('key does not fit ES256');
  });
});

describe('base64url: one spelling per byte string', () => {
  it('refuses non-zero unused bits in the last character (RFC 4648 §3.5)', () => {
    expect(base64urlEncode(new Uint8Array([0xff]))).toBe('_w');
    expect(isBase64url('_w')).toBe(true);
    expect(isBase64url('_x')).toBe(false); // decodes to the same byte with a stray low bit
    expect(base64urlDecode('_x')).toBeUndefined();
    expect(isBase64url(base64urlEncode(new Uint8Array([1, 2])))).toBe(true);
    expect(isBase64url('AQI')).toBe(true);
    expect(isBase64url('AQJ')).toBe(false);
  });
});
