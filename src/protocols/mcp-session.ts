/**
 * Binding legacy MCP sessions (`Mcp-Session-Id`) to the principal that opened them, so a session id that leaks
 * (logs, a shared proxy, a guessed id) is useless to any other caller.
 *
 * Spec: MCP 2025-11-25 basic/transports §Session Management (a server MAY assign a session id on the HTTP
 * response carrying the InitializeResult; the client sends it on every later request; DELETE ends it); MCP
 * security best practices §Session Hijacking ("MCP servers MUST NOT use sessions for authentication", "SHOULD bind
 * session IDs to user-specific information"). The 2026-07-28 revision has no sessions: this is legacy-only.
 *
 * Checks: a session id is answered `ok` only for the owner it was bound to; a live binding to one owner is never
 * replaced by another (the first owner keeps the session, a later one checks as `foreign`); a stored value of the
 * wrong shape checks as `foreign` (fail closed). Store keys are `mcp-session:<base64url(SHA-256(session id))>`
 * (with a namespace: `mcp-session:<namespace>:<hash>`), values `{ owner }` where the owner is itself a hash.
 *
 * Does NOT: authenticate anyone (the caller re-verifies credentials on every request and passes the principal);
 * refresh a binding on `check` (the caller re-binds when the upstream answers with the session id again);
 * decide what `unknown` means (a binding lost with an in-memory cache, or a session the upstream never minted);
 * make bind atomic (the Cache port has no set-if-absent: two first binds racing for one fresh id are last-wins,
 * which needs the upstream to hand one session id to two principals at once).
 */
import { sha256b64url } from '../crypto/digest.ts';
import type { Principal } from '../identity/principal.ts';
import type { Cache } from '../state/ports.ts';

export interface SessionBinding {
  /** Called when an upstream response carries Mcp-Session-Id (the InitializeResult): records session -> owner for ttlMs. */
  bind(sessionId: string, owner: string, ttlMs: number): Promise<void>;
  /** 'ok' when bound to this owner (and refreshes nothing); 'foreign' when bound to another owner; 'unknown' when never bound or expired. */
  check(sessionId: string, owner: string): Promise<'ok' | 'foreign' | 'unknown'>;
  /** After a DELETE the upstream accepted. */
  end(sessionId: string): Promise<void>;
}

export interface SessionBindingOptions {
  /**
   * Keeps the bindings of one upstream apart from another's (two servers may mint the same id): 1 to
   * MAX_NAMESPACE_LENGTH visible ASCII characters, e.g. a route id.
   */
  namespace?: string;
}

interface StoredBinding {
  owner: string;
}

const KEY_PREFIX = 'mcp-session';
/** Keeps `mcp-session:<namespace>:<43-character hash>` well under MAX_STATE_KEY_LENGTH. */
const MAX_NAMESPACE_LENGTH = 128;
const NAMESPACE = /^[\x21-\x7E]+$/;
/** Domain separation: an owner hash can never equal a hash computed for another purpose. */
const OWNER_CONTEXT = 'portcullis/mcp-session-owner/v1';

export function sessionBinding(cache: Cache, options: SessionBindingOptions = {}): SessionBinding {
  const { namespace } = options;
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length > MAX_NAMESPACE_LENGTH || !NAMESPACE.test(namespace))) {
    throw new RangeError(`namespace must be 1 to ${MAX_NAMESPACE_LENGTH} visible ASCII characters`);
  }
  const prefix = namespace === undefined ? `${KEY_PREFIX}:` : `${KEY_PREFIX}:${namespace}:`;
  const keyOf = async (sessionId: string): Promise<string> => {
    checkArgument(sessionId, 'sessionId');
    return prefix + (await sha256b64url(sessionId));
  };
  const ownerOf = async (key: string): Promise<string | null | undefined> => {
    const stored = await cache.get<unknown>(key);
    if (stored === undefined) return undefined;
    const owner = typeof stored === 'object' && stored !== null ? (stored as Partial<StoredBinding>).owner : undefined;
    return typeof owner === 'string' ? owner : null; // null: a value of the wrong shape
  };

  return {
    async bind(sessionId, owner, ttlMs) {
      checkArgument(owner, 'owner');
      if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('ttlMs must be a positive finite number');
      const key = await keyOf(sessionId);
      const current = await ownerOf(key);
      if (current !== undefined && current !== owner) return; // the first owner keeps the session (or the odd value stays, and checks as foreign)
      const value: StoredBinding = { owner };
      await cache.set(key, value, ttlMs);
    },
    async check(sessionId, owner) {
      checkArgument(owner, 'owner');
      const current = await ownerOf(await keyOf(sessionId));
      if (current === undefined) return 'unknown';
      return current === owner ? 'ok' : 'foreign';
    },
    async end(sessionId) {
      await cache.delete(await keyOf(sessionId));
    },
  };
}

/**
 * The owner a session is bound to: base64url(SHA-256) over the principal's identity — trust domain and workload
 * id, and the access token's issuer and subject when a user is present — so the same workload (or user) keeps
 * its session across credential renewals and key rotation, and nobody else matches. Rejects a principal that
 * names neither a workload nor a user (there is no one to bind to).
 */
export async function sessionOwner(principal: Principal): Promise<string> {
  const p = principal as { workloadId?: string; trustDomain?: string; user?: { issuer: string; subject: string; tokenHash?: string } };
  const workload = typeof p.workloadId === 'string' ? [p.trustDomain ?? null, p.workloadId] : null;
  // An introspection answer naming neither `sub` nor `client_id` gives subject '': every such token of the issuer
  // would be one owner, so the session is bound to that token alone (its hash) instead.
  const user = p.user !== undefined && p.user !== null ? (p.user.subject === '' ? [p.user.issuer, '', p.user.tokenHash ?? null] : [p.user.issuer, p.user.subject]) : null;
  if (workload === null && user === null) throw new TypeError('the principal names neither a workload nor a user');
  // JSON arrays of strings and nulls: an unambiguous encoding, so no two identities share an input.
  return sha256b64url(JSON.stringify([OWNER_CONTEXT, workload, user]));
}

function checkArgument(value: string, name: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new RangeError(`${name} must be a non-empty string`);
}
