/**
 * The audit event: one per gateway decision. It carries the stable reason code and a detail that the wire
 * response deliberately does not (DESIGN principle 2). It never carries a token, key or secret: an
 * authenticated caller appears as a Principal, whose credential is named by its hash.
 */
import type { Principal } from '../identity/principal.ts';

export interface AuditEvent {
  /** ISO 8601 time the request arrived. */
  time: string;
  requestId: string;
  /** `allow`: sent upstream; `deny`: refused by the gateway; `error`: the gateway could not complete it. */
  decision: 'allow' | 'deny' | 'error';
  /** Stable code for the outcome, e.g. `PUBLIC_ROUTE`, `AUTHENTICATED`, `ERR_WPT_REPLAYED`, `ERR_UPSTREAM_TIMEOUT`. */
  reason: string;
  /** HTTP status returned to the caller. */
  status: number;
  method: string;
  /** Request path (no query: queries may carry secrets). */
  path: string;
  /** Mount path of the matched route, absent when none matched. */
  route?: string;
  protocol?: string;
  /** Client address as reported by the runtime (never from caller-supplied headers). */
  client?: string;
  /** Status the upstream answered with, when it was reached. */
  upstreamStatus?: number;
  /** Milliseconds from arrival to response headers. */
  durationMs: number;
  /** Non-secret detail for operators. */
  detail?: string;
  /** Who the request was authenticated as, once the authentication stage accepted it (also on later errors). */
  principal?: Principal;
  /** On A2A routes, once the call was read: the method by its A2A 1.0 name (absent when unknown), as sent, whether it
   * was a 0.3 call, and the task it names. */
  a2a?: { method?: string; wireMethod: string; legacy: boolean; taskId?: string };
}

/** Where audit events go. `emit` must not throw; slow sinks return a promise the runtime keeps alive. */
export interface AuditSink {
  emit(event: AuditEvent): void | Promise<void>;
}
