/** Node entry: serves a gateway with @hono/node-server. Used by `portcullis serve` (cli/). */
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { serve } from '@hono/node-server';
import type { HttpBindings } from '@hono/node-server';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway/app.ts';
import { nodeUpstreamFetch } from './node-upstream.ts';
import { listeningLine } from './serve-options.ts';

export interface NodeServer {
  port: number;
  close(): Promise<void>;
}

/** Serves any Web-standard handler on Node; `close()` also ends open streams (SSE) instead of waiting for them. */
export function listen(
  handler: (request: Request, env: HttpBindings) => Response | Promise<Response>,
  { port, hostname }: { port: number; hostname: string },
): Promise<NodeServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ port, hostname, fetch: (request, env) => handler(request, env as HttpBindings) }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () => new Promise((done) => {
          server.close(() => done());
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
      });
    });
    server.once('error', reject);
  });
}

export async function serveNode(gateway: Gateway, options: { port: number; hostname: string }): Promise<NodeServer> {
  const server = await listen((request, env) => gateway.fetch(request, { clientAddress: env.incoming.socket.remoteAddress }), options);
  console.error(listeningLine('node', options.hostname, server.port));
  return server;
}

/**
 * Reads and validates a config file, then builds the gateway (throws ConfigError listing every problem).
 * Upstream requests go through node:http unless `options.fetch` says otherwise (see node-upstream.ts).
 */
export async function gatewayFromFile(path: string, options?: GatewayOptions): Promise<Gateway> {
  return createGateway(await readFile(path, 'utf8'), { fetch: nodeUpstreamFetch(), ...options });
}
