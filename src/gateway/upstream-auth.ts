/**
 * The gateway authenticating itself to an upstream (route `upstreamAuth`): its own WIT in
 * `Workload-Identity-Token` and a proof made for the upstream's audience, either a WPT in `Authorization`
 * (wpt-02 §2) or a WIMSE HTTP signature (http-signature-07 §3), which covers the body through Content-Digest, so a
 * streamed body is read whole first (bounded by the route's limit, 413 beyond). The caller's own credentials are
 * already gone (headers.ts): the upstream learns who the gateway is, and nothing it could replay elsewhere.
 *
 * Audience: the configured one, else the upstream URL of this request without query (what a WIMSE recipient
 * identifies itself with by default).
 */
import { readBounded } from '../read-bounded.ts';
import type { OwnIdentitySource } from './own-identity.ts';

export interface UpstreamAuthConfig {
  proof: 'wpt' | 'http-sig';
  audience?: string | undefined;
}

export interface UpstreamAuthContext {
  identity: OwnIdentitySource | undefined;
  method: string;
  target: URL;
  /** The upstream request's headers; the identity fields are set on them. */
  headers: Headers;
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null;
  maxBodyBytes: number;
}

export type UpstreamAuthOutcome =
  | { ok: true; body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null }
  | { ok: false; code: 'ERR_OWN_IDENTITY_UNAVAILABLE' | 'ERR_BODY_TOO_LARGE'; detail: string };

export async function presentOwnIdentity(config: UpstreamAuthConfig, ctx: UpstreamAuthContext): Promise<UpstreamAuthOutcome> {
  let identity;
  try {
    if (!ctx.identity) throw new Error('no identity configured');
    identity = await ctx.identity.current();
  } catch (error) {
    return { ok: false, code: 'ERR_OWN_IDENTITY_UNAVAILABLE', detail: error instanceof Error ? error.message : 'identity unavailable' };
  }
  const audience = config.audience ?? `${ctx.target.origin}${ctx.target.pathname}`;
  ctx.headers.set('workload-identity-token', identity.wit);
  if (config.proof === 'wpt') {
    ctx.headers.set('authorization', `WPT ${await identity.wpt({ audience })}`);
    return { ok: true, body: ctx.body };
  }
  let body = ctx.body;
  if (body instanceof ReadableStream) {
    const read = await readBounded(body, ctx.maxBodyBytes);
    if (read === undefined) return { ok: false, code: 'ERR_BODY_TOO_LARGE', detail: `body over ${ctx.maxBodyBytes} bytes, read to sign it for the upstream` };
    body = read;
  }
  const fields = await identity.httpSig({ method: ctx.method, url: ctx.target.href, headers: ctx.headers }, { audience, ...(body && body.byteLength > 0 ? { body } : {}) });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') ctx.headers.set(name, value);
  return { ok: true, body };
}
