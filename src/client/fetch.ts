/**
 * The agent-side SDK: a fetch that authenticates as a workload with a WIT and a fresh WPT on every request.
 * Web APIs only (fetch, Request, Headers, Web Crypto via jose): Workers, Deno, Bun and Node.
 *
 * Spec: draft-ietf-wimse-workload-creds-02 §5.1.1 (`Workload-Identity-Token`), §9 (TLS); draft-ietf-wimse-wpt-02
 * §2 (claims, `Authorization: WPT`), §2.2 (no other credential in `Authorization`); draft-ietf-wimse-wpt-01 §2
 * (`Workload-Proof-Token`, `ath`).
 *
 * For each request:
 *  1. refuses a target that is not `https:`, or `http:` to a loopback host, unless `allowInsecureHttp`
 *     (client/transport.ts; workload-creds-02 §9).
 *  2. carriage `'authorization'` (-02, default): refuses a request that already has an `Authorization` header
 *     (wpt-02 §2.2: a WPT request cannot present another scheme; overwriting it would silently drop the
 *     caller's credential). Carriage `'header'` (-01): an `Authorization: Bearer` token is bound as `ath`.
 *  3. binds the `Txn-Token` header as `tth` and each configured `contextTokenHeaders` field present as `oth`.
 *  4. `aud` = `audience(url)`, by default the target URI without query and fragment. Portcullis's route
 *     audience is `publicUrl` + the mount path unless the route configures another: callers whose route
 *     audience differs from the URL they call (requests below a mount, configured aliases) pass `audience`,
 *     e.g. `mountAudience([...])` (client/audience.ts). A proof is only ever sent to the origin its `aud`
 *     names, or, with `origins`, among the listed origins: a proof for recipient B handed to A could be
 *     replayed by A against B (wpt-02 §3), so a custom `audience` that points elsewhere is refused.
 *     With `origins`, requests to any other origin are refused too (the WIT names the workload: it is not
 *     sent to whoever a tool call happens to reach).
 *  5. sets `Workload-Identity-Token` and either `Authorization: WPT <wpt>` or `Workload-Proof-Token: <wpt>`,
 *     replacing any such field already present (one of each, so the recipient's exactly-one check holds).
 *  6. sends with `redirect: 'manual'` unless `init.redirect` says otherwise: a proof is bound to one target
 *     URI and fetch would forward these headers to the `Location` (even cross-origin), handing a live,
 *     unburnt proof to a third party. Callers follow redirects themselves with a new call.
 * Each request gets a new proof (new `jti`); proofs are never reused or cached.
 *
 * Does NOT: refresh an expiring WIT by itself (pass `credentials`, a function the wrapper calls per request,
 * and return a new WIT before the old one expires; a WIT past `exp` makes the request fail), retry, detect
 * repeated header fields bound in `oth` (Headers joins them; wpt-02 §2 does not support them), sign bodies
 * (that is the HTTP-signature profile), or look at the response.
 */
import type { JWK } from 'jose';
import { checkContextHeaderName, createWptSigner, type WptSigner } from '../mint/wpt.ts';
import { targetAudience } from './audience.ts';
import { transportProblem } from './transport.ts';

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface WorkloadCredentials {
  /** The compact WIT. */
  wit: string;
  /** The WIT's private confirmation JWK, with `alg` (as returned by mintWit / `portcullis mint-wit`). */
  key: JWK;
}

export interface WorkloadIdentityOptions {
  /** A fixed WIT; with `key`. Or use `credentials`. */
  wit?: string;
  key?: JWK;
  /** Called before every request for the current WIT and key (cache inside; refresh before `exp`). */
  credentials?: () => WorkloadCredentials | Promise<WorkloadCredentials>;
  /** `'authorization'`: wpt-02 `Authorization: WPT` (default). `'header'`: wpt-01 `Workload-Proof-Token`. */
  carriage?: 'authorization' | 'header';
  /** The WPT `aud` for a request URL. Default: the URL without query and fragment. */
  audience?: (url: URL) => string;
  /** Header fields carrying end-user or authorization context tokens to bind in `oth` when present. */
  contextTokenHeaders?: readonly string[];
  /** WPT lifetime in seconds. Default DEFAULT_WPT_TTL_SECONDS (60). */
  ttlSeconds?: number;
  /** Allow plain `http:` to non-loopback hosts: only when another mechanism secures the channel. */
  allowInsecureHttp?: boolean;
  /**
   * Origins (`https://gw.example`) that may receive the WIT and proofs. When set, a request to another origin is
   * refused, and a proof's `aud` may name any listed origin (a gateway reached by an internal name whose
   * `publicUrl` is another). Default: each proof goes only to the origin its `aud` names.
   */
  origins?: readonly string[];
  /** Epoch milliseconds; for tests. */
  now?: () => number;
}

export function withWorkloadIdentity(fetchImpl: FetchLike, options: WorkloadIdentityOptions): FetchLike {
  if (typeof fetchImpl !== 'function') throw new TypeError('withWorkloadIdentity: fetchImpl must be a function');
  const carriage = options.carriage ?? 'authorization';
  if (carriage !== 'authorization' && carriage !== 'header') throw new TypeError('withWorkloadIdentity: carriage must be "authorization" or "header"');
  const contextHeaders = [...new Set((options.contextTokenHeaders ?? []).map(checkContextHeaderName))];
  const audienceOf = options.audience ?? targetAudience;
  const credentials = credentialSource(options);
  const origins = options.origins === undefined ? undefined : new Set(options.origins.map(checkOrigin));

  let current: { wit: string; key: JWK; signer: Promise<WptSigner> } | undefined;
  const signerFor = ({ wit, key }: WorkloadCredentials): Promise<WptSigner> => {
    if (current?.wit !== wit || current.key !== key) {
      const signer = createWptSigner(wit, key);
      signer.catch(() => undefined); // reported by the request that awaits it
      current = { wit, key, signer };
    }
    return current.signer;
  };
  if (options.credentials === undefined) signerFor({ wit: options.wit as string, key: options.key as JWK }); // check the key early

  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const problem = transportProblem(url, options.allowInsecureHttp === true);
    if (problem) throw new TypeError(`withWorkloadIdentity: ${problem}`);
    if (origins && !origins.has(url.origin)) throw new TypeError(`withWorkloadIdentity: ${url.origin} is not one of the origins this workload's credentials may be sent to`);
    const audience = audienceOf(new URL(url));
    const audienceOrigin = originOf(audience);
    if (origins ? !origins.has(audienceOrigin ?? '') : audienceOrigin !== url.origin) {
      throw new TypeError(`withWorkloadIdentity: the proof's aud is for ${audienceOrigin ?? 'no origin'}, not ${url.origin}; a proof goes only to its audience (list both in origins when the gateway's publicUrl differs from the URL called)`);
    }

    const headers = new Headers(request.headers);
    const authorization = headers.get('authorization');
    let accessToken: string | undefined;
    if (authorization !== null && carriage === 'authorization') {
      throw new TypeError('withWorkloadIdentity: the request already has an Authorization header, and a WPT request cannot present another credential (wpt-02 §2.2); send that token in its own header, or use carriage "header" (wpt-01)');
    }
    if (authorization !== null) accessToken = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization)?.[1];
    const txnToken = headers.get('txn-token') ?? undefined;
    const otherTokens: Record<string, string> = {};
    for (const name of contextHeaders) {
      const value = headers.get(name);
      if (value !== null) otherTokens[name] = value;
    }

    const current = await credentials();
    const signer = await signerFor(current);
    const proofOptions = { audience, txnToken, otherTokens, accessToken } as Parameters<WptSigner>[0];
    if (options.ttlSeconds !== undefined) proofOptions.ttlSeconds = options.ttlSeconds;
    if (options.now !== undefined) proofOptions.now = options.now;
    const wpt = await signer(proofOptions);

    headers.set('workload-identity-token', current.wit);
    if (carriage === 'authorization') headers.set('authorization', `WPT ${wpt}`);
    else headers.set('workload-proof-token', wpt);
    const redirect = init?.redirect ?? (request.redirect === 'error' ? 'error' : 'manual');
    // fetch keeps Workload-Identity-Token and Workload-Proof-Token on every hop (it strips only Authorization,
    // and only cross-origin), and checks no transport rule on the way: never let it follow.
    if (redirect === 'follow') throw new TypeError('withWorkloadIdentity: redirect "follow" would carry the WIT and proof to the redirect target; follow redirects with a new call');
    return fetchImpl(new Request(request, { headers, redirect }));
  };
}

function credentialSource(options: WorkloadIdentityOptions): () => Promise<WorkloadCredentials> {
  if (options.credentials !== undefined) {
    if (options.wit !== undefined || options.key !== undefined) throw new TypeError('withWorkloadIdentity: pass either wit and key, or credentials, not both');
    if (typeof options.credentials !== 'function') throw new TypeError('withWorkloadIdentity: credentials must be a function');
    const source = options.credentials;
    return async () => {
      const value = await source();
      if (typeof value?.wit !== 'string' || typeof value.key !== 'object' || value.key === null) throw new TypeError('withWorkloadIdentity: credentials() must return { wit, key }');
      return value;
    };
  }
  if (typeof options.wit !== 'string' || typeof options.key !== 'object' || options.key === null) throw new TypeError('withWorkloadIdentity: wit (a string) and key (a private JWK) are required');
  const fixed = { wit: options.wit, key: options.key };
  return async () => fixed;
}

function checkOrigin(value: string): string {
  const origin = originOf(value);
  if (origin === undefined || origin !== value) throw new TypeError(`withWorkloadIdentity: origins must list origins like https://gw.example, not ${JSON.stringify(String(value).slice(0, 64))}`);
  return origin;
}

function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}
