#!/usr/bin/env node
/**
 * The `portcullis` command (Node >= 22.18: runs .ts files without flags).
 *   portcullis serve --config FILE [--port N] [--hostname H]   run the gateway on Node
 *   portcullis config check FILE                               validate a config file, list every problem
 *   portcullis config schema                                   print the config JSON Schema
 *   portcullis mint-wit <workload-id> [--ttl S]                a dev WIT and its private key (cli/dev-commands.ts)
 *   portcullis dev-jwks                                        the dev issuer's public JWKS
 *   portcullis call <url> [options]                            a curl that sends a WIT + WPT or HTTP signature (cli/call.ts)
 *   portcullis explain <token|-> [--jwks FILE]                 decode a WIT or WPT, say why it fails (cli/explain.ts)
 * The dev issuer key lives in $PORTCULLIS_DEV_DIR, else ./.dev (cli/dev-issuer.ts).
 * Each command loads its modules when it runs, so `mint-wit` does not pay for loading the gateway.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.ts';

const USAGE = `usage:
  portcullis serve --config FILE [--port N] [--hostname H]
  portcullis config check FILE
  portcullis config schema
  portcullis mint-wit <workload-id> [--ttl SECONDS]
  portcullis dev-jwks
  portcullis call <url> [--data BODY] [--method M] [--header 'Name: value']... [--wit FILE|-]
                  [--workload ID] [--sign wpt|httpsig] [--sign-response] [--responder-jwks FILE]
                  [--carriage authorization|header] [--audience URL] [--context-header NAME]...
                  [--insecure-http]
  portcullis explain <token|-> [--jwks FILE]
dev WITs come from the issuer of spiffe://dev.portcullis.local, kept in $PORTCULLIS_DEV_DIR (default ./.dev)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') {
    const { parseServeArgs } = await import('../runtime/serve-options.ts');
    const { gatewayFromFile, serveNode } = await import('../runtime/node.ts');
    const options = parseServeArgs(rest);
    const server = await serveNode(await gatewayFromFile(options.configPath), options);
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return -1; // keep running
  }
  if (command === 'config' && rest[0] === 'check' && rest[1]) {
    const { formatProblems, parseConfigText } = await import('../config/load.ts');
    const result = parseConfigText(await readFile(rest[1], 'utf8'));
    if (result.ok) {
      console.log(`${rest[1]}: ok (${result.config.routes.length} route${result.config.routes.length === 1 ? '' : 's'})`);
      return 0;
    }
    console.error(`${rest[1]}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}\n${formatProblems(result.problems)}`);
    return 1;
  }
  if (command === 'config' && rest[0] === 'schema') {
    const { configJsonSchema } = await import('../config/json-schema.ts');
    console.log(JSON.stringify(configJsonSchema(), null, 2));
    return 0;
  }
  if (command === 'mint-wit') return (await import('./dev-commands.ts')).mintWitCommand(rest);
  if (command === 'dev-jwks') return (await import('./dev-commands.ts')).devJwksCommand(rest);
  if (command === 'call') return (await import('./call.ts')).callCommand(rest);
  if (command === 'explain') return (await import('./explain.ts')).explainCommand(rest);
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (error: unknown) => {
    // Expected failures print a message, never a stack trace.
    if (error instanceof UsageError) {
      console.error(`portcullis ${error.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    // ConfigError (config/load.ts), matched by name so this file need not load the config module.
    console.error((error as Error).name === 'ConfigError' ? (error as Error).message : `portcullis: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
