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
 *
 * With `proof: 'http-sig'` (draft-ietf-wimse-http-signature-07, -06 with `httpSigVersion`), steps 1, 4 and 6 are
 * the same; instead of 2, 3 and 5:
 *  - the body is buffered, at most MAX_SIGNED_REQUEST_BODY_BYTES (a stream of unknown length included; more is
 *    refused with a TypeError before anything is sent), and gets a `Content-Digest` (RFC 9530, sha-256);
 *  - an `Authorization` header is kept and covered by the signature (the user's token travels with the workload
 *    signature: -07 §3.1 lists it among the covered fields), as are `Txn-Token`, `Content-Type` and
 *    `Workload-Identity-Token`; a request that already carries `Signature` or `Signature-Input` is refused;
 *  - mint/wimse-signature.ts signs it with the WIT's key (`wimse-aud` = `audience(url)`), adding
 *    `wimse-sign-response` when `signedResponses` is `'require'`, and `Accept-Encoding: identity` unless the
 *    caller set one (fetch decodes content codings, and a response digest is over the coded bytes);
 *  - the response goes through client/http-signature.ts: unsigned is accepted unless required; signed is
 *    verified (the responder's WIT against `responderTrust`, then the signature, `wimse-req-nonce`, the body's
 *    Content-Digest) and handed back rebuilt around its buffered body, or refused with a ResponseSignatureError.
 *
 * Does NOT: refresh an expiring WIT by itself (pass `credentials`, a function the wrapper calls per request,
 * and return a new WIT before the old one expires; a WIT past `exp` makes the request fail), retry, detect
 * repeated header fields bound in `oth` (Headers joins them; wpt-02 §2 does not support them), look at the
 * response with a WPT, or cover `contextTokenHeaders` with an HTTP signature (the profile's covered fields are
 * fixed; the option is refused with `proof: 'http-sig'`).
 */
import type { JWK } from 'jose';
import { MAX_SIGNED_REQUEST_BODY_BYTES } from '../limits.ts';
import { createWimseSigner, type WimseSigner, type WimseSignOptions } from '../mint/wimse-signature.ts';
import { checkContextHeaderName, createWptSigner, type WptSigner } from '../mint/wpt.ts';
import type { WimseSignatureVersion } from '../verify/wimse-signature-common.ts';
import type { WitPolicy } from '../verify/wit.ts';
import { targetAudience } from './audience.ts';
import { readBounded } from '../read-bounded.ts';
import { checkResponse, type ResponderTrust } from './http-signature.ts';
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
  /**
   * `'wpt'` (default): a Workload Proof Token per request. `'http-sig'`: a WIMSE HTTP message signature (RFC 9421
   * profile) over the request, its body (Content-Digest) and its context tokens; needs `responderTrust`.
   */
  proof?: 'wpt' | 'http-sig';
  /** WPT only. `'authorization'`: wpt-02 `Authorization: WPT` (default). `'header'`: wpt-01 `Workload-Proof-Token`. */
  carriage?: 'authorization' | 'header';
  /** The WPT `aud` for a request URL. Default: the URL without query and fragment. */
  audience?: (url: URL) => string;
  /** WPT only. Header fields carrying end-user or authorization context tokens to bind in `oth` when present. */
  contextTokenHeaders?: readonly string[];
  /** Proof (WPT or signature) lifetime in seconds. Default 60 (DEFAULT_WPT_TTL_SECONDS, DEFAULT_HTTP_SIG_TTL_SECONDS). */
  ttlSeconds?: number;
  /** http-sig only: the draft to follow, `'07'` (default; `@path`, `@query`) or `'06'` (`@request-target`). */
  httpSigVersion?: WimseSignatureVersion;
  /**
   * http-sig only. `'verify-if-present'` (default): an unsigned response is accepted, a signed one is verified.
   * `'require'`: the request carries `wimse-sign-response`, and an unsigned response is refused too.
   * A refused response rejects the call with a ResponseSignatureError (`.code`).
   */
  signedResponses?: 'require' | 'verify-if-present';
  /**
   * http-sig only, required: the trust-anchor key of a responder's WIT, `(trustDomain, kid) => JWK | undefined`
   * (verify/wit.ts key source). Return keys only for the trust domains whose workloads may answer.
   */
  responderTrust?: ResponderTrust;
  /** http-sig only: the policy the responder's WIT is verified with (algorithms, issuers, lifetime, skew). */
  responderPolicy?: WitPolicy;
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
  const proof = options.proof ?? 'wpt';
  if (proof !== 'wpt' && proof !== 'http-sig') throw new TypeError('withWorkloadIdentity: proof must be "wpt" or "http-sig"');
  const carriage = options.carriage ?? 'authorization';
  if (carriage !== 'authorization' && carriage !== 'header') throw new TypeError('withWorkloadIdentity: carriage must be "authorization" or "header"');
  const contextHeaders = [...new Set((options.contextTokenHeaders ?? []).map(checkContextHeaderName))];
  const audienceOf = options.audience ?? targetAudience;
  const credentials = credentialSource(options);
  const origins = options.origins === undefined ? undefined : new Set(options.origins.map(checkOrigin));
  const httpSig = proof === 'http-sig' ? httpSigOptions(options) : undefined;
  if (!httpSig) {
    const misplaced = (['httpSigVersion', 'signedResponses', 'responderTrust', 'responderPolicy'] as const).filter((name) => options[name] !== undefined);
    if (misplaced.length > 0) throw new TypeError(`withWorkloadIdentity: ${misplaced.join(', ')} apply to proof "http-sig" only; set proof: "http-sig"`);
  }

  const signerFor = memoSigner<WptSigner>(createWptSigner);
  const wimseSignerFor = memoSigner<WimseSigner>(createWimseSigner);
  if (options.credentials === undefined) (httpSig ? wimseSignerFor : signerFor)({ wit: options.wit as string, key: options.key as JWK }); // check the key early

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

    const redirect = init?.redirect ?? (request.redirect === 'error' ? 'error' : 'manual');
    // fetch keeps Workload-Identity-Token and Workload-Proof-Token on every hop (it strips only Authorization,
    // and only cross-origin), and checks no transport rule on the way: never let it follow.
    if (redirect === 'follow') throw new TypeError('withWorkloadIdentity: redirect "follow" would carry the WIT and proof to the redirect target; follow redirects with a new call');
    if (httpSig) return sendSigned(request, audience, redirect, httpSig);

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
    return fetchImpl(new Request(request, { headers, redirect }));
  };

  async function sendSigned(request: Request, audience: string, redirect: RequestInit['redirect'], http: HttpSigSettings): Promise<Response> {
    const headers = new Headers(request.headers);
    if (headers.has('signature') || headers.has('signature-input')) {
      throw new TypeError('withWorkloadIdentity: the request already carries Signature or Signature-Input; with proof "http-sig" the wrapper adds the WIMSE signature itself');
    }
    let body: Uint8Array<ArrayBuffer> | undefined;
    if (request.body !== null) {
      body = await readBounded(request.body, MAX_SIGNED_REQUEST_BODY_BYTES);
      if (body === undefined) throw new TypeError(`withWorkloadIdentity: the request body exceeds ${MAX_SIGNED_REQUEST_BODY_BYTES} bytes; proof "http-sig" buffers the body to sign its Content-Digest`);
    }
    const current = await credentials();
    const signer = await wimseSignerFor(current);
    headers.set('workload-identity-token', current.wit);
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'identity');
    const sent = { method: request.method, url: request.url, headers };
    const signOptions: WimseSignOptions = { audience, version: http.version, signResponse: http.required };
    if (body !== undefined) signOptions.body = body;
    if (options.ttlSeconds !== undefined) signOptions.ttlSeconds = options.ttlSeconds;
    if (options.now !== undefined) signOptions.now = options.now;
    const fields = await signer(sent, signOptions);
    if (fields['content-digest'] !== undefined) headers.set('content-digest', fields['content-digest']);
    headers.set('signature-input', fields['signature-input']);
    headers.set('signature', fields.signature);

    const response = await fetchImpl(new Request(request, { headers, redirect, ...(body !== undefined ? { body } : {}) }));
    return checkResponse(response, {
      request: sent,
      requestNonce: fields.nonce,
      required: http.required,
      version: http.version,
      responderTrust: http.responderTrust,
      responderPolicy: options.responderPolicy,
      now: options.now ?? Date.now,
    });
  }
}

interface HttpSigSettings {
  version: WimseSignatureVersion;
  required: boolean;
  responderTrust: ResponderTrust;
}

function httpSigOptions(options: WorkloadIdentityOptions): HttpSigSettings {
  if (options.carriage !== undefined) throw new TypeError('withWorkloadIdentity: carriage applies to proof "wpt" only (an HTTP signature travels in Signature and Signature-Input)');
  if ((options.contextTokenHeaders ?? []).length > 0) {
    throw new TypeError('withWorkloadIdentity: contextTokenHeaders applies to proof "wpt" only: the HTTP-signature profile covers a fixed set of fields (Authorization, Txn-Token, ...)');
  }
  const version = options.httpSigVersion ?? '07';
  if (version !== '07' && version !== '06') throw new TypeError('withWorkloadIdentity: httpSigVersion must be "07" or "06"');
  const mode = options.signedResponses ?? 'verify-if-present';
  if (mode !== 'require' && mode !== 'verify-if-present') throw new TypeError('withWorkloadIdentity: signedResponses must be "require" or "verify-if-present"');
  if (typeof options.responderTrust !== 'function') {
    throw new TypeError('withWorkloadIdentity: proof "http-sig" needs responderTrust, the keys of the responders\' WIT issuers: a signed response MUST be verified (draft-ietf-wimse-http-signature-07 §3.4)');
  }
  return { version, required: mode === 'require', responderTrust: options.responderTrust };
}

/** One signer per (WIT, key), re-created when the credentials change; a failure is reported by the request that awaits it. */
function memoSigner<S>(create: (wit: string, key: JWK) => Promise<S>): (credentials: WorkloadCredentials) => Promise<S> {
  let current: { wit: string; key: JWK; signer: Promise<S> } | undefined;
  return ({ wit, key }) => {
    if (current?.wit !== wit || current.key !== key) {
      const signer = create(wit, key);
      signer.catch(() => undefined);
      current = { wit, key, signer };
    }
    return current.signer;
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
