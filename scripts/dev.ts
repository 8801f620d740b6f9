/**
 * The local dev stack behind `npm start`: the demo upstreams plus the gateway on one runtime.
 *
 *   node scripts/dev.ts <workerd|node|deno|bun> [--port N] [--upstream-port N] [-- extra gateway args]
 *
 * Starts `examples/demo/serve.ts` (MCP at /mcp, A2A at /a2a/) and waits for it, then the gateway with the dev
 * config and waits for its /healthz. Both run as child processes so this script only supervises: SIGINT/SIGTERM
 * go to both, and when either dies the other is stopped too.
 *
 * The dev config is examples/dev/portcullis.json with the dev trust domain's public keys filled in and the ports
 * swapped in (scripts/dev-config.ts): /mcp and /a2a require a WIT + WPT from spiffe://dev.portcullis.local. The
 * dev issuer key is generated on first start in the dev dir (`$PORTCULLIS_DEV_DIR`, else `.dev/` at the repo
 * root), where `npx portcullis call` and `npm run demo` find it too. The result goes to a temporary folder
 * (node, deno, bun) or wrangler's `--var PORTCULLIS_CONFIG` (workerd); the folder is removed on stop.
 * The gateway's own identity (spiffe://dev.portcullis.local/gateway) is minted by the same issuer at every start
 * and passed as the variable PORTCULLIS_IDENTITY: the gateway's environment (node, deno, bun) or a `--var` (workerd).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devDir } from '../src/cli/dev-issuer.ts';
import { DEV_TRUST_DOMAIN_ID } from '../src/mint/dev-issuer.ts';
import { DEFAULT_GATEWAY_PORT, DEFAULT_UPSTREAM_PORT, DEV_CONFIG, DEV_HOST as HOST, devGatewayConfig, ROOT, shortPath } from './dev-config.ts';
import { gatewayCommand, OFFLINE_ENV, RUNTIMES, type Runtime } from './runtimes.ts';

/** Wrangler's first start compiles the Worker; give it time before calling the start a failure. */
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const USAGE = 'usage: node scripts/dev.ts <workerd|node|deno|bun> [--port N] [--upstream-port N] [-- extra gateway args]';

interface Options { runtime: Runtime; port: number; upstreamPort: number; extra: string[] }

function parseArgs(argv: string[]): Options {
  const dash = argv.indexOf('--');
  const extra = dash === -1 ? [] : argv.slice(dash + 1);
  const args = dash === -1 ? argv : argv.slice(0, dash);
  const runtime = args[0] as Runtime;
  if (!RUNTIMES.includes(runtime)) throw new Error(USAGE);
  const options: Options = { runtime, port: DEFAULT_GATEWAY_PORT, upstreamPort: DEFAULT_UPSTREAM_PORT, extra };
  for (let i = 1; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${args[i]}: not a port number: ${args[i + 1]}\n${USAGE}`);
    if (args[i] === '--port') options.port = value;
    else if (args[i] === '--upstream-port') options.upstreamPort = value;
    else throw new Error(`unknown option ${args[i]}\n${USAGE}`);
  }
  return options;
}

/** Fails fast when something already listens there: its answers would be mistaken for ours. */
function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new Error(`${what} port ${HOST}:${port} is already in use`)));
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

/** Resolves once `url` answers at all; rejects if the child exits first or the time runs out. */
async function waitForHttp(url: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before it was ready`);
    try {
      // A generous per-try timeout: wrangler holds requests until the Worker is built rather than refusing them.
      await fetch(url, { signal: AbortSignal.timeout(Math.max(1, Math.min(10_000, deadline - Date.now()))) }).then((r) => r.body?.cancel());
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${what} not ready at ${url} after ${READY_TIMEOUT_MS / 1000} s`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function main(): Promise<number> {
  const { runtime, port, upstreamPort, extra } = parseArgs(process.argv.slice(2));
  await assertPortFree(upstreamPort, 'demo upstream');
  await assertPortFree(port, 'gateway');

  // Resolved against the repo root, where npm scripts (and so `npx portcullis call`) run.
  const dev = await devGatewayConfig({ port, upstreamPort, devDir: devDir(process.env, ROOT) });
  if (dev.issuerCreated) console.error(`dev: created a dev issuer key for ${DEV_TRUST_DOMAIN_ID} at ${dev.issuerPath}`);
  const tempDir = mkdtempSync(join(tmpdir(), 'portcullis-dev-'));
  const configPath = join(tempDir, 'portcullis.json');
  writeFileSync(configPath, dev.json);

  const children: ChildProcess[] = [];
  let stopping = false;
  const start = (command: string[], name: string, env: Record<string, string> = {}) => {
    // cwd stays at the repo root: deno.json (no-legacy-abort) and wrangler.toml are read from there.
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`dev: ${name} exited (${signal ?? `code ${code}`}); stopping the stack`);
      // A Ctrl-C in a terminal reaches the children too and may be seen here first: that is a clean stop.
      void stop(code === 0 || signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : (code ?? 1));
    });
    child.once('error', (error) => {
      if (stopping) return;
      console.error(`dev: cannot start ${name}: ${error.message}`);
      void stop(1);
    });
    return child;
  };
  // One shutdown, whoever asks first; later callers wait on the same one (and never see it "return").
  let stopped: Promise<never> | undefined;
  const stop = (code: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<never> => stopped ??= (async () => {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const grace = setTimeout(() => { for (const child of children) child.kill('SIGKILL'); }, STOP_GRACE_MS);
    await Promise.all(children.map(exited));
    clearTimeout(grace);
    rmSync(tempDir, { recursive: true, force: true });
    process.exit(code);
  })();
  process.once('SIGINT', () => void stop(0, 'SIGINT'));
  process.once('SIGTERM', () => void stop(0, 'SIGTERM'));

  try {
    // The MCP demo verifies the Txn-Tokens the gateway mints, against the gateway's JWK Set.
    const txn = dev.config.transactionTokens ? ['--gateway', `http://${HOST}:${port}`, '--trust-domain', dev.config.transactionTokens.trustDomain] : [];
    const upstreams = start([process.execPath, 'examples/demo/serve.ts', '--port', String(upstreamPort), ...txn], 'demo upstreams');
    await waitForHttp(`http://${HOST}:${upstreamPort}/mcp`, upstreams, 'demo upstreams');
    const [executable, args, env] = gatewayCommand(runtime, { configPath, configJson: dev.json, port, hostname: HOST, env: dev.env });
    const gateway = start([executable, ...args, ...extra], `gateway (${runtime})`, env);
    await waitForHttp(`http://${HOST}:${port}/healthz`, gateway, `gateway (${runtime})`);
  } catch (error) {
    console.error(`dev: ${(error as Error).message}`);
    await stop(1);
  }

  const gw = `http://${HOST}:${port}`;
  const up = `http://${HOST}:${upstreamPort}`;
  const issuerPath = shortPath(dev.issuerPath);
  console.error([
    '',
    `Portcullis dev stack on ${runtime}`,
    `  gateway   ${gw}  (health: ${gw}/healthz)`,
    `  MCP       ${gw}/mcp   -> demo MCP server ${up}/mcp  (tools: echo, whoami)`,
    `  A2A       ${gw}/a2a/  -> demo echo agent ${up}/a2a/ (card: ${gw}/a2a/.well-known/agent-card.json)`,
    `  auth      /mcp and /a2a require a WIT + WPT from ${DEV_TRUST_DOMAIN_ID}; the dev issuer key is ${issuerPath}`,
    ...(dev.identity ? [`  identity  the gateway's own: ${dev.identity.subject}, a dev WIT in ${dev.identity.variable} until ${clock(dev.identity.expiresAt)} (restart to renew)`] : []),
    `  config    ${DEV_CONFIG} with the dev issuer's public key and these ports (${runtime === 'workerd' ? 'as --var PORTCULLIS_CONFIG' : configPath})`,
    '',
    '  Call it as a workload (mints a dev WIT, signs a fresh proof per request):',
    `    npx portcullis call ${gw}/mcp -H 'accept: application/json, text/event-stream' \\`,
    `      -H 'mcp-protocol-version: 2025-11-25' \\`,
    `      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}'`,
    `    npx portcullis call ${gw}/a2a/.well-known/agent-card.json`,
    '  Without credentials the routes answer 401 (WWW-Authenticate: WPT). `npm run demo` shows an agent and a replay.',
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'));
  return -1; // keep supervising
}

/** Local date and time, to the minute: `2026-11-17 14:05`. */
function clock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

main().then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (error: unknown) => {
    console.error(`dev: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
