/**
 * What Portcullis signs, Web Crypto only: WIMSE WITs (an Identity Server's job; used for the dev trust domain
 * and tests), WPTs (the workload's per-request proof), and the dev issuer's names and JWKS. Planned here too:
 * Txn-Tokens, Agent Card and response signatures (DESIGN "Layers"). Barrel only.
 */
export { mintWit, DEFAULT_WIT_TTL_SECONDS, type MintedWit, type MintWitOptions } from './wit.ts';
export { createWptSigner, mintWpt, DEFAULT_WPT_TTL_SECONDS, type MintWptOptions, type WptClaimsOptions, type WptSigner } from './wpt.ts';
export { generateSigningKey, publicJwks, publicSigningJwk, GENERATED_KEY_ALGORITHMS, type GeneratedKeyAlgorithm, type PublishedJwk } from './keys.ts';
export { DEV_DEFAULT_WORKLOAD, DEV_ISSUER, DEV_TRUST_DOMAIN, DEV_TRUST_DOMAIN_ID, devJwks, generateDevIssuerKey, mintDevWit } from './dev-issuer.ts';
