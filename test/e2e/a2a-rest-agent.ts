/**
 * Test helper (Node only): a real @a2a-js/sdk agent served by the SDK's own Express adapters, for the bindings the
 * framework-free demo agent (examples/demo/a2a-agent.ts) cannot offer: HTTP+JSON (REST) exists in the SDK only as
 * an Express adapter. Same echo executor and card as the demo, from that module.
 *
 *   GET  /.well-known/agent-card.json   agentCardHandler: the 1.0 card (no legacyCompat: the gateway derives 0.3)
 *   POST /jsonrpc                       jsonRpcHandler, legacyCompat on (no A2A-Version, or "0.3", is 0.3)
 *        /rest/...                      restHandler, legacyCompat on (0.3 paths such as /rest/v1/message:send)
 *
 * The card declares JSONRPC and HTTP+JSON, each for protocol 1.0 and 0.3, at URLs built like the demo's (publicBase:
 * the X-Forwarded-Proto/-Host/-Prefix the gateway sends, else this server's own origin). A request with a
 * `Txn-Token` header counts as an authenticated user named by the token's `sub`, WITHOUT verifying the token: this is
 * a test upstream, and the tests that need verification use the demo agent. It sees the extended card.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { UnauthenticatedUser, defaultServerCallContextBuilder, type RequestHeaders, type ServerCallContextBuilder, type User } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler } from '@a2a-js/sdk/server/express';
import { PUBLIC_BASE_STATE, TxnTokenUser, echoAgentCard, echoRequestHandler, publicBase, type EchoInterface } from '../../examples/demo/a2a-agent.ts';

/** The part of an Express app used here (express ships no type declarations, and @types/express is not installed). */
type ExpressApp = ((req: IncomingMessage, res: ServerResponse) => void) & { use(path: string, ...handlers: unknown[]): unknown };
type Next = (error?: unknown) => void;
const express = createRequire(import.meta.url)('express') as () => ExpressApp;

const FORWARDED = ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-prefix'] as const;

/** The public base URL for a request's headers: the demo's publicBase, with this server mounted at its root. */
function baseFor(ownOrigin: string, headers: RequestHeaders | IncomingHttpHeaders): string {
  const forwarded = new Headers();
  for (const name of FORWARDED) {
    const value = headers[name];
    if (typeof value === 'string') forwarded.set(name, value);
  }
  return publicBase(new Request(`${ownOrigin}/`, { headers: forwarded }), '');
}

const interfacesAt = (base: string): EchoInterface[] => [
  { url: `${base}/jsonrpc`, protocolBinding: 'JSONRPC' },
  { url: `${base}/rest`, protocolBinding: 'HTTP+JSON' },
];

/** A caller with a Txn-Token header is authenticated (unverified, see above), named by the token's `sub` if it has one. */
async function txnTokenUser(req: { headers: IncomingHttpHeaders }): Promise<User> {
  const token = req.headers['txn-token'];
  if (typeof token !== 'string' || token === '') return new UnauthenticatedUser();
  let sub: unknown;
  try {
    sub = decodeJwt(token).sub;
  } catch {
    // Not a JWT: still a holder of some token, which is all this helper checks.
  }
  return new TxnTokenUser(typeof sub === 'string' && sub !== '' ? sub : 'txn-token-holder');
}

export interface RestAgent {
  /** The agent's origin, e.g. http://127.0.0.1:PORT (card at /.well-known/agent-card.json). */
  url: string;
  close(): Promise<void>;
}

/** Starts the agent on 127.0.0.1 and a free port. */
export async function startRestAgent(): Promise<RestAgent> {
  // Known once the server listens; nothing can call it before.
  let ownOrigin = 'http://127.0.0.1';
  // The handler's own card (at this placeholder) only feeds the SDK's checks: every caller gets URLs from the context.
  const requestHandler = echoRequestHandler(interfacesAt, 'http://127.0.0.1');
  // The SDK builds the call context without the request; the headers it passes are enough for the public base.
  const contextBuilder: ServerCallContextBuilder = (options) => {
    const context = defaultServerCallContextBuilder(options);
    context.state.set(PUBLIC_BASE_STATE, baseFor(ownOrigin, options.headers));
    return context;
  };

  const app = express();
  // agentCardHandler's provider is called without the request, so a handler is made per request for its URLs.
  app.use('/.well-known/agent-card.json', (req: IncomingMessage, res: ServerResponse, next: Next) => {
    const handler = agentCardHandler({ agentCardProvider: async () => echoAgentCard(interfacesAt(baseFor(ownOrigin, req.headers))), cache: { maxAge: 0 } });
    return handler(req, res, next);
  });
  app.use('/jsonrpc', jsonRpcHandler({ requestHandler, userBuilder: txnTokenUser, contextBuilder, legacyCompat: { enabled: true } }));
  app.use('/rest', restHandler({ requestHandler, userBuilder: txnTokenUser, contextBuilder, legacyCompat: { enabled: true } }));

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  ownOrigin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: ownOrigin,
    close: () => new Promise<void>((resolve, reject) => {
      // Open SSE streams would otherwise hold close() until they end.
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}
