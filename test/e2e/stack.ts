/**
 * The dev stack in-process for end-to-end tests: the demo upstreams and a gateway on Node, both on free ports.
 */
import { createGateway, memorySink, type AuditEvent, type Gateway } from '../../src/index.ts';
import { listen } from '../../src/runtime/node.ts';
import { nodeUpstreamFetch } from '../../src/runtime/node-upstream.ts';
import { startDemoUpstreams } from '../../examples/demo/serve.ts';

export interface Stack {
  /** The gateway's origin, e.g. http://127.0.0.1:40123 */
  gateway: string;
  gatewayPort: number;
  /** The demo upstreams' origin. */
  upstream: string;
  audit: AuditEvent[];
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const upstreams = await startDemoUpstreams({ port: 0 });
  // publicUrl must name the gateway's own port, known only once it listens: listen first, then build
  // the gateway the handler forwards to.
  let gateway: Gateway | undefined;
  const server = await listen((request, env) => gateway!.fetch(request, { clientAddress: env.incoming.socket.remoteAddress }), { port: 0, hostname: '127.0.0.1' });
  const origin = `http://127.0.0.1:${server.port}`;
  const upstream = `http://127.0.0.1:${upstreams.port}`;
  const sink = memorySink();
  gateway = createGateway(
    {
      publicUrl: origin,
      routes: [
        { path: '/mcp', protocol: 'mcp', upstream: `${upstream}/mcp`, public: true },
        { path: '/a2a', protocol: 'a2a', upstream: `${upstream}/a2a`, public: true },
      ],
    },
    // The same upstream port as `portcullis serve` (node:http), not the global fetch.
    { audit: sink, fetch: nodeUpstreamFetch() },
  );
  return {
    gateway: origin,
    gatewayPort: server.port,
    upstream,
    audit: sink.events,
    close: async () => {
      await server.close();
      await upstreams.close();
    },
  };
}
