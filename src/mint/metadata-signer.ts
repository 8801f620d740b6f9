/**
 * Signs the gateway's own statements about itself with its identity key (the private half of its WIT's `cnf.jwk`):
 * today RFC 9728 §2.2 `signed_metadata`, a JWT whose claims are metadata values and whose `iss` is the issuer the
 * statements come from. The key is published (public members, `kid` = its RFC 7638 thumbprint, `alg`, `use: sig`)
 * in the gateway's JWK Set, which the metadata names as `jwks_uri` (RFC 9728 §2), so a client can check the
 * signature with a key that belongs to the resource.
 *
 * Does NOT decide what is signed (resource-metadata.ts does) or cache the result.
 */
import { SignJWT, type JWK } from 'jose';
import { publicJwk } from '../crypto/algorithms.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { bindConfirmationKey } from './confirmation-key.ts';
import type { PublishedJwk } from './keys.ts';

export interface MetadataSigner {
  /** The verification key, as the gateway's JWK Set lists it. */
  publicJwk: PublishedJwk;
  /** A JWT over `claims` (which carry `iss`), typed `JWT`, `iat` set to `nowSeconds`. */
  sign(claims: Record<string, unknown>, nowSeconds: number): Promise<string>;
}

/** A signer for the key of `wit` (the key must be the private half of its `cnf.jwk`, with its `alg`). */
export async function createMetadataSigner(wit: string, key: JWK): Promise<MetadataSigner> {
  const { signing } = await bindConfirmationKey(wit, key);
  const kid = await jwkThumbprint(publicJwk(signing.jwk));
  const published = { ...publicJwk(signing.jwk), kid, alg: signing.alg, use: 'sig' } as PublishedJwk;
  return {
    publicJwk: published,
    sign: (claims, nowSeconds) => new SignJWT(claims).setProtectedHeader({ alg: signing.alg, typ: 'JWT', kid }).setIssuedAt(nowSeconds).sign(signing.key),
  };
}
