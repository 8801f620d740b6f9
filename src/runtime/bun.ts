/**
 * Bun entry: `bun src/runtime/bun.ts --config FILE [--port N] [--hostname H]`, or import `serveBun`
 * to serve a gateway built in code.
 */
import { createGateway, type Gateway } from '../gateway/app.ts';
import { ConfigError } from '../config/load.ts';
import { besideConfig, listeningLine, parseServeArgs } from './serve-options.ts';

// The few Bun APIs used here, typed locally so the rest of the project needs no Bun type package.
interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): void;
  requestIP(request: Request): { address: string } | null;
}
declare const Bun: {
  argv: string[];
  file(path: string): { text(): Promise<string> };
  serve(options: { port: number; hostname: string; idleTimeout?: number; fetch(request: Request, server: BunServer): Response | Promise<Response> }): BunServer;
};

export function serveBun(gateway: Gateway, { port, hostname }: { port: number; hostname: string }): BunServer {
  const server = Bun.serve({
    port,
    hostname,
    // Bun closes idle connections after 10 s by default, which would cut quiet SSE streams; 0 disables it.
    idleTimeout: 0,
    fetch: (request, srv) => {
      const ip = srv.requestIP(request)?.address;
      return gateway.fetch(request, ip ? { clientAddress: ip } : {});
    },
  });
  console.error(listeningLine('bun', hostname, server.port));
  return server;
}

if ((import.meta as { main?: boolean }).main) {
  try {
    const options = parseServeArgs(Bun.argv.slice(2));
    const readFile = (file: string) => Bun.file(besideConfig(options.configPath, process.cwd(), file)).text();
    serveBun(createGateway(await Bun.file(options.configPath).text(), { readFile, readEnv: (name) => process.env[name] }), options);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `portcullis: ${(error as Error).message}`);
    process.exit(1);
  }
}
