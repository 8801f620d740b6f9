/**
 * `npm run demo`: workload authentication end to end, in one process, on free ports.
 *
 *   1. starts the dev stack in-process (scripts/dev-stack.ts): the demo upstreams and the Node gateway running
 *      examples/dev/portcullis.json, so /mcp requires a WIT + WPT from spiffe://dev.portcullis.local;
 *   2. mints a WIT for an agent with the dev issuer (the key in the dev dir: `$PORTCULLIS_DEV_DIR`, else `.dev/`
 *      at the repo root, created on first use, shared with `npm start` and `npx portcullis call`);
 *   3. the agent, the real MCP SDK client with `fetch: withWorkloadIdentity(...)`, calls the demo's `echo` tool
 *      through the gateway; prints the result and the gateway's audit line for that request;
 *   4. replays the captured tools/call request exactly as it was sent (same WIT, same WPT) and prints the
 *      refusal (401, `WWW-Authenticate: WPT`, ERR_WPT_REPLAYED) and its audit line;
 *   5. stops everything. Exit status 0 when every expectation held, 1 otherwise (each failure is printed).
 * Output goes to stdout; tokens are never printed (audit lines carry only their hashes).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuditEvent } from '../src/audit/event.ts';
import { devDir, mintDevWitFromDir } from '../src/cli/dev-issuer.ts';
import { withWorkloadIdentity, type FetchLike } from '../src/client/fetch.ts';
import { DEV_TRUST_DOMAIN_ID } from '../src/mint/dev-issuer.ts';
import { DEV_CONFIG, ROOT, shortPath } from './dev-config.ts';
import { startInProcessDevStack, type InProcessDevStack } from './dev-stack.ts';

const AGENT = `${DEV_TRUST_DOMAIN_ID}/agents/demo`;
const TEXT = 'hello from a workload';
/** The whole demo takes well under a second; anything near this is stuck. */
const DEADLINE_MS = 30_000;

/** A request exactly as it left the agent (after the credential wrapper), and the gateway's request id for it. */
interface Captured {
  url: string;
  method: string;
  headers: [string, string][];
  body: string;
  status: number;
  requestId: string | null;
}

const failures: string[] = [];
function expect(what: string, ok: boolean, got?: unknown): void {
  if (!ok) failures.push(`${what}${got === undefined ? '' : ` (got ${typeof got === 'string' ? got : JSON.stringify(got)})`}`);
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const auditLine = (event: AuditEvent | undefined) => (event ? JSON.stringify({ audit: event }) : '(no audit event found)');

async function demo(stack: InProcessDevStack, dir: string): Promise<void> {
  out('Portcullis demo: an agent calls the demo MCP server through the gateway with a WIT + WPT, then a replay is refused');
  out();
  out(`  gateway   ${stack.gateway} (Node, in-process), config ${DEV_CONFIG}: /mcp and /a2a require a WIT + WPT from ${DEV_TRUST_DOMAIN_ID}`);
  out(`  upstream  ${stack.upstream} (demo MCP server at /mcp, demo A2A agent at /a2a/)`);
  out(`  issuer    ${shortPath(stack.issuerPath)}${stack.issuerCreated ? ' (created now)' : ''}`);
  out();

  const minted = await mintDevWitFromDir(AGENT, { dir, ttlSeconds: 600 });
  out(`1. The dev issuer mints a WIT for ${AGENT}, valid until ${new Date(minted.expiresAt).toISOString()},`);
  out(`   confirming a fresh ${String(minted.key.alg)} key that only the agent holds.`);
  out();

  // The agent's fetch: withWorkloadIdentity adds the WIT and a new proof to each request, then hands it to this
  // recorder, which keeps the tools/call request as sent so it can be replayed below.
  const seen: { call?: Captured } = {};
  const recorder: FetchLike = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'POST' ? await request.clone().text() : '';
    const response = await fetch(request);
    if (body.includes('"tools/call"')) {
      seen.call = { url: request.url, method: request.method, headers: [...request.headers], body, status: response.status, requestId: response.headers.get('x-request-id') };
    }
    return response;
  };
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.gateway}/mcp`), {
    fetch: withWorkloadIdentity(recorder, { credentials: () => ({ wit: minted.wit, key: minted.key }) }),
  });
  const client = new Client({ name: 'portcullis-demo-agent', version: '0.1.0' });
  out(`2. The agent (MCP SDK client, fetch = withWorkloadIdentity) calls the echo tool through the gateway:`);
  out(`   POST ${stack.gateway}/mcp  tools/call echo ${JSON.stringify({ text: TEXT })}`);
  out('   with Workload-Identity-Token: <the WIT> and Authorization: WPT <a proof for this request>');
  let result: string | undefined;
  try {
    await client.connect(transport);
    const called = await client.callTool({ name: 'echo', arguments: { text: TEXT } });
    result = (called.content as { type: string; text?: string }[])[0]?.text;
  } finally {
    await client.close();
  }
  const captured = seen.call;
  const allowed = captured?.requestId ? stack.audit.find((e) => e.requestId === captured.requestId) : undefined;
  out(`   result: ${JSON.stringify(result)}`);
  out(`   audit:  ${auditLine(allowed)}`);
  out();
  expect('the echo tool returns the text', result === TEXT, result);
  expect('the tools/call request was captured with status 200', captured?.status === 200, captured?.status);
  expect('its audit event is an allow', allowed?.decision === 'allow', allowed?.decision);
  expect('its audit reason is AUTHENTICATED', allowed?.reason === 'AUTHENTICATED', allowed?.reason);
  expect(`its audit principal is ${AGENT}`, allowed?.principal?.workloadId === AGENT, allowed?.principal?.workloadId);
  if (!captured) return;

  out('3. Someone who captured that request sends it again, unchanged (same WIT, same WPT):');
  const replay = await fetch(captured.url, { method: captured.method, headers: captured.headers, body: captured.body });
  const replayBody = await replay.text();
  let code: unknown;
  try {
    code = (JSON.parse(replayBody) as { error?: { data?: { code?: unknown } } }).error?.data?.code;
  } catch {
    code = undefined;
  }
  const challenge = replay.headers.get('www-authenticate');
  const refused = stack.audit.find((e) => e.requestId === replay.headers.get('x-request-id'));
  out(`   HTTP ${replay.status}, WWW-Authenticate: ${challenge ?? '(none)'}, code ${String(code)}`);
  out(`   audit:  ${auditLine(refused)}`);
  out(`   The proof's jti was already used: proofs are single-use, so a stolen request cannot be replayed.`);
  out();
  expect('the replay is refused with 401', replay.status === 401, replay.status);
  expect('the refusal challenges with WWW-Authenticate: WPT', challenge === 'WPT', challenge);
  expect('the refusal code is ERR_WPT_REPLAYED', code === 'ERR_WPT_REPLAYED', code);
  expect('its audit event is a deny', refused?.decision === 'deny', refused?.decision);
  expect('its audit reason is ERR_WPT_REPLAYED', refused?.reason === 'ERR_WPT_REPLAYED', refused?.reason);
}

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error(`demo: not finished after ${DEADLINE_MS / 1000} s; giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const dir = devDir(process.env, ROOT);
  const stack = await startInProcessDevStack({ devDir: dir });
  try {
    await demo(stack, dir);
  } catch (error) {
    failures.push(`the demo stopped: ${(error as Error).message}`);
  } finally {
    await stack.close();
  }
  if (failures.length > 0) {
    for (const failure of failures) out(`FAIL: ${failure}`);
    return 1;
  }
  out('demo passed: the agent was authenticated and audited; the replayed proof was refused. Everything is stopped.');
  return 0;
}

main().then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
