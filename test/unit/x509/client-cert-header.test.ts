import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_CERT_CHAIN_FIELD_CHARS, MAX_CLIENT_CERT_FIELD_CHARS, MAX_X509_CERTIFICATE_BYTES, MAX_X509_CHAIN_LENGTH } from '../../../src/limits.ts';
import { parseClientCertChainHeader, parseClientCertHeader } from '../../../src/x509/client-cert-header.ts';
import { CLIENT_CERT_HEADER_ERRORS, type ClientCertHeaderErrorCode } from '../../../src/x509/errors.ts';
import { decodePemCertificates } from '../../../src/x509/pem.ts';
import type { Result } from '../../../src/result.ts';
import { verifyX509Svid } from '../../../src/x509/verify-svid.ts';
import rfc9440 from '../../vectors/rfc9440/appendix-a.json' with { type: 'json' };

// RFC 9440 Appendix A: the certificates (Figure 1) and the two field values as printed (Figures 2 and 3, with the
// display line breaks that unfold() removes).
const { chainPem: EXAMPLE_CHAIN_PEM, clientCert: EXAMPLE_CLIENT_CERT, clientCertChain: EXAMPLE_CLIENT_CERT_CHAIN } = rfc9440;

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
