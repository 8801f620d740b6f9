/**
 * The MCP front's legacy session binding (src/gateway/mcp-front.ts) through createGateway: a session the upstream
 * opens (Mcp-Session-Id on the initialize response) belongs to the principal that opened it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createGateway, memorySink, type GatewayConfigInput } from '../../src/index.ts';
import { generateKey, sign, type TestKey } from './verify/mint.ts';

const PUBLIC = 'https://gw.example';
const AS = 'https://as.example';
const VERSION = '2025-06-18';

let asKey: TestKey;
let config: GatewayConfigInput;

beforeAll(async () => {
  asKey = await generateKey('ES256');
  const { kty, crv, x, y } = asKey.publicJwk as Record<string, string>;
  config = {
    publicUrl: PUBLIC,
    authorizationServers: { [AS]: { jwks: { keys: [{ kty: kty as 'EC', crv: crv!, x: x!, y: y!, kid: 'a1' }] }, algorithms: ['ES256'] } },
    routes: [
      { path: '/mcp', protocol: 'mcp', upstream: 'http://up.internal/mcp', auth: { oauth: { authorizationServers: [AS] } } },
      { path: '/open', protocol: 'mcp', upstream: 'http://up.internal/mcp', public: true },
    ],
  };
});

const nowS = () => Math.floor(Date.now() / 1000);
const token = (path: string, sub: string) =>
  sign({ typ: 'at+jwt', alg: 'ES256', kid: 'a1' }, { iss: AS, sub, aud: `${PUBLIC}${path}`, client_id: 'agent', iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID() }, asKey);

function setup() {
  const audit = memorySink();
  const seen: Request[] = [];
  let opened = 0;
  const upstream = { deleteStatus: 200 };
  const gw = createGateway(config, {
    audit,
    fetch: async (url, init) => {
      const req = new Request(url, init);
      seen.push(req);
      if (req.method === 'DELETE') return new Response(null, { status: upstream.deleteStatus });
      const body = (await req.json()) as { method?: string };
      if (body.method === 'initialize') return new Response('{"jsonrpc":"2.0","id":1,"result":{}}', { headers: { 'content-type': 'application/json', 'mcp-session-id': `session-${++opened}` } });
      return new Response('{"jsonrpc":"2.0","id":2,"result":{}}', { headers: { 'content-type': 'application/json' } });
    },
  });
  return { gw, audit, seen, upstream };
}

function mcp(path: string, tokenValue: string | undefined, method: string, session?: string, httpMethod = 'POST') {
  const headers = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': VERSION });
  if (tokenValue) headers.set('authorization', `Bearer ${tokenValue}`);
  if (session) headers.set('mcp-session-id', session);
  const body = httpMethod === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: method === 'initialize' ? { protocolVersion: VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } } : {} }) : undefined;
  return new Request(`http://127.0.0.1${path}`, { method: httpMethod, headers, ...(body ? { body } : {}) });
}

async function jsonRpcError(res: Response) {
  return ((await res.json()) as { error: { code: number; data: { code: string } } }).error;
}

describe('legacy MCP sessions bound to their principal', () => {
  it('binds the session to the opening principal; another principal gets 403 ERR_MCP_SESSION_FOREIGN', async () => {
    const { gw, seen } = setup();
    const alice = await token('/mcp', 'alice');
    const init = await gw.fetch(mcp('/mcp', alice, 'initialize'));
    expect(init.status).toBe(200);
    const session = init.headers.get('mcp-session-id')!;
    expect(session).toBe('session-1');
    expect((await gw.fetch(mcp('/mcp', alice, 'tools/list', session))).status).toBe(200);
    // The same user with a fresh token is the same principal.
    expect((await gw.fetch(mcp('/mcp', await token('/mcp', 'alice'), 'tools/list', session))).status).toBe(200);
    const before = seen.length;
    const foreign = await gw.fetch(mcp('/mcp', await token('/mcp', 'mallory'), 'tools/list', session));
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('content-type')).toBe('application/json');
    expect(await jsonRpcError(foreign)).toMatchObject({ data: { code: 'ERR_MCP_SESSION_FOREIGN' } });
    expect(seen.length).toBe(before);
  });

  it('answers an id never opened through the gateway with 404 and JSON-RPC -32001', async () => {
    const { gw, seen } = setup();
    const res = await gw.fetch(mcp('/mcp', await token('/mcp', 'alice'), 'tools/list', 'made-up-session'));
    expect(res.status).toBe(404);
    expect(await jsonRpcError(res)).toMatchObject({ code: -32001, data: { code: 'ERR_MCP_SESSION_UNKNOWN' } });
    expect(seen).toHaveLength(0);
  });

  it('a DELETE the upstream accepts ends the binding (then 404); a refused DELETE keeps it', async () => {
    const { gw, upstream } = setup();
    const alice = await token('/mcp', 'alice');
    const session = (await gw.fetch(mcp('/mcp', alice, 'initialize'))).headers.get('mcp-session-id')!;
    // Another principal cannot end it.
    expect((await gw.fetch(mcp('/mcp', await token('/mcp', 'mallory'), '', session, 'DELETE'))).status).toBe(403);
    upstream.deleteStatus = 405;
    expect((await gw.fetch(mcp('/mcp', alice, '', session, 'DELETE'))).status).toBe(405);
    expect((await gw.fetch(mcp('/mcp', alice, 'tools/list', session))).status).toBe(200);
    upstream.deleteStatus = 200;
    expect((await gw.fetch(mcp('/mcp', alice, '', session, 'DELETE'))).status).toBe(200);
    expect((await gw.fetch(mcp('/mcp', alice, 'tools/list', session))).status).toBe(404);
  });

  it('checks a session id sent with a modern-era MCP-Protocol-Version too (no bypass by claiming 2026-07-28)', async () => {
    const { gw, seen } = setup();
    const session = (await gw.fetch(mcp('/mcp', await token('/mcp', 'alice'), 'initialize'))).headers.get('mcp-session-id')!;
    const before = seen.length;
    const modernPost = mcp('/mcp', await token('/mcp', 'mallory'), 'tools/list', session);
    modernPost.headers.set('mcp-protocol-version', '2026-07-28');
    modernPost.headers.set('mcp-method', 'tools/list');
    expect((await gw.fetch(modernPost)).status).toBe(403);
    const modernDelete = mcp('/mcp', await token('/mcp', 'mallory'), '', session, 'DELETE');
    modernDelete.headers.set('mcp-protocol-version', '2099-01-01');
    expect((await gw.fetch(modernDelete)).status).toBe(403);
    const modernGet = mcp('/mcp', await token('/mcp', 'mallory'), '', 'never-opened', 'GET');
    modernGet.headers.set('mcp-protocol-version', '2026-07-28');
    expect((await gw.fetch(modernGet)).status).toBe(404);
    expect(seen.length).toBe(before);
  });

  it('a public MCP route checks no binding', async () => {
    const { gw, seen } = setup();
    const init = await gw.fetch(mcp('/open', undefined, 'initialize'));
    expect(init.headers.get('mcp-session-id')).toBe('session-1');
    expect((await gw.fetch(mcp('/open', undefined, 'tools/list', 'session-1'))).status).toBe(200);
    expect((await gw.fetch(mcp('/open', undefined, 'tools/list', 'never-opened'))).status).toBe(200);
    expect(seen).toHaveLength(3);
  });
});
