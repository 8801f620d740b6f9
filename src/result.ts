/**
 * The outcome of every pure verifier (DESIGN principle 1): a value, or a stable error code with a
 * non-secret detail for the audit trail. Wire responses are derived from the code, never from the detail.
 */
export type Result<T, Code extends string = string> = { ok: true; value: T } | { ok: false; code: Code; detail: string };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

export const fail = <Code extends string>(code: Code, detail: string): { ok: false; code: Code; detail: string } => ({ ok: false, code, detail });
