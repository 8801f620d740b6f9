/**
 * mTLS identities on a route (`auth.mtls`), in-process: an X509-SVID client certificate from Cloudflare's
 * `request.cf.tlsClientAuth` or from RFC 9440 fields set by a trusted proxy, path-validated against the trust
 * domain's `x509Authorities`. Certificates are generated per run (test/unit/x509/pki.ts). Also: with several trust
 * domains the leaf's own picks the bundle, and verified chains are cached per isolate (bounded in time).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway, memorySink, type GatewayConfigInput } from '../../src/index.ts';
import { X509_SVID_CACHE_MAX_TTL_MS } from '../../src/limits.ts';
import { generateKey, KU, makeCert, OIDS, toBase64, toPem, type CertSpec, type TestKey } from './x509/pki.ts';

const NOW = Date.now();
const HOUR = 3_600_000;
const TD = 'spiffe://mtls.test';
const ID = `${TD}/ns/prod/agent`;
const TD2 = 'spiffe://second.test';
const ID2 = `${TD2}/ns/prod/agent`;
const MINUTE = 60_000;
let rootKey: TestKey;
let leafKey: TestKey;
let root: Uint8Array;
let leaf: Uint8Array;
let foreignLeaf: Uint8Array;
let root2Key: TestKey;
let leaf2: Uint8Array;
let config: GatewayConfigInput;

const rootSpec = (): CertSpec => ({ subject: 'Root', issuer: 'Root', key: rootKey, signer: rootKey, notBefore: NOW - HOUR, notAfter: NOW + 24 * HOUR, basicConstraints: { cA: true }, keyUsage: { bits: [KU.keyCertSign, KU.cRLSign] }, uris: [TD] });
const leafSpec = (overrides: Partial<CertSpec> = {}): CertSpec => ({
  subject: 'agent', issuer: 'Root', key: leafKey, signer: rootKey, serial: 7, notBefore: NOW - HOUR, notAfter: NOW + HOUR,
  basicConstraints: { cA: false }, keyUsage: { bits: [KU.digitalSignature] }, uris: [ID], eku: [OIDS.clientAuth], ...overrides,
});

beforeAll(async () => {
  [rootKey, leafKey] = await Promise.all([generateKey('P-256'), generateKey('P-256')]);
  root = await makeCert(rootSpec());
  leaf = await makeCert(leafSpec());
  const otherRoot = await generateKey('P-256');
  foreignLeaf = await makeCert(leafSpec({ signer: otherRoot }));
  // The second trust domain's CA has the same name as the first's: only the right bundle's key verifies.
  root2Key = await generateKey('P-256');
  const root2 = await makeCert({ ...rootSpec(), key: root2Key, signer: root2Key, uris: [TD2] });
  leaf2 = await makeCert(leafSpec({ signer: root2Key, uris: [ID2] }));
  config = {
    publicUrl: 'https://gw.example',
    trustDomains: { [TD]: { x509Authorities: [toPem(root)] }, [TD2]: { x509Authorities: [toPem(root2)] } },
    routes: [
      { path: '/edge', protocol: 'http', upstream: 'http://up.internal/', auth: { mtls: { trustDomains: [TD], certificate: 'cloudflare' } } },
      { path: '/proxied', protocol: 'http', upstream: 'http://up.internal/', auth: { mtls: { trustDomains: [TD], certificate: 'rfc9440', trustedProxies: ['10.0.0.5'] } } },
      { path: '/both', protocol: 'http', upstream: 'http://up.internal/', auth: { mtls: { trustDomains: [TD2, TD], certificate: 'cloudflare' } } },
    ],
  } as GatewayConfigInput;
});

function gateway(now?: () => number) {
  const audit = memorySink();
  const seen: Request[] = [];
  const gw = createGateway(config, { audit, ...(now ? { now } : {}), fetch: async (url, init) => { seen.push(new Request(url, init as RequestInit)); return { status: 200, statusText: 'OK', headers: new Headers(), body: null }; } });
  return { gw, audit, seen };
}

const sf = (der: Uint8Array) => `:${toBase64(der)}:`;

/** A Request as a Worker receives it, with Cloudflare's client-certificate facts in `cf`. */
function edgeRequest(tls: Record<string, unknown> | undefined, path = '/edge/x'): Request {
  const request = new Request(`https://gw.example${path}`);
  Object.defineProperty(request, 'cf', { value: tls === undefined ? {} : { tlsClientAuth: tls } });
  return request;
}

describe('mTLS: X509-SVID client certificates', () => {
  it('authenticates a certificate from Cloudflare tlsClientAuth (RFC 9440 form), validated here against the bundle', async () => {
    const { gw, audit, seen } = gateway();
    const response = await gw.fetch(edgeRequest({ certPresented: '1', certVerified: 'SUCCESS', certRFC9440: sf(leaf), certChainRFC9440: '' }));
    expect(response.status).toBe(200);
    expect(audit.events[0]).toMatchObject({ decision: 'allow', principal: { workloadId: ID, trustDomain: TD, credential: 'x509-svid' } });
    expect(seen[0]!.headers.has('client-cert')).toBe(false);
  });

  it('refuses a certificate signed by another key under the same CA name even when Cloudflare says SUCCESS (400 ERR_X509_SIGNATURE_INVALID), and none at all (400 ERR_CLIENT_CERT_MISSING)', async () => {
    const { gw } = gateway();
    const foreign = await gw.fetch(edgeRequest({ certPresented: '1', certVerified: 'SUCCESS', certRFC9440: sf(foreignLeaf) }));
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ code: 'ERR_X509_SIGNATURE_INVALID' });
    const none = await gw.fetch(edgeRequest({ certPresented: '0' }));
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ code: 'ERR_CLIENT_CERT_MISSING' });
    const tooLarge = await gw.fetch(edgeRequest({ certPresented: '1', certRFC9440TooLarge: true }));
    expect(await tooLarge.json()).toMatchObject({ code: 'ERR_CLIENT_CERT_HEADER_TOO_LARGE' });
  });

  it('believes Client-Cert fields only from a trusted proxy; from anyone else they are ignored', async () => {
    const { gw, audit } = gateway();
    const request = () => new Request('https://gw.example/proxied', { headers: { 'client-cert': sf(leaf), 'client-cert-chain': sf(root) } });
    expect((await gw.fetch(request(), { clientAddress: '10.0.0.5' })).status).toBe(200);
    expect(audit.events[0]).toMatchObject({ principal: { credential: 'x509-svid', workloadId: ID } });
    const spoofed = await gw.fetch(request(), { clientAddress: '203.0.113.9' });
    expect(await spoofed.json()).toMatchObject({ code: 'ERR_CLIENT_CERT_MISSING' });
    const malformed = await gw.fetch(new Request('https://gw.example/proxied', { headers: { 'client-cert': 'not-a-byte-sequence' } }), { clientAddress: '10.0.0.5' });
    expect(await malformed.json()).toMatchObject({ code: 'ERR_CLIENT_CERT_HEADER_MALFORMED' });
  });

  it('applies the X509-SVID rules: an expired leaf, a leaf with two URI SANs', async () => {
    const { gw } = gateway();
    const expired = await makeCert(leafSpec({ notBefore: NOW - 3 * HOUR, notAfter: NOW - 2 * HOUR }));
    const res1 = await gw.fetch(edgeRequest({ certPresented: '1', certRFC9440: sf(expired) }));
    expect(await res1.json()).toMatchObject({ code: 'ERR_X509_EXPIRED' });
    const twoSans = await makeCert(leafSpec({ uris: [ID, `${TD}/other`] }));
    const res2 = await gw.fetch(edgeRequest({ certPresented: '1', certRFC9440: sf(twoSans) }));
    expect(await res2.json()).toMatchObject({ code: 'ERR_X509_SAN_INVALID' });
  });
});

describe('mTLS: several trust domains, and the verified-chain cache', () => {
  const presented = (der: Uint8Array, path = '/both/x') => edgeRequest({ certPresented: '1', certRFC9440: sf(der) }, path);

  it("verifies once, against the bundle of the leaf's own trust domain; one the route does not accept is ERR_X509_TRUST_DOMAIN_MISMATCH", async () => {
    const { gw, audit } = gateway();
    expect((await gw.fetch(presented(leaf))).status).toBe(200);
    expect((await gw.fetch(presented(leaf2))).status).toBe(200);
    expect(audit.events.map((event) => event.principal)).toMatchObject([{ workloadId: ID, trustDomain: TD }, { workloadId: ID2, trustDomain: TD2 }]);
    // /edge takes only the first trust domain: refused, also when the chain is already in the cache from /both.
    const refused = await gw.fetch(presented(leaf2, '/edge/x'));
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'ERR_X509_TRUST_DOMAIN_MISMATCH' });
    const stranger = await makeCert(leafSpec({ uris: ['spiffe://third.test/agent'] }));
    expect(await (await gw.fetch(presented(stranger))).json()).toMatchObject({ code: 'ERR_X509_TRUST_DOMAIN_MISMATCH' });
    // A leaf of the second trust domain signed by the first one's CA (same name) fails its own bundle's signature check.
    const crossed = await makeCert(leafSpec({ uris: [ID2] }));
    expect(await (await gw.fetch(presented(crossed))).json()).toMatchObject({ code: 'ERR_X509_SIGNATURE_INVALID' });
  });

  it('serves a repeated chain from the cache until X509_SVID_CACHE_MAX_TTL_MS, and never past the earliest notAfter', async () => {
    let clock = NOW;
    const { gw, audit } = gateway(() => clock);
    const shortLived = await makeCert(leafSpec({ serial: 8, notAfter: NOW + 2 * MINUTE }));
    const verify = vi.spyOn(crypto.subtle, 'verify');
    try {
      expect((await gw.fetch(presented(leaf))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(1); // the leaf by the root (an anchor is trusted by configuration)
      clock = NOW + X509_SVID_CACHE_MAX_TTL_MS - 1;
      expect((await gw.fetch(presented(leaf))).status).toBe(200);
      expect((await gw.fetch(presented(leaf, '/edge/x'))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(1);
      clock = NOW + X509_SVID_CACHE_MAX_TTL_MS;
      expect((await gw.fetch(presented(leaf))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(2);

      clock = NOW;
      expect((await gw.fetch(presented(shortLived))).status).toBe(200);
      clock = NOW + MINUTE;
      expect((await gw.fetch(presented(shortLived))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(3);
      // Past its notAfter (within the clock skew) the cache no longer serves it: verified again, then refused.
      clock = NOW + 2 * MINUTE + 1_000;
      expect((await gw.fetch(presented(shortLived))).status).toBe(200);
      expect(verify).toHaveBeenCalledTimes(4);
      clock = NOW + 10 * MINUTE;
      expect(await (await gw.fetch(presented(shortLived))).json()).toMatchObject({ code: 'ERR_X509_EXPIRED' });
    } finally {
      verify.mockRestore();
    }
    expect(audit.events.filter((event) => event.decision === 'allow')).toHaveLength(7);
  });
});

describe('mTLS config', () => {
  it('needs x509Authorities on the trust domain, trustedProxies with rfc9440, and spiffe:// trust domains', async () => {
    const { assertConfig } = await import('../../src/index.ts');
    const bad = structuredClone(config) as { trustDomains: Record<string, Record<string, unknown>>; routes: Array<Record<string, unknown>> };
    bad.trustDomains[TD] = { jwks: { keys: [{ kty: 'EC', crv: 'P-256', kid: 'k', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] } };
    (bad.routes[1]!.auth as { mtls: Record<string, unknown> }).mtls = { trustDomains: [TD], certificate: 'rfc9440' };
    expect(() => assertConfig(bad)).toThrow(/routes\[0\]\.auth\.mtls\.trustDomains\[0\]: trustDomains\["spiffe:\/\/mtls\.test"\] has no x509Authorities/);
    expect(() => assertConfig(bad)).toThrow(/routes\[1\]\.auth\.mtls\.trustedProxies: required with "rfc9440"/);
    const garbage = structuredClone(config) as { trustDomains: Record<string, Record<string, unknown>> };
    garbage.trustDomains[TD] = { x509Authorities: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] };
    expect(() => assertConfig(garbage)).toThrow(/x509Authorities/);
  });
});
