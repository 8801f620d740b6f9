import type { AuditEvent, AuditSink } from './event.ts';

/** JSON lines through `console.log`: stdout on Node, Deno and Bun; Workers Logs on Cloudflare. */
export function stdoutSink(): AuditSink {
  return { emit: (event) => console.log(JSON.stringify({ audit: event })) };
}

export function noopSink(): AuditSink {
  return { emit: () => {} };
}

/** Keeps events in an array; for tests and embedding. */
export function memorySink(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, emit: (event) => void events.push(event) };
}
