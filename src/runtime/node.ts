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

export function serveNode(gateway: Gateway, { port, hostname }: { port: number; hostname: string }): Promise<NodeServer> {
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        port,
        hostname,
        fetch: (request, env) => gateway.fetch(request, { clientAddress: (env as HttpBindings).incoming.socket.remoteAddress }),
      },
      (info: AddressInfo) => {
        console.error(listeningLine('node', hostname, info.port));
        resolve({
          port: info.port,
          close: () => new Promise((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
        });
      },
    );
    server.once('error', reject);
  });
}

/**
 * Reads and validates a config file, then builds the gateway (throws ConfigError listing every problem).
 * Upstream requests go through node:http unless `options.fetch` says otherwise (see node-upstream.ts).
 */
export async function gatewayFromFile(path: string, options?: GatewayOptions): Promise<Gateway> {
  return createGateway(await readFile(path, 'utf8'), { fetch: nodeUpstreamFetch(), ...options });
}
