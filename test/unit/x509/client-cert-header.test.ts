import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_CERT_CHAIN_FIELD_CHARS, MAX_CLIENT_CERT_FIELD_CHARS, MAX_X509_CERTIFICATE_BYTES, MAX_X509_CHAIN_LENGTH } from '../../../src/limits.ts';
import { parseClientCertChainHeader, parseClientCertHeader } from '../../../src/x509/client-cert-header.ts';
import { CLIENT_CERT_HEADER_ERRORS, type ClientCertHeaderErrorCode } from '../../../src/x509/errors.ts';
import { decodePemCertificates } from '../../../src/x509/pem.ts';
import type { Result } from '../../../src/result.ts';
import { verifyX509Svid } from '../../../src/x509/verify-svid.ts';

// RFC 9440 Appendix A, Figure 1: the client certificate, the intermediate and the root.
const EXAMPLE_CHAIN_PEM = `-----BEGIN CERTIFICATE-----
MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJMZXQncyBB
dXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0yMDAx
MTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p
5Be5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIw
ADAfBgNVHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMC
BsAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1w
bGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMje
SkC3dFCOOB8TAiEAx/kHSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIIB5jCCAYugAwIBAgIBFjAKBggqhkjOPQQDAjBWMQswCQYDVQQGEwJVUzEbMBkG
A1UECgwSTGV0J3MgQXV0aGVudGljYXRlMSowKAYDVQQDDCFMZXQncyBBdXRoZW50
aWNhdGUgUm9vdCBBdXRob3JpdHkwHhcNMjAwMTE0MjEzMjMwWhcNMzAwMTExMjEz
MjMwWjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxB
IEludGVybWVkaWF0ZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJf+aA54
RC5pyLAR5yfXVYmNpgd+CGUTDp2KOGhc0gK91zxhHesEYkdXkpS2UN8Kati+yHtW
CV3kkhCngGyv7RqjZjBkMB0GA1UdDgQWBBRm3WjLa38lbEYCuiCPct0ZaSED2DAf
BgNVHSMEGDAWgBTEA2Q6eecKu9g9yb5glbkhhVINGDASBgNVHRMBAf8ECDAGAQH/
AgEAMA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAgNJADBGAiEA5pLvaFwRRkxo
mIAtDIwg9D7gC1xzxBl4r28EzmSO1pcCIQCJUShpSXO9HDIQMUgH69fNDEMHXD3R
RX5gP7kuu2KGMg==
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIICBjCCAaygAwIBAgIJAKS0yiqKtlhoMAoGCCqGSM49BAMCMFYxCzAJBgNVBAYT
AlVTMRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdGUxKjAoBgNVBAMMIUxldCdz
IEF1dGhlbnRpY2F0ZSBSb290IEF1dGhvcml0eTAeFw0yMDAxMTQyMTI1NDVaFw00
MDAxMDkyMTI1NDVaMFYxCzAJBgNVBAYTAlVTMRswGQYDVQQKDBJMZXQncyBBdXRo
ZW50aWNhdGUxKjAoBgNVBAMMIUxldCdzIEF1dGhlbnRpY2F0ZSBSb290IEF1dGhv
cml0eTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFoaHU+Z5bPKmGzlYXtCf+E6
HYj62fORaHDOrt+yyh3H/rTcs7ynFfGn+gyFsrSP3Ez88rajv+U2NfD0o0uZ4Pmj
YzBhMB0GA1UdDgQWBBTEA2Q6eecKu9g9yb5glbkhhVINGDAfBgNVHSMEGDAWgBTE
A2Q6eecKu9g9yb5glbkhhVINGDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQE
AwIBhjAKBggqhkjOPQQDAgNIADBFAiEAmAeg1ycKHriqHnaD4M/UDBpQRpkmdcRF
YGMg1Qyrkx4CIB4ivz3wQcQkGhcsUZ1SOImd/lq1Q0FLf09rGfLQPWDc
-----END CERTIFICATE-----
`;

// RFC 9440 Appendix A, Figures 2 and 3, as printed ("line breaks and whitespace have been added to the field value …
// for display and formatting purposes only"); unfold() undoes that.
const EXAMPLE_CLIENT_CERT = `:MIIBqDCCAU6gAwIBAgIBBzAKBggqhkjOPQQDAjA6MRswGQYDVQQKDBJ
 MZXQncyBBdXRoZW50aWNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTAeFw0
 yMDAxMTQyMjU1MzNaFw0yMTAxMjMyMjU1MzNaMA0xCzAJBgNVBAMMAkJDMFkwEwYHKoZ
 Izj0CAQYIKoZIzj0DAQcDQgAE8YnXXfaUgmnMtOXU/IncWalRhebrXmckC8vdgJ1p5Be
 5F/3YC8OthxM4+k1M6aEAEFcGzkJiNy6J84y7uzo9M6NyMHAwCQYDVR0TBAIwADAfBgN
 VHSMEGDAWgBRm3WjLa38lbEYCuiCPct0ZaSED2DAOBgNVHQ8BAf8EBAMCBsAwEwYDVR0
 lBAwwCgYIKwYBBQUHAwIwHQYDVR0RAQH/BBMwEYEPYmRjQGV4YW1wbGUuY29tMAoGCCq
 GSM49BAMCA0gAMEUCIBHda/r1vaL6G3VliL4/Di6YK0Q6bMjeSkC3dFCOOB8TAiEAx/k
 HSB4urmiZ0NX5r5XarmPk0wmuydBVoU4hBVZ1yhk=:`;

const EXAMPLE_CLIENT_CERT_CHAIN = `:MIIB5jCCAYugAwIBAgIBFjAKBggqhkjOPQQDAjBWMQsw
 CQYDVQQGEwJVUzEbMBkGA1UECgwSTGV0J3MgQXV0aGVudGljYXRlMSowKAYDVQQ
 DDCFMZXQncyBBdXRoZW50aWNhdGUgUm9vdCBBdXRob3JpdHkwHhcNMjAwMTE0Mj
 EzMjMwWhcNMzAwMTExMjEzMjMwWjA6MRswGQYDVQQKDBJMZXQncyBBdXRoZW50a
 WNhdGUxGzAZBgNVBAMMEkxBIEludGVybWVkaWF0ZSBDQTBZMBMGByqGSM49AgEG
 CCqGSM49AwEHA0IABJf+aA54RC5pyLAR5yfXVYmNpgd+CGUTDp2KOGhc0gK91zx
 hHesEYkdXkpS2UN8Kati+yHtWCV3kkhCngGyv7RqjZjBkMB0GA1UdDgQWBBRm3W
 jLa38lbEYCuiCPct0ZaSED2DAfBgNVHSMEGDAWgBTEA2Q6eecKu9g9yb5glbkhh
 VINGDASBgNVHRMBAf8ECDAGAQH/AgEAMA4GA1UdDwEB/wQEAwIBhjAKBggqhkjO
 PQQDAgNJADBGAiEA5pLvaFwRRkxomIAtDIwg9D7gC1xzxBl4r28EzmSO1pcCIQC
 JUShpSXO9HDIQMUgH69fNDEMHXD3RRX5gP7kuu2KGMg==:, :MIICBjCCAaygAw
 IBAgIJAKS0yiqKtlhoMAoGCCqGSM49BAMCMFYxCzAJBgNVBAYTAlVTMRswGQYDV
 QQKDBJMZXQncyBBdXRoZW50aWNhdGUxKjAoBgNVBAMMIUxldCdzIEF1dGhlbnRp
 Y2F0ZSBSb290IEF1dGhvcml0eTAeFw0yMDAxMTQyMTI1NDVaFw00MDAxMDkyMTI
 1NDVaMFYxCzAJBgNVBAYTAlVTMRswGQYDVQQKDBJMZXQncyBBdXRoZW50aWNhdG
 UxKjAoBgNVBAMMIUxldCdzIEF1dGhlbnRpY2F0ZSBSb290IEF1dGhvcml0eTBZM
 BMGByqGSM49AgEGCCqGSM49AwEHA0IABFoaHU+Z5bPKmGzlYXtCf+E6HYj62fOR
 aHDOrt+yyh3H/rTcs7ynFfGn+gyFsrSP3Ez88rajv+U2NfD0o0uZ4PmjYzBhMB0
 GA1UdDgQWBBTEA2Q6eecKu9g9yb5glbkhhVINGDAfBgNVHSMEGDAWgBTEA2Q6ee
 cKu9g9yb5glbkhhVINGDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBh
 jAKBggqhkjOPQQDAgNIADBFAiEAmAeg1ycKHriqHnaD4M/UDBpQRpkmdcRFYGMg
 1Qyrkx4CIB4ivz3wQcQkGhcsUZ1SOImd/lq1Q0FLf09rGfLQPWDc:`;

const unfold = (text: string) => text.replace(/\n /g, '');

function examplePem(): Uint8Array[] {
  const decoded = decodePemCertificates(EXAMPLE_CHAIN_PEM, 3);
  if (!decoded.ok) throw new Error(decoded.detail);
  return decoded.value;
}

function expectCode(result: Result<unknown, ClientCertHeaderErrorCode>, code: ClientCertHeaderErrorCode) {
  if (result.ok) throw new Error(`expected ${code}, got success`);
  expect({ code: result.code, detail: result.detail }).toEqual({ code, detail: expect.any(String) });
}

function value<T>(result: Result<T, ClientCertHeaderErrorCode>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.detail}`);
  return result.value;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const cert = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]); // the parsers do not look inside

describe('parseClientCertHeader (RFC 9440 §2.2)', () => {
  it('decodes the RFC 9440 Appendix A example to the client certificate of Figure 1', () => {
    const [client] = examplePem();
    expect(value(parseClientCertHeader(unfold(EXAMPLE_CLIENT_CERT)))).toEqual(client);
  });

  it('tolerates surrounding spaces and unpadded base64 (RFC 8941 §4.2, §4.2.7)', () => {
    expect(value(parseClientCertHeader(`  :${b64(cert)}:  `))).toEqual(cert);
    expect(b64(cert).endsWith('=')).toBe(true);
    expect(value(parseClientCertHeader(`:${b64(cert).replace(/=+$/, '')}:`))).toEqual(cert);
  });

  it('refuses values that are not one Byte Sequence', () => {
    for (const bad of [
      b64(cert), // no delimiters: a Token, not a Byte Sequence
      `"${b64(cert)}"`, // a String
      `:${b64(cert)}`, // no closing colon
      `${b64(cert)}:`,
      `:${b64(cert).replace(/\+|\//g, '-')}-_:`, // base64url alphabet
      `:${b64(cert)}:;a=1`, // parameters
      `:${b64(cert)}:, :${b64(cert)}:`, // two Client-Cert lines joined by a Headers object
      `:${b64(cert)}: x`,
      '::', // empty
      '',
      `:${b64(cert).slice(0, 4)} ${b64(cert).slice(4)}:`, // whitespace inside
      `:${b64(cert)}:\u00a0`,
      `:AB=C:`, // padding in the middle
      `:A:`, // impossible length
      `(:${b64(cert)}:)`,
    ]) {
      expectCode(parseClientCertHeader(bad), 'ERR_CLIENT_CERT_HEADER_MALFORMED');
    }
  });

  it('bounds the field and the certificate before decoding', () => {
    expectCode(parseClientCertHeader(`:${'A'.repeat(MAX_CLIENT_CERT_FIELD_CHARS)}:`), 'ERR_CLIENT_CERT_HEADER_TOO_LARGE');
    const text = `:${'AAAA'.repeat(Math.ceil((MAX_X509_CERTIFICATE_BYTES + 1) / 3))}:`; // just over the byte limit
    expect(text.length).toBeLessThanOrEqual(MAX_CLIENT_CERT_FIELD_CHARS);
    expectCode(parseClientCertHeader(text), 'ERR_CLIENT_CERT_HEADER_TOO_LARGE');
  });
});

describe('parseClientCertChainHeader (RFC 9440 §2.3)', () => {
  it('decodes the RFC 9440 Appendix A example to the intermediate and root of Figure 1', () => {
    const [, intermediate, root] = examplePem();
    expect(value(parseClientCertChainHeader(unfold(EXAMPLE_CLIENT_CERT_CHAIN)))).toEqual([intermediate, root]);
  });

  it('accepts OWS around commas, a single member, and an empty field as an empty list', () => {
    const one = `:${b64(cert)}:`;
    expect(value(parseClientCertChainHeader(`${one},${one}\t,  ${one}`))).toEqual([cert, cert, cert]);
    expect(value(parseClientCertChainHeader(one))).toEqual([cert]);
    expect(value(parseClientCertChainHeader(''))).toEqual([]);
    expect(value(parseClientCertChainHeader('   '))).toEqual([]);
  });

  it('refuses members that are not Byte Sequences, inner lists, parameters and stray commas', () => {
    const one = `:${b64(cert)}:`;
    for (const bad of [`${one},`, `,${one}`, `${one},,${one}`, `${one} ${one}`, `(${one})`, `${one};a`, `${one}, token`, `${one}, "s"`, `${one}, ::`]) {
      expectCode(parseClientCertChainHeader(bad), 'ERR_CLIENT_CERT_HEADER_MALFORMED');
    }
  });

  it('bounds the number of certificates and the field length', () => {
    const one = `:${b64(cert)}:`;
    expect(value(parseClientCertChainHeader(Array(MAX_X509_CHAIN_LENGTH - 1).fill(one).join(', '))).length).toBe(MAX_X509_CHAIN_LENGTH - 1);
    expectCode(parseClientCertChainHeader(Array(MAX_X509_CHAIN_LENGTH).fill(one).join(', ')), 'ERR_CLIENT_CERT_CHAIN_TOO_LONG');
    expectCode(parseClientCertChainHeader(' '.repeat(MAX_CLIENT_CERT_CHAIN_FIELD_CHARS + 1)), 'ERR_CLIENT_CERT_HEADER_TOO_LARGE');
  });

  it('hands the RFC example chain to verifyX509Svid, which parses it and refuses it as an SVID (an e-mail SAN, no URI SAN)', async () => {
    const [, , root] = examplePem();
    const leaf = value(parseClientCertHeader(unfold(EXAMPLE_CLIENT_CERT)));
    const chain = value(parseClientCertChainHeader(unfold(EXAMPLE_CLIENT_CERT_CHAIN)));
    const result = await verifyX509Svid([leaf, ...chain], { trustDomain: 'example.com', bundle: [root!], now: () => Date.UTC(2020, 5, 1) });
    expect(!result.ok && result.code).toBe('ERR_X509_SAN_INVALID');
  });

  it('every code has a description', () => {
    for (const code of Object.keys(CLIENT_CERT_HEADER_ERRORS)) expect(CLIENT_CERT_HEADER_ERRORS[code as ClientCertHeaderErrorCode].length).toBeGreaterThan(20);
  });
});
