/**
 * Which credential a request presents, read strictly from its header fields. Pure: Headers in, a Result out.
 *
 * Spec: draft-ietf-wimse-workload-creds-02 §5.1.1 (one `Workload-Identity-Token` field); draft-ietf-wimse-wpt-02
 * §2 step 1 ("exactly one `Authorization` header field ... and it uses the `WPT` authentication scheme", scheme
 * name case-insensitive per RFC 9110 §11.1, `credentials = "WPT" 1*SP token68`) and §2.2 (no other scheme beside
 * it); wpt-01 §2 (one `Workload-Proof-Token` field, optionally an `Authorization: Bearer` access token bound by
 * `ath`); RFC 6750 §2.1 and SPIFFE JWT-SVID §4 (`Authorization: Bearer <JWT-SVID>`).
 *
 * Runtimes hand repeated fields over joined with ", " (Fetch `Headers`), and no compact JWS or token68 contains a
 * comma or a space, so a comma or inner whitespace in any of these fields means "more than one field" or junk:
 * the credential is malformed, never "the first one".
 *
 * Selection: a WPT (per the route's carriage, when the route accepts WPTs) selects WIT+WPT; else a `Signature-Input`
 * or `Signature` field (when it accepts HTTP signatures) selects WIT+HTTP signature; else `Authorization: Bearer`
 * selects JWT-SVID; else a WIT alone is ERR_WPT_MISSING, or ERR_HTTPSIG_MISSING on a signature-only route (a WIT
 * is never a bearer token), and nothing at all is ERR_CREDENTIALS_MISSING.
 *
 * Does NOT: look inside the tokens (the verifiers do), or check that a -02 request carries no second credential
 * scheme (impossible: there is a single Authorization field, and a second one is refused as a duplicate).
 * Details name fields and schemes, never values.
 */
import { fail, ok, type Result } from '../result.ts';
import type { CredentialErrorCode } from './errors.ts';

export type Carriage = 'authorization' | 'header';

/** What the route accepts: `wit` with its proofs (a WPT in `carriage`, an HTTP signature), and/or `jwtSvid`. */
export interface Accepts {
  wit?: { carriage: Carriage; wpt: boolean; httpSig: boolean };
  jwtSvid?: boolean;
}

export type Presented =
  | {
      kind: 'wit+wpt';
      wit: string;
      proof: string;
      carriage: Carriage;
      /** -01 carriage only: the `Authorization: Bearer` token, which the proof must bind with `ath`. */
      accessToken?: string;
      /** The `Txn-Token` field, which the proof must bind with `tth`. */
      txnToken?: string;
    }
  | {
      /** A WIT with a WIMSE HTTP Message Signature (`Signature-Input` / `Signature`), checked by the verifier. */
      kind: 'wit+http-sig';
      wit: string;
    }
  | { kind: 'jwt-svid'; token: string };

export type ExtractErrorCode = CredentialErrorCode | 'ERR_WIT_MALFORMED' | 'ERR_WPT_MALFORMED' | 'ERR_JWT_SVID_MALFORMED' | 'ERR_HTTPSIG_MISSING';

interface Authorization {
  /** Lowercased scheme name, or undefined when the field is not `scheme [1*SP credentials]`. */
  scheme: string | undefined;
  credentials: string;
  /** A comma: the field was sent more than once (or is a list, which no scheme used here allows). */
  repeated: boolean;
}

const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RFC 9110 §11.2 token68. */
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

export function parseAuthorization(value: string): Authorization {
  const repeated = value.includes(',');
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  const credentials = space < 0 ? '' : value.slice(space + 1).replace(/^ +/, '');
  return { scheme: SCHEME.test(scheme) ? scheme.toLowerCase() : undefined, credentials, repeated };
}

/** A name for a scheme in a detail: the scheme when it is a short token, never more of the field. */
function schemeName(auth: Authorization): string {
  return auth.scheme !== undefined && auth.scheme.length <= 20 ? `"${auth.scheme}"` : 'an unrecognised scheme';
}

/** Why a single-token field value is unusable, or undefined when it is one token. */
function tokenProblem(field: string, value: string): string | undefined {
  if (value === '') return `the ${field} field is empty`;
  if (value.includes(',')) return `the ${field} field appears more than once`;
  if (/[\s]/.test(value)) return `the ${field} field holds more than one token`;
  return undefined;
}

export function extractCredentials(headers: Headers, accepts: Accepts): Result<Presented, ExtractErrorCode> {
  const authValue = headers.get('authorization');
  const auth = authValue === null ? undefined : parseAuthorization(authValue);
  const witValue = headers.get('workload-identity-token');
  const proofHeader = headers.get('workload-proof-token');

  if (accepts.wit) {
    const carriage = accepts.wit.carriage;
    const proofPresented = accepts.wit.wpt && (carriage === 'authorization' ? auth?.scheme === 'wpt' : proofHeader !== null);
    if (proofPresented) return extractWimse(headers, carriage, witValue, auth, proofHeader);
    // http-signature-07 §3.1: the signature travels in Signature-Input / Signature; an Authorization field may
    // sit beside it (a user's token, covered by the signature), so it does not decide the credential here.
    if (accepts.wit.httpSig && (headers.has('signature-input') || headers.has('signature'))) {
      if (witValue === null) return fail('ERR_WIT_MISSING', 'an HTTP signature without a Workload-Identity-Token field');
      const witProblem = tokenProblem('Workload-Identity-Token', witValue);
      if (witProblem) return fail('ERR_WIT_MALFORMED', witProblem);
      return ok({ kind: 'wit+http-sig', wit: witValue });
    }
  }
  if (accepts.jwtSvid && auth?.scheme === 'bearer') {
    if (auth.repeated) return fail('ERR_JWT_SVID_MALFORMED', 'the Authorization field appears more than once');
    if (auth.credentials === '' || !TOKEN68.test(auth.credentials)) return fail('ERR_JWT_SVID_MALFORMED', 'the Bearer credentials are not one token68');
    return ok({ kind: 'jwt-svid', token: auth.credentials });
  }
  if (accepts.wit && witValue !== null) {
    if (!accepts.wit.wpt) return fail('ERR_HTTPSIG_MISSING', 'a Workload-Identity-Token without an HTTP signature');
    const other = accepts.wit.carriage === 'authorization'
      ? proofHeader !== null ? ' (a Workload-Proof-Token field was sent: the -01 carriage, which this route does not use)' : ''
      : auth?.scheme === 'wpt' ? ' (an Authorization: WPT field was sent: the -02 carriage, which this route does not use)' : '';
    return fail('ERR_WPT_MISSING', `a Workload-Identity-Token without a proof${other}`);
  }
  if (auth !== undefined) return fail('ERR_CREDENTIALS_MISSING', `the Authorization scheme ${schemeName(auth)} is not accepted on this route`);
  return fail('ERR_CREDENTIALS_MISSING', 'no credential presented');
}

function extractWimse(headers: Headers, carriage: Carriage, witValue: string | null, auth: Authorization | undefined, proofHeader: string | null): Result<Presented, ExtractErrorCode> {
  if (witValue === null) return fail('ERR_WIT_MISSING', 'a proof without a Workload-Identity-Token field');
  const witProblem = tokenProblem('Workload-Identity-Token', witValue);
  if (witProblem) return fail('ERR_WIT_MALFORMED', witProblem);

  let proof: string;
  let accessToken: string | undefined;
  if (carriage === 'authorization') {
    // auth is present with scheme "wpt": that is how this carriage was selected.
    const a = auth!;
    if (a.repeated) return fail('ERR_WPT_MALFORMED', 'the Authorization field appears more than once');
    if (a.credentials === '' || !TOKEN68.test(a.credentials)) return fail('ERR_WPT_MALFORMED', 'the WPT credentials are not one token68');
    proof = a.credentials;
  } else {
    const problem = tokenProblem('Workload-Proof-Token', proofHeader!);
    if (problem) return fail('ERR_WPT_MALFORMED', problem);
    proof = proofHeader!;
    if (auth?.scheme === 'bearer') {
      if (auth.repeated) return fail('ERR_WPT_MALFORMED', 'the Authorization field appears more than once');
      accessToken = auth.credentials;
    }
  }
  const presented: Presented = { kind: 'wit+wpt', wit: witValue, proof, carriage };
  if (accessToken !== undefined) presented.accessToken = accessToken;
  const txn = headers.get('txn-token');
  if (txn !== null) presented.txnToken = txn;
  return ok(presented);
}
