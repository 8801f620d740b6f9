export type { AuditEvent, AuditSink } from './event.ts';
export { stdoutSink, noopSink, memorySink } from './sinks.ts';
