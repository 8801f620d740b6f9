/**
 * The authenticated caller, as the gateway's authentication stage establishes it (src/gateway/authenticate.ts)
 * and as audit events and later stages (revocation, authorization, Txn-Token minting) read it. JSON-safe. It
 * names credentials only by hash: never a token, key or signature (DESIGN principle 2).
 */
export interface Principal {
  /** The workload identifier (`sub`) of the verified workload credential, e.g. `spiffe://td/ns/prod/sa/agent`; absent when only an access token was presented. */
  workloadId?: string;
  /** Its trust domain origin (`spiffe://td`, `wimse://td`), one of the route's configured trust domains; absent with `workloadId`. */
  trustDomain?: string;
  /** `iss` of the credential, when it had one. */
  issuer?: string;
  /** `wit+wpt` / `wit+http-sig`: a WIT with a proof of possession (a WPT, or a WIMSE HTTP signature); `jwt-svid`: a SPIFFE JWT-SVID bearer token. */
  credential: 'wit+wpt' | 'wit+http-sig' | 'jwt-svid' | 'x509-svid' | 'access-token';
  /** Thumbprint of what the caller proved possession of: RFC 7638 of the WIT's `cnf.jwk`, or the client certificate's SHA-256 (`x5t#S256`); absent for bearer tokens. */
  keyThumbprint?: string;
  /** When the credential stops being valid (ISO 8601). With both a workload credential and an access token: the workload credential's. */
  expiresAt: string;
  /** base64url(SHA-256) of the WIT, JWT-SVID or client certificate (DER) as sent: correlates events and revocations without the credential. */
  tokenHash: string;
  /**
   * The user (or client) an OAuth access token speaks for: alone on an access-token route, or beside the acting
   * workload on a route that requires both (auth.oauth.withWorkload).
   */
  user?: UserPrincipal;
}

/** What a verified OAuth access token (RFC 9068 JWT, or an RFC 7662 introspection answer) establishes. */
export interface UserPrincipal {
  /** The authorization server (`iss`; for an introspected token, the server that answered). */
  issuer: string;
  /** `sub`: the resource owner (for client_credentials tokens, the client itself). */
  subject: string;
  clientId: string;
  scopes: string[];
  acr?: string;
  /** ISO 8601 of `auth_time`. */
  authTime?: string;
  /** How the token was checked: a signed JWT verified locally, or an introspection answer. */
  token: 'jwt' | 'introspected';
  /** The RFC 7638 thumbprint of the DPoP key the request proved possession of (RFC 9449), when DPoP was used. */
  dpopJkt?: string;
  /** base64url(SHA-256) of the access token as sent. */
  tokenHash: string;
  /** ISO 8601 of `exp`. */
  expiresAt: string;
}
