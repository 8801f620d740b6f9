import { describe, expect, it } from 'vitest';
import { MAX_X509_PEM_BLOCK_CHARS } from '../../../src/limits.ts';
import { decodeBase64 } from '../../../src/x509/base64.ts';
import { checkDer, decodeOid } from '../../../src/x509/der.ts';
import { decodePemCertificates } from '../../../src/x509/pem.ts';

const seq = (...body: number[]) => new Uint8Array([0x30, body.length, ...body]);

describe('checkDer (X.690 DER)', () => {
  it('accepts canonical encodings', () => {
    expect(checkDer(seq(0x02, 0x01, 0x00, 0x01, 0x01, 0xff, 0x03, 0x02, 0x07, 0x80, 0x05, 0x00))).toBeUndefined();
    expect(checkDer(seq(0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0xff))).toBeUndefined();
  });
  it('refuses BER spellings', () => {
    expect(checkDer(new Uint8Array([0x30, 0x80, 0x00, 0x00]))).toMatch(/indefinite/);
    expect(checkDer(new Uint8Array([0x30, 0x81, 0x02, 0x05, 0x00]))).toMatch(/long-form/);
    expect(checkDer(new Uint8Array([0x30, 0x82, 0x00, 0x80, ...new Uint8Array(0x80)]))).toMatch(/leading zero/);
    expect(checkDer(seq(0x01, 0x01, 0x01))).toMatch(/BOOLEAN/);
    expect(checkDer(seq(0x02, 0x02, 0x00, 0x01))).toMatch(/INTEGER/);
    expect(checkDer(seq(0x02, 0x02, 0xff, 0x80))).toMatch(/INTEGER/);
    expect(checkDer(seq(0x02, 0x00))).toMatch(/INTEGER/);
    expect(checkDer(seq(0x03, 0x02, 0x07, 0x81))).toMatch(/padding/);
    expect(checkDer(seq(0x03, 0x01, 0x01))).toMatch(/unused/);
    expect(checkDer(seq(0x24, 0x03, 0x04, 0x01, 0x00))).toMatch(/constructed form/);
    expect(checkDer(seq(0x05, 0x01, 0x00))).toMatch(/NULL/);
    expect(checkDer(seq(0x1f, 0x21, 0x00))).toMatch(/high tag/);
  });
  it('refuses truncation, overrun and trailing bytes', () => {
    expect(checkDer(new Uint8Array([0x30]))).toBeDefined();
    expect(checkDer(new Uint8Array([0x30, 0x05, 0x00]))).toMatch(/runs past/);
    expect(checkDer(seq(0x30, 0x05, 0x00))).toMatch(/runs past/);
    expect(checkDer(new Uint8Array([0x30, 0x00, 0x00]))).toMatch(/after the element/);
  });
  it('bounds the nesting depth', () => {
    let deep = new Uint8Array([0x05, 0x00]);
    for (let i = 0; i < 40; i++) deep = new Uint8Array([0x30, deep.length, ...deep]);
    expect(checkDer(deep.subarray(0, 2 + deep[1]!))).toBeDefined();
  });
  it('decodes OBJECT IDENTIFIERs strictly', () => {
    expect(decodeOid(new Uint8Array([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]))).toBe('1.2.840.10045.4.3.2');
    expect(decodeOid(new Uint8Array([0x2b, 0x65, 0x70]))).toBe('1.3.101.112');
    expect(decodeOid(new Uint8Array([0x2a, 0x80, 0x01]))).toBeUndefined(); // non-minimal sub-identifier
    expect(decodeOid(new Uint8Array([0x2a, 0x86]))).toBeUndefined(); // truncated
    expect(decodeOid(new Uint8Array([]))).toBeUndefined();
  });
});

describe('decodeBase64', () => {
  it('decodes padded and, when allowed, unpadded input', () => {
    expect(decodeBase64('AQID', 'required')).toEqual(new Uint8Array([1, 2, 3]));
    expect(decodeBase64('AQI=', 'required')).toEqual(new Uint8Array([1, 2]));
    expect(decodeBase64('AQ==', 'required')).toEqual(new Uint8Array([1]));
    expect(decodeBase64('AQ', 'required')).toBeUndefined();
    expect(decodeBase64('AQ', 'optional')).toEqual(new Uint8Array([1]));
  });
  it('refuses other alphabets, inner padding, whitespace and impossible lengths', () => {
    for (const bad of ['AQ-_', 'A=QI', 'AQI==', 'AQ=', 'AQ I', 'A', 'AQIDB', '====']) expect(decodeBase64(bad, 'optional')).toBeUndefined();
  });
});

describe('decodePemCertificates (RFC 7468)', () => {
  const block = (b64: string) => `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  it('reads several blocks, CRLF line ends, blank lines and trailing spaces', () => {
    const text = `\n${block('AQID')}\r\n${block('BAUG').replace(/\n/g, '\r\n')}  \n`;
    const result = decodePemCertificates(text, 5);
    expect(result.ok && result.value).toEqual([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6])]);
  });
  it('refuses text between blocks, other labels, headers, unterminated or nested blocks, and too many blocks', () => {
    for (const bad of [
      `explanatory text\n${block('AQID')}`,
      block('AQID').replace(/CERTIFICATE/g, 'PRIVATE KEY'),
      block('AQID').replace('-----END CERTIFICATE-----', '-----END X509 CRL-----'),
      block('Proc-Type: 4,ENCRYPTED\nAQID'),
      '-----BEGIN CERTIFICATE-----\nAQID\n',
      `-----BEGIN CERTIFICATE-----\n${block('AQID')}`,
      block(''),
      '',
    ]) {
      expect(decodePemCertificates(bad, 5).ok).toBe(false);
    }
    const three = decodePemCertificates(block('AQID').repeat(3), 2);
    expect(!three.ok && three.code).toBe('too-many');
    expect(decodePemCertificates(' '.repeat(2 * MAX_X509_PEM_BLOCK_CHARS + 1), 2).ok).toBe(false);
  });
});
