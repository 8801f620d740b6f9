/**
 * The dev stack in-process for end-to-end tests: the demo upstreams and a gateway on Node, both on free ports.
 */
import { createGateway, memorySink, type AuditEvent, type Gateway } from '../../src/index.ts';
import { serveNode } from '../../src/runtime/node.ts';
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
  // publicUrl must name the gateway's own port, known only once it listens: serve a forwarder first,
  // then build the gateway and point the forwarder at it.
  let gateway: Gateway | undefined;
  const forwarder = {
    fetch: (...args: Parameters<Gateway['fetch']>) => gateway!.fetch(...args),
    get config() { return gateway!.config; },
    get state() { return gateway!.state; },
  } satisfies Gateway;
  const server = await serveNode(forwarder, { port: 0, hostname: '127.0.0.1' });
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
    { audit: sink },
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
