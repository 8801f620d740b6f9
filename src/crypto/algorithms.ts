/**
 * The JWS algorithms a verifier may ever accept, and what key each one needs.
 *
 * Only asymmetric signature algorithms are here: `none` (RFC 8725 §3.1) and the HMAC family (`HS*`, which would
 * let anyone holding the public key forge tokens, RFC 8725 §2.1) are never accepted, whatever a policy lists.
 * `EdDSA` (RFC 8037) and `Ed25519` (RFC 9864, fully specified) both mean Ed25519 here; Ed448 is not offered
 * because Web Crypto on Workers does not implement it.
 */
import type { JWK } from 'jose';

/** Every algorithm this project can verify with Web Crypto. */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  'ES256', 'ES384', 'ES512',
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'EdDSA', 'Ed25519',
] as const;

export type AsymmetricJwsAlgorithm = (typeof ASYMMETRIC_JWS_ALGORITHMS)[number];

/** SPIFFE JWT-SVID §2.1 and WIT-SVID §2.3 / §3.2: the only algorithms SPIFFE allows (no EdDSA / Ed25519). */
export const SPIFFE_JWS_ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'ES256', 'ES384', 'ES512',
  'PS256', 'PS384', 'PS512',
] as const;

const ASYMMETRIC = new Set<string>(ASYMMETRIC_JWS_ALGORITHMS);

/**
 * Web Crypto `verify` parameters for each algorithm (RFC 7518 §3.3-3.5, RFC 8037). JWS ECDSA signatures are
 * the raw r||s concatenation, which is the format Web Crypto's ECDSA takes, so no conversion is needed.
 */
type VerifyParams = { name: string; hash?: string; saltLength?: number };

const VERIFY_PARAMS: Record<AsymmetricJwsAlgorithm, VerifyParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', hash: 'SHA-384' },
  ES512: { name: 'ECDSA', hash: 'SHA-512' },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  RS384: { name: 'RSASSA-PKCS1-v1_5' },
  RS512: { name: 'RSASSA-PKCS1-v1_5' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  PS384: { name: 'RSA-PSS', saltLength: 48 },
  PS512: { name: 'RSA-PSS', saltLength: 64 },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
};

export function verifyParams(alg: AsymmetricJwsAlgorithm): VerifyParams {
  return VERIFY_PARAMS[alg];
}

const CURVE: Partial<Record<AsymmetricJwsAlgorithm, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const HASH: Partial<Record<AsymmetricJwsAlgorithm, string>> = {
  RS256: 'SHA-256', RS384: 'SHA-384', RS512: 'SHA-512', PS256: 'SHA-256', PS384: 'SHA-384', PS512: 'SHA-512',
};

/**
 * Whether a CryptoKey is a public verification key made for `alg`: Web Crypto verifies an ECDSA signature with
 * whatever curve the key has and an RSA one with whatever hash the key was imported for, so a key handed in
 * as a CryptoKey (a key source port) must be matched to the header's `alg` before it is used (RFC 8725 §3.1).
 */
export function keyFits(key: CryptoKey, alg: AsymmetricJwsAlgorithm): boolean {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } };
  if (key.type !== 'public' || !key.usages.includes('verify') || algorithm.name !== VERIFY_PARAMS[alg].name) return false;
  if (CURVE[alg] !== undefined) return algorithm.namedCurve === CURVE[alg];
  if (HASH[alg] !== undefined) return algorithm.hash?.name === HASH[alg];
  return true;
}

export function isAsymmetricJwsAlgorithm(alg: unknown): alg is AsymmetricJwsAlgorithm {
  return typeof alg === 'string' && ASYMMETRIC.has(alg);
}

/** The subset of `configured` that may ever be used: unknown, symmetric and `none` entries are dropped. */
export function allowedAlgorithms(configured: readonly string[], within: readonly string[] = ASYMMETRIC_JWS_ALGORITHMS): Set<string> {
  const universe = new Set(within);
  return new Set(configured.filter((alg) => ASYMMETRIC.has(alg) && universe.has(alg)));
}

const EC_CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/**
 * Why `jwk` cannot be used with `alg`, or `undefined` when its key type (and curve) fit (RFC 7518 §3.4, §3.3,
 * §3.5; RFC 8037 §3.1). Checks shape only; the key's numbers are checked when it is imported.
 */
export function keyMismatch(jwk: JWK, alg: string): string | undefined {
  if (alg in EC_CURVE) {
    if (jwk.kty !== 'EC') return `${alg} needs an EC key, not kty ${describe(jwk.kty)}`;
    if (jwk.crv !== EC_CURVE[alg]) return `${alg} needs curve ${EC_CURVE[alg]}, not ${describe(jwk.crv)}`;
    return undefined;
  }
  if (/^(RS|PS)(256|384|512)$/.test(alg)) {
    return jwk.kty === 'RSA' ? undefined : `${alg} needs an RSA key, not kty ${describe(jwk.kty)}`;
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') {
    if (jwk.kty !== 'OKP') return `${alg} needs an OKP key, not kty ${describe(jwk.kty)}`;
    if (jwk.crv !== 'Ed25519') return `${alg} needs curve Ed25519 here, not ${describe(jwk.crv)}`;
    return undefined;
  }
  return `${describe(alg)} is not an accepted signature algorithm`;
}

/** JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2; ML-DSA `priv`). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const;

/** Names of the private members present in `jwk` (empty when it is a public key). */
export function privateMembers(jwk: Record<string, unknown>): string[] {
  return PRIVATE_JWK_MEMBERS.filter((member) => jwk[member] !== undefined);
}

/** The public key members of `jwk` only (RFC 7638 §3.2 required members), the form we import and cache. */
export function publicJwk(jwk: JWK): JWK {
  switch (jwk.kty) {
    case 'EC':
      return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y } as JWK;
    case 'OKP':
      return { kty: 'OKP', crv: jwk.crv, x: jwk.x } as JWK;
    case 'RSA':
      return { kty: 'RSA', n: jwk.n, e: jwk.e } as JWK;
    default:
      throw new TypeError(`unsupported kty ${describe(jwk.kty)}`);
  }
}

/** A short, safe description of an untrusted value for error details: never key material, never long. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length <= 32 && /^[\x20-\x7e]*$/.test(value) ? JSON.stringify(value) : `a ${value.length}-character string`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value === 'undefined' ? 'absent' : `a ${typeof value}`;
}
