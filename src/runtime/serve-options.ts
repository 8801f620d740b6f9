/** Command-line options shared by the Node, Deno and Bun entries: `--config FILE [--port N] [--hostname H]`. */
export interface ServeOptions {
  configPath: string;
  port: number;
  hostname: string;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOSTNAME = '127.0.0.1';

export function parseServeArgs(args: readonly string[]): ServeOptions {
  const out: Partial<ServeOptions> = {};
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    i++;
    if (flag === '--config') out.configPath = value;
    else if (flag === '--hostname') out.hostname = value;
    else if (flag === '--port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${value}`);
      out.port = port;
    } else throw new Error(`unknown option ${flag} (expected --config, --port, --hostname)`);
  }
  if (!out.configPath) throw new Error('--config FILE is required');
  return { configPath: out.configPath, port: out.port ?? DEFAULT_PORT, hostname: out.hostname ?? DEFAULT_HOSTNAME };
}

/** The line every entry prints on stderr once listening; tools wait for it. */
export function listeningLine(runtime: string, hostname: string, port: number): string {
  return `portcullis listening on http://${hostname}:${port} (${runtime})`;
}

/**
 * Where a path named in the config file points: absolute paths as they are, relative ones against the config
 * file's folder (not the working directory, so a config and its key files move together). POSIX paths.
 */
export function besideConfig(configPath: string, cwd: string, path: string): string {
  if (path.startsWith('/')) return path;
  const config = configPath.startsWith('/') ? configPath : `${cwd.replace(/\/$/, '')}/${configPath}`;
  return `${config.slice(0, config.lastIndexOf('/') + 1)}${path}`;
}
