/**
 * Mints a relying-party token: the secondary credential the Transaction Token Service issues when a workload
 * exchanges its primary credential (its WIT) for "a credential targeted to a specific relying party" (A2A auth
 * framework draft, credential exchange for proprietary or legacy systems; RFC 8693 token exchange with
 * requested_token_type urn:ietf:params:oauth:token-type:jwt).
 *
 * Output: a plain JWT (RFC 7519) any JWT library verifies with the gateway's JWK Set URL:
 *   header  { alg: "ES256", typ: "JWT", kid }           kid: the Txn-Token key ring's current key (txn/key-ring.ts)
 *   claims  { iss, sub, aud, iat, exp, jti, scope? }
 * - iss = the gateway's publicUrl origin, sub = the workload identifier, aud = the relying party (one string),
 *   jti = a fresh UUID, scope = the space-separated scope-tokens asked for (absent when none).
 * - typ "JWT", not "txntoken+jwt" nor RFC 9068's "at+jwt": a Txn-Token verifier refuses it (explicit typing,
 *   RFC 8725 §3.11), and it makes no OAuth access-token claims (no client_id), so an RFC 9068 resource server must not
 *   take it for one. Relying parties check iss, aud and exp (and may pin typ "JWT").
 * Does NOT: decide who may obtain what (gateway/tts.ts), or keep keys (txn/key-ring.ts). Tokens are never logged.
 */
import { SignJWT } from 'jose';
import type { TxnSigningKey } from '../txn/key-ring.ts';

export interface RelyingPartyClaims {
  iss: string;
  sub: string;
  aud: string;
  scope: readonly string[];
}

export async function mintRelyingPartyToken(claims: RelyingPartyClaims, options: { key: TxnSigningKey; lifetimeSeconds: number; now: () => number }): Promise<string> {
  const { key, lifetimeSeconds } = options;
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 1) throw new RangeError('lifetimeSeconds must be a positive integer');
  const iat = Math.floor(options.now() / 1000);
  const body: Record<string, unknown> = { jti: crypto.randomUUID() };
  if (claims.scope.length > 0) body.scope = claims.scope.join(' ');
  return new SignJWT(body)
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid })
    .setIssuer(claims.iss)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(key.key);
}
