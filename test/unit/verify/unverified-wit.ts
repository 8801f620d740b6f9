/**
 * Test-only: a VerifiedWit built from a WIT's claims WITHOUT checking its signature, for the WG's HTTP-signature
 * examples (test/vectors/wimse/v5..v7-http-sig.json), whose issuer key was never published: only the HTTP
 * signatures made with the WITs' `cnf.jwk` can be checked.
 */
import type { JWK } from 'jose';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { parseCompactJwt } from '../../../src/crypto/jws.ts';
import { jwkThumbprint } from '../../../src/crypto/thumbprint.ts';
import { parseWorkloadId } from '../../../src/identity/workload-id.ts';
import type { VerifiedWit } from '../../../src/verify/wit.ts';
import { expectOk } from './mint.ts';

/** A VerifiedWit from a vector's WIT without checking its signature (the generator's issuer key is unpublished). */
export async function unverifiedWit(token: string): Promise<VerifiedWit> {
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) throw new Error(parsed.detail);
  const { claims } = parsed.value;
  const jwk = (claims.cnf as { jwk: JWK }).jwk;
  const subject = expectOk(parseWorkloadId(claims.sub as string));
  return {
    subject,
    expiresAt: (claims.exp as number) * 1000,
    confirmationKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}), alg: jwk.alg } as JWK,
    confirmationAlgorithm: jwk.alg as string,
    confirmationThumbprint: await jwkThumbprint(jwk),
    tokenHash: await sha256b64url(token),
    subjectHash: await sha256b64url(subject.uri),
  };
}
