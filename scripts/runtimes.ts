/**
 * How to start the gateway on each runtime from this repository, in one place for the dev launcher
 * (scripts/dev.ts), the conformance harness (test/conformance/runtimes.ts) and the bench.
 * Every command runs with the repository root as its working directory.
 */
export const RUNTIMES = ['node', 'workerd', 'deno', 'bun'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Keeps every tool off the network: no metrics, error reports, update checks or cf lookups. */
export const OFFLINE_ENV: Record<string, string> = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  // Wrangler's banner is what asks the npm registry for a newer version; hiding it skips that request.
  WRANGLER_HIDE_BANNER: 'true',
  DENO_NO_UPDATE_CHECK: '1',
  DENO_NO_PROMPT: '1',
  DO_NOT_TRACK: '1',
};

export interface GatewayLaunch {
  /** A config file (node, deno, bun). */
  configPath: string;
  /** The same config as JSON text (workerd reads it from the PORTCULLIS_CONFIG variable). */
  configJson: string;
  port: number;
  hostname: string;
  /** workerd only: wrangler's inspector port and its state folder (each instance needs its own). */
  inspectorPort?: number;
  stateDir?: string;
  /**
   * Variables the gateway reads by name (config `identity.env`): set in the process environment of node, deno
   * and bun, and passed to workerd as `--var NAME:value` (a Worker sees only its own bindings, never wrangler's
   * environment).
   */
  env?: Record<string, string>;
}

/**
 * The command line (executable first) that serves the gateway on `runtime`, and the variables to add to its
 * process environment (`launch.env` on node, deno and bun; none on workerd, which gets them as `--var`).
 */
export function gatewayCommand(runtime: Runtime, launch: GatewayLaunch): [string, string[], Record<string, string>] {
  const [command, args] = commandLine(runtime, launch);
  return [command, args, runtime === 'workerd' ? {} : { ...launch.env }];
}

function commandLine(runtime: Runtime, launch: GatewayLaunch): [string, string[]] {
  const serveArgs = ['--config', launch.configPath, '--port', String(launch.port), '--hostname', launch.hostname];
  switch (runtime) {
    case 'node':
      return [process.execPath, ['src/cli/main.ts', 'serve', ...serveArgs]];
    case 'deno':
      // The flag is also in deno.json; naming it keeps streamed responses alive from any working directory.
      return ['node_modules/.bin/deno', ['run', '-A', '--cached-only', '--unstable-no-legacy-abort', 'src/runtime/deno.ts', ...serveArgs]];
    case 'bun':
      return ['node_modules/.bin/bun', ['--no-install', 'src/runtime/bun.ts', ...serveArgs]];
    case 'workerd':
      // wrangler splits --var at the first ":" only, so compact JSON passes through intact.
      return [process.execPath, [
        'node_modules/wrangler/bin/wrangler.js', 'dev', '--ip', launch.hostname, '--port', String(launch.port),
        ...(launch.inspectorPort ? ['--inspector-port', String(launch.inspectorPort)] : []),
        ...(launch.stateDir ? ['--persist-to', launch.stateDir] : []),
        '--show-interactive-dev-session=false',
        '--var', `PORTCULLIS_CONFIG:${JSON.stringify(JSON.parse(launch.configJson))}`,
        ...Object.entries(launch.env ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
      ]];
  }
}
