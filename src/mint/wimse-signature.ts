/**
 * Signs HTTP messages with the WIMSE HTTP-signature profile (draft-ietf-wimse-http-signature-07, RFC 9421), with
 * the private key of a WIT's `cnf.jwk` and its `alg` (RFC 9421 §3.3.7: the raw JWS signature over the base).
 *
 * Requests (§3.1, §3.2): covers `@method`, `@path`, `@query` (-06: `@method`, `@request-target`) and each of
 * `content-type`, `content-digest`, `authorization`, `txn-token`, `workload-identity-token` present; parameters
 * `created`, `expires`, `nonce` (128 random bits), `tag`, `wimse-aud`, and `wimse-sign-response` when asked. A
 * body gets a `Content-Digest` (sha-256, RFC 9530) first, so the signature covers it.
 * Responses (§3.4): covers `@status`, `workload-identity-token`, `content-type` and `content-digest` when present,
 * `@method;req`, `@path;req`, `@query;req` (-06: `@request-target;req`); parameters `created`, `expires`, `nonce`,
 * `tag`, `wimse-req-nonce`.
 *
 * Returns the fields to set; the caller sets them (and `Workload-Identity-Token`, which must be on the message
 * before signing, since the signature covers it). Does NOT send anything or follow redirects.
 */
import type { JWK } from 'jose';
import { verifyParams, type AsymmetricJwsAlgorithm } from '../crypto/algorithms.ts';
import { randomId } from '../crypto/random.ts';
import { digestField } from '../http-sig/content-digest.ts';
import { fieldLines, type HttpSigMessage } from '../http-sig/message.ts';
import { signMessage } from '../http-sig/sign.ts';
import { DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS } from '../limits.ts';
import { WIMSE_SIGNATURE_TAG, type WimseSignatureVersion } from '../verify/wimse-signature.ts';
import { bindConfirmationKey } from './confirmation-key.ts';
import { checkedTtl } from './wit.ts';

/** Default signature lifetime: like a WPT, a minute covers a slow request while keeping replay windows short. */
export const DEFAULT_HTTP_SIG_TTL_SECONDS = 60;

export interface WimseSignOptions {
  /** `wimse-aud` (requests): the recipient's audience, by default its URL without query. */
  audience?: string;
  /** The body as it will be sent; a Content-Digest is added for it. */
  body?: Uint8Array<ArrayBuffer>;
  /** Ask the recipient to sign its response (`wimse-sign-response`). */
  signResponse?: boolean;
  /** For responses: the `nonce` of the request answered (`wimse-req-nonce`). */
  requestNonce?: string;
  version?: WimseSignatureVersion;
  ttlSeconds?: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** The fields a signer adds. `content-digest` only when a body was given. */
export interface WimseSignatureFields {
  'signature-input': string;
  signature: string;
  'content-digest'?: string;
  /** The `nonce` used: a client keeps it to check `wimse-req-nonce` on the response. */
  nonce: string;
}

export type WimseSigner = (message: HttpSigMessage, options?: WimseSignOptions) => Promise<WimseSignatureFields>;

const CONTEXT_FIELDS = ['content-type', 'content-digest', 'authorization', 'txn-token', 'workload-identity-token'];

/** Checks that `key` is the private half of the WIT's `cnf.jwk` and returns a signer for requests and responses. */
export async function createWimseSigner(wit: string, key: JWK): Promise<WimseSigner> {
  const { signing, witExp } = await bindConfirmationKey(wit, key);
  const params = verifyParams(signing.alg as AsymmetricJwsAlgorithm);
  const sign = async (data: Uint8Array<ArrayBuffer>) => new Uint8Array(await crypto.subtle.sign(params, signing.key, data));

  return async (message, options = {}) => {
    const version = options.version ?? '07';
    const ttl = checkedTtl(options.ttlSeconds, DEFAULT_HTTP_SIG_TTL_SECONDS, DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS, 'ttlSeconds');
    const now = Math.floor((options.now ?? Date.now)() / 1000);
    if (now >= witExp) throw new RangeError('the WIT has expired: get a new WIT (and key) before signing more messages');
    const response = message.status !== undefined;
    const fields: Partial<WimseSignatureFields> = {};
    let signed = message;
    if (options.body !== undefined && options.body.byteLength > 0) {
      fields['content-digest'] = await digestField(options.body);
      signed = { ...message, headers: withField(message, 'content-digest', fields['content-digest']) };
    }
    const present = (name: string) => fieldLines(signed.headers, name) !== undefined;
    const derived = response
      ? ['@status']
      : version === '07' ? ['@method', '@path', '@query'] : ['@method', '@request-target'];
    const requestParts = version === '07' ? ['@method', '@path', '@query'] : ['@method', '@request-target'];
    const components = response
      ? [...derived, ...['workload-identity-token', 'content-type', 'content-digest'].filter(present), ...requestParts.map((name) => ({ name, params: { req: true as const } }))]
      : [...derived, ...CONTEXT_FIELDS.filter(present)];
    const nonce = randomId();
    const sigParams: Record<string, string | number | boolean> = { created: now, expires: now + ttl, nonce, tag: WIMSE_SIGNATURE_TAG };
    if (response) {
      if (typeof options.requestNonce !== 'string' || options.requestNonce.length === 0) throw new TypeError('a response signature needs requestNonce (wimse-req-nonce)');
      sigParams['wimse-req-nonce'] = options.requestNonce;
    } else {
      const audience = options.audience ?? defaultAudience(message.url);
      sigParams['wimse-aud'] = audience;
      if (options.signResponse) sigParams['wimse-sign-response'] = true;
    }
    const result = await signMessage(signed, { label: version === '06' ? 'wimse' : 'sig1', components, params: sigParams, sign });
    if (!result.ok) throw new TypeError(`cannot sign the message: ${result.code} (${result.detail})`);
    return { ...fields, 'signature-input': result.value.signatureInput, signature: result.value.signatureField, nonce };
  };
}

function defaultAudience(url: string | undefined): string {
  if (url === undefined) throw new TypeError('a request needs its url (or an audience) to be signed');
  const target = new URL(url);
  return `${target.origin}${target.pathname}`;
}

/** The message's headers with one field set, as a Headers object (the message itself is left alone). */
function withField(message: HttpSigMessage, name: string, value: string): Headers {
  const headers = new Headers();
  const source = message.headers;
  if (typeof (source as Headers).forEach === 'function' && typeof (source as Headers).get === 'function') {
    (source as Headers).forEach((v, k) => headers.append(k, v));
  } else if (Array.isArray(source)) {
    for (const [k, v] of source as ReadonlyArray<readonly [string, string]>) headers.append(k, v);
  } else {
    for (const [k, v] of Object.entries(source as Record<string, string | readonly string[]>)) for (const one of typeof v === 'string' ? [v] : v) headers.append(k, one);
  }
  headers.set(name, value);
  return headers;
}
