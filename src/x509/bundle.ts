/**
 * A trust domain's X.509 CA certificates (its X509-SVID bundle), parsed once so that every verification reuses them.
 *
 * Specs: X509-SVID §5.1 (the CA bundle), §6.2 (consuming a SPIFFE bundle: one CA certificate per `x509-svid` JWK, the
 * first `x5c` value); RFC 5280 §6.1.1 (d) (trust anchor information).
 *
 * Checks: 1..MAX_X509_BUNDLE_CERTIFICATES certificates, each one of MAX_X509_CERTIFICATE_BYTES, strict DER, X.509 v3
 * (certificate.ts); any failure is ERR_X509_BUNDLE_INVALID, because the bundle is configuration, not caller input.
 *
 * Does NOT: extract certificates from a SPIFFE bundle JWK Set (the key-source code does, per §6.2), require them to be
 * self-signed (§6.1: SHOULD), or judge them as CAs: an anchor is checked when a chain actually leads to it
 * (signing-cert.ts, validity.ts, extensions.ts), so one expired or odd certificate does not disable the whole bundle.
 */
import { MAX_X509_BUNDLE_CERTIFICATES } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { parseCertificate, type X509Cert } from './certificate.ts';
import { certificateList, type CertificatesInput } from './input.ts';

export interface X509Bundle {
  readonly kind: 'x509-bundle';
  readonly anchors: readonly X509Cert[];
}

export function parseX509Bundle(input: CertificatesInput): Result<X509Bundle, 'ERR_X509_BUNDLE_INVALID'> {
  const list = certificateList(input, MAX_X509_BUNDLE_CERTIFICATES);
  if (!list.ok) return fail('ERR_X509_BUNDLE_INVALID', list.detail);
  const anchors: X509Cert[] = [];
  for (const [i, der] of list.value.entries()) {
    const parsed = parseCertificate(der);
    if (!parsed.ok) return fail('ERR_X509_BUNDLE_INVALID', `bundle certificate ${i}: ${parsed.detail}`);
    anchors.push(parsed.value);
  }
  return ok({ kind: 'x509-bundle', anchors });
}

export function isX509Bundle(value: unknown): value is X509Bundle {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { kind?: unknown }).kind === 'x509-bundle';
}
