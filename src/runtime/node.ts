/** Node entry: serves a gateway with @hono/node-server. Used by `portcullis serve` (cli/). */
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { serve } from '@hono/node-server';
import type { HttpBindings } from '@hono/node-server';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway/app.ts';
import { MAX_HEADER_BYTES } from '../limits.ts';
import { nodeUpstreamFetch } from './node-upstream.ts';
import { besideConfig, listeningLine } from './serve-options.ts';

export interface NodeServer {
  port: number;
  close(): Promise<void>;
}

/** Serves any Web-standard handler on Node; `close()` also ends open streams (SSE) instead of waiting for them. */
export function listen(
  handler: (request: Request, env: HttpBindings) => Response | Promise<Response>,
  { port, hostname, maxHeaderSize }: { port: number; hostname: string; maxHeaderSize?: number },
): Promise<NodeServer> {
  return new Promise((resolve, reject) => {
    const serverOptions = maxHeaderSize ? { maxHeaderSize } : {};
    const server = serve({ port, hostname, serverOptions, fetch: (request, env) => handler(request, env as HttpBindings) }, (info: AddressInfo) => {
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

/**
 * Node's parser answers a bare 431 past 16 KiB of headers by default, before the gateway could answer in
 * the route's error shape (JSON-RPC on MCP routes). Its limit is set a margin above the gateway's, so
 * requests just over the configured limit get the gateway's answer; far larger ones still stop in the parser.
 */
const PARSER_HEADER_MARGIN = 16 * 1024;

export async function serveNode(gateway: Gateway, options: { port: number; hostname: string }): Promise<NodeServer> {
  const maxHeaderSize = (gateway.config.limits?.maxHeaderBytes ?? MAX_HEADER_BYTES) + PARSER_HEADER_MARGIN;
  const server = await listen((request, env) => gateway.fetch(request, { clientAddress: env.incoming.socket.remoteAddress }), { ...options, maxHeaderSize });
  console.error(listeningLine('node', options.hostname, server.port));
  return server;
}

/**
 * Reads and validates a config file, then builds the gateway (throws ConfigError listing every problem).
 * Upstream requests go through node:http unless `options.fetch` says otherwise (see node-upstream.ts).
 */
export async function gatewayFromFile(path: string, options?: GatewayOptions): Promise<Gateway> {
  const readBeside = (file: string) => readFile(besideConfig(path, process.cwd(), file), 'utf8');
  return createGateway(await readFile(path, 'utf8'), { fetch: nodeUpstreamFetch(), readFile: readBeside, readEnv: (name) => process.env[name], ...options });
}
