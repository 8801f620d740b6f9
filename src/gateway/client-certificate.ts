/**
 * The TLS client certificate a request arrived with, for routes that accept mutual TLS (`auth.mtls`): the gateway
 * terminates no TLS itself, so the certificate comes from whoever did.
 *
 *  - `cloudflare` (Workers): `request.cf.tlsClientAuth`, whose `certRFC9440` / `certChainRFC9440` carry the
 *    certificate and chain in RFC 9440 form. Cloudflare's own verdict (`certVerified`) is about the zone's CA
 *    settings, not this trust domain's bundle, so it is not relied on: the chain is validated here.
 *  - `rfc9440`: the `Client-Cert` / `Client-Cert-Chain` fields (RFC 9440 §2), believed only from a connection whose
 *    peer address is one of `trustedProxies` (§3: "the fields MUST be removed or overwritten" by the proxy; from
 *    anyone else they are attacker input, and are ignored, not refused).
 *
 * Returns `undefined` when no certificate was presented (the caller then has no mTLS credential), the DER chain
 * (leaf first) otherwise. Does NOT verify anything: verifyX509Svid does.
 */
import { fail, ok, type Result } from '../result.ts';
import { parseClientCertChainHeader, parseClientCertHeader } from '../x509/client-cert-header.ts';
import type { ClientCertHeaderErrorCode } from '../x509/errors.ts';

export interface MtlsConfig {
  certificate: 'cloudflare' | 'rfc9440';
  trustedProxies?: readonly string[] | undefined;
}

/** The parts of Cloudflare's `request.cf.tlsClientAuth` read here. */
interface TlsClientAuth {
  certPresented?: string;
  certRFC9440?: string;
  certRFC9440TooLarge?: boolean;
  certChainRFC9440?: string;
  certChainRFC9440TooLarge?: boolean;
}

export function presentedCertificate(request: Request, config: MtlsConfig, clientAddress: string | undefined): Result<Uint8Array[] | undefined, ClientCertHeaderErrorCode> {
  let cert: string | undefined;
  let chain: string | undefined;
  if (config.certificate === 'cloudflare') {
    const tls = (request as { cf?: { tlsClientAuth?: TlsClientAuth } }).cf?.tlsClientAuth;
    if (!tls || tls.certPresented !== '1') return ok(undefined);
    if (tls.certRFC9440TooLarge || tls.certChainRFC9440TooLarge) return fail('ERR_CLIENT_CERT_HEADER_TOO_LARGE', 'Cloudflare reports the certificate or chain too large to forward');
    cert = tls.certRFC9440 || undefined;
    chain = tls.certChainRFC9440 || undefined;
    if (cert === undefined) return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', 'a certificate was presented but certRFC9440 is empty');
  } else {
    if (clientAddress === undefined || !config.trustedProxies?.includes(clientAddress)) return ok(undefined);
    cert = request.headers.get('client-cert') ?? undefined;
    chain = request.headers.get('client-cert-chain') ?? undefined;
    if (cert === undefined) {
      // RFC 9440 §2.3: Client-Cert-Chain MUST NOT be sent without Client-Cert.
      return chain === undefined ? ok(undefined) : fail('ERR_CLIENT_CERT_HEADER_MALFORMED', 'Client-Cert-Chain without Client-Cert');
    }
  }
  const leaf = parseClientCertHeader(cert);
  if (!leaf.ok) return leaf;
  const rest = chain === undefined ? ok([] as Uint8Array[]) : parseClientCertChainHeader(chain);
  if (!rest.ok) return rest;
  return ok([leaf.value, ...rest.value]);
}
