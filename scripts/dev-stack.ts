/**
 * The dev stack in one Node process, on free ports: the demo upstreams (examples/demo/serve.ts) and a gateway
 * running the dev config (scripts/dev-config.ts: /mcp and /a2a require a WIT + WPT from the dev trust domain),
 * served by the same Node listener and node:http upstream port as `portcullis serve`. Audit events are kept in
 * memory for the caller to read. Used by `npm run demo` (scripts/demo.ts) and the end-to-end tests
 * (test/e2e/stack.ts); `npm start` (scripts/dev.ts) runs the same config as child processes instead.
 */
import { startDemoUpstreams } from '../examples/demo/serve.ts';
import { memorySink, type AuditEvent } from '../src/audit/index.ts';
import type { GatewayConfig } from '../src/config/schema.ts';
import { createGateway, type Gateway } from '../src/gateway/app.ts';
import { listen } from '../src/runtime/node.ts';
import { nodeUpstreamFetch } from '../src/runtime/node-upstream.ts';
import { DEV_HOST, devGatewayConfig } from './dev-config.ts';

export interface InProcessDevStack {
  /** The gateway's origin (its publicUrl), e.g. http://127.0.0.1:40123 */
  gateway: string;
  gatewayPort: number;
  /** The demo upstreams' origin. */
  upstream: string;
  config: GatewayConfig;
  /** The dev issuer file the gateway trusts, and whether starting the stack generated it. */
  issuerPath: string;
  issuerCreated: boolean;
  /** Every audit event so far, in order. */
  audit: AuditEvent[];
  close(): Promise<void>;
}

export async function startInProcessDevStack({ devDir }: { devDir: string }): Promise<InProcessDevStack> {
  // The MCP demo verifies the gateway's Txn-Tokens; the gateway's port is known only once it listens, below.
  let gatewayOrigin = '';
  let trustDomain = '';
  const upstreams = await startDemoUpstreams({ port: 0, txnTokens: { gateway: () => gatewayOrigin, trustDomain: () => trustDomain } });
  // publicUrl (and so every WPT audience) names the gateway's own port, known only once it listens: listen
  // first, then build the gateway the handler forwards to.
  let gateway: Gateway | undefined;
  let server: Awaited<ReturnType<typeof listen>>;
  try {
    server = await listen((request, env) => gateway!.fetch(request, { clientAddress: env.incoming.socket.remoteAddress }), { port: 0, hostname: DEV_HOST });
    gatewayOrigin = `http://${DEV_HOST}:${server.port}`;
  } catch (error) {
    await upstreams.close();
    throw error;
  }
  const close = async () => {
    await server.close();
    await upstreams.close();
  };
  try {
    const dev = await devGatewayConfig({ port: server.port, upstreamPort: upstreams.port, devDir });
    trustDomain = dev.config.transactionTokens?.trustDomain ?? '';
    const sink = memorySink();
    // The gateway's own identity (minted by devGatewayConfig) is read from dev.env, as `npm start` passes it.
    gateway = createGateway(dev.config, { audit: sink, fetch: nodeUpstreamFetch(), readEnv: (name) => dev.env[name] });
    return {
      gateway: `http://${DEV_HOST}:${server.port}`,
      gatewayPort: server.port,
      upstream: `http://${DEV_HOST}:${upstreams.port}`,
      config: dev.config,
      issuerPath: dev.issuerPath,
      issuerCreated: dev.issuerCreated,
      audit: sink.events,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
