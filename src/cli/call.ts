/**
 * `portcullis call <url>`: a small curl that authenticates as a workload (WIT + a fresh WPT, or a WIMSE HTTP
 * signature, per request: client/fetch.ts), for trying a gateway by hand.
 *
 *   call <url> [--data BODY] [--method M] [--header 'Name: value']... [--wit FILE|-] [--workload ID]
 *        [--sign wpt|httpsig] [--sign-response] [--responder-jwks FILE]
 *        [--carriage authorization|header] [--audience URL] [--context-header NAME]... [--insecure-http]
 *
 * `--sign httpsig` signs each request (draft-ietf-wimse-http-signature-07) instead of sending a WPT, and verifies
 * a signed response; `--sign-response` asks for one and refuses an unsigned answer. The responder's WIT is checked
 * against `--responder-jwks` (a JWK Set), by default the dev trust domain's keys.
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
import { devTrustDomain, mintDevWitFromDir } from './dev-issuer.ts';

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
  sign: { type: 'string' },
  'sign-response': { type: 'boolean' },
  'responder-jwks': { type: 'string' },
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

  const sign = values.sign ?? 'wpt';
  if (sign !== 'wpt' && sign !== 'httpsig') throw new UsageError('call: --sign is "wpt" (a Workload Proof Token) or "httpsig" (a WIMSE HTTP signature)');
  if (sign === 'wpt' && (values['sign-response'] || values['responder-jwks'] !== undefined)) throw new UsageError('call: --sign-response and --responder-jwks need --sign httpsig');
  if (sign === 'httpsig' && (values.carriage !== undefined || values['context-header'] !== undefined)) throw new UsageError('call: --carriage and --context-header are WPT options');

  const credentials = await loadCredentials(values.wit, values.workload);
  const options: WorkloadIdentityOptions = sign === 'wpt'
    ? { ...credentials, carriage, allowInsecureHttp: values['insecure-http'] === true }
    : {
        ...credentials,
        proof: 'http-sig',
        signedResponses: values['sign-response'] ? 'require' : 'verify-if-present',
        responderTrust: await responderKeys(values['responder-jwks']),
        allowInsecureHttp: values['insecure-http'] === true,
      };
  if (values.audience !== undefined) {
    const audience = values.audience;
    options.audience = () => audience;
  }
  if (values['context-header'] !== undefined) options.contextTokenHeaders = values['context-header'];
  const send = withWorkloadIdentity(fetch, options);
  const sub = parseCompactJwt(credentials.wit);
  const how = sign === 'httpsig' ? `a WIMSE HTTP signature${values['sign-response'] ? ', requiring a signed response' : ''}` : carriage === 'authorization' ? 'Authorization: WPT (wpt-02)' : 'Workload-Proof-Token (wpt-01)';
  console.error(`portcullis: calling as ${sub.ok && typeof sub.value.claims.sub === 'string' ? sub.value.claims.sub : '(unknown subject)'} with ${how}`);

  const init: RequestInit = { method: values.method ?? (values.data === undefined ? 'GET' : 'POST'), headers };
  if (values.data !== undefined) init.body = values.data;
  let response: Response;
  try {
    response = await send(url, init);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_')) throw new Error(`the response was refused: ${code} (${(error as Error).message})`);
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

/** Trust anchors for a responder's WIT: a JWK Set file, or the dev trust domain's keys. */
async function responderKeys(file: string | undefined): Promise<NonNullable<WorkloadIdentityOptions['responderTrust']>> {
  if (file === undefined) {
    const dev = await devTrustDomain();
    const name = dev.trustDomain.replace(/^spiffe:\/\//, '');
    return async (trustDomain, kid) => (trustDomain === name ? (dev.jwks.keys.find((k) => k.kid === kid) as JWK | undefined) : undefined);
  }
  const set = (await readJsonInput(file, '--responder-jwks')) as { keys?: unknown } | null;
  if (!Array.isArray(set?.keys)) throw new Error('--responder-jwks: expected a JWK Set { "keys": [...] }');
  const keys = set.keys as JWK[];
  // Any trust domain the file's keys sign for (it is the caller's own trust decision), but never a key without kid.
  return async (_trustDomain, kid) => (kid === undefined ? undefined : keys.find((k) => k.kid === kid));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
