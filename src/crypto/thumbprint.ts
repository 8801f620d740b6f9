/**
 * JWK thumbprints (RFC 7638) with SHA-256, via jose. The thumbprint covers only the required public members,
 * so a public key and a private JWK of the same pair share one: callers that cache by thumbprint must cache
 * public keys only (see key-cache.ts).
 */
import { calculateJwkThumbprint, type JWK } from 'jose';

/** RFC 7638 SHA-256 thumbprint, base64url. Rejects (throws) when required members are missing. */
export function jwkThumbprint(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}
