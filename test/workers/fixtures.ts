/** Shared by the vitest project (Node) and the tests (workerd): plain data only. */

import { MTLS_ROOT_PEM, MTLS_TRUST_DOMAIN } from './mtls-fixtures.ts';

/**
 * The gateway config the tests' main Worker gets through PORTCULLIS_CONFIG. `/edge` takes X509-SVID client
 * certificates from Cloudflare's `request.cf.tlsClientAuth` (test/workers/mtls.test.ts), validated against a root CA
 * that is fixed in test/workers/mtls-fixtures.ts, since this config is fixed before any test code runs.
 */
export const WORKERS_TEST_CONFIG = {
  publicUrl: 'https://gateway.example',
  audit: { sink: 'none' },
  trustDomains: { [MTLS_TRUST_DOMAIN]: { x509Authorities: [MTLS_ROOT_PEM] } },
  routes: [
    { path: '/svc', protocol: 'http', upstream: { service: 'UPSTREAM', url: 'http://upstream.internal/base' }, public: true },
    { path: '/edge', protocol: 'http', upstream: { service: 'UPSTREAM', url: 'http://upstream.internal/edge' }, auth: { mtls: { trustDomains: [MTLS_TRUST_DOMAIN], certificate: 'cloudflare' } } },
  ],
};

/** An auxiliary Worker behind the UPSTREAM service binding: echoes what reached it. */
export const UPSTREAM_SCRIPT = `export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = await request.text();
    return Response.json({ method: request.method, path: url.pathname, search: url.search, headers: Object.fromEntries(request.headers), body });
  },
};`;
