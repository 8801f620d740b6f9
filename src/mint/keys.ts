/**
 * Signing keys for what Portcullis mints (dev WITs, WPTs): fresh key pairs, private-JWK checks and import,
 * and the public JWKS of an issuer. Web Crypto through jose only, so it runs on Workers, Deno, Bun and Node.
 *
 * Key pairs are generated per WIT (draft-ietf-wimse-workload-creds-02 §9: the workload's private key "SHOULD be
 * re-generated for each new Workload Identity Token"), so generation is cheap curves only: P-256 / P-384 and
 * Ed25519. RSA is not offered (slow to generate; a verifier may still accept RSA WITs from other issuers).
 * Every key carries `alg` (a WIT's `cnf.jwk.alg` is REQUIRED, §5.1) and `kid` = its RFC 7638 thumbprint.
 *
 * Errors name the problem, never key material.
 */
import { exportJWK, importJWK, type JWK } from 'jose';
import { describe, isAsymmetricJwsAlgorithm, keyMismatch, privateMembers, publicJwk, type AsymmetricJwsAlgorithm } from '../crypto/algorithms.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { MAX_KID_LENGTH } from '../limits.ts';

/** Algorithms a freshly generated key may use. `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864) are both Ed25519. */
export const GENERATED_KEY_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519'] as const;
export type GeneratedKeyAlgorithm = (typeof GENERATED_KEY_ALGORITHMS)[number];

/** Web Crypto generateKey parameters (plain objects: the Workers type set has no EcKeyGenParams). */
const GENERATE_PARAMS: Record<GeneratedKeyAlgorithm, { name: string; namedCurve?: string }> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
};

/** A new key pair for `alg`, as a private JWK with `alg` and `kid` (its thumbprint). */
export async function generateSigningKey(alg: GeneratedKeyAlgorithm = 'ES256'): Promise<JWK> {
  if (!(GENERATED_KEY_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new TypeError(`cannot generate a key for ${describe(alg)}; use one of ${GENERATED_KEY_ALGORITHMS.join(', ')}`);
  }
  const pair = (await crypto.subtle.generateKey(GENERATE_PARAMS[alg], true, ['sign', 'verify'])) as CryptoKeyPair;
  const exported = await exportJWK(pair.privateKey);
  const key: JWK = { ...publicJwk(exported), d: exported.d, alg };
  key.kid = await jwkThumbprint(publicJwk(key));
  return key;
}

/** The public half of a signing key: public members, `alg`, `kid` when present. Never a private member. */
export function publicSigningJwk(key: JWK): JWK {
  const pub: JWK = publicJwk(key);
  if (typeof key.alg === 'string') pub.alg = key.alg;
  if (typeof key.kid === 'string') pub.kid = key.kid;
  return pub;
}

/** One key of a published JWKS: public members, `kid`, `alg`, `use: "sig"` (the shape of a trust domain's `jwks`). */
export type PublishedJwk = {
  kty: 'EC' | 'OKP' | 'RSA';
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid: string;
  alg: AsymmetricJwsAlgorithm;
  use: 'sig';
};

/**
 * An issuer's public JWKS (RFC 7517 §5) for its private keys: what a verifier's trust domain config holds.
 * Every key needs a `kid` (WITs select their key by it) and an asymmetric `alg`.
 */
export function publicJwks(keys: readonly JWK[]): { keys: PublishedJwk[] } {
  return {
    keys: keys.map((key, i) => {
      if (typeof key.kid !== 'string' || key.kid.length === 0) throw new TypeError(`keys[${i}] has no kid`);
      if (!isAsymmetricJwsAlgorithm(key.alg)) throw new TypeError(`keys[${i}].alg is ${describe(key.alg)}, expected an asymmetric JWS algorithm`);
      return { ...publicSigningJwk(key), use: 'sig' } as PublishedJwk;
    }),
  };
}

/**
 * Checks that `jwk` is a usable private signing key and imports it for its own `alg`. `what` names the key
 * in errors ("issuerKey", "key"). `requireKid` also demands a short string `kid`.
 */
export async function importSigningKey(jwk: unknown, what: string, requireKid = false): Promise<{ key: CryptoKey; alg: string; jwk: JWK }> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new TypeError(`${what} must be a private JWK object`);
  const candidate = jwk as JWK;
  const alg = candidate.alg;
  if (!isAsymmetricJwsAlgorithm(alg)) throw new TypeError(`${what}.alg is ${describe(alg)}, expected an asymmetric JWS algorithm such as ES256`);
  const mismatch = keyMismatch(candidate, alg);
  if (mismatch) throw new TypeError(`${what}: ${mismatch}`);
  if (privateMembers(candidate as Record<string, unknown>).length === 0 || typeof candidate.d !== 'string') throw new TypeError(`${what} is a public key; a private JWK (with "d") is needed to sign`);
  if (requireKid && (typeof candidate.kid !== 'string' || candidate.kid.length === 0 || candidate.kid.length > MAX_KID_LENGTH)) {
    throw new TypeError(`${what}.kid must be a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  let key: CryptoKey | Uint8Array;
  try {
    key = await importJWK(candidate, alg);
  } catch {
    throw new TypeError(`${what} does not import as a private ${alg} key`);
  }
  if (key instanceof Uint8Array || key.type !== 'private') throw new TypeError(`${what} is not a private ${alg} key`);
  return { key, alg, jwk: candidate };
}
