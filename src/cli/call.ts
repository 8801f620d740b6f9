/**
 * `portcullis call <url>`: a small curl that authenticates as a workload (WIT + a fresh WPT per request,
 * client/fetch.ts), for trying a gateway by hand.
 *
 *   call <url> [--data BODY] [--method M] [--header 'Name: value']... [--wit FILE|-] [--workload ID]
 *        [--carriage authorization|header] [--audience URL] [--context-header NAME]... [--insecure-http]
 *
 * Without `--wit` it mints a WIT with the dev issuer for `--workload` (default spiffe://dev.portcullis.local/cli).
 * `--wit` reads `{ "wit", "key" }` as printed by `mint-wit` (`-` for stdin). Method: GET, or POST with --data;
 * --data that parses as JSON is sent as application/json unless a Content-Type header is given. Redirects are
 * printed, not followed (a proof is bound to one URL). Prints the status line and headers, a blank line, then
 * the body as it streams (so SSE works). Exit status 0 for a status below 400, otherwise 1.
 */
import type { JWK } from 'jose';
import { parseCompactJwt } from '../crypto/jws.ts';
import { withWorkloadIdentity, type WorkloadIdentityOptions } from '../client/fetch.ts';
import { transportProblem } from '../client/transport.ts';
import { DEV_DEFAULT_WORKLOAD } from '../mint/dev-issuer.ts';
import { parseCommandArgs, readJsonInput, UsageError } from './args.ts';
import { mintDevWitFromDir } from './dev-issuer.ts';

const OPTIONS = {
  data: { type: 'string', short: 'd' },
  method: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  wit: { type: 'string' },
  workload: { type: 'string' },
  carriage: { type: 'string' },
  audience: { type: 'string' },
  'context-header': { type: 'string', multiple: true },
  'insecure-http': { type: 'boolean' },
} as const;

export async function callCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('call', args, OPTIONS, { min: 1, max: 1 });
  let url: URL;
  try {
    url = new URL(positionals[0] as string);
  } catch {
    throw new UsageError('call: the first argument must be an absolute http(s) URL');
  }
  if (transportProblem(url, values['insecure-http'] === true)) {
    throw new Error(`call: refusing to send workload credentials over ${url.protocol.replace(/:$/, '')} to ${url.hostname}: use https, a loopback host, or --insecure-http when something else secures the channel`);
  }
  const carriage = values.carriage ?? 'authorization';
  if (carriage !== 'authorization' && carriage !== 'header') throw new UsageError('call: --carriage is "authorization" (wpt-02) or "header" (wpt-01)');
  if (values.wit !== undefined && values.workload !== undefined) throw new UsageError('call: --workload names the WIT to mint; it cannot be combined with --wit');

  const headers = new Headers();
  for (const line of values.header ?? []) {
    const colon = line.indexOf(':');
    if (colon < 1) throw new UsageError(`call: --header wants "Name: value", got ${JSON.stringify(line.slice(0, 40))}`);
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      throw new UsageError(`call: --header ${JSON.stringify(line.slice(0, colon))} is not a valid header field`);
    }
  }
  if (values.data !== undefined && !headers.has('content-type') && isJson(values.data)) headers.set('content-type', 'application/json');

  const credentials = await loadCredentials(values.wit, values.workload);
  const options: WorkloadIdentityOptions = { ...credentials, carriage, allowInsecureHttp: values['insecure-http'] === true };
  if (values.audience !== undefined) {
    const audience = values.audience;
    options.audience = () => audience;
  }
  if (values['context-header'] !== undefined) options.contextTokenHeaders = values['context-header'];
  const send = withWorkloadIdentity(fetch, options);
  const sub = parseCompactJwt(credentials.wit);
  console.error(`portcullis: calling as ${sub.ok && typeof sub.value.claims.sub === 'string' ? sub.value.claims.sub : '(unknown subject)'} with ${carriage === 'authorization' ? 'Authorization: WPT (wpt-02)' : 'Workload-Proof-Token (wpt-01)'}`);

  const init: RequestInit = { method: values.method ?? (values.data === undefined ? 'GET' : 'POST'), headers };
  if (values.data !== undefined) init.body = values.data;
  let response: Response;
  try {
    response = await send(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause ? `cannot reach ${url.origin} (${cause.code ?? cause.message})` : (error as Error).message);
  }
  const lines = [`HTTP ${response.status} ${response.statusText}`.trimEnd()];
  response.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  process.stdout.write(`${lines.join('\n')}\n\n`);
  if (response.body) {
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) process.stdout.write(chunk.value);
  }
  return response.status < 400 ? 0 : 1;
}

async function loadCredentials(witFile: string | undefined, workload: string | undefined): Promise<{ wit: string; key: JWK }> {
  if (witFile === undefined) {
    const minted = await mintDevWitFromDir(workload ?? DEV_DEFAULT_WORKLOAD);
    return { wit: minted.wit, key: minted.key };
  }
  const value = (await readJsonInput(witFile, '--wit')) as { wit?: unknown; key?: unknown } | null;
  if (typeof value?.wit !== 'string' || typeof value.key !== 'object' || value.key === null) {
    throw new Error('--wit: expected a JSON object { "wit": "<token>", "key": { <private JWK> } }, as printed by portcullis mint-wit');
  }
  return { wit: value.wit, key: value.key as JWK };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
