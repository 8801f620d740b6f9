import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { MAX_X509_CERTIFICATE_BYTES, MAX_X509_CHAIN_LENGTH } from '../../../src/limits.ts';
import { parseX509Bundle } from '../../../src/x509/bundle.ts';
import { X509_ERRORS, type X509ErrorCode } from '../../../src/x509/errors.ts';
import type { CertificatesInput } from '../../../src/x509/input.ts';
import { leafTrustDomain, verifyX509Svid, type X509SvidContext } from '../../../src/x509/verify-svid.ts';
import { generateKey, KU, makeCert, OIDS, toBase64, toPem, type CertSpec, type TestKey } from './pki.ts';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const TD = 'example.org';
const ID = 'spiffe://example.org/ns/prod/sa/agent';

let rootKey: TestKey; // P-256
let interKey: TestKey; // P-384
let leafKey: TestKey; // P-256
let otherKey: TestKey; // P-256
let root: Uint8Array;
let inter: Uint8Array;
let leaf: Uint8Array; // directly under the root
let leafViaInter: Uint8Array;

const validity = { notBefore: NOW - HOUR, notAfter: NOW + HOUR };
const caValidity = { notBefore: NOW - 30 * DAY, notAfter: NOW + 365 * DAY };

function rootSpec(overrides: Partial<CertSpec> = {}): CertSpec {
  return {
    subject: 'Test Root CA',
    issuer: 'Test Root CA',
    key: rootKey,
    signer: rootKey,
    ...caValidity,
    basicConstraints: { cA: true },
    keyUsage: { bits: [KU.keyCertSign, KU.cRLSign] },
    uris: ['spiffe://example.org'],
    ...overrides,
  };
}

function interSpec(overrides: Partial<CertSpec> = {}): CertSpec {
  return { ...rootSpec(), subject: 'Test Intermediate CA', key: interKey, serial: 2, ...overrides };
}

/** A leaf under the root (or under `issuer`/`signer` when overridden). */
function leafSpec(overrides: Partial<CertSpec> = {}): CertSpec {
  return {
    subject: 'agent',
    issuer: 'Test Root CA',
    key: leafKey,
    signer: rootKey,
    serial: 0x1234,
    ...validity,
    basicConstraints: { cA: false },
    keyUsage: { bits: [KU.digitalSignature] },
    uris: [ID],
    eku: [OIDS.serverAuth, OIDS.clientAuth],
    ...overrides,
  };
}

const underInter = (overrides: Partial<CertSpec> = {}) => leafSpec({ issuer: 'Test Intermediate CA', signer: interKey, ...overrides });

function context(overrides: Partial<X509SvidContext> = {}): X509SvidContext {
  return { trustDomain: TD, bundle: [root], now: () => NOW, ...overrides };
}

async function expectCode(chain: CertificatesInput, code: X509ErrorCode, ctx: X509SvidContext = context()) {
  const result = await verifyX509Svid(chain, ctx);
  if (result.ok) throw new Error(`expected ${code}, got success`);
  expect({ code: result.code, detail: result.detail }).toEqual({ code, detail: expect.any(String) });
  // Details name positions and rules, never the identity or certificate bytes.
  expect(result.detail).not.toContain('spiffe://');
  for (const der of typeof chain === 'string' ? [] : chain) expect(result.detail).not.toContain(toBase64(der).slice(0, 24));
}

async function expectOk(chain: CertificatesInput, ctx: X509SvidContext = context()) {
  const result = await verifyX509Svid(chain, ctx);
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.detail}`);
  return result.value;
}

beforeAll(async () => {
  [rootKey, interKey, leafKey, otherKey] = await Promise.all([generateKey('P-256'), generateKey('P-384'), generateKey('P-256'), generateKey('P-256')]);
  root = await makeCert(rootSpec());
  inter = await makeCert(interSpec({ sig: 'ES256' }));
  leaf = await makeCert(leafSpec());
  leafViaInter = await makeCert(underInter());
});

describe('verifyX509Svid: valid SVIDs', () => {
  it('accepts a leaf directly under a bundle root and returns identity, expiry, thumbprint and serial', async () => {
    const value = await expectOk([leaf]);
    expect(value).toEqual({
      spiffeId: { uri: ID, scheme: 'spiffe', trustDomain: TD, path: '/ns/prod/sa/agent' },
      trustDomain: TD,
      notAfter: NOW + HOUR,
      validUntil: NOW + HOUR,
      thumbprint: await sha256b64url(leaf),
      serial: '1234',
      anchorThumbprint: await sha256b64url(root),
    });
  });

  it('accepts a leaf via an intermediate (P-384 key, ES384 signature on the leaf)', async () => {
    const value = await expectOk([leafViaInter, inter]);
    expect(value.spiffeId.uri).toBe(ID);
    expect(value.thumbprint).toBe(await sha256b64url(leafViaInter));
  });

  it('accepts the root sent along at the end (RFC 9440 §2.3: it MAY be omitted)', async () => {
    await expectOk([leafViaInter, inter, root]);
    await expectOk([leaf, root]);
  });

  it('stops at the first presented bundle certificate (RFC 5280 §6.1: any trust anchor) and ignores what follows', async () => {
    // The intermediate is itself in the bundle: it is the anchor, and the root sent after it is not looked at.
    const value = await expectOk([leafViaInter, inter, root], context({ bundle: [inter] }));
    expect(value.anchorThumbprint).toBe(await sha256b64url(inter));
    expect((await expectOk([leafViaInter, inter, root], context({ bundle: [root, inter] }))).anchorThumbprint).toBe(await sha256b64url(inter));
    // Whatever follows the anchor is ignored but still parsed, and counted against maxChainLength as presented.
    await expectOk([leafViaInter, inter, leaf], context({ bundle: [inter] }));
    await expectCode([leafViaInter, inter, new Uint8Array([1, 2, 3])], 'ERR_X509_MALFORMED', context({ bundle: [inter] }));
    await expectCode([leafViaInter, inter, root], 'ERR_X509_CHAIN_TOO_LONG', context({ bundle: [inter], maxChainLength: 2 }));
    // A certificate that only shares a bundle certificate's name is not an anchor: the path goes on through it.
    await expectCode([leafViaInter, await makeCert(interSpec({ key: otherKey })), root], 'ERR_X509_SIGNATURE_INVALID', context({ bundle: [root, inter] }));
  });

  it('leafTrustDomain reads the leaf trust domain alone, with the verifier codes', async () => {
    expect(leafTrustDomain([leafViaInter, new Uint8Array([1, 2, 3])])).toEqual({ ok: true, value: TD });
    expect(leafTrustDomain(toPem(await makeCert(leafSpec({ uris: ['spiffe://other.org/agent'] }))))).toEqual({ ok: true, value: 'other.org' });
    const code = (result: ReturnType<typeof leafTrustDomain>) => (result.ok ? 'ok' : result.code);
    expect(code(leafTrustDomain([new Uint8Array([1, 2, 3]), leaf]))).toBe('ERR_X509_MALFORMED');
    expect(code(leafTrustDomain([await makeCert(leafSpec({ uris: [ID, 'spiffe://example.org/other'] }))]))).toBe('ERR_X509_SAN_INVALID');
    expect(code(leafTrustDomain([leafViaInter, inter, root], 2))).toBe('ERR_X509_CHAIN_TOO_LONG');
    expect(code(leafTrustDomain([], 2))).toBe('ERR_X509_MALFORMED');
    expect(code(leafTrustDomain([leaf], 0))).toBe('ERR_X509_CONTEXT_INVALID');
  });

  it('accepts PEM for the chain and the bundle, and a bundle parsed once', async () => {
    await expectOk(toPem(leafViaInter) + toPem(inter), context({ bundle: toPem(root) }));
    const bundle = parseX509Bundle([root]);
    if (!bundle.ok) throw new Error(bundle.detail);
    await expectOk([leafViaInter, inter], context({ bundle: bundle.value }));
  });

  it('validUntil is the earliest notAfter over the path', async () => {
    const shortInter = await makeCert(interSpec({ notAfter: NOW + HOUR / 2 }));
    const value = await expectOk([leafViaInter, shortInter]);
    expect(value.validUntil).toBe(Math.floor((NOW + HOUR / 2) / 1000) * 1000);
    expect(value.notAfter).toBe(NOW + HOUR);
  });

  it('picks the anchor whose key verifies when several bundle certificates share the name (CA rotation)', async () => {
    const rotated = await makeCert(rootSpec({ key: otherKey, signer: otherKey }));
    const value = await expectOk([leaf], context({ bundle: [rotated, root] }));
    expect(value.anchorThumbprint).toBe(await sha256b64url(root));
  });

  it('accepts an empty subject when the SAN is critical (X509-SVID §3.1), DNS SANs, and no extKeyUsage', async () => {
    await expectOk([await makeCert(leafSpec({ subject: null, sanCritical: true }))]);
    await expectOk([await makeCert(leafSpec({ dns: ['agent.example.org', 'a.example.org'] }))]);
    await expectOk([await makeCert(leafSpec({ eku: null }))]);
    await expectOk([await makeCert(leafSpec({ keyUsage: { bits: [KU.digitalSignature, KU.keyEncipherment, KU.keyAgreement] } }))]);
  });

  it('accepts a leaf without basicConstraints (cA defaults to false) and unknown non-critical extensions', async () => {
    await expectOk([await makeCert(leafSpec({ basicConstraints: null }))]);
    await expectOk([await makeCert(leafSpec({ extra: [{ oid: '1.3.6.1.4.1.99999.1', critical: false, value: new Uint8Array([0x05, 0x00]) }] }))]);
  });

  it('accepts RSA PKCS#1 v1.5, RSA-PSS and Ed25519 signatures', async () => {
    const [rsa, ed] = await Promise.all([generateKey('RSA-2048'), generateKey('Ed25519')]);
    for (const [key, sig] of [[rsa, 'RS256'], [rsa, 'PS256'], [ed, 'Ed25519']] as const) {
      const ca = await makeCert(rootSpec({ subject: 'Alt Root', issuer: 'Alt Root', key, signer: key, sig }));
      const svid = await makeCert(leafSpec({ issuer: 'Alt Root', signer: key, sig }));
      await expectOk([svid], context({ bundle: [ca] }));
    }
  });

  it('honours the clock skew at both ends', async () => {
    const early = await makeCert(leafSpec({ notBefore: NOW + 30_000 }));
    await expectOk([early]);
    await expectCode([early], 'ERR_X509_NOT_YET_VALID', context({ clockSkewSeconds: 0 }));
    const late = await makeCert(leafSpec({ notBefore: NOW - DAY, notAfter: NOW - 30_000 }));
    await expectOk([late]);
    await expectCode([late], 'ERR_X509_EXPIRED', context({ clockSkewSeconds: 0 }));
  });

  it('accepts pathLenConstraint 0 on the intermediate and 1 on the root', async () => {
    const inter0 = await makeCert(interSpec({ basicConstraints: { cA: true, pathLen: 0 } }));
    const root1 = await makeCert(rootSpec({ basicConstraints: { cA: true, pathLen: 1 } }));
    await expectOk([leafViaInter, inter0], context({ bundle: [root1] }));
  });
});

describe('verifyX509Svid: the leaf profile (X509-SVID §2–§5.2)', () => {
  it('two URI SANs', async () => {
    await expectCode([await makeCert(leafSpec({ uris: [ID, 'spiffe://example.org/other'] }))], 'ERR_X509_SAN_INVALID');
  });
  it('a URI SAN that is not spiffe://', async () => {
    await expectCode([await makeCert(leafSpec({ uris: ['https://example.org/agent'] }))], 'ERR_X509_SAN_INVALID');
    await expectCode([await makeCert(leafSpec({ uris: ['wimse://example.org/agent'] }))], 'ERR_X509_SAN_INVALID');
  });
  it('a SPIFFE ID without a path', async () => {
    await expectCode([await makeCert(leafSpec({ uris: ['spiffe://example.org'] }))], 'ERR_X509_SAN_INVALID');
  });
  it('a SPIFFE ID that is not canonical', async () => {
    await expectCode([await makeCert(leafSpec({ uris: ['spiffe://Example.org/agent'] }))], 'ERR_X509_SAN_INVALID');
    await expectCode([await makeCert(leafSpec({ uris: ['spiffe://example.org/%61gent'] }))], 'ERR_X509_SAN_INVALID');
    await expectCode([await makeCert(leafSpec({ uris: ['spiffe://example.org/agent/'] }))], 'ERR_X509_SAN_INVALID');
  });
  it('no URI SAN (only DNS) or no SAN at all', async () => {
    await expectCode([await makeCert(leafSpec({ uris: [], dns: ['agent.example.org'] }))], 'ERR_X509_SAN_INVALID');
    await expectCode([await makeCert(leafSpec({ uris: [] }))], 'ERR_X509_SAN_INVALID');
  });
  it('an empty subject with a non-critical SAN (RFC 5280 §4.1.2.6)', async () => {
    await expectCode([await makeCert(leafSpec({ subject: null, sanCritical: false }))], 'ERR_X509_SAN_INVALID');
  });
  it('a SPIFFE ID in another trust domain than the bundle', async () => {
    await expectCode([await makeCert(leafSpec({ uris: ['spiffe://other.org/ns/prod/sa/agent'] }))], 'ERR_X509_TRUST_DOMAIN_MISMATCH');
  });
  it('leaf with cA=true', async () => {
    await expectCode([await makeCert(leafSpec({ basicConstraints: { cA: true } }))], 'ERR_X509_CA_INVALID');
  });
  it('leaf without keyUsage', async () => {
    await expectCode([await makeCert(leafSpec({ keyUsage: null }))], 'ERR_X509_KEY_USAGE_INVALID');
  });
  it('leaf keyUsage not critical, or without digitalSignature', async () => {
    await expectCode([await makeCert(leafSpec({ keyUsage: { bits: [KU.digitalSignature], critical: false } }))], 'ERR_X509_KEY_USAGE_INVALID');
    await expectCode([await makeCert(leafSpec({ keyUsage: { bits: [KU.keyEncipherment] } }))], 'ERR_X509_KEY_USAGE_INVALID');
  });
  it('keyCertSign or cRLSign on the leaf', async () => {
    await expectCode([await makeCert(leafSpec({ keyUsage: { bits: [KU.digitalSignature, KU.keyCertSign] } }))], 'ERR_X509_KEY_USAGE_INVALID');
    await expectCode([await makeCert(leafSpec({ keyUsage: { bits: [KU.digitalSignature, KU.cRLSign] } }))], 'ERR_X509_KEY_USAGE_INVALID');
  });
  it('an extKeyUsage without id-kp-clientAuth', async () => {
    await expectCode([await makeCert(leafSpec({ eku: [OIDS.serverAuth] }))], 'ERR_X509_KEY_USAGE_INVALID');
  });
});

describe('verifyX509Svid: path validation (RFC 5280 §6.1)', () => {
  it('an expired leaf, intermediate or root', async () => {
    await expectCode([await makeCert(leafSpec({ notBefore: NOW - DAY, notAfter: NOW - HOUR }))], 'ERR_X509_EXPIRED');
    await expectCode([leafViaInter, await makeCert(interSpec({ notBefore: NOW - DAY, notAfter: NOW - HOUR }))], 'ERR_X509_EXPIRED');
    const oldRoot = await makeCert(rootSpec({ notBefore: NOW - DAY, notAfter: NOW - HOUR }));
    await expectCode([leaf], 'ERR_X509_EXPIRED', context({ bundle: [oldRoot] }));
  });
  it('a leaf that is not yet valid', async () => {
    await expectCode([await makeCert(leafSpec({ notBefore: NOW + HOUR, notAfter: NOW + DAY }))], 'ERR_X509_NOT_YET_VALID');
  });
  it('a broken signature on the leaf, under the root and under an intermediate', async () => {
    const flip = (sig: Uint8Array) => {
      const copy = sig.slice();
      copy[copy.length - 1]! ^= 0x01;
      return copy;
    };
    await expectCode([await makeCert(leafSpec({ tamper: flip }))], 'ERR_X509_SIGNATURE_INVALID');
    await expectCode([await makeCert(underInter({ tamper: flip })), inter], 'ERR_X509_SIGNATURE_INVALID');
  });
  it('a leaf signed by another key than the named issuer', async () => {
    await expectCode([await makeCert(leafSpec({ signer: otherKey }))], 'ERR_X509_SIGNATURE_INVALID');
    await expectCode([await makeCert(underInter({ signer: otherKey })), inter], 'ERR_X509_SIGNATURE_INVALID');
  });
  it('an unknown anchor', async () => {
    const otherRoot = await makeCert(rootSpec({ subject: 'Other Root', issuer: 'Other Root', key: otherKey, signer: otherKey }));
    const stranger = await makeCert(leafSpec({ issuer: 'Other Root', signer: otherKey }));
    await expectCode([stranger], 'ERR_X509_UNTRUSTED');
    await expectCode([stranger, otherRoot], 'ERR_X509_UNTRUSTED'); // sending the root does not make it trusted
    await expectCode([leafViaInter], 'ERR_X509_UNTRUSTED'); // the intermediate is missing
  });
  it('a chain longer than maxChainLength, refused before parsing', async () => {
    await expectCode([leafViaInter, inter], 'ERR_X509_CHAIN_TOO_LONG', context({ maxChainLength: 1 }));
    const garbage = Array.from({ length: MAX_X509_CHAIN_LENGTH }, () => new Uint8Array([1, 2, 3]));
    await expectCode(garbage, 'ERR_X509_CHAIN_TOO_LONG');
    await expectCode(toPem(leafViaInter) + toPem(inter), 'ERR_X509_CHAIN_TOO_LONG', context({ maxChainLength: 1 }));
  });
  it('an unknown critical extension on the leaf or an intermediate', async () => {
    const odd = { oid: '1.3.6.1.4.1.99999.1', critical: true, value: new Uint8Array([0x05, 0x00]) };
    await expectCode([await makeCert(leafSpec({ extra: [odd] }))], 'ERR_X509_CRITICAL_EXTENSION');
    await expectCode([leafViaInter, await makeCert(interSpec({ extra: [odd] }))], 'ERR_X509_CRITICAL_EXTENSION');
  });
  it('name constraints, even when not critical (never processed)', async () => {
    // NameConstraints ::= SEQUENCE { permittedSubtrees [0] { GeneralSubtree { uniformResourceIdentifier "example.org" } } }
    const uri = [0x86, 11, ...new TextEncoder().encode('example.org')];
    const nc = new Uint8Array([0x30, uri.length + 4, 0xa0, uri.length + 2, 0x30, uri.length, ...uri]);
    await expectCode([leafViaInter, await makeCert(interSpec({ extra: [{ oid: '2.5.29.30', critical: false, value: nc }] }))], 'ERR_X509_CRITICAL_EXTENSION');
  });
  it('an intermediate that is not a CA, lacks keyCertSign, or sits past a pathLenConstraint', async () => {
    await expectCode([leafViaInter, await makeCert(interSpec({ basicConstraints: { cA: false } }))], 'ERR_X509_CA_INVALID');
    await expectCode([leafViaInter, await makeCert(interSpec({ basicConstraints: null }))], 'ERR_X509_CA_INVALID');
    await expectCode([leafViaInter, await makeCert(interSpec({ keyUsage: { bits: [KU.digitalSignature] } }))], 'ERR_X509_CA_INVALID');
    await expectCode([leafViaInter, await makeCert(interSpec({ keyUsage: null }))], 'ERR_X509_CA_INVALID');
    const root0 = await makeCert(rootSpec({ basicConstraints: { cA: true, pathLen: 0 } }));
    await expectCode([leafViaInter, inter], 'ERR_X509_CA_INVALID', context({ bundle: [root0] }));
  });
  it('a trust anchor that is not a CA certificate', async () => {
    const notCa = await makeCert(rootSpec({ keyUsage: { bits: [KU.digitalSignature] } }));
    await expectCode([leaf], 'ERR_X509_CA_INVALID', context({ bundle: [notCa] }));
  });
  it('certificates out of order, unrelated, or an anchor that does not issue the one before it', async () => {
    const inter2 = await makeCert(interSpec({ subject: 'Second Intermediate', issuer: 'Test Intermediate CA', signer: interKey, key: otherKey }));
    const leaf2 = await makeCert(leafSpec({ issuer: 'Second Intermediate', signer: otherKey }));
    await expectOk([leaf2, inter2, inter]);
    await expectCode([leaf2, inter, inter2], 'ERR_X509_CHAIN_INVALID');
    await expectCode([leaf, inter], 'ERR_X509_CHAIN_INVALID');
    await expectCode([leafViaInter, root, inter], 'ERR_X509_CHAIN_INVALID');
  });
  it('signature algorithms outside the allowlist, and an RSA issuer key under 2048 bits', async () => {
    await expectCode([await makeCert(leafSpec({ sig: 'ES512' }))], 'ERR_X509_ALGORITHM_UNSUPPORTED');
    const [rsa, small] = await Promise.all([generateKey('RSA-2048'), generateKey('RSA-1024')]);
    const rsaRoot = await makeCert(rootSpec({ subject: 'RSA Root', issuer: 'RSA Root', key: rsa, signer: rsa }));
    await expectCode([await makeCert(leafSpec({ issuer: 'RSA Root', signer: rsa, sig: 'RS1' }))], 'ERR_X509_ALGORITHM_UNSUPPORTED', context({ bundle: [rsaRoot] }));
    const smallRoot = await makeCert(rootSpec({ subject: 'Small Root', issuer: 'Small Root', key: small, signer: small }));
    await expectCode([await makeCert(leafSpec({ issuer: 'Small Root', signer: small }))], 'ERR_X509_ALGORITHM_UNSUPPORTED', context({ bundle: [smallRoot] }));
  });
  it('a signature algorithm that does not fit the issuer key', async () => {
    const ed = await generateKey('Ed25519');
    const edRoot = await makeCert(rootSpec({ subject: 'Ed Root', issuer: 'Ed Root', key: ed, signer: ed }));
    // Signed by an EC key while the issuer named holds an Ed25519 key.
    await expectCode([await makeCert(leafSpec({ issuer: 'Ed Root', signer: rootKey }))], 'ERR_X509_SIGNATURE_INVALID', context({ bundle: [edRoot] }));
  });
});

describe('verifyX509Svid: malformed input', () => {
  it('garbage DER, an empty chain, an oversized certificate', async () => {
    await expectCode([new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])], 'ERR_X509_MALFORMED');
    await expectCode([new Uint8Array([0xde, 0xad, 0xbe, 0xef])], 'ERR_X509_MALFORMED');
    await expectCode([], 'ERR_X509_MALFORMED');
    await expectCode([new Uint8Array(MAX_X509_CERTIFICATE_BYTES + 1)], 'ERR_X509_MALFORMED');
    await expectCode('not PEM', 'ERR_X509_MALFORMED');
    await expectCode(toPem(leaf).replace('CERTIFICATE-----\n', 'CERTIFICATE-----\n!'), 'ERR_X509_MALFORMED');
    await expectCode(`-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`, 'ERR_X509_MALFORMED');
  });
  it('a valid certificate re-spelled in BER (long-form outer length) or with trailing bytes', async () => {
    await expectCode([new Uint8Array([...leaf, 0x00])], 'ERR_X509_MALFORMED');
    // leaf is 30 82 LL LL …: re-encode the outer length with a leading zero octet (30 83 00 LL LL).
    expect([leaf[0], leaf[1]]).toEqual([0x30, 0x82]);
    const ber = new Uint8Array([0x30, 0x83, 0x00, ...leaf.subarray(2)]);
    await expectCode([ber], 'ERR_X509_MALFORMED');
  });
  it('a duplicate extension', async () => {
    const dup = { oid: '1.3.6.1.4.1.99999.1', critical: false, value: new Uint8Array([0x05, 0x00]) };
    await expectCode([await makeCert(leafSpec({ extra: [dup, dup] }))], 'ERR_X509_MALFORMED');
  });
  it('a basicConstraints value that does not decode (pkijs would default it to cA=false)', async () => {
    const bad = { oid: '2.5.29.19', critical: true, value: new Uint8Array([0x02, 0x01, 0x01]) };
    await expectCode([await makeCert(leafSpec({ basicConstraints: null, extra: [bad] }))], 'ERR_X509_MALFORMED');
  });
});

describe('verifyX509Svid: context and bundle', () => {
  it('refuses bad wiring', async () => {
    await expectCode([leaf], 'ERR_X509_CONTEXT_INVALID', context({ trustDomain: 'spiffe://example.org' }));
    await expectCode([leaf], 'ERR_X509_CONTEXT_INVALID', context({ maxChainLength: MAX_X509_CHAIN_LENGTH + 1 }));
    await expectCode([leaf], 'ERR_X509_CONTEXT_INVALID', context({ clockSkewSeconds: -1 }));
    await expectCode([leaf], 'ERR_X509_CONTEXT_INVALID', context({ now: () => Number.NaN }));
  });
  it('refuses an empty or unparsable bundle', async () => {
    await expectCode([leaf], 'ERR_X509_BUNDLE_INVALID', context({ bundle: [] }));
    await expectCode([leaf], 'ERR_X509_BUNDLE_INVALID', context({ bundle: [new Uint8Array([1, 2, 3])] }));
    expect(parseX509Bundle('').ok).toBe(false);
  });
  it('every code has a description', () => {
    for (const code of Object.keys(X509_ERRORS)) expect(X509_ERRORS[code as X509ErrorCode].length).toBeGreaterThan(20);
  });
});
