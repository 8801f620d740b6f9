/**
 * OAuth through the gateway with the real MCP SDK client (v1): the SDK discovers the route's RFC 9728 metadata
 * from the 401 challenge, reads the dev authorization server's RFC 8414 metadata, obtains a token with
 * client_credentials (ClientCredentialsProvider) and calls tools through the gateway, which verifies the token
 * and keeps it from the upstream. DPoP and the workload + user route are added by custom fetch wrappers (the SDK
 * v1 knows neither), as an agent would. Legacy session binding uses a stateful MCP server (stateful-mcp.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64url, decodeJwt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { withWorkloadIdentity, type FetchLike, type WorkloadCredentials } from '../../src/client/fetch.ts';
import { startStack, type Stack } from './stack.ts';
import { startStatefulGateway, type StatefulGateway } from './stateful-mcp.ts';

const AGENT = 'spiffe://dev.portcullis.local/agents/e2e-mcp-oauth';

let stack: Stack;
let issuer: string;
let stateful: StatefulGateway;
beforeAll(async () => {
  stack = await startStack();
  issuer = `${stack.upstream}/as`;
  stateful = await startStatefulGateway(stack);
});
afterAll(async () => {
  await stateful?.close();
  await stack?.close();
});

/** One HTTP exchange as it left the client (after any wrapper) and the answer. */
interface Exchange {
  url: string;
  method: string;
  rpcMethod: string | undefined;
  toolName: string | undefined;
  authorization: string | null;
  dpop: string | null;
  wit: string | null;
  wpt: string | null;
  sessionId: string | null;
  form: URLSearchParams | undefined;
  status: number;
  requestId: string | null;
  wwwAuthenticate: string | null;
  body?: string;
}

function recording(exchanges: Exchange[]): FetchLike {
  return async (input, init) => {
    const request = new Request(input, init);
    const text = request.method === 'POST' ? await request.clone().text() : '';
    const isForm = (request.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded');
    const rpc = text && !isForm ? (JSON.parse(text) as { method?: string; params?: { name?: string } }) : undefined;
    const response = await fetch(request);
    const exchange: Exchange = {
      url: request.url,
      method: request.method,
      rpcMethod: rpc?.method,
      toolName: rpc?.params?.name,
      authorization: request.headers.get('authorization'),
      dpop: request.headers.get('dpop'),
      wit: request.headers.get('workload-identity-token'),
      wpt: request.headers.get('workload-proof-token'),
      sessionId: request.headers.get('mcp-session-id'),
      form: isForm ? new URLSearchParams(text) : undefined,
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      wwwAuthenticate: response.headers.get('www-authenticate'),
    };
    if (!response.ok) exchange.body = await response.clone().text();
    exchanges.push(exchange);
    return response;
  };
}

function provider(clientId: string, clientSecret: string, scope: string) {
  return new ClientCredentialsProvider({ clientId, clientSecret, scope, expectedIssuer: issuer });
}

/** A connected SDK client on `url` with `authProvider`; `wrap` puts a credential wrapper around the recorder. */
async function connect(url: string, authProvider: ClientCredentialsProvider, wrap: (inner: FetchLike) => FetchLike = (f) => f) {
  const exchanges: Exchange[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider, fetch: wrap(recording(exchanges)) });
  const client = new Client({ name: 'portcullis-e2e-oauth', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, exchanges };
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as { type: string; text?: string }[];
  expect(content[0]?.type).toBe('text');
  return content[0]!.text!;
}

const tokenRequests = (exchanges: Exchange[]) => exchanges.filter((e) => e.url === `${issuer}/token`);
const eventOf = (e: Exchange | undefined) => stack.audit.find((a) => a.requestId === e?.requestId);

const sha256b64 = async (value: string) => base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value))));

/** A token straight from the dev authorization server (for raw requests). */
async function obtainToken(clientId: string, secret: string, resource: string, scope = 'mcp:tools'): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa(`${clientId}:${secret}`)}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** A raw JSON-RPC POST, as a client would send it. */
function rawPost(url: string, headers: Record<string, string>, message: Record<string, unknown> = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', ...headers },
    body: JSON.stringify(message),
  });
}

const INITIALIZE = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };

async function errorCode(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { error?: { data?: { code?: string } } }).error?.data?.code;
}

describe('MCP over OAuth (client_credentials) through the gateway', () => {
  it('discovers the metadata from the 401, gets a token for the route as resource, lists tools and calls echo', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/oauth/mcp`, provider('demo-agent', 'demo-agent-secret', 'mcp:tools'));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'whoami']);
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'hello over oauth' } }))).toBe('hello over oauth');
    } finally {
      await client.close();
    }
    // 1. the anonymous initialize is challenged with the route's metadata and scope
    const first = exchanges[0]!;
    expect(first).toMatchObject({ rpcMethod: 'initialize', status: 401, authorization: null });
    const metadataUrl = `${stack.gateway}/.well-known/oauth-protected-resource/oauth/mcp`;
    expect(first.wwwAuthenticate).toContain(`Bearer resource_metadata="${metadataUrl}", scope="mcp:tools"`);
    expect(first.wwwAuthenticate).toMatch(/DPoP algs="[^"]+"/);
    // 2. the SDK read that metadata and the authorization server's
    const prm = exchanges.find((e) => e.url === metadataUrl);
    expect(prm?.status).toBe(200);
    const metadata = (await (await fetch(metadataUrl)).json()) as { resource: string; authorization_servers: string[] };
    expect(metadata).toMatchObject({ resource: `${stack.gateway}/oauth/mcp`, authorization_servers: [issuer] });
    expect(exchanges.some((e) => e.url === `${stack.upstream}/.well-known/oauth-authorization-server/as` && e.status === 200)).toBe(true);
    // 3. one token request, resource = the route (RFC 8707), and the JWT's audience is that
    const [tokenRequest] = tokenRequests(exchanges);
    expect(tokenRequests(exchanges)).toHaveLength(1);
    expect(tokenRequest).toMatchObject({ status: 200 });
    expect(tokenRequest!.form!.get('grant_type')).toBe('client_credentials');
    expect(tokenRequest!.form!.get('resource')).toBe(`${stack.gateway}/oauth/mcp`);
    expect(tokenRequest!.form!.get('scope')).toBe('mcp:tools');
    // 4. every MCP request after that carries the token; each is audited with the user principal
    const mcp = exchanges.filter((e) => e.url === `${stack.gateway}/oauth/mcp` && e.authorization !== null);
    expect(mcp.length).toBeGreaterThanOrEqual(3);
    const token = mcp[0]!.authorization!.replace(/^Bearer /, '');
    expect(decodeJwt(token)).toMatchObject({ aud: `${stack.gateway}/oauth/mcp`, iss: issuer, client_id: 'demo-agent', scope: 'mcp:tools' });
    const call = mcp.find((e) => e.rpcMethod === 'tools/call');
    expect(call?.status).toBe(200);
    const event = eventOf(call);
    expect(event).toMatchObject({
      decision: 'allow',
      reason: 'AUTHENTICATED',
      status: 200,
      route: '/oauth/mcp',
      principal: {
        credential: 'access-token',
        issuer,
        tokenHash: await sha256b64(token),
        user: { issuer, subject: 'demo-agent', clientId: 'demo-agent', scopes: ['mcp:tools'], token: 'jwt', tokenHash: await sha256b64(token) },
      },
    });
    expect(event?.principal?.workloadId).toBeUndefined();
    // The token appears in no audit event (only its hash).
    expect(JSON.stringify(stack.audit)).not.toContain(token);
  });

  it('whoami needs mcp:admin: 403 insufficient_scope naming every scope; the SDK re-requests its configured scope and surfaces the 403', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/oauth/mcp`, provider('demo-agent', 'demo-agent-secret', 'mcp:tools'));
    let error: unknown;
    try {
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'fine' } }))).toBe('fine');
      error = await client.callTool({ name: 'whoami', arguments: {} }).then(() => undefined, (e: unknown) => e);
    } finally {
      await client.close();
    }
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
    const refused = exchanges.filter((e) => e.toolName === 'whoami');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const e of refused) {
      expect(e.status).toBe(403);
      expect(e.wwwAuthenticate).toBe(`Bearer error="insufficient_scope", scope="mcp:tools mcp:admin", resource_metadata="${stack.gateway}/.well-known/oauth-protected-resource/oauth/mcp"`);
      expect(JSON.parse(e.body!)).toMatchObject({ jsonrpc: '2.0', error: { data: { status: 403, code: 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE' } } });
      expect(eventOf(e)).toMatchObject({ decision: 'deny', reason: 'ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', status: 403, principal: { user: { clientId: 'demo-agent', scopes: ['mcp:tools'] } } });
    }
    // SDK v1 upscoping: on the 403 it runs auth() again, but ClientCredentialsProvider's token request uses the
    // provider's own scope (fetchToken reads clientMetadata.scope), not the challenge's: it gets mcp:tools again,
    // the retry is refused with the same challenge, and the SDK gives up.
    const tokens = tokenRequests(exchanges);
    expect(tokens.map((t) => t.form!.get('scope'))).toEqual(['mcp:tools', 'mcp:tools']);
    expect(refused).toHaveLength(2);
    expect(stack.audit.some((a) => refused.some((r) => r.requestId === a.requestId) && a.decision === 'allow')).toBe(false);
  });

  it('a client configured with "mcp:tools mcp:admin" calls whoami; the upstream received no credential', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/oauth/mcp`, provider('demo-agent', 'demo-agent-secret', 'mcp:tools mcp:admin'));
    let who: { receivedCredentials: string[] };
    try {
      who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
    } finally {
      await client.close();
    }
    expect(tokenRequests(exchanges).map((t) => t.form!.get('scope'))).toEqual(['mcp:tools mcp:admin']);
    const call = exchanges.find((e) => e.toolName === 'whoami');
    expect(call?.authorization).toMatch(/^Bearer /);
    expect(eventOf(call)).toMatchObject({ decision: 'allow', status: 200, principal: { credential: 'access-token', user: { clientId: 'demo-agent', scopes: ['mcp:tools', 'mcp:admin'] } } });
    // The demo MCP server lists the credential headers it received (authorization, dpop, ...): none.
    expect(who!.receivedCredentials).toEqual([]);
  });
});

/** An ES256 DPoP key and a fetch wrapper that proves possession of it (RFC 9449). */
async function dpopWrapper(tokenEndpoint: string, gatewayOrigin: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = await exportJWK(publicKey);
  const proof = async (method: string, url: URL, accessToken?: string) => {
    const htu = `${url.origin}${url.pathname}`;
    const claims: Record<string, unknown> = { htm: method, htu, jti: crypto.randomUUID() };
    if (accessToken !== undefined) claims.ath = await sha256b64(accessToken);
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt().sign(privateKey);
  };
  const wrap = (inner: FetchLike): FetchLike => async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    if (url.href === tokenEndpoint) {
      headers.set('dpop', await proof(request.method, url));
    } else if (url.origin === gatewayOrigin) {
      const bearer = /^Bearer (.+)$/.exec(headers.get('authorization') ?? '')?.[1];
      if (bearer !== undefined) {
        headers.set('authorization', `DPoP ${bearer}`);
        headers.set('dpop', await proof(request.method, url, bearer));
      }
    }
    return inner(new Request(request, { headers }));
  };
  return { wrap };
}

describe('DPoP-bound tokens (a custom fetch adds the proofs the SDK v1 does not make)', () => {
  it('the dev AS binds the token to the key; MCP calls with DPoP succeed; the same token as Bearer is refused', async () => {
    const dpop = await dpopWrapper(`${issuer}/token`, stack.gateway);
    const authProvider = provider('demo-agent', 'demo-agent-secret', 'mcp:tools');
    const { client, exchanges } = await connect(`${stack.gateway}/oauth/mcp`, authProvider, dpop.wrap);
    try {
      expect((await client.listTools()).tools.length).toBe(2);
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'dpop' } }))).toBe('dpop');
    } finally {
      await client.close();
    }
    const [tokenRequest] = tokenRequests(exchanges);
    expect(tokenRequest?.dpop).toBeTruthy();
    const tokens = authProvider.tokens()!;
    expect(tokens.token_type).toBe('DPoP');
    const claims = decodeJwt(tokens.access_token);
    expect((claims.cnf as { jkt?: string } | undefined)?.jkt).toMatch(/^[\w-]{43}$/);
    const call = exchanges.find((e) => e.rpcMethod === 'tools/call');
    expect(call?.authorization).toBe(`DPoP ${tokens.access_token}`);
    expect(call?.status).toBe(200);
    expect(eventOf(call)).toMatchObject({ decision: 'allow', principal: { credential: 'access-token', keyThumbprint: (claims.cnf as { jkt: string }).jkt, user: { clientId: 'demo-agent', dpopJkt: (claims.cnf as { jkt: string }).jkt } } });

    // RFC 9449 §7.2: the bound token presented as Bearer
    const asBearer = await rawPost(`${stack.gateway}/oauth/mcp`, { authorization: `Bearer ${tokens.access_token}` }, INITIALIZE);
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('Bearer error="invalid_token"');
    expect(await errorCode(asBearer)).toBe('ERR_ACCESS_TOKEN_DPOP_BOUND');
  });
});

describe('opaque tokens (introspected by the gateway)', () => {
  it('demo-opaque lists tools and calls echo; the audit says the token was introspected', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/oauth/mcp`, provider('demo-opaque', 'demo-opaque-secret', 'mcp:tools'));
    try {
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'opaque' } }))).toBe('opaque');
    } finally {
      await client.close();
    }
    const call = exchanges.find((e) => e.rpcMethod === 'tools/call');
    expect(call?.authorization).toMatch(/^Bearer [\w-]+$/);
    expect(call!.authorization!.split('.')).toHaveLength(1); // not a JWT
    expect(eventOf(call)).toMatchObject({ decision: 'allow', status: 200, principal: { credential: 'access-token', user: { clientId: 'demo-opaque', subject: 'demo-opaque', token: 'introspected', scopes: ['mcp:tools'] } } });
  });
});

describe('workload + user on /agent/mcp (WIT + -01 WPT binding the Bearer token through ath)', () => {
  let credentials: WorkloadCredentials;
  beforeAll(async () => {
    credentials = await stack.mint(AGENT);
  });

  /** The WIMSE headers go to the gateway only (not to the authorization server): WIT + Workload-Proof-Token with `ath`. */
  const workloadWrap = (inner: FetchLike): FetchLike => {
    const wimse = withWorkloadIdentity(inner, { credentials: () => credentials, carriage: 'header' });
    return (input, init) => {
      const request = new Request(input, init);
      return new URL(request.url).origin === stack.gateway ? wimse(request) : inner(request);
    };
  };

  it('the SDK client calls tools; the audit principal holds the workload and the user', async () => {
    const { client, exchanges } = await connect(`${stack.gateway}/agent/mcp`, provider('demo-agent', 'demo-agent-secret', 'mcp:tools'), workloadWrap);
    let who: { receivedCredentials: string[] };
    try {
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'agent' } }))).toBe('agent');
      who = JSON.parse(text(await client.callTool({ name: 'whoami', arguments: {} })));
    } finally {
      await client.close();
    }
    // The first initialize had the workload credential but no token: challenged for the token.
    expect(exchanges[0]).toMatchObject({ rpcMethod: 'initialize', status: 401, wit: credentials.wit });
    expect(exchanges[0]!.wwwAuthenticate).toContain(`resource_metadata="${stack.gateway}/.well-known/oauth-protected-resource/agent/mcp"`);
    expect(tokenRequests(exchanges)[0]!.form!.get('resource')).toBe(`${stack.gateway}/agent/mcp`);
    expect(tokenRequests(exchanges)[0]!.wit).toBeNull();
    const call = exchanges.find((e) => e.toolName === 'echo');
    expect(call?.status).toBe(200);
    const token = call!.authorization!.replace(/^Bearer /, '');
    expect(decodeJwt(call!.wpt!)).toMatchObject({ ath: await sha256b64(token), wth: await sha256b64(credentials.wit), aud: `${stack.gateway}/agent/mcp` });
    expect(eventOf(call)).toMatchObject({
      decision: 'allow',
      status: 200,
      route: '/agent/mcp',
      principal: { workloadId: AGENT, credential: 'wit+wpt', user: { clientId: 'demo-agent', subject: 'demo-agent', scopes: ['mcp:tools'] } },
    });
    expect(who!.receivedCredentials).toEqual([]);
  });

  it('the token without the WIMSE headers: 401 ERR_WORKLOAD_CREDENTIAL_MISSING', async () => {
    const token = await obtainToken('demo-agent', 'demo-agent-secret', `${stack.gateway}/agent/mcp`);
    const response = await rawPost(`${stack.gateway}/agent/mcp`, { authorization: `Bearer ${token}` }, INITIALIZE);
    expect(response.status).toBe(401);
    expect(await errorCode(response)).toBe('ERR_WORKLOAD_CREDENTIAL_MISSING');
    // And the SDK with only the OAuth provider gives up after its one authorization round.
    const exchanges: Exchange[] = [];
    const client = new Client({ name: 'portcullis-e2e-no-wimse', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.gateway}/agent/mcp`), { authProvider: provider('demo-agent', 'demo-agent-secret', 'mcp:tools'), fetch: recording(exchanges) });
    const error = await client.connect(transport).then(() => undefined, (e: unknown) => e);
    await client.close();
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(401);
    const last = exchanges.at(-1)!;
    expect(last.authorization).toMatch(/^Bearer /);
    expect(JSON.parse(last.body!)).toMatchObject({ error: { data: { code: 'ERR_WORKLOAD_CREDENTIAL_MISSING' } } });
  });

  it('a WPT whose ath names another token is refused (400 ERR_WPT_ATH_MISMATCH: the -01 carriage answers 400, errors.ts)', async () => {
    const token = await obtainToken('demo-agent', 'demo-agent-secret', `${stack.gateway}/agent/mcp`);
    const other = await obtainToken('demo-agent', 'demo-agent-secret', `${stack.gateway}/agent/mcp`);
    // The proof is minted for `other`, the request carries `token`.
    const mintFor = withWorkloadIdentity(async (input, init) => {
      const request = new Request(input, init);
      const headers = new Headers(request.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(new Request(request, { headers }));
    }, { credentials: () => credentials, carriage: 'header' });
    const response = await mintFor(`${stack.gateway}/agent/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${other}` },
      body: JSON.stringify(INITIALIZE),
    });
    expect(response.status).toBe(400);
    expect(await errorCode(response)).toBe('ERR_WPT_ATH_MISMATCH');
    expect(stack.audit.find((a) => a.requestId === response.headers.get('x-request-id'))).toMatchObject({ decision: 'deny', reason: 'ERR_WPT_ATH_MISMATCH', status: 400 });
  });
});

describe('legacy sessions are bound to the principal that opened them', () => {
  it('the SDK session id presented by another client is 403 ERR_MCP_SESSION_FOREIGN; an invented id is 404', async () => {
    const url = `${stateful.gateway}/stateful/mcp`;
    const { client, transport, exchanges } = await connect(url, provider('demo-agent', 'demo-agent-secret', 'mcp:tools'));
    try {
      const sessionId = transport.sessionId;
      expect(sessionId).toMatch(/^[\w-]{36}$/);
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'in session' } }))).toBe('in session');
      expect(exchanges.find((e) => e.rpcMethod === 'tools/call')?.sessionId).toBe(sessionId);

      // Another client (a valid token from demo-opaque, for this route) with the same session id.
      const foreign = await obtainToken('demo-opaque', 'demo-opaque-secret', url);
      const hijack = await rawPost(url, { authorization: `Bearer ${foreign}`, 'mcp-session-id': sessionId! });
      expect(hijack.status).toBe(403);
      expect(await errorCode(hijack)).toBe('ERR_MCP_SESSION_FOREIGN');
      expect(stateful.audit.find((a) => a.requestId === hijack.headers.get('x-request-id'))).toMatchObject({ decision: 'deny', reason: 'ERR_MCP_SESSION_FOREIGN', status: 403, principal: { user: { clientId: 'demo-opaque' } } });

      // The owner's own token, with an id the gateway never saw opened.
      const own = await obtainToken('demo-agent', 'demo-agent-secret', url);
      const invented = await rawPost(url, { authorization: `Bearer ${own}`, 'mcp-session-id': crypto.randomUUID() });
      expect(invented.status).toBe(404);
      expect(await errorCode(invented)).toBe('ERR_MCP_SESSION_UNKNOWN');

      // The owner (same client, another token) still may use it: the binding is to the principal, not the token.
      const again = await rawPost(url, { authorization: `Bearer ${own}`, 'mcp-session-id': sessionId! });
      expect(again.status).toBe(200);
      await again.body?.cancel();
      // And the SDK client's session still works.
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'still mine' } }))).toBe('still mine');
    } finally {
      await client.close();
    }
  });
});
