/**
 * The check every per-request proof signer starts with (WPT, WIMSE HTTP signature): the private key given must be
 * the private half of the WIT's `cnf.jwk`, with the same `alg` (wpt-02 §2 step 3; http-signature-07 §3.2: the
 * algorithm is `cnf.jwk.alg`). Done once per signer, so a wrong key fails at setup rather than at the recipient.
 *
 * Does NOT verify the WIT's signature (the recipient does) or check its expiry beyond reading `exp`.
 */
import type { JWK } from 'jose';
import { describe, publicJwk } from '../crypto/algorithms.ts';
import { parseCompactJwt } from '../crypto/jws.ts';
import { jwkThumbprint } from '../crypto/thumbprint.ts';
import { importSigningKey } from './keys.ts';

export interface BoundKey {
  signing: { key: CryptoKey; alg: string; jwk: JWK };
  /** The WIT's `exp`, in seconds: no proof is made after it (workload-creds-02 §9). */
  witExp: number;
}

export async function bindConfirmationKey(wit: string, key: JWK): Promise<BoundKey> {
  const parsed = parseCompactJwt(wit);
  if (!parsed.ok) throw new TypeError(`wit is not a compact JWT: ${parsed.detail}`);
  const cnf = parsed.value.claims.cnf as { jwk?: JWK } | undefined;
  const cnfJwk = typeof cnf === 'object' && cnf !== null ? cnf.jwk : undefined;
  if (typeof cnfJwk !== 'object' || cnfJwk === null) throw new TypeError('wit has no cnf.jwk');
  const witExp = parsed.value.claims.exp;
  if (typeof witExp !== 'number' || !Number.isFinite(witExp)) throw new TypeError('wit has no numeric exp');
  const signing = await importSigningKey(key, 'key');
  if (signing.alg !== cnfJwk.alg) throw new TypeError(`key.alg ${describe(signing.alg)} differs from the WIT's cnf.jwk.alg ${describe(cnfJwk.alg)}`);
  let same = false;
  try {
    same = (await jwkThumbprint(publicJwk(signing.jwk))) === (await jwkThumbprint(publicJwk(cnfJwk)));
  } catch {
    same = false;
  }
  if (!same) throw new TypeError("key is not the private half of the WIT's cnf.jwk");
  return { signing, witExp };
}
