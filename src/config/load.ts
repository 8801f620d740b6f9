/**
 * Turning untrusted config input (a JSON text, a Workers variable, an object from code) into a validated
 * GatewayConfig, or into the full list of problems, each with its path and reason. Pure: reading files is
 * the caller's job (cli/, runtime/).
 */
import { MAX_CONFIG_BYTES } from '../limits.ts';
import { gatewayConfigSchema, type GatewayConfig } from './schema.ts';

export interface ConfigProblem {
  /** JSON path of the offending value, e.g. `routes[0].upstream`; empty for the document itself. */
  path: string;
  message: string;
}

export type ConfigResult = { ok: true; config: GatewayConfig } | { ok: false; problems: ConfigProblem[] };

/** Thrown by {@link assertConfig}; its message lists every problem, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], source = 'config') {
    super(`invalid ${source}:\n${formatProblems(problems)}`);
    this.problems = problems;
  }
}

export function parseConfig(input: unknown): ConfigResult {
  const result = gatewayConfigSchema.safeParse(input);
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    problems: result.error.issues.flatMap((issue) =>
      // One problem per unknown key, located at the key itself, reads better than one for the parent object.
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }))
        : issue.code === 'invalid_key'
          ? // A bad record key (a trust domain origin): its own messages, not zod's generic "Invalid key in record".
            issue.issues.map((inner) => ({ path: formatPath(issue.path), message: inner.message }))
          : [{ path: formatPath(issue.path), message: issue.message }],
    ),
  };
}

/** Parses a JSON document (a file's text or a Workers variable) and validates it. */
export function parseConfigText(text: string): ConfigResult {
  if (text.length > MAX_CONFIG_BYTES) return { ok: false, problems: [{ path: '', message: `larger than ${MAX_CONFIG_BYTES} bytes` }] };
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    // Not the engine's message: V8 and JavaScriptCore quote the input around the error, and config can
    // hold secrets. `JSON.parse` in any editor or `node -e` finds the spot.
    return { ok: false, problems: [{ path: '', message: 'not valid JSON' }] };
  }
  return parseConfig(input);
}

/** Validates config given as an object, a JSON text, or an already parsed value; throws ConfigError. */
export function assertConfig(input: unknown, source?: string): GatewayConfig {
  const result = typeof input === 'string' ? parseConfigText(input) : parseConfig(input);
  if (!result.ok) throw new ConfigError(result.problems, source);
  return result.config;
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.path || '(document)'}: ${p.message}`).join('\n');
}

/** `routes[0].auth`, and `trustDomains["spiffe://td"].jwks` for keys that are not plain names. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += `[${JSON.stringify(key)}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
