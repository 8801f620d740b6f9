/**
 * Mints WIMSE Workload Proof Tokens (WPT): the per-request proof that the caller holds its WIT's private key.
 * Web Crypto through jose only (all runtimes). The agent-side fetch wrapper (client/fetch.ts) uses it.
 *
 * Spec: draft-ietf-wimse-wpt-02 §2 (header and claims); draft-ietf-wimse-wpt-01 §2 for `ath`. Output:
 *   header  { alg: key.alg, typ: "wpt+jwt" }   (no `kid`, no `jwk`: the key is the WIT's `cnf.jwk`)
 *   claims  { aud, exp, iat, jti, wth, tth?, oth?, ath? }
 * - `alg` is the key's `alg`, which must string-equal the WIT's `cnf.jwk.alg` (§2 validation step 3), and the
 *   key must be the private half of `cnf.jwk` (same RFC 7638 thumbprint). Both are checked once per signer.
 * - `jti`: 128 random bits, base64url (§2). `iat` is not defined by the draft; it is set so verifiers can
 *   bound exp − iat (verify/wpt.ts does).
 * - Hashes are base64url(SHA-256(ASCII of the token as sent)), as verify/wpt.ts recomputes them: `wth` of the
 *   WIT, `tth` of the Txn-Token, `ath` (-01) of the access token, and each `oth` value of the header field value
 *   with leading/trailing spaces and tabs removed, keyed by the lowercased header name (§2).
 * - Lifetime: default DEFAULT_WPT_TTL_SECONDS, at most DEFAULT_WPT_MAX_LIFETIME_SECONDS (the verifier's default
 *   ceiling). A proof is never minted once the WIT has expired (workload-creds-02 §9: the key "MUST NOT be used
 *   once the credential is expired").
 *
 * Does NOT: decide which tokens a request carries (the caller passes them; client/fetch.ts reads them from the
 * request), verify the WIT's signature (the recipient does), or support a header field that occurs more than
 * once in `oth` (§2: "not supported by default").
 */
import { SignJWT, type JWK } from 'jose';
import { describe } from '../crypto/algorithms.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { randomId } from '../crypto/random.ts';
import { DEFAULT_WPT_MAX_LIFETIME_SECONDS, MAX_OTH_ENTRIES, MAX_WPT_BYTES } from '../limits.ts';
import { bindConfirmationKey } from './confirmation-key.ts';
import { checkedTtl } from './wit.ts';

/** Default WPT lifetime. wpt-02 §2: "on the order of minutes or seconds"; a minute covers a slow request and
 * modest clock drift while keeping a captured proof's window (and the recipient's replay cache) short. */
export const DEFAULT_WPT_TTL_SECONDS = 60;

/** Header fields whose tokens have their own binding (`wth`, the proof itself, `tth`, `ath`): never in `oth`. */
export const RESERVED_CONTEXT_HEADERS = ['authorization', 'workload-identity-token', 'workload-proof-token', 'txn-token'] as const;

/** RFC 9110 §5.1 field name (`token`). */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface WptClaimsOptions {
  /** `aud`: the target URI without query or fragment, or the recipient's configured alias for it (§2). */
  audience: string;
  /** Lifetime in whole seconds, 1 to DEFAULT_WPT_MAX_LIFETIME_SECONDS. Default DEFAULT_WPT_TTL_SECONDS. */
  ttlSeconds?: number;
  /** The request's `Txn-Token` value: bound as `tth`. */
  txnToken?: string;
  /** Other context tokens in the request, header name → value: bound as `oth` (names are lowercased). */
  otherTokens?: Readonly<Record<string, string>>;
  /** -01 only: the `Authorization: Bearer` access token: bound as `ath`. */
  accessToken?: string;
  /** Epoch milliseconds; for tests. */
  now?: () => number;
}

export interface MintWptOptions extends WptClaimsOptions {
  /** The compact WIT the proof is for (sent as `Workload-Identity-Token`). */
  wit: string;
  /** The WIT's private confirmation JWK (with `alg`), as returned by mintWit. */
  key: JWK;
}

/** Signs proofs for one WIT; reuse it across requests (the key is imported and checked once). */
export type WptSigner = (options: WptClaimsOptions) => Promise<string>;

/** Mints one WPT. For many requests with one WIT, createWptSigner once and call it per request. */
export async function mintWpt(options: MintWptOptions): Promise<string> {
  const { wit, key, ...claims } = options;
  return (await createWptSigner(wit, key))(claims);
}

/** Checks that `key` is the private half of the WIT's `cnf.jwk` with its `alg`, and returns a WPT signer. */
export async function createWptSigner(wit: string, key: JWK): Promise<WptSigner> {
  const { signing, witExp } = await bindConfirmationKey(wit, key);
  const wth = await sha256b64url(wit);

  return async (options) => {
    if (typeof options.audience !== 'string' || options.audience.length === 0) throw new TypeError('audience must be a non-empty string');
    const ttl = checkedTtl(options.ttlSeconds, DEFAULT_WPT_TTL_SECONDS, DEFAULT_WPT_MAX_LIFETIME_SECONDS, 'ttlSeconds');
    const now = Math.floor((options.now ?? Date.now)() / 1000);
    if (now >= witExp) throw new RangeError('the WIT has expired: mint a new WIT (and key) before sending more proofs');
    const claims: Record<string, unknown> = { aud: options.audience, exp: now + ttl, iat: now, jti: randomId(), wth };
    if (options.txnToken !== undefined) claims.tth = await sha256b64url(tokenValue(options.txnToken, 'txnToken'));
    const oth = await othClaim(options.otherTokens);
    if (oth) claims.oth = oth;
    if (options.accessToken !== undefined) claims.ath = await sha256b64url(tokenValue(options.accessToken, 'accessToken'));
    const wpt = await new SignJWT(claims).setProtectedHeader({ alg: signing.alg, typ: 'wpt+jwt' }).sign(signing.key);
    if (wpt.length > MAX_WPT_BYTES) throw new RangeError(`the proof is ${wpt.length} bytes, over the ${MAX_WPT_BYTES} verifiers accept (too many or too long oth names?)`);
    return wpt;
  };
}

function tokenValue(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** The `oth` object: lowercased header name → hash of the trimmed value; `undefined` when there are none. */
async function othClaim(tokens: Readonly<Record<string, string>> | undefined): Promise<Record<string, string> | undefined> {
  if (tokens === undefined) return undefined;
  const entries = Object.entries(tokens);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_OTH_ENTRIES) throw new RangeError(`otherTokens has ${entries.length} entries; verifiers accept at most ${MAX_OTH_ENTRIES}`);
  const oth: Record<string, string> = {};
  for (const [name, value] of entries) {
    const lower = checkContextHeaderName(name);
    if (Object.hasOwn(oth, lower)) throw new TypeError(`otherTokens names ${describe(lower)} twice`);
    const trimmed = tokenValue(value, `otherTokens[${describe(lower)}]`).replace(/^[ \t]+|[ \t]+$/g, '');
    oth[lower] = await sha256b64url(trimmed);
  }
  return oth;
}

/** The lowercased header name, when `name` may carry a context token bound by `oth`; otherwise throws. */
export function checkContextHeaderName(name: string): string {
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) throw new TypeError(`${describe(name)} is not an HTTP header field name`);
  const lower = name.toLowerCase();
  if ((RESERVED_CONTEXT_HEADERS as readonly string[]).includes(lower)) throw new TypeError(`${lower} has its own binding and cannot be an oth entry`);
  return lower;
}
