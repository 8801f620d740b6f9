/**
 * The authenticated caller, as the gateway's authentication stage establishes it (src/gateway/authenticate.ts)
 * and as audit events and later stages (revocation, authorization, Txn-Token minting) read it. JSON-safe. It
 * names credentials only by hash: never a token, key or signature (DESIGN principle 2).
 */
export interface Principal {
  /** The workload identifier (`sub`) of the verified credential, e.g. `spiffe://td/ns/prod/sa/agent`. */
  workloadId: string;
  /** Its trust domain origin (`spiffe://td`, `wimse://td`), one of the route's configured trust domains. */
  trustDomain: string;
  /** `iss` of the credential, when it had one. */
  issuer?: string;
  /** `wit+wpt` / `wit+http-sig`: a WIT with a proof of possession (a WPT, or a WIMSE HTTP signature); `jwt-svid`: a SPIFFE JWT-SVID bearer token. */
  credential: 'wit+wpt' | 'wit+http-sig' | 'jwt-svid' | 'x509-svid';
  /** Thumbprint of what the caller proved possession of: RFC 7638 of the WIT's `cnf.jwk`, or the client certificate's SHA-256 (`x5t#S256`); absent for bearer tokens. */
  keyThumbprint?: string;
  /** When the credential stops being valid (ISO 8601). */
  expiresAt: string;
  /** base64url(SHA-256) of the WIT, JWT-SVID or client certificate (DER) as sent: correlates events and revocations without the credential. */
  tokenHash: string;
}
