/**
 * mTLS identities on a route (`auth.mtls`), in-process: an X509-SVID client certificate from Cloudflare's
 * `request.cf.tlsClientAuth` or from RFC 9440 fields set by a trusted proxy, path-validated against the trust
 * domain's `x509Authorities`. Certificates are generated per run (test/unit/x509/pki.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createGateway, memorySink, type GatewayConfigInput } from '../../src/index.ts';
import { generateKey, KU, makeCert, OIDS, toBase64, toPem, type CertSpec, type TestKey } from './x509/pki.ts';

const NOW = Date.now();
const HOUR = 3_600_000;
const TD = 'spiffe://mtls.test';
const ID = `${TD}/ns/prod/agent`;
let rootKey: TestKey;
let leafKey: TestKey;
let root: Uint8Array;
let leaf: Uint8Array;
let foreignLeaf: Uint8Array;
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
  config = {
    publicUrl: 'https://gw.example',
    trustDomains: { [TD]: { x509Authorities: [toPem(root)] } },
    routes: [
      { path: '/edge', protocol: 'http', upstream: 'http://up.internal/', auth: { mtls: { trustDomains: [TD], certificate: 'cloudflare' } } },
      { path: '/proxied', protocol: 'http', upstream: 'http://up.internal/', auth: { mtls: { trustDomains: [TD], certificate: 'rfc9440', trustedProxies: ['10.0.0.5'] } } },
    ],
  } as GatewayConfigInput;
});

function gateway() {
  const audit = memorySink();
  const seen: Request[] = [];
  const gw = createGateway(config, { audit, fetch: async (url, init) => { seen.push(new Request(url, init as RequestInit)); return { status: 200, statusText: 'OK', headers: new Headers(), body: null }; } });
  return { gw, audit, seen };
}

const sf = (der: Uint8Array) => `:${toBase64(der)}:`;

/** A Request as a Worker receives it, with Cloudflare's client-certificate facts in `cf`. */
function edgeRequest(tls: Record<string, unknown> | undefined): Request {
  const request = new Request('https://gw.example/edge/x');
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
