#!/usr/bin/env node
/**
 * The `portcullis` command (Node >= 22.12).
 *   portcullis serve --config FILE [--port N] [--hostname H]   run the gateway on Node
 *   portcullis config check FILE                               validate a config file, list every problem
 *   portcullis config schema                                   print the config JSON Schema
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, formatProblems, parseConfigText } from '../config/load.ts';
import { configJsonSchema } from '../config/json-schema.ts';
import { gatewayFromFile, serveNode } from '../runtime/node.ts';
import { parseServeArgs } from '../runtime/serve-options.ts';

const USAGE = `usage:
  portcullis serve --config FILE [--port N] [--hostname H]
  portcullis config check FILE
  portcullis config schema`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') {
    const options = parseServeArgs(rest);
    const server = await serveNode(await gatewayFromFile(options.configPath), options);
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return -1; // keep running
  }
  if (command === 'config' && rest[0] === 'check' && rest[1]) {
    const result = parseConfigText(await readFile(rest[1], 'utf8'));
    if (result.ok) {
      console.log(`${rest[1]}: ok (${result.config.routes.length} route${result.config.routes.length === 1 ? '' : 's'})`);
      return 0;
    }
    console.error(`${rest[1]}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}\n${formatProblems(result.problems)}`);
    return 1;
  }
  if (command === 'config' && rest[0] === 'schema') {
    console.log(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (error: unknown) => {
    // Expected failures print a message, never a stack trace.
    console.error(error instanceof ConfigError ? error.message : `portcullis: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
