/**
 * Starting and stopping the gateway on each runtime as a separate process, the way an operator would, with
 * the command lines of scripts/runtimes.ts (Node, Deno and Bun on port 0; wrangler dev on a free port).
 * Each process gets its own process group (detached), so stopping it by PID also stops its children
 * (wrangler spawns workerd and esbuild).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gatewayCommand, OFFLINE_ENV, type Runtime } from '../../scripts/runtimes.ts';

export { RUNTIMES, type Runtime } from '../../scripts/runtimes.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** How long a runtime may take to answer /healthz after spawning (wrangler dev bundles first). */
const STARTUP_TIMEOUT_MS: Record<Runtime, number> = { node: 20_000, deno: 30_000, bun: 20_000, workerd: 60_000 };

/** Environment for child processes: offline, and without colour codes in the output the tests read; `extra` on top. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...OFFLINE_ENV, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1', ...extra };
}

/** A free TCP port in 20000-20999 (the range reserved for this suite), checked by binding it briefly. */
export async function freePortInRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 1000);
    const ok = await new Promise<boolean>((done) => {
      const probe = createServer();
      probe.once('error', () => done(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free port in 20000-20999');
}

/** A port on which nothing listens: bound by the OS, then released. */
export async function deadPort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Spawns a command in its own process group (with `env` added to its environment) and collects its output. */
export function spawnGroup(command: string, args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: childEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { out += s; });
  const exited = new Promise<number | null>((done) => {
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : null)));
    child.once('error', (error) => { out += `spawn error: ${error.message}\n`; done(-1); });
  });
  // Last resort if the test process itself goes down: take the group with it.
  const onExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  return {
    child,
    output: () => out,
    exited,
    stop: () => (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const timedOut = await Promise.race([exited.then(() => false), delay(5_000).then(() => true)]);
        if (timedOut) {
          killGroup(child, 'SIGKILL');
          await Promise.race([exited, delay(2_000)]);
        }
      }
      // Children that outlived their parent (workerd under wrangler) share the group id.
      killGroup(child, 'SIGKILL');
      process.removeListener('exit', onExit);
    })()),
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export interface StartedGateway {
  runtime: Runtime;
  url: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

const LISTENING = /portcullis listening on http:\/\/[^\s:]+:(\d+)/;

/** What a gateway is started with besides its config. */
export interface GatewayExtras {
  /** Files (name -> text) written beside the config file, where a config's relative paths (`keySource.file`) point. */
  files?: Record<string, string>;
  /** Variables the gateway reads by name (`identity.env`): process environment on node, deno and bun, `--var` on workerd. */
  env?: Record<string, string>;
}

/** Writes `config` to a fresh temp folder and spawns the gateway on `runtime` with it and `extras`. */
async function spawnGateway(runtime: Runtime, config: unknown, purpose: string, { files = {}, env = {} }: GatewayExtras = {}): Promise<{ dir: string; port: number; proc: RunningProcess }> {
  const dir = mkdtempSync(join(tmpdir(), `portcullis-${purpose}-${runtime}-`));
  const json = JSON.stringify(config);
  const path = join(dir, 'portcullis.config.json');
  writeFileSync(path, json);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  // Node, Deno and Bun take port 0 and report the port they got; wrangler needs concrete ports.
  const port = runtime === 'workerd' ? await freePortInRange() : 0;
  const inspectorPort = runtime === 'workerd' ? await freePortInRange() : 0;
  const [command, args, processEnv] = gatewayCommand(runtime, { configPath: path, configJson: json, port, hostname: '127.0.0.1', inspectorPort, stateDir: join(dir, 'state'), env });
  return { dir, port, proc: spawnGroup(command, args, processEnv) };
}

/**
 * Starts the gateway with `config` (and `extras`: files beside it, variables it reads) on `runtime` and waits
 * until /healthz answers 200. Node, Deno and Bun listen on port 0 and report the port they got; wrangler needs a
 * concrete port.
 */
export async function startGateway(runtime: Runtime, config: unknown, extras: GatewayExtras = {}): Promise<StartedGateway> {
  const { dir, port, proc } = await spawnGateway(runtime, config, 'conformance', extras);
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS[runtime];
    let url: string | undefined = runtime === 'workerd' ? `http://127.0.0.1:${port}` : undefined;
    let exitCode: number | null | undefined;
    void proc.exited.then((code) => { exitCode = code; });
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`exited with ${exitCode} before listening`);
      if (!url) {
        const m = LISTENING.exec(proc.output());
        if (m) url = `http://127.0.0.1:${m[1]}`;
      }
      if (url && (await healthy(url))) return { runtime, url, process: proc, stop };
      await delay(100);
    }
    throw new Error(`not healthy within ${STARTUP_TIMEOUT_MS[runtime]} ms`);
  } catch (error) {
    await stop();
    throw new Error(`gateway on ${runtime}: ${(error as Error).message}\n--- output ---\n${proc.output()}`);
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export interface RefusalOutcome {
  /** Exit code, or null when the process was still running (it then had to be stopped). */
  exitCode: number | null;
  output: string;
  /** For runtimes that start and refuse per request (workerd), the first response. */
  response?: { status: number; contentType: string | null; body: string };
}

/**
 * Starts the gateway with an invalid config and reports how it refused. Node, Deno and Bun must exit;
 * wrangler dev keeps running whatever the Worker does, so there the refusal is whatever the Worker
 * answers (or logs) and the process is stopped afterwards.
 */
export async function startExpectingRefusal(runtime: Runtime, config: unknown): Promise<RefusalOutcome> {
  const { dir, port, proc } = await spawnGateway(runtime, config, 'refusal');
  try {
    if (runtime !== 'workerd') {
      const code = await Promise.race([proc.exited, delay(STARTUP_TIMEOUT_MS[runtime]).then(() => 'timeout' as const)]);
      return { exitCode: code === 'timeout' ? null : code, output: proc.output() };
    }
    // wrangler dev: wait until the process exits or its HTTP port answers, then ask it something.
    const deadline = Date.now() + STARTUP_TIMEOUT_MS.workerd;
    let exited: number | null | undefined;
    void proc.exited.then((code) => { exited = code; });
    while (Date.now() < deadline && exited === undefined) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
        const body = await r.text();
        await delay(300); // let the Worker's log lines reach wrangler's output
        return { exitCode: null, output: proc.output(), response: { status: r.status, contentType: r.headers.get('content-type'), body } };
      } catch {
        await delay(200);
      }
    }
    return { exitCode: exited ?? null, output: proc.output() };
  } finally {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
