/**
 * The per-run signing keys the global setup hands to the test files (context.ts), imported once in one way: a
 * private EC P-256 JWK as the unit tests' TestKey (WIT issuer, federation issuer), and the fixture authorization
 * server's key as a CryptoKey for signing access tokens.
 */
import { importJWK, type JWK } from 'jose';
import type { TestKey } from '../unit/verify/mint.ts';
import { target } from './context.ts';

/** A private ES256 JWK from the global setup, as a TestKey. */
export async function importTestKey(jwk: JsonWebKey): Promise<TestKey> {
  const privateKey = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { alg: 'ES256', privateKey, publicJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! } };
}

/** The fixture authorization server's signing key (access tokens, as that server would issue them). */
export async function fixtureAsKey(): Promise<CryptoKey> {
  return (await importJWK({ ...target().oauth.asKey, alg: 'ES256' } as JWK, 'ES256')) as CryptoKey;
}
