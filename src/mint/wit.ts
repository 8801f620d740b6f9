/**
 * Mints a WIMSE Workload Identity Token (WIT) and the fresh key pair it confirms: what an Identity Server does.
 * Portcullis uses it for the local dev trust domain (mint/dev-issuer.ts, `portcullis mint-wit`) and tests;
 * production WITs come from the deployment's own issuer (SPIRE, a cloud identity service).
 *
 * Spec: draft-ietf-wimse-workload-creds-02 §5.1 (format), §9 (lifetimes, key per WIT). Output:
 *   header  { alg: issuerKey.alg, kid: issuerKey.kid, typ: "wit+jwt" }
 *   claims  { iss?, sub, iat, exp, jti, cnf: { jwk: { <public key>, alg, kid } } }
 * `sub` is checked with parseWorkloadId (canonical `spiffe://` or `wimse://`, naming a workload, not a bare trust
 * domain), exactly as verify/wit.ts will check it. `jti` is 128 random bits (audit only; WIT-SVID §3.3).
 * The confirmation key is generated for this WIT alone (§9: "SHOULD be re-generated for each new WIT") and its
 * private JWK is returned with `alg` and `kid` (= RFC 7638 thumbprint, also set on `cnf.jwk`).
 *
 * Lifetime: default DEFAULT_WIT_TTL_SECONDS (one hour), at most DEFAULT_WIT_MAX_LIFETIME_SECONDS (a day, the
 * verifier's default ceiling, so every WIT minted here passes a default verifier).
 *
 * Does NOT: publish keys (mint/keys.ts publicJwks), store anything, check that the issuer key belongs to the
 * subject's trust domain (the verifier's trust-domain binding does), or add `nbf`, `aud` or private claims.
 */
import { SignJWT, type JWK } from 'jose';
import { publicJwk } from '../crypto/algorithms.ts';
import { randomId } from '../crypto/random.ts';
import { parseWorkloadId } from '../identity/workload-id.ts';
import { DEFAULT_WIT_MAX_LIFETIME_SECONDS } from '../limits.ts';
import { generateSigningKey, importSigningKey, type GeneratedKeyAlgorithm } from './keys.ts';

/** Default WIT lifetime: the short end of workload-creds-02's "on the order of hours" (§5.1, §9). A leaked WIT
 * and key are useful for at most an hour, and a dev loop re-mints in one command. */
export const DEFAULT_WIT_TTL_SECONDS = 60 * 60;

export interface MintWitOptions {
  /** The Identity Server's private JWK, with `kid` and `alg` (ES256 is the one every verifier supports). */
  issuerKey: JWK;
  /** `iss` (RECOMMENDED): a URI naming the issuer. Omitted from the WIT when undefined. */
  issuer?: string;
  /** `sub`: a canonical workload identifier. */
  subject: string;
  /** Lifetime in whole seconds, 1 to DEFAULT_WIT_MAX_LIFETIME_SECONDS. Default DEFAULT_WIT_TTL_SECONDS. */
  ttlSeconds?: number;
  /** `cnf.jwk.alg`: the algorithm the workload's proofs will use. Default ES256 (§5.1: MUST be supported). */
  confirmationAlgorithm?: GeneratedKeyAlgorithm;
  /** Epoch milliseconds; for tests. */
  now?: () => number;
}

export interface MintedWit {
  /** The compact WIT, for the `Workload-Identity-Token` header. */
  wit: string;
  /** The workload's private confirmation JWK (with `alg`, `kid`): sign WPTs with it, never send it. */
  key: JWK;
  /** Epoch milliseconds when the WIT expires. */
  expiresAt: number;
}

export async function mintWit(options: MintWitOptions): Promise<MintedWit> {
  const { key: signingKey, alg, jwk: issuerJwk } = await importSigningKey(options.issuerKey, 'issuerKey', true);
  const id = parseWorkloadId(options.subject);
  if (!id.ok) throw new TypeError(`subject is not a canonical workload identifier: ${id.code} (${id.detail})`);
  if (id.value.path === '') throw new TypeError('subject is a trust domain identifier; a WIT names a workload (add a path)');
  if (options.issuer !== undefined && (typeof options.issuer !== 'string' || options.issuer.length === 0)) throw new TypeError('issuer must be a non-empty string');
  const ttl = checkedTtl(options.ttlSeconds, DEFAULT_WIT_TTL_SECONDS, DEFAULT_WIT_MAX_LIFETIME_SECONDS, 'ttlSeconds');

  const key = await generateSigningKey(options.confirmationAlgorithm ?? 'ES256');
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const claims: Record<string, unknown> = {};
  if (options.issuer !== undefined) claims.iss = options.issuer;
  Object.assign(claims, {
    sub: id.value.uri,
    iat,
    exp: iat + ttl,
    jti: randomId(),
    cnf: { jwk: { ...publicJwk(key), alg: key.alg, kid: key.kid } },
  });
  const wit = await new SignJWT(claims).setProtectedHeader({ alg, kid: issuerJwk.kid as string, typ: 'wit+jwt' }).sign(signingKey);
  return { wit, key, expiresAt: (iat + ttl) * 1000 };
}

/** `value` (default `fallback`) when it is a whole number of seconds from 1 to `max`; otherwise throws. */
export function checkedTtl(value: number | undefined, fallback: number, max: number, name: string): number {
  const ttl = value ?? fallback;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > max) throw new RangeError(`${name} must be a whole number of seconds from 1 to ${max}`);
  return ttl;
}
