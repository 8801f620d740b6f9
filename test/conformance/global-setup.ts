/**
 * Per-project global setup of the conformance suite: starts the fixture upstream (Node, in this process)
 * and the gateway on the project's runtime with a config generated for that fixture (plus, except on workerd, a
 * trust domain key file beside the config file, and on every runtime the gateway's own identity, a WIT minted with
 * the run's issuer key, in the variable IDENTITY_ENV, and the mTLS trust domain's root CA, a certificate generated
 * here whose private key the tests get to issue client certificates with; the fixture serves an OAuth authorization
 * server whose signing key is generated here (and a second one, /as2, whose private key the fixture signs its RFC 9701
 * answers with), and the gateway gets its client secret there in AS_SECRET_ENV), waits
 * for /healthz (and a federated grant issuer's key, inline in the config, whose private half the tests sign grants with), provides both URLs (and those keys) to the tests, and stops both in teardown (also when startup fails).
 */
import type { TestProject } from 'vitest/node';
import type { ConformanceTarget } from './context.ts';
import { mintWit } from '../../src/mint/wit.ts';
import { generateKey, KU, makeCert, toPem } from '../unit/x509/pki.ts';
import { AS2_KID, AS_KID, AS_SECRET_ENV, conformanceConfig, FILE_KID, GATEWAY_ID, IDENTITY_ENV, ISSUER, ISSUER_KID, KEY_FILE, MAX_WIT_LIFETIME, MTLS_ROOT_NAME, MTLS_TRUST_DOMAIN } from './config.ts';
import { startFixture } from './fixture.ts';
import { deadPort, RUNTIMES, startGateway, type Runtime } from './runtimes.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runtime = runtimeOf(project);
  const [issuer, other, file, x509Root, as, as2, federation] = await Promise.all([signingKey(), signingKey(), signingKey(), rootCa(), signingKey(), signingKey(), signingKey()]);
  // The fixture authorization server's client secret for the gateway (OAuth introspection), fresh per run.
  const clientSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url');
  // The gateway's own identity, as an Identity Server of the conformance trust domain would issue it.
  const identity = await mintWit({ issuerKey: { ...issuer.privateJwk, kid: ISSUER_KID, alg: 'ES256' }, issuer: ISSUER, subject: GATEWAY_ID, ttlSeconds: MAX_WIT_LIFETIME });
  const fixture = await startFixture({ asJwk: { ...as.publicJwk, kid: AS_KID, alg: 'ES256', use: 'sig' }, as2Key: { ...as2.privateJwk, kid: AS2_KID } });
  // Workers cannot read files: there the keySource.file trust domain is a config error (key-sources.test.ts).
  const withKeyFile = runtime !== 'workerd';
  const files: Record<string, string> = withKeyFile ? { [KEY_FILE]: JSON.stringify({ keys: [{ ...file.publicJwk, kid: FILE_KID }] }) } : {};
  let gateway;
  try {
    const config = conformanceConfig(fixture.url, await deadPort(), { issuer: issuer.publicJwk, other: other.publicJwk, x509Root: x509Root.pem, federation: federation.publicJwk }, withKeyFile);
    gateway = await startGateway(runtime, config, { files, env: { [IDENTITY_ENV]: JSON.stringify({ wit: identity.wit, key: identity.key }), [AS_SECRET_ENV]: clientSecret } });
  } catch (error) {
    await fixture.close();
    throw error;
  }
  const wimse: ConformanceTarget['wimse'] = { issuer: issuer.privateJwk, other: other.privateJwk, federation: federation.privateJwk };
  if (withKeyFile) wimse.file = file.privateJwk;
  const mtls: ConformanceTarget['mtls'] = { rootPrivateJwk: x509Root.privateJwk, rootPem: x509Root.pem };
  const target: ConformanceTarget = { runtime, gatewayUrl: gateway.url, fixtureUrl: fixture.url, wimse, gatewayWit: identity.wit, mtls, oauth: { asKey: as.privateJwk, clientSecret } };
  if (runtime === 'workerd') {
    // Replay state must go through the Durable Object, not per-isolate memory: wrangler lists the binding, and
    // the Worker warns when it falls back to memory (it has served /healthz by now, so it has built its state).
    const output = gateway.process.output();
    target.durableState = /env\.PORTCULLIS_STATE \(PortcullisState\)\s+Durable Object/.test(output) && !output.includes('PORTCULLIS_STATE is not bound');
  }
  project.provide('conformanceTarget', target);
  return async () => {
    await gateway.stop();
    await fixture.close();
  };
}

/** A fresh ES256 key pair as JWKs: the private half stays with the tests, the public half goes into the config. */
async function signingKey(): Promise<{ privateJwk: JsonWebKey; publicJwk: JsonWebKey }> {
  const pair = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const privateJwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
  const { kty, crv, x, y } = privateJwk;
  return { privateJwk, publicJwk: { kty, crv, x, y } };
}

/**
 * The mTLS trust domain's root CA: a self-signed P-256 CA certificate valid from an hour ago for a day, named
 * MTLS_ROOT_NAME, with the trust domain as its URI SAN (as SPIFFE CAs carry it).
 */
async function rootCa(): Promise<{ pem: string; privateJwk: JsonWebKey }> {
  const key = await generateKey('P-256');
  const now = Date.now();
  const der = await makeCert({
    subject: MTLS_ROOT_NAME, issuer: MTLS_ROOT_NAME, key, signer: key, notBefore: now - 3_600_000, notAfter: now + 86_400_000,
    basicConstraints: { cA: true }, keyUsage: { bits: [KU.keyCertSign, KU.cRLSign] }, uris: [MTLS_TRUST_DOMAIN],
  });
  return { pem: toPem(der), privateJwk: await crypto.subtle.exportKey('jwk', key.privateKey) };
}

function runtimeOf(project: TestProject): Runtime {
  const provided = project.getProvidedContext().conformanceRuntime as Runtime | undefined;
  const fromName = project.name.split(':')[1] as Runtime | undefined;
  const runtime = provided ?? fromName;
  if (!runtime || !RUNTIMES.includes(runtime)) throw new Error(`conformance: project "${project.name}" names no runtime (${RUNTIMES.join(', ')})`);
  return runtime;
}
