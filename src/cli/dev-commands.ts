/**
 * `portcullis mint-wit` and `portcullis dev-jwks`: the dev trust domain `spiffe://dev.portcullis.local` from
 * the command line (DESIGN "Local development stack"). The issuer key is created on first use (cli/dev-issuer.ts).
 *
 *   mint-wit <workload-id> [--ttl S]   prints { "wit": ..., "key": <the WIT holder's private JWK> }
 *   dev-jwks                           prints the dev issuer's public JWKS
 * Neither ever prints the issuer's private key.
 */
import { DEFAULT_WIT_MAX_LIFETIME_SECONDS } from '../limits.ts';
import { DEV_TRUST_DOMAIN_ID } from '../mint/dev-issuer.ts';
import { parseCommandArgs, secondsOption } from './args.ts';
import { loadDevIssuer, mintDevWitFromDir, type DevIssuer } from './dev-issuer.ts';

export async function mintWitCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('mint-wit', args, { ttl: { type: 'string' } }, { min: 1, max: 1 });
  const ttlSeconds = secondsOption('mint-wit: --ttl', values.ttl, DEFAULT_WIT_MAX_LIFETIME_SECONDS);
  const minted = await mintDevWitFromDir(positionals[0] as string, ttlSeconds === undefined ? {} : { ttlSeconds });
  if (minted.issuerCreated) noteCreated(minted.issuerPath);
  process.stdout.write(`${JSON.stringify({ wit: minted.wit, key: minted.key }, null, 2)}\n`);
  return 0;
}

export async function devJwksCommand(args: readonly string[]): Promise<number> {
  parseCommandArgs('dev-jwks', args, {}, { min: 0, max: 0 });
  const issuer = (await loadDevIssuer()) as DevIssuer;
  if (issuer.created) noteCreated(issuer.path);
  process.stdout.write(`${JSON.stringify(issuer.jwks, null, 2)}\n`);
  return 0;
}

function noteCreated(path: string): void {
  console.error(`portcullis: created a dev issuer key for ${DEV_TRUST_DOMAIN_ID} at ${path} (restart a running dev gateway so it trusts it)`);
}
