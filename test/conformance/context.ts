/** Values the conformance global setup hands to the test files through vitest's provide/inject. */
import { inject } from 'vitest';
import type { Runtime } from './runtimes.ts';

export interface ConformanceTarget {
  runtime: Runtime;
  /** Base URL of the gateway under test. */
  gatewayUrl: string;
  /** Base URL of the fixture upstream (tests read its records directly). */
  fixtureUrl: string;
  /** The trust domains' signing keys generated for this run (their public halves are in the gateway config). */
  wimse: WimseKeys;
  /** The gateway's own WIT (subject GATEWAY_ID, signed with the issuer key), configured through IDENTITY_ENV. */
  gatewayWit: string;
  /** The mTLS trust domain's root CA (MTLS_TRUST_DOMAIN's only x509Authority), generated for this run. */
  mtls: {
    /** Private JWK (P-256) of the root CA: the tests issue client certificates and intermediates with it. */
    rootPrivateJwk: JsonWebKey;
    rootPem: string;
  };
  /** The fixture authorization server (issuer fixtureUrl + AS_PATH): its signing key and the gateway's client secret there. */
  oauth: {
    /** Private JWK (ES256) of the AS signing key, `kid` AS_KID; its public half is served at /as/jwks. */
    asKey: JsonWebKey;
    /** The secret the gateway reads from AS_SECRET_ENV for client_secret_basic at /as/introspect. */
    clientSecret: string;
  };
  /** workerd only: wrangler dev reported the PORTCULLIS_STATE Durable Object binding and the Worker used it. */
  durableState?: boolean;
}

export interface WimseKeys {
  /** Private JWK (ES256) of the issuer of the conformance trust domain, `kid` ISSUER_KID. */
  issuer: JsonWebKey;
  /** Private JWK (ES256) of a trust domain that is configured but not accepted by the WIMSE routes. */
  other: JsonWebKey;
  /** Private JWK (ES256) of FEDERATION_ISSUER's grant signing key, `kid` FEDERATION_KID (txn-chaining.test.ts). */
  federation: JsonWebKey;
  /** Private JWK (ES256) of the `keySource.file` trust domain, `kid` FILE_KID; absent on workerd (no file sources). */
  file?: JsonWebKey;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set per project in vitest.config.ts: which runtime the project's gateway runs on. */
    conformanceRuntime: Runtime;
    /** Set by test/conformance/global-setup.ts once the gateway answers. */
    conformanceTarget: ConformanceTarget;
  }
}

export function target(): ConformanceTarget {
  return inject('conformanceTarget');
}
