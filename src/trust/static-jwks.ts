/**
 * Trust-anchor keys from the inline JWK Sets of `config.trustDomains` (draft-ietf-wimse-workload-creds-02 §3: keys
 * for the trust domain of `sub`, distributed out of band; SPIFFE Workload API §6: the bundle of the subject's trust
 * domain). The gateway asks this port for a key; verifiers never see a URL or a key carried in a token.
 *
 * Selection (§3): with a `kid`, the key with that `kid`; without one, the trust domain's only eligible key, and
 * nothing when there are several (no guessing). Eligible for a purpose: `use` absent or `sig`, or the SPIFFE bundle
 * use of that credential (`wit-svid` for WITs, `jwt-svid` for JWT-SVIDs). Keys are handed out as fresh objects with
 * their public members, `kid` and `alg` only.
 *
 * Does NOT: fetch anything (remote JWKS and SPIFFE bundle endpoints come next, behind this same port), or check
 * that a key imports (the verifier does, through the key import cache).
 */
import type { JWK } from 'jose';
import { publicJwk } from '../crypto/algorithms.ts';

export type KeyPurpose = 'wit' | 'jwt-svid';

/** Where trust-anchor keys come from. `trustDomain` is an origin: `spiffe://td` or `wimse://td`. */
export interface TrustKeySource {
  key(trustDomain: string, kid: string | undefined, purpose: KeyPurpose): Promise<JWK | CryptoKey | undefined>;
}

interface InlineJwk {
  kty: string;
  kid: string;
  use?: string | undefined;
  alg?: string | undefined;
  crv?: string | undefined;
  x?: string | undefined;
  y?: string | undefined;
  n?: string | undefined;
  e?: string | undefined;
}

const USE_FOR: Record<KeyPurpose, string> = { wit: 'wit-svid', 'jwt-svid': 'jwt-svid' };

interface Indexed {
  byKid: Map<string, JWK>;
  /** The single eligible key, for tokens without `kid`. */
  only?: JWK;
}

/** A key source over `trustDomains` as validated by the config schema. */
export function staticTrustKeys(trustDomains: Readonly<Record<string, { jwks: { keys: readonly InlineJwk[] } }>> = {}): TrustKeySource {
  const index = new Map<string, Indexed>();
  for (const [origin, td] of Object.entries(trustDomains)) {
    for (const purpose of ['wit', 'jwt-svid'] as const) {
      const eligible = td.jwks.keys.filter((k) => k.use === undefined || k.use === 'sig' || k.use === USE_FOR[purpose]);
      const byKid = new Map<string, JWK>();
      for (const k of eligible) byKid.set(k.kid, clean(k));
      const entry: Indexed = { byKid };
      if (eligible.length === 1) entry.only = clean(eligible[0]!);
      index.set(`${purpose} ${origin}`, entry);
    }
  }
  return {
    key: async (trustDomain, kid, purpose) => {
      const entry = index.get(`${purpose} ${trustDomain}`);
      if (!entry) return undefined;
      const found = kid === undefined ? entry.only : entry.byKid.get(kid);
      return found ? { ...found } : undefined;
    },
  };
}

function clean(k: InlineJwk): JWK {
  const jwk: JWK = { ...publicJwk(k as JWK), kid: k.kid };
  if (k.alg !== undefined) jwk.alg = k.alg;
  return jwk;
}
