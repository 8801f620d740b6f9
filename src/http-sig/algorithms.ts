/**
 * The HTTP signature algorithms of RFC 9421 §3.3 (registry §6.2.2) on Web Crypto, and whether a CryptoKey fits
 * one of them:
 *   rsa-pss-sha512     §3.3.1  RSASSA-PSS, SHA-512, MGF1-SHA-512, 64-byte salt
 *   rsa-v1_5-sha256    §3.3.2  RSASSA-PKCS1-v1_5, SHA-256
 *   hmac-sha256        §3.3.3  HMAC-SHA-256; for RFC test vectors only: a shared secret lets every verifier
 *                              forge (§7.3.3), so a gateway must not accept it from callers
 *   ecdsa-p256-sha256  §3.3.4  ECDSA P-256, SHA-256, raw r||s (64 bytes, Web Crypto's own format)
 *   ecdsa-p384-sha384  §3.3.5  ECDSA P-384, SHA-384, raw r||s (96 bytes)
 *   ed25519            §3.3.6  Ed25519 (RFC 8032), no pre-hash
 *
 * Key checks: type (private / public, secret for HMAC), usage, algorithm name, curve, hash, RSA modulus of at
 * least 2048 bits, HMAC secret of at least 256 bits; signature lengths are checked before Web Crypto sees them.
 *
 * Does NOT implement JWS algorithm names (§3.3.7), nor choose an algorithm: the verifier's configuration or key
 * material does (§3.2 step 6).
 */

export const HTTP_SIG_ALGORITHMS = ['rsa-pss-sha512', 'rsa-v1_5-sha256', 'hmac-sha256', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519'] as const;

export type HttpSigAlgorithm = (typeof HTTP_SIG_ALGORITHMS)[number];

interface Profile {
  // Written out rather than the DOM's AlgorithmIdentifier / RsaPssParams / EcdsaParams, which Workers types lack.
  readonly params: { readonly name: string; readonly hash?: string; readonly saltLength?: number };
  readonly keyName: string;
  readonly curve?: string;
  readonly hash?: string;
  /** Fixed signature length in bytes; RSA uses the modulus length. */
  readonly length?: number;
}

const PROFILES: Record<HttpSigAlgorithm, Profile> = {
  'rsa-pss-sha512': { params: { name: 'RSA-PSS', saltLength: 64 }, keyName: 'RSA-PSS', hash: 'SHA-512' },
  'rsa-v1_5-sha256': { params: { name: 'RSASSA-PKCS1-v1_5' }, keyName: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  'hmac-sha256': { params: { name: 'HMAC' }, keyName: 'HMAC', hash: 'SHA-256', length: 32 },
  'ecdsa-p256-sha256': { params: { name: 'ECDSA', hash: 'SHA-256' }, keyName: 'ECDSA', curve: 'P-256', length: 64 },
  'ecdsa-p384-sha384': { params: { name: 'ECDSA', hash: 'SHA-384' }, keyName: 'ECDSA', curve: 'P-384', length: 96 },
  ed25519: { params: { name: 'Ed25519' }, keyName: 'Ed25519', length: 64 },
};

const MIN_RSA_BITS = 2048;
const MIN_HMAC_BITS = 256;

export function isHttpSigAlgorithm(value: unknown): value is HttpSigAlgorithm {
  return typeof value === 'string' && Object.hasOwn(PROFILES, value);
}

interface KeyAlgorithmView {
  name: string;
  namedCurve?: string;
  hash?: { name: string };
  modulusLength?: number;
  length?: number;
}

/** Why `key` cannot `use` (sign or verify) `alg`; `undefined` when it can. */
export function keyProblem(key: CryptoKey, alg: HttpSigAlgorithm, use: 'sign' | 'verify'): string | undefined {
  const profile = PROFILES[alg];
  const algorithm = key.algorithm as KeyAlgorithmView;
  const type = alg === 'hmac-sha256' ? 'secret' : use === 'sign' ? 'private' : 'public';
  if (key.type !== type) return `${alg} needs a ${type} key to ${use}, not a ${key.type} key`;
  if (!key.usages.includes(use)) return `the key is not usable to ${use}`;
  if (algorithm.name !== profile.keyName) return `${alg} needs a ${profile.keyName} key, not ${algorithm.name}`;
  if (profile.curve !== undefined && algorithm.namedCurve !== profile.curve) return `${alg} needs curve ${profile.curve}`;
  if (profile.hash !== undefined && algorithm.hash?.name !== profile.hash) return `${alg} needs a key imported for ${profile.hash}`;
  if (algorithm.modulusLength !== undefined && algorithm.modulusLength < MIN_RSA_BITS) return `RSA modulus shorter than ${MIN_RSA_BITS} bits`;
  if (alg === 'hmac-sha256' && (algorithm.length ?? 0) < MIN_HMAC_BITS) return `HMAC secret shorter than ${MIN_HMAC_BITS} bits`;
  return undefined;
}

/** The signature length `alg` produces with `key`, in bytes. */
export function signatureLength(key: CryptoKey, alg: HttpSigAlgorithm): number {
  return PROFILES[alg].length ?? Math.ceil(((key.algorithm as KeyAlgorithmView).modulusLength ?? 0) / 8);
}

/** HTTP_SIGN (§3.3): the key must already fit (keyProblem). */
export async function signBytes(alg: HttpSigAlgorithm, key: CryptoKey, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign(PROFILES[alg].params, key, data));
}

/** HTTP_VERIFY (§3.3): the key must already fit (keyProblem). HMAC is compared by Web Crypto in constant time. */
export async function verifyBytes(alg: HttpSigAlgorithm, key: CryptoKey, signature: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<boolean> {
  return crypto.subtle.verify(PROFILES[alg].params, key, signature, data);
}
