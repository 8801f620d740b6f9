/** Policy members every JWT verifier here shares (WIT, JWT-SVID); each verifier adds its own. */
export interface SignedTokenPolicy {
  /** JWS algorithms accepted for the token's signature. Default `['ES256']`; unknown and symmetric ones are ignored. */
  algorithms?: readonly string[];
  /** When set, `iss` is required and must be one of these. */
  issuers?: readonly string[];
  /** Longest accepted lifetime; each verifier names its default. */
  maxLifetimeSeconds?: number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}
