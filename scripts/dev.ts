/**
 * The local dev stack behind `npm start`: the demo upstreams plus the gateway on one runtime.
 *
 *   node scripts/dev.ts <workerd|node|deno|bun> [--port N] [--upstream-port N] [-- extra gateway args]
 *
 * Starts `examples/demo/serve.ts` (MCP at /mcp, A2A at /a2a/) and waits for it, then the gateway with the dev
 * config (examples/dev/portcullis.json) and waits for its /healthz. Both run as child processes so this script
 * only supervises: SIGINT/SIGTERM go to both, and when either dies the other is stopped too.
 * Other ports than the defaults (8787, 8788) get a rewritten copy of the config in a temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayCommand, OFFLINE_ENV, RUNTIMES, type Runtime } from './runtimes.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';
const DEV_CONFIG = 'examples/dev/portcullis.json';
const DEFAULT_PORT = 8787;
const DEFAULT_UPSTREAM_PORT = 8788;
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
  const options: Options = { runtime, port: DEFAULT_PORT, upstreamPort: DEFAULT_UPSTREAM_PORT, extra };
  for (let i = 1; i < args.length; i += 2) {
    const value = Number(args[i + 1]);
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${args[i]}: not a port number: ${args[i + 1]}\n${USAGE}`);
    if (args[i] === '--port') options.port = value;
    else if (args[i] === '--upstream-port') options.upstreamPort = value;
    else throw new Error(`unknown option ${args[i]}\n${USAGE}`);
  }
  return options;
}

/** The dev config as text, with the gateway and upstream ports swapped in when they are not the defaults. */
function devConfigText(port: number, upstreamPort: number): string {
  const text = readFileSync(join(ROOT, DEV_CONFIG), 'utf8');
  if (port === DEFAULT_PORT && upstreamPort === DEFAULT_UPSTREAM_PORT) return text;
  const config = JSON.parse(text) as { $schema?: string; publicUrl: string; routes: { upstream: unknown }[] };
  delete config.$schema; // relative to the repo; meaningless in a temporary folder
  config.publicUrl = `http://${HOST}:${port}`;
  for (const route of config.routes) {
    if (typeof route.upstream === 'string') route.upstream = route.upstream.replace(`//${HOST}:${DEFAULT_UPSTREAM_PORT}/`, `//${HOST}:${upstreamPort}/`);
  }
  return JSON.stringify(config, null, 2);
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

  const configText = devConfigText(port, upstreamPort);
  let configPath = DEV_CONFIG;
  let tempDir: string | undefined;
  if (configText !== readFileSync(join(ROOT, DEV_CONFIG), 'utf8')) {
    tempDir = mkdtempSync(join(tmpdir(), 'portcullis-dev-'));
    configPath = join(tempDir, 'portcullis.json');
    writeFileSync(configPath, configText);
  }

  const children: ChildProcess[] = [];
  let stopping = false;
  const start = (command: string[], name: string) => {
    // cwd stays at the repo root: deno.json (no-legacy-abort) and wrangler.toml are read from there.
    const child = spawn(command[0]!, command.slice(1), { cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV }, stdio: ['ignore', 'inherit', 'inherit'] });
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
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    process.exit(code);
  })();
  process.once('SIGINT', () => void stop(0, 'SIGINT'));
  process.once('SIGTERM', () => void stop(0, 'SIGTERM'));

  try {
    const upstreams = start([process.execPath, 'examples/demo/serve.ts', '--port', String(upstreamPort)], 'demo upstreams');
    await waitForHttp(`http://${HOST}:${upstreamPort}/mcp`, upstreams, 'demo upstreams');
    const [executable, args] = gatewayCommand(runtime, { configPath, configJson: configText, port, hostname: HOST });
    const gateway = start([executable, ...args, ...extra], `gateway (${runtime})`);
    await waitForHttp(`http://${HOST}:${port}/healthz`, gateway, `gateway (${runtime})`);
  } catch (error) {
    console.error(`dev: ${(error as Error).message}`);
    await stop(1);
  }

  const gw = `http://${HOST}:${port}`;
  const up = `http://${HOST}:${upstreamPort}`;
  console.error([
    '',
    `Portcullis dev stack on ${runtime}`,
    `  gateway   ${gw}  (health: ${gw}/healthz)`,
    `  MCP       ${gw}/mcp   -> demo MCP server ${up}/mcp  (tools: echo, whoami)`,
    `  A2A       ${gw}/a2a/  -> demo echo agent ${up}/a2a/ (card: ${gw}/a2a/.well-known/agent-card.json)`,
    `  config    ${configPath === DEV_CONFIG ? DEV_CONFIG : `${configPath} (from ${DEV_CONFIG})`}`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'));
  return -1; // keep supervising
}

main().then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (error: unknown) => {
    console.error(`dev: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
