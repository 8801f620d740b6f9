/** Small Web-Crypto helpers shared by verifiers and signers: base64url, SHA-256, thumbprints, key import cache. */
export { base64urlDecode, base64urlEncode, isBase64url } from './base64url.ts';
export { sha256, sha256b64url } from './digest.ts';
export { randomId } from './random.ts';
export { jwkThumbprint } from './thumbprint.ts';
export { KeyImportCache, sharedKeyImportCache, type ImportedKey } from './key-cache.ts';
export {
  ASYMMETRIC_JWS_ALGORITHMS,
  SPIFFE_JWS_ALGORITHMS,
  allowedAlgorithms,
  isAsymmetricJwsAlgorithm,
  keyMismatch,
  privateMembers,
  publicJwk,
  type AsymmetricJwsAlgorithm,
} from './algorithms.ts';
