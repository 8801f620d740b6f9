/**
 * Deno entry: `deno run -A src/runtime/deno.ts --config FILE [--port N] [--hostname H]`, or import
 * `serveDeno` to serve a gateway built in code.
 */
import { createGateway, type Gateway } from '../gateway/app.ts';
import { ConfigError } from '../config/load.ts';
import { fetchSend } from '../gateway/proxy.ts';
import { besideConfig, listeningLine, parseServeArgs } from './serve-options.ts';

// The few Deno APIs used here, typed locally so the rest of the project needs no Deno type package.
declare const Deno: {
  args: string[];
  readTextFile(path: string): Promise<string>;
  cwd(): string;
  env: { get(name: string): string | undefined };
  exit(code: number): never;
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; addr: { port: number } };
};

/** Deno's fetch as the upstream port: it does not decode bodies when Accept-Encoding was set (see fetchSend). */
export const denoFetch = fetchSend((url, init) => fetch(url, init), { decodesBodies: false });

export function serveDeno(gateway: Gateway, { port, hostname }: { port: number; hostname: string }) {
  return Deno.serve(
    { port, hostname, onListen: (addr) => console.error(listeningLine('deno', hostname, addr.port)) },
    (request, info) => gateway.fetch(request, { clientAddress: info.remoteAddr.hostname }),
  );
}

if ((import.meta as { main?: boolean }).main) {
  try {
    const options = parseServeArgs(Deno.args);
    const readFile = (file: string) => Deno.readTextFile(besideConfig(options.configPath, Deno.cwd(), file));
    serveDeno(createGateway(await Deno.readTextFile(options.configPath), { fetch: denoFetch, readFile, readEnv: (name) => Deno.env.get(name) }), options);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `portcullis: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
