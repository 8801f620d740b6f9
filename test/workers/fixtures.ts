/** Shared by the vitest project (Node) and the tests (workerd): plain data only. */

/** The gateway config the tests' main Worker gets through PORTCULLIS_CONFIG. */
export const WORKERS_TEST_CONFIG = {
  publicUrl: 'https://gateway.example',
  audit: { sink: 'none' },
  routes: [
    { path: '/svc', protocol: 'http', upstream: { service: 'UPSTREAM', url: 'http://upstream.internal/base' }, public: true },
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
