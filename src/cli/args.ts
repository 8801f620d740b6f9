/** Shared plumbing for the `portcullis` subcommands: option parsing (node:util parseArgs), usage errors, stdin. */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in the command line: main.ts prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict parse: unknown options, missing values and extra positionals are UsageErrors naming the command. */
export function parseCommandArgs<T extends Options>(command: string, args: readonly string[], options: T, positionals: { min: number; max: number }) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split(/\.\s|\n/)[0]}`);
  }
  if (parsed.positionals.length < positionals.min) throw new UsageError(`${command}: missing argument`);
  if (parsed.positionals.length > positionals.max) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`);
  return parsed;
}

/** A whole number of seconds from an option value. */
export function secondsOption(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`${name}: expected whole seconds from 1 to ${max}, got ${JSON.stringify(value.slice(0, 20))}`);
  return Number(value);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads `path` (or stdin for `-`) as JSON; errors name the file, never its content. */
export async function readJsonInput(path: string, what: string): Promise<unknown> {
  const text = path === '-' ? await readStdin() : await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${what}: cannot read ${path} (${error.code ?? error.message})`);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: ${path === '-' ? 'stdin' : path} is not JSON`);
  }
}
