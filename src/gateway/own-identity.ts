/**
 * The gateway's own workload identity: a WIT and its private confirmation key, as an Identity Server issued them
 * to the gateway (the JSON `{ "wit": ..., "key": <private JWK> }` that `portcullis mint-wit` prints, from a file
 * or an environment variable / Workers secret). The gateway signs responses with it (http-signature-07 §3.4), signs
 * its RFC 9728 metadata when asked (`signed_metadata`; the key is then published as the gateway's JWK Set) and
 * authenticates itself to upstreams with it (WIMSE architecture: the gateway replaces the caller's identity with
 * its own, explicitly, rather than forwarding the caller's credentials).
 *
 * Loaded on first use and kept in memory; loaded again once half of the WIT's lifetime has passed (so a file
 * rewritten by an agent, or a rotated secret, is picked up before the old WIT expires), and whenever the one in
 * memory has expired. A load that fails keeps the previous identity while it is valid, and is retried at most
 * every OWN_IDENTITY_RETRY_MS; with none valid, `current()` throws OwnIdentityUnavailableError and callers fail
 * closed (503).
 *
 * Checks on load: the text is JSON with a compact `wit` and a private `key`; the key is the private half of the
 * WIT's `cnf.jwk` with the same `alg` (mint/confirmation-key.ts); the WIT has not expired; its `sub`, when
 * `workloadId` is configured, is that identifier. Does NOT verify the WIT's signature: the recipients do, against
 * the trust anchors of the gateway's trust domain.
 */
import type { JWK } from 'jose';
import { parseCompactJwt } from '../crypto/jws.ts';
import { MAX_CONFIG_BYTES, OWN_IDENTITY_RETRY_MS } from '../limits.ts';
import { createWimseSigner, type WimseSigner } from '../mint/wimse-signature.ts';
import { createWptSigner, type WptSigner } from '../mint/wpt.ts';
import { createMetadataSigner, type MetadataSigner } from '../mint/metadata-signer.ts';

export class OwnIdentityUnavailableError extends Error {
  override name = 'OwnIdentityUnavailableError';
}

export interface OwnIdentity {
  wit: string;
  subject: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  wpt: WptSigner;
  httpSig: WimseSigner;
  /** Signs RFC 9728 `signed_metadata` with the same key; its public JWK is the gateway's JWK Set. */
  metadata: MetadataSigner;
}

export interface OwnIdentitySource {
  /** The identity to use now; throws OwnIdentityUnavailableError when there is none that is valid. */
  current(): Promise<OwnIdentity>;
}

export function ownIdentity(load: () => Promise<string | undefined>, options: { workloadId?: string | undefined; now: () => number }): OwnIdentitySource {
  let held: { identity: OwnIdentity; reloadAt: number } | undefined;
  let pending: Promise<void> | undefined;
  let lastFailure = 'not loaded yet';
  /** After a failed load, no new attempt before this (epoch ms): a broken source is not read on every request. */
  let retryAt = 0;

  const reload = async () => {
    try {
      const text = await load();
      if (text === undefined || text === '') throw new Error('the source is empty or not set');
      const identity = await parse(text, options.workloadId, options.now());
      const issuedAt = Math.min(options.now(), identity.expiresAt);
      held = { identity, reloadAt: issuedAt + (identity.expiresAt - issuedAt) / 2 };
    } catch (error) {
      lastFailure = error instanceof Error ? error.message : String(error);
      retryAt = options.now() + OWN_IDENTITY_RETRY_MS;
    }
  };

  return {
    async current() {
      const now = options.now();
      if ((!held || now >= held.reloadAt) && now >= retryAt) {
        pending ??= reload().finally(() => {
          pending = undefined;
        });
        await pending;
      }
      if (!held || options.now() >= held.identity.expiresAt) throw new OwnIdentityUnavailableError(`the gateway's own identity is unavailable: ${lastFailure}`);
      return held.identity;
    },
  };
}

async function parse(text: string, workloadId: string | undefined, now: number): Promise<OwnIdentity> {
  if (text.length > MAX_CONFIG_BYTES) throw new Error('the identity document is too large');
  let doc: { wit?: unknown; key?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new Error('the identity document is not JSON');
  }
  if (typeof doc?.wit !== 'string' || typeof doc.key !== 'object' || doc.key === null) throw new Error('the identity document needs "wit" (a compact WIT) and "key" (its private JWK)');
  const parsed = parseCompactJwt(doc.wit);
  if (!parsed.ok) throw new Error(`wit is not a compact JWT: ${parsed.detail}`);
  const { sub, exp } = parsed.value.claims;
  if (typeof sub !== 'string' || typeof exp !== 'number') throw new Error('wit has no sub or exp');
  if (workloadId !== undefined && sub !== workloadId) throw new Error(`wit names ${sub}, not the configured ${workloadId}`);
  if (exp * 1000 <= now) throw new Error('wit has expired');
  // Each signer checks that the key is the private half of cnf.jwk, with its alg.
  const [wpt, httpSig, metadata] = await Promise.all([createWptSigner(doc.wit, doc.key as JWK), createWimseSigner(doc.wit, doc.key as JWK), createMetadataSigner(doc.wit, doc.key as JWK)]);
  return { wit: doc.wit, subject: sub, expiresAt: exp * 1000, wpt, httpSig, metadata };
}
