import { describe, expect, it } from 'vitest';
import { Certificate } from 'pkijs';
import { parseCertificate, type X509Cert } from '../../../src/x509/certificate.ts';
import { decodePemCertificates } from '../../../src/x509/pem.ts';
import {
  ascii,
  bool,
  certificate,
  concat,
  ECDSA_SHA256,
  extension,
  generalizedTime,
  int,
  name,
  octets,
  oid,
  seq,
  set,
  tbsCertificate,
  tlv,
  utcTime,
} from './der-builder.ts';
import { generateKey, KU, makeCert, OIDS } from './pki.ts';
import rfc9440 from '../../vectors/rfc9440/appendix-a.json' with { type: 'json' };

// RFC 9440 Appendix A, Figure 1: certificates made by another encoder.
const EXAMPLE_CHAIN_PEM = rfc9440.chainPem;

function parsed(der: Uint8Array): X509Cert {
  const result = parseCertificate(der);
  if (!result.ok) throw new Error(`expected a certificate, got: ${result.detail}`);
  return result.value;
}

function refused(der: Uint8Array, detail?: RegExp): void {
  const result = parseCertificate(der);
  if (result.ok) throw new Error('expected a refusal, got a certificate');
  expect(result.code).toBe('malformed');
  if (detail) expect(result.detail).toMatch(detail);
}

const SAN = '2.5.29.17';
const KEY_USAGE = '2.5.29.15';
const BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.37';
const uri = (text: string) => tlv(0x86, ascii(text));
const dns = (text: string) => tlv(0x82, ascii(text));
const withExtension = (id: string, value: Uint8Array, critical: boolean | 'explicit-false' = false) => certificate({ extensions: [extension(id, value, critical)] });
const bitString = (...bytes: number[]) => tlv(0x03, bytes);

describe('parseCertificate: fields and raw spans', () => {
  it('reads every field of a hand-built certificate at the exact byte spans', () => {
    const issuer = name('Test Root CA');
    const subject = name('agent');
    const der = certificate({ issuer, subject, serial: int(0x80), extensions: [extension(SAN, seq(uri('spiffe://example.org/a')), true)] });
    const cert = parsed(der);
    expect(cert.serial).toBe('0080');
    expect(cert.issuer).toEqual(issuer);
    expect(cert.subject).toEqual(subject);
    expect(cert.subjectEmpty).toBe(false);
    expect(cert.notBefore).toBe(Date.UTC(2026, 0, 1));
    expect(cert.notAfter).toBe(Date.UTC(2027, 0, 1));
    expect(cert.signatureAlgorithm).toEqual({ oid: '1.2.840.10045.4.3.2' });
    expect(cert.spkiAlgorithm.oid).toBe('1.2.840.10045.2.1');
    expect(cert.spkiAlgorithm.parameters).toEqual(oid('1.2.840.10045.3.1.7'));
    expect(cert.signature).toEqual(new Uint8Array(8).fill(1));
    // tbs is the first element of the certificate, byte for byte; spki is inside it.
    const header = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
    expect(cert.tbs).toEqual(der.subarray(header, header + cert.tbs.length));
    expect(cert.tbs.buffer).toBe(der.buffer);
    expect(cert.spki[0]).toBe(0x30);
    expect([...cert.extensions.keys()]).toEqual([SAN]);
    expect(cert.subjectAltName).toEqual({ critical: true, uris: ['spiffe://example.org/a'], dnsNames: [], otherNames: [] });
  });

  it('reads the RFC 9440 example chain (another encoder): names, times, SAN, key usages, basic constraints', () => {
    const decoded = decodePemCertificates(EXAMPLE_CHAIN_PEM, 3);
    if (!decoded.ok) throw new Error(decoded.detail);
    const [client, intermediate, root] = decoded.value.map(parsed) as [X509Cert, X509Cert, X509Cert];
    expect(client.serial).toBe('07');
    expect(client.notBefore).toBe(Date.UTC(2020, 0, 14, 22, 55, 33));
    expect(client.notAfter).toBe(Date.UTC(2021, 0, 23, 22, 55, 33));
    expect(client.issuer).toEqual(intermediate.subject);
    expect(intermediate.issuer).toEqual(root.subject);
    expect(root.issuer).toEqual(root.subject);
    expect(root.serial).toBe('00a4b4ca2a8ab65868');
    expect(root.notAfter).toBe(Date.UTC(2040, 0, 9, 21, 25, 45));
    // The client has one rfc822Name SAN (0x81) and no URI; keyUsage 03 02 06 C0: digitalSignature, nonRepudiation.
    expect(client.subjectAltName).toEqual({ critical: true, uris: [], dnsNames: [], otherNames: ['rfc822Name'] });
    expect(client.keyUsage).toEqual({ critical: true, digitalSignature: true, keyCertSign: false, cRLSign: false });
    expect(client.basicConstraints).toEqual({ critical: false, cA: false });
    expect(client.extKeyUsage).toEqual({ critical: false, purposes: [OIDS.clientAuth] });
    // The CAs: keyUsage 03 02 01 86 (one unused bit): digitalSignature, keyCertSign, cRLSign.
    expect(intermediate.keyUsage).toEqual({ critical: true, digitalSignature: true, keyCertSign: true, cRLSign: true });
    expect(intermediate.basicConstraints).toEqual({ critical: true, cA: true, pathLenConstraint: 0 });
    expect(root.basicConstraints).toEqual({ critical: true, cA: true });
    expect([...root.extensions.keys()]).toEqual(['2.5.29.14', '2.5.29.35', BASIC_CONSTRAINTS, KEY_USAGE]);
  });

  it('agrees with pkijs on a certificate pkijs builds', async () => {
    const key = await generateKey('P-256');
    const der = await makeCert({
      subject: 'agent',
      issuer: 'Test Root CA',
      key,
      signer: key,
      serial: 0xbeef,
      notBefore: Date.UTC(2026, 1, 28, 23, 59, 59),
      notAfter: Date.UTC(2049, 11, 31, 23, 59, 59),
      basicConstraints: { cA: true, pathLen: 300 },
      keyUsage: { bits: [KU.digitalSignature, KU.keyAgreement, KU.cRLSign] },
      uris: ['spiffe://example.org/a'],
      dns: ['a.example.org'],
      eku: [OIDS.serverAuth, OIDS.clientAuth],
    });
    const cert = parsed(der);
    const reference = Certificate.fromBER(der as Uint8Array<ArrayBuffer>);
    expect(cert.serial).toBe(Array.from(reference.serialNumber.valueBlock.valueHexView, (b) => b.toString(16).padStart(2, '0')).join(''));
    expect(cert.notBefore).toBe(reference.notBefore.value.getTime());
    expect(cert.notAfter).toBe(reference.notAfter.value.getTime());
    expect(cert.spki).toEqual(key.spki);
    expect(cert.basicConstraints).toEqual({ critical: true, cA: true, pathLenConstraint: 300 });
    expect(cert.keyUsage).toEqual({ critical: true, digitalSignature: true, keyCertSign: false, cRLSign: true });
    expect(cert.subjectAltName).toEqual({ critical: false, uris: ['spiffe://example.org/a'], dnsNames: ['a.example.org'], otherNames: [] });
    expect(cert.extKeyUsage?.purposes).toEqual([OIDS.serverAuth, OIDS.clientAuth]);
  });
});

describe('parseCertificate: validity times (RFC 5280 §4.1.2.5)', () => {
  const times = (notBefore: Uint8Array, notAfter: Uint8Array) => parsed(certificate({ notBefore, notAfter }));

  it('reads UTCTime in the 1950–2049 window and GeneralizedTime from 2050 on', () => {
    let cert = times(utcTime('491231235959Z'), generalizedTime('20500101000000Z'));
    expect(cert.notBefore).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(cert.notAfter).toBe(Date.UTC(2050, 0, 1, 0, 0, 0));
    cert = times(utcTime('500101000000Z'), utcTime('000229120000Z'));
    expect(cert.notBefore).toBe(Date.UTC(1950, 0, 1)); // 50 is 1950, not 2050
    expect(cert.notAfter).toBe(Date.UTC(2000, 1, 29, 12)); // 2000 is a leap year
    cert = times(generalizedTime('20240229000000Z'), generalizedTime('99991231235959Z')); // RFC 5280: no well-defined expiration
    expect(cert.notBefore).toBe(Date.UTC(2024, 1, 29));
    expect(cert.notAfter).toBe(Date.UTC(9999, 11, 31, 23, 59, 59));
  });

  it('tolerates GeneralizedTime before 2050 (same instant as the UTCTime a CA should have used)', () => {
    const cert = times(generalizedTime('20260101000000Z'), generalizedTime('00010101000000Z'));
    expect(cert.notBefore).toBe(Date.UTC(2026, 0, 1));
    expect(new Date(cert.notAfter).getUTCFullYear()).toBe(1); // not 1901: years 0–99 are read as written
  });

  it('refuses other formats, impossible calendar values and other types', () => {
    for (const bad of [
      utcTime('4912312359Z'), // no seconds
      utcTime('491231235959'), // no Z
      utcTime('491231235959z'),
      utcTime('491231235959+0000'),
      utcTime('20491231235959Z'), // four-digit year in a UTCTime
      generalizedTime('491231235959Z'), // two-digit year in a GeneralizedTime
      generalizedTime('20500101000000.5Z'), // fractional seconds (RFC 5280 §4.1.2.5.2)
      generalizedTime('20500101000000'),
      generalizedTime('2050010100000 Z'),
      utcTime('491331000000Z'), // month 13
      utcTime('490001000000Z'), // month 0
      utcTime('490100000000Z'), // day 0
      utcTime('250229000000Z'), // 2025 is not a leap year
      generalizedTime('21000229000000Z'), // neither is 2100
      utcTime('490431000000Z'),
      utcTime('491231240000Z'), // hour 24
      utcTime('491231236000Z'),
      utcTime('491231235960Z'), // no leap second
      tlv(0x13, ascii('491231235959Z')), // PrintableString
    ]) {
      refused(certificate({ notBefore: bad }), /validity time/);
      refused(certificate({ notAfter: bad }), /validity time/);
    }
    refused(certificate({ validity: seq(utcTime('260101000000Z')) }), /Validity/);
    refused(certificate({ validity: seq(utcTime('260101000000Z'), utcTime('270101000000Z'), utcTime('280101000000Z')) }), /Validity/);
  });
});

describe('parseCertificate: keyUsage BIT STRING (RFC 5280 §4.2.1.3, X.690 §8.6)', () => {
  const ku = (value: Uint8Array) => parsed(withExtension(KEY_USAGE, value, true)).keyUsage;

  it('numbers bits from the most significant bit of the first octet, whatever the unused-bits count', () => {
    expect(ku(bitString(0x07, 0x80))).toEqual({ critical: true, digitalSignature: true, keyCertSign: false, cRLSign: false });
    expect(ku(bitString(0x01, 0x06))).toEqual({ critical: true, digitalSignature: false, keyCertSign: true, cRLSign: true });
    expect(ku(bitString(0x02, 0x84))).toEqual({ critical: true, digitalSignature: true, keyCertSign: true, cRLSign: false });
    // decipherOnly (bit 8) lives in a second octet: 7 unused bits there.
    expect(ku(bitString(0x07, 0x80, 0x80))).toEqual({ critical: true, digitalSignature: true, keyCertSign: false, cRLSign: false });
  });

  it('tolerates trailing zero bits and an empty bit string (decoded as written: nothing set)', () => {
    expect(ku(bitString(0x00, 0x80))?.digitalSignature).toBe(true);
    expect(ku(bitString(0x00))).toEqual({ critical: true, digitalSignature: false, keyCertSign: false, cRLSign: false });
  });

  it('refuses set padding bits, a bad unused-bits octet, and other types', () => {
    refused(withExtension(KEY_USAGE, bitString(0x07, 0xc0)), /padding/); // bit 1 sits in the unused bits
    refused(withExtension(KEY_USAGE, bitString(0x01, 0x07)), /padding/);
    refused(withExtension(KEY_USAGE, bitString(0x08, 0x00)), /unused/);
    refused(withExtension(KEY_USAGE, bitString(0x01)), /unused/);
    refused(withExtension(KEY_USAGE, octets([0x80])), /BIT STRING/);
    refused(withExtension(KEY_USAGE, concat(bitString(0x07, 0x80), [0x00])), /not DER/);
  });
});

describe('parseCertificate: subjectAltName GeneralNames (RFC 5280 §4.2.1.6)', () => {
  const san = (...names: Uint8Array[]) => parsed(withExtension(SAN, seq(...names), true)).subjectAltName;

  it('separates URIs, dNSNames and the other kinds, in order', () => {
    expect(san(dns('agent.example.org'), uri('spiffe://example.org/a'))).toEqual({
      critical: true,
      uris: ['spiffe://example.org/a'],
      dnsNames: ['agent.example.org'],
      otherNames: [],
    });
    const every = san(
      tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(0x0c, ascii('upn')))), // otherName
      tlv(0x81, ascii('a@example.org')), // rfc822Name
      tlv(0xa3, seq()), // x400Address
      tlv(0xa4, name('dir')), // directoryName
      tlv(0xa5, tlv(0xa1, tlv(0x0c, ascii('party')))), // ediPartyName
      tlv(0x87, [192, 0, 2, 1]), // iPAddress v4
      tlv(0x87, new Uint8Array(16)), // iPAddress v6
      tlv(0x88, oid('1.2.3.4').subarray(2)), // registeredID
      uri('spiffe://example.org/a'),
      uri('spiffe://example.org/b'),
    );
    expect(every?.uris).toEqual(['spiffe://example.org/a', 'spiffe://example.org/b']);
    expect(every?.otherNames).toEqual(['otherName', 'rfc822Name', 'x400Address', 'directoryName', 'ediPartyName', 'iPAddress', 'iPAddress', 'registeredID']);
  });

  it('refuses an empty list, unknown or mis-formed names, and non-ASCII IA5Strings', () => {
    for (const [value, detail] of [
      [seq(), /non-empty/],
      [set(uri('spiffe://example.org/a')), /non-empty/],
      [seq(tlv(0x89, [1])), /unknown GeneralName/], // [9]
      [seq(tlv(0xa6, uri('spiffe://example.org/a'))), /unknown GeneralName/], // constructed URI
      [seq(tlv(0x86, [...ascii('spiffe://example.org/'), 0xe9])), /non-ASCII/],
      [seq(tlv(0x82, [0xff])), /non-ASCII/],
      [seq(tlv(0x81, [0x80])), /rfc822Name/],
      [seq(tlv(0x87, [10, 0, 0])), /iPAddress/],
      [seq(tlv(0x88, [0x2a, 0x80, 0x01])), /registeredID/],
      [seq(tlv(0xa0, oid('1.2.3'))), /otherName/],
      [seq(tlv(0xa0, oid('1.2.3'), tlv(0x0c, ascii('x')))), /otherName/], // value not [0] EXPLICIT
      [seq(tlv(0xa4, set())), /directoryName/],
      [seq(tlv(0xa4, seq(set()))), /directoryName/], // an empty RDN
    ] as const) {
      refused(withExtension(SAN, value), detail);
    }
  });
});

describe('parseCertificate: basicConstraints and extKeyUsage', () => {
  const bc = (value: Uint8Array) => parsed(withExtension(BASIC_CONSTRAINTS, value, true)).basicConstraints;

  it('reads cA and pathLenConstraint, each optional; tolerates an explicit cA FALSE', () => {
    expect(bc(seq())).toEqual({ critical: true, cA: false });
    expect(bc(seq(bool(true)))).toEqual({ critical: true, cA: true });
    expect(bc(seq(bool(true), int(0)))).toEqual({ critical: true, cA: true, pathLenConstraint: 0 });
    expect(bc(seq(bool(false)))).toEqual({ critical: true, cA: false });
    expect(bc(seq(int(2)))).toEqual({ critical: true, cA: false, pathLenConstraint: 2 });
  });

  it('refuses fields out of order or extra, a negative or huge pathLenConstraint, other types', () => {
    refused(withExtension(BASIC_CONSTRAINTS, seq(int(0), bool(true))), /unexpected fields/);
    refused(withExtension(BASIC_CONSTRAINTS, seq(bool(true), int(0), int(1))), /unexpected fields/);
    refused(withExtension(BASIC_CONSTRAINTS, seq(bool(true), tlv(0x02, [0xff]))), /out of range/);
    refused(withExtension(BASIC_CONSTRAINTS, seq(bool(true), tlv(0x02, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))), /out of range/);
    refused(withExtension(BASIC_CONSTRAINTS, int(1)), /SEQUENCE/);
    refused(withExtension(BASIC_CONSTRAINTS, seq(tlv(0x01, [0x01]))), /BOOLEAN/);
  });

  it('extKeyUsage: a non-empty list of OIDs, nothing else', () => {
    expect(parsed(withExtension(EXT_KEY_USAGE, seq(oid(OIDS.clientAuth), oid('2.5.29.37.0')))).extKeyUsage).toEqual({ critical: false, purposes: [OIDS.clientAuth, '2.5.29.37.0'] });
    refused(withExtension(EXT_KEY_USAGE, seq()), /non-empty/);
    refused(withExtension(EXT_KEY_USAGE, seq(oid(OIDS.clientAuth), int(1))), /not an OBJECT IDENTIFIER/);
  });
});

describe('parseCertificate: structure (RFC 5280 §4.1, §4.2)', () => {
  it('keeps every extension with its criticality, name constraints included; explicit critical FALSE is tolerated', () => {
    const nc = seq(tlv(0xa0, seq(uri('example.org'))));
    const cert = parsed(certificate({ extensions: [extension('2.5.29.30', nc, true), extension('1.3.6.1.4.1.99999.1', tlv(0x05, []), 'explicit-false')] }));
    expect(cert.extensions.get('2.5.29.30')).toEqual({ critical: true, value: nc });
    expect(cert.extensions.get('1.3.6.1.4.1.99999.1')?.critical).toBe(false);
  });

  it('accepts unique identifiers and an empty subject', () => {
    const cert = parsed(certificate({ subject: seq(), afterSpki: [tlv(0x81, [0x00, 0x01]), tlv(0x82, [0x00, 0x02])] }));
    expect(cert.subjectEmpty).toBe(true);
  });

  it('refuses versions other than v3, missing, extra or misplaced fields', () => {
    refused(certificate({ version: null }), /version 1/);
    refused(certificate({ version: tlv(0xa0, int(0)) }), /version 1/);
    refused(certificate({ version: tlv(0xa0, int(1)) }), /version 2/);
    refused(certificate({ version: tlv(0xa0, int(2), int(2)) }), /version/);
    refused(certificate({ serial: tlv(0x04, [1]) }), /missing fields/);
    refused(certificate({ trailing: [tlv(0x05, [])] }), /unexpected fields/);
    refused(certificate({ extensions: [], afterSpki: [] }), /extensions list is empty/);
    refused(certificate({ afterSpki: [tlv(0x82, [0x00]), tlv(0x81, [0x00])] }), /unexpected fields/); // [2] before [1]
    refused(seq(certificate()), /three elements/); // a Certificate wrapped in one more SEQUENCE
    refused(seq(tbsCertificate(), ECDSA_SHA256), /three elements/);
  });

  it('refuses a differing inner signature algorithm, unused signature bits, a bad SubjectPublicKeyInfo or Name', () => {
    refused(certificate({ innerAlgorithm: seq(oid('1.2.840.10045.4.3.3')) }), /differs/);
    refused(certificate({ signatureValue: tlv(0x03, [0x01, 0x02]) }), /unused bits/);
    refused(certificate({ spki: seq(ECDSA_SHA256) }), /SubjectPublicKeyInfo/);
    refused(certificate({ spki: seq(ECDSA_SHA256, octets([0x04])) }), /SubjectPublicKeyInfo/);
    refused(certificate({ subject: seq(set()) }), /Name/);
    refused(certificate({ issuer: seq(seq(seq(oid('2.5.4.3'), tlv(0x0c, ascii('x'))))) }), /Name/); // RDN not a SET
    refused(certificate({ issuer: seq(set(seq(tlv(0x0c, ascii('x'))))) }), /Name/);
  });

  it('refuses duplicate extensions and extensions that are not { OID, BOOLEAN?, OCTET STRING }', () => {
    const one = extension('1.3.6.1.4.1.99999.1', tlv(0x05, []));
    refused(certificate({ extensions: [one, one] }), /appears twice/);
    refused(certificate({ extensions: [seq(oid('1.2.3'), octets([5, 0]), bool(true))] }), /extnID, critical, extnValue/);
    refused(certificate({ extensions: [seq(oid('1.2.3'))] }), /extnID, critical, extnValue/);
    refused(certificate({ extensions: [set(oid('1.2.3'), octets([5, 0]))] }), /not a SEQUENCE/);
  });

  it('refuses BER spellings and trailing bytes of a valid certificate', () => {
    const der = certificate();
    expect(parseCertificate(der).ok).toBe(true);
    refused(concat(der, [0x00]), /not DER/);
    refused(concat([0x30, 0x83, 0x00], der.subarray(2)), /not DER/);
    // Universal tag 0 only ends an indefinite length in BER; here it hides in an attribute value (ANY).
    refused(certificate({ subject: seq(set(seq(oid('2.5.4.3'), tlv(0x00, [])))) }), /end-of-contents/);
  });
});
