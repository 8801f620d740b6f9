/**
 * The local dev trust domain `spiffe://dev.portcullis.local` (DESIGN "Local development stack"): its names, and
 * minting WITs with its issuer key. Web Crypto only; where the key is kept is the Node side's business
 * (cli/dev-issuer.ts stores it under `.dev/`, or PORTCULLIS_DEV_DIR).
 *
 * A dev issuer is for a developer's machine: anyone who can read its key file can mint WITs the dev gateway
 * accepts. Never put its JWKS in a production trust-domain config.
 *
 * Does NOT: rotate keys (delete the key file to get a new one; restart the gateway so it trusts it) or mint
 * for any other trust domain (the gateway binds a trust domain to its issuer keys, so such a WIT would fail).
 */
import type { JWK } from 'jose';
import { parseWorkloadId } from '../identity/workload-id.ts';
import { generateSigningKey, publicJwks, type PublishedJwk } from './keys.ts';
import { mintWit, type MintedWit, type MintWitOptions } from './wit.ts';

export const DEV_TRUST_DOMAIN = 'dev.portcullis.local';
/** The dev trust domain's own SPIFFE ID (SPIFFE-ID §3.1), also the dev WITs' `iss`. */
export const DEV_TRUST_DOMAIN_ID = `spiffe://${DEV_TRUST_DOMAIN}`;
export const DEV_ISSUER = DEV_TRUST_DOMAIN_ID;
/** The workload `portcullis call` speaks as when no WIT is given. */
export const DEV_DEFAULT_WORKLOAD = `${DEV_TRUST_DOMAIN_ID}/cli`;

/** A new dev issuer key: ES256 (every WIT verifier supports it, workload-creds-02 §5.1), kid = thumbprint. */
export function generateDevIssuerKey(): Promise<JWK> {
  return generateSigningKey('ES256');
}

/** The dev trust domain's public JWKS, for the gateway's trust-domain config. */
export function devJwks(issuerKeys: readonly JWK[]): { keys: PublishedJwk[] } {
  return publicJwks(issuerKeys);
}

/** Mints a dev WIT signed with `issuerKey` for a workload in the dev trust domain only. */
export async function mintDevWit(issuerKey: JWK, subject: string, options: Pick<MintWitOptions, 'ttlSeconds' | 'confirmationAlgorithm' | 'now'> = {}): Promise<MintedWit> {
  const id = parseWorkloadId(subject);
  if (id.ok && (id.value.scheme !== 'spiffe' || id.value.trustDomain !== DEV_TRUST_DOMAIN)) {
    throw new TypeError(`the dev issuer only mints for ${DEV_TRUST_DOMAIN_ID}/...; ${id.value.scheme}://${id.value.trustDomain} has its own issuer`);
  }
  return mintWit({ ...options, issuerKey, issuer: DEV_ISSUER, subject });
}
