/**
 * Conformance: mTLS (`auth.mtls`, `certificate: "rfc9440"`) over HTTP, on every runtime. The gateway terminates no
 * TLS: a TLS-terminating proxy forwards the client certificate in RFC 9440 `Client-Cert` / `Client-Cert-Chain`
 * fields, believed only from a peer in `trustedProxies`. Here the test client plays that proxy from loopback. The
 * certificates are X509-SVIDs issued per run under the root CA of the global setup (the only x509Authority of
 * MTLS_TRUST_DOMAIN), with test/unit/x509/pki.ts.
 *
 * How each runtime names the peer (src/runtime/*.ts): node the socket's remoteAddress, deno `remoteAddr.hostname`,
 * bun `requestIP()`, workerd the CF-Connecting-IP field, which Cloudflare's edge sets and which wrangler dev's
 * proxy (Miniflare) fills from the socket's peer when the client sends none. So on every runtime this client is a
 * loopback address (asserted first), the `/mtls` route believes its fields and `/mtls-untrusted` ignores them.
 *
 * Covers what only a running gateway shows: the fields reaching the verifier through each runtime, the path
 * validation with a chain, the refusals with their codes, and the fields never reaching the upstream. Every
 * X509-SVID rule has its unit test in test/unit/x509/verify-svid.test.ts; `certificate: "cloudflare"`
 * (`request.cf.tlsClientAuth`) is covered in-process (test/unit/gateway-mtls.test.ts) and inside workerd
 * (test/workers/mtls.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKey, KU, makeCert, OIDS, toBase64, type CertSpec, type TestKey } from '../unit/x509/pki.ts';
import { expectProblem, json, record, recorded, requestId, send } from './client.ts';
import { LOOPBACK_PROXIES, MTLS_ROOT_NAME, MTLS_TRUST_DOMAIN } from './config.ts';
import { target } from './context.ts';

const HOUR = 3_600_000;
const NOW = Date.now();
const ID = `${MTLS_TRUST_DOMAIN}/ns/conformance/sa/client`;
const INTERMEDIATE_NAME = 'Conformance mTLS Intermediate';

let root: TestKey;
let leafKey: TestKey;
let intermediateKey: TestKey;
/** RFC 9440 Byte Sequences (`:base64:`) of the certificates the tests present. */
let certs: Record<'leaf' | 'viaIntermediate' | 'intermediate' | 'expired' | 'foreign' | 'twoSans', string>;

/** The root CA's private key (from the global setup) as a pki.ts signer. */
async function rootKey(): Promise<TestKey> {
  const jwk = target().mtls.rootPrivateJwk;
  const privateKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const publicKey = await crypto.subtle.importKey('jwk', { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! }, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  return { kind: 'P-256', privateKey, spki: new Uint8Array(await crypto.subtle.exportKey('spki', publicKey)) };
}

/** A valid X509-SVID for ID issued by the root; `overrides` break one rule. */
const leafSpec = (overrides: Partial<CertSpec> = {}): CertSpec => ({
  subject: 'client', issuer: MTLS_ROOT_NAME, key: leafKey, signer: root, serial: 11, notBefore: NOW - HOUR, notAfter: NOW + HOUR,
  basicConstraints: { cA: false }, keyUsage: { bits: [KU.digitalSignature] }, uris: [ID], eku: [OIDS.clientAuth], ...overrides,
});

const sf = (der: Uint8Array) => `:${toBase64(der)}:`;

beforeAll(async () => {
  root = await rootKey();
  let other: TestKey;
  [leafKey, intermediateKey, other] = await Promise.all([generateKey('P-256'), generateKey('P-256'), generateKey('P-256')]);
  const intermediate = await makeCert({
    subject: INTERMEDIATE_NAME, issuer: MTLS_ROOT_NAME, key: intermediateKey, signer: root, serial: 2, notBefore: NOW - HOUR, notAfter: NOW + 2 * HOUR,
    basicConstraints: { cA: true, pathLen: 0 }, keyUsage: { bits: [KU.keyCertSign, KU.cRLSign] }, uris: [MTLS_TRUST_DOMAIN],
  });
  const [leaf, viaIntermediate, expired, foreign, twoSans] = await Promise.all([
    makeCert(leafSpec()),
    makeCert(leafSpec({ issuer: INTERMEDIATE_NAME, signer: intermediateKey, serial: 12 })),
    makeCert(leafSpec({ notBefore: NOW - 3 * HOUR, notAfter: NOW - 2 * HOUR })),
    // Names the root as its issuer, but another key signed it.
    makeCert(leafSpec({ signer: other })),
    makeCert(leafSpec({ uris: [ID, `${MTLS_TRUST_DOMAIN}/ns/conformance/sa/second`] })),
  ]);
  certs = { leaf: sf(leaf), viaIntermediate: sf(viaIntermediate), intermediate: sf(intermediate), expired: sf(expired), foreign: sf(foreign), twoSans: sf(twoSans) };
});

/** Sends `fields` to `path` with a fresh request id (to look the request up at the fixture). */
async function present(path: string, fields: Record<string, string>) {
  const id = requestId('mtls');
  const res = await send(path, { headers: { ...fields, 'x-request-id': id } });
  return { res, id };
}

/** A refusal with `code`, before anything reached the upstream. */
async function expectRefused(path: string, fields: Record<string, string>, code: string): Promise<void> {
  const { res, id } = await present(path, fields);
  expectProblem(res, 400, code);
  expect(await record(id), 'nothing reaches the upstream').toBeNull();
}

describe(`mTLS: X509-SVID in RFC 9440 fields from a trusted proxy (${target().runtime})`, () => {
  it('sees this client as a loopback peer (the address trustedProxies names)', async () => {
    const id = requestId('mtls-peer');
    expect((await send('/svc', { headers: { 'x-request-id': id } })).status).toBe(200);
    // The gateway forwards the peer address it was given as X-Forwarded-For.
    expect(LOOPBACK_PROXIES).toContain((await recorded(id)).headers['x-forwarded-for']);
  });

  it('authenticates a leaf issued by the root, and one issued by an intermediate sent in Client-Cert-Chain; the upstream gets neither field', async () => {
    const presented: Array<Record<string, string>> = [{ 'client-cert': certs.leaf }, { 'client-cert': certs.viaIntermediate, 'client-cert-chain': certs.intermediate }];
    for (const fields of presented) {
      const { res, id } = await present('/mtls/items?x=1', fields);
      expect(res.status, res.body).toBe(200);
      expect(json(res.body)).toMatchObject({ method: 'GET', path: '/base/items', search: '?x=1' });
      const upstream = await recorded(id);
      expect(upstream.headers['client-cert']).toBeUndefined();
      expect(upstream.headers['client-cert-chain']).toBeUndefined();
    }
  });

  it('400 ERR_X509_UNTRUSTED for a leaf of the intermediate without its chain', async () => {
    await expectRefused('/mtls', { 'client-cert': certs.viaIntermediate }, 'ERR_X509_UNTRUSTED');
  });

  it('400 ERR_X509_EXPIRED for an expired leaf', async () => {
    await expectRefused('/mtls', { 'client-cert': certs.expired }, 'ERR_X509_EXPIRED');
  });

  it('400 ERR_X509_SIGNATURE_INVALID for a leaf naming the root as issuer but signed by another key', async () => {
    await expectRefused('/mtls', { 'client-cert': certs.foreign }, 'ERR_X509_SIGNATURE_INVALID');
  });

  it('400 ERR_X509_SAN_INVALID for a leaf with two URI SANs', async () => {
    await expectRefused('/mtls', { 'client-cert': certs.twoSans }, 'ERR_X509_SAN_INVALID');
  });

  it('400 ERR_CLIENT_CERT_HEADER_MALFORMED for a Client-Cert that is not a Byte Sequence, or a chain without a certificate', async () => {
    await expectRefused('/mtls', { 'client-cert': 'not-a-byte-sequence' }, 'ERR_CLIENT_CERT_HEADER_MALFORMED');
    await expectRefused('/mtls', { 'client-cert': certs.leaf.slice(0, -1) }, 'ERR_CLIENT_CERT_HEADER_MALFORMED');
    await expectRefused('/mtls', { 'client-cert-chain': certs.intermediate }, 'ERR_CLIENT_CERT_HEADER_MALFORMED');
  });

  it('400 ERR_CLIENT_CERT_MISSING without a certificate', async () => {
    await expectRefused('/mtls', {}, 'ERR_CLIENT_CERT_MISSING');
  });

  it('ignores the fields from a peer that is not a trusted proxy: 400 ERR_CLIENT_CERT_MISSING, even for a valid leaf', async () => {
    await expectRefused('/mtls-untrusted', { 'client-cert': certs.leaf }, 'ERR_CLIENT_CERT_MISSING');
    await expectRefused('/mtls-untrusted', { 'client-cert': 'not-a-byte-sequence' }, 'ERR_CLIENT_CERT_MISSING');
  });
});
