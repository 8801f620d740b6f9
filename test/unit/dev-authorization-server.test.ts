/**
 * The dev authorization server (examples/demo/authorization-server.ts), driven in-process as a Request -> Response
 * function, plus its mounting in the demo upstreams (examples/demo/serve.ts).
 */
import { calculateJwkThumbprint, createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { ACCESS_TOKEN_TYPE, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from '../../src/oauth-uris.ts';
import { OAuthMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevAuthorizationServer, DEV_ACR, DEV_AS_MAX_BODY_BYTES, devAuthorizationServerIssuer, type DevAuthorizationServer } from '../../examples/demo/authorization-server.ts';
import { demoHandler, startDemoUpstreams, type DemoUpstreams } from '../../examples/demo/serve.ts';

const ORIGIN = 'http://127.0.0.1:8788';
const ISSUER = `${ORIGIN}/as`;
const RESOURCE = 'http://127.0.0.1:8787/mcp';

let as: DevAuthorizationServer;
let clock = Date.now();
beforeAll(() => {
  as = createDevAuthorizationServer({ issuer: ISSUER, now: () => clock });
});

const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

function post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
  return as.fetch(new Request(`${ORIGIN}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }));
}

async function jwks(): Promise<ReturnType<typeof createLocalJWKSet>> {
  const response = await as.fetch(new Request(`${ISSUER}/jwks`));
  expect(response.status).toBe(200);
  return createLocalJWKSet((await response.json()) as JSONWebKeySet);
}

function token(client: string, secret: string, form: Record<string, string | string[]> = {}, headers: Record<string, string> = {}) {
  return post('/as/token', { grant_type: 'client_credentials', resource: RESOURCE, ...form }, { authorization: basic(client, secret), ...headers });
}

const introspect = (tokenValue: string, headers: Record<string, string> = {}) =>
  post('/as/introspect', { token: tokenValue }, { authorization: basic('portcullis-gateway', 'portcullis-gateway-secret'), ...headers });

async function dpopProof(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({ htm: 'POST', htu: as.tokenEndpoint, jti: crypto.randomUUID(), iat: Math.floor(clock / 1000), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk, ...header })
    .sign(privateKey);
  return { proof, jwk };
}

describe('dev authorization server: metadata and keys', () => {
  it('serves RFC 8414 metadata at the path-inserted well-known URL, valid for the MCP SDK', async () => {
    const response = await as.fetch(new Request(`${ORIGIN}/.well-known/oauth-authorization-server/as`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: ISSUER,
      token_endpoint: `${ISSUER}/token`,
      jwks_uri: `${ISSUER}/jwks`,
      introspection_endpoint: `${ISSUER}/introspect`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['mcp:tools', 'mcp:admin', 'a2a:call', 'a2a:admin'],
    });
    expect(metadata.dpop_signing_alg_values_supported).toContain('ES256');
    expect(OAuthMetadataSchema.safeParse(metadata).success).toBe(true);
    expect(as.metadataUrl).toBe(`${ORIGIN}/.well-known/oauth-authorization-server/as`);
  });

  it('answers the advertised authorization endpoint with unsupported_response_type', async () => {
    const response = await as.fetch(new Request(`${ISSUER}/authorize?response_type=code&client_id=demo-agent`));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'unsupported_response_type' });
  });

  it('serves one public ES256 key', async () => {
    const set = (await (await as.fetch(new Request(`${ISSUER}/jwks`))).json()) as JSONWebKeySet;
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(set.keys[0]!.d).toBeUndefined();
  });

  it('refuses the wrong method (405) and unknown paths (404)', async () => {
    const get = await as.fetch(new Request(`${ISSUER}/token`));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await as.fetch(new Request(`${ISSUER}/jwks`, { method: 'POST' }))).status).toBe(405);
    expect((await as.fetch(new Request(`${ISSUER}/nope`))).status).toBe(404);
  });

  it('rejects an issuer that is not <origin>/as', () => {
    expect(() => createDevAuthorizationServer({ issuer: `${ORIGIN}/other` })).toThrow();
  });
});

describe('dev authorization server: token endpoint', () => {
  it('issues an RFC 9068 JWT for client_secret_basic, audience = resource, default scope', async () => {
    const response = await token('demo-agent', 'demo-agent-secret');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'mcp:tools' });
    const { payload, protectedHeader } = await jwtVerify(body.access_token as string, await jwks(), { issuer: ISSUER, audience: RESOURCE, typ: 'at+jwt', currentDate: new Date(clock) });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload.aud).toBe(RESOURCE);
    expect(payload).toMatchObject({ sub: 'demo-agent', client_id: 'demo-agent', scope: 'mcp:tools', acr: DEV_ACR });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.auth_time).toBe(payload.iat);
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.cnf).toBeUndefined();
  });

  it('accepts client_secret_post and a requested subset of scopes', async () => {
    const response = await post('/as/token', { grant_type: 'client_credentials', resource: RESOURCE, scope: 'mcp:admin mcp:tools', client_id: 'demo-agent', client_secret: 'demo-agent-secret' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; scope: string };
    expect(body.scope).toBe('mcp:admin mcp:tools');
    const { payload } = await jwtVerify(body.access_token, await jwks(), { currentDate: new Date(clock) });
    expect(payload.scope).toBe('mcp:admin mcp:tools');
  });

  it('decodes form-urlencoded Basic credentials (RFC 6749 §2.3.1)', async () => {
    // '-' encodes to itself; '+' for a space must not break ordinary ids, and %2D is '-'.
    const response = await token('demo-agent', 'demo-agent-secret', {}, { authorization: `Basic ${btoa('demo%2Dagent:demo-agent%2Dsecret')}` });
    expect(response.status).toBe(200);
  });

  it('refuses a wrong secret, an unknown client and no authentication with 401 invalid_client', async () => {
    for (const response of [
      await token('demo-agent', 'wrong'),
      await token('nobody', 'demo-agent-secret'),
      await post('/as/token', { grant_type: 'client_credentials', resource: RESOURCE }),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    }
  });

  it('refuses scopes beyond the client\'s with 400 invalid_scope', async () => {
    const response = await token('demo-agent', 'demo-agent-secret', { scope: 'mcp:tools mcp:root' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('requires one absolute resource without fragment (400 invalid_target)', async () => {
    const missing = await post('/as/token', { grant_type: 'client_credentials' }, { authorization: basic('demo-agent', 'demo-agent-secret') });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_target' });
    for (const resource of ['/mcp', `${RESOURCE}#x`, [RESOURCE, 'https://other.example/']]) {
      const response = await token('demo-agent', 'demo-agent-secret', { resource });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_target' });
    }
  });

  it('supports only client_credentials, and only for clients that get tokens', async () => {
    const grant = await token('demo-agent', 'demo-agent-secret', { grant_type: 'authorization_code' });
    expect(grant.status).toBe(400);
    expect(await grant.json()).toMatchObject({ error: 'unsupported_grant_type' });
    const gateway = await token('portcullis-gateway', 'portcullis-gateway-secret');
    expect(gateway.status).toBe(400);
    expect(await gateway.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it('refuses bodies that are too large or not form-encoded', async () => {
    const big = await post('/as/token', { grant_type: 'client_credentials', resource: RESOURCE, pad: 'x'.repeat(DEV_AS_MAX_BODY_BYTES) }, { authorization: basic('demo-agent', 'demo-agent-secret') });
    expect(big.status).toBe(413);
    const jsonBody = await as.fetch(new Request(`${ISSUER}/token`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: basic('demo-agent', 'demo-agent-secret') } }));
    expect(jsonBody.status).toBe(400);
    expect(await jsonBody.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('binds the token to a DPoP proof key: cnf.jkt is its thumbprint, token_type DPoP', async () => {
    const { proof, jwk } = await dpopProof();
    const response = await token('demo-agent', 'demo-agent-secret', {}, { dpop: proof });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('DPoP');
    const { payload } = await jwtVerify(body.access_token, await jwks(), { currentDate: new Date(clock) });
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(jwk as JWK, 'sha256') });
  });

  it('refuses bad DPoP proofs with 400 invalid_dpop_proof', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const reused = await dpopProof();
    expect((await token('demo-agent', 'demo-agent-secret', {}, { dpop: reused.proof })).status).toBe(200);
    const cases = [
      'not-a-jwt',
      (await dpopProof({ htm: 'GET' })).proof,
      (await dpopProof({ htu: 'http://127.0.0.1:8788/as/introspect' })).proof,
      (await dpopProof({ iat: Math.floor(clock / 1000) - 120 })).proof,
      (await dpopProof({}, { typ: 'JWT' })).proof,
      await new SignJWT({ htm: 'POST', htu: as.tokenEndpoint, jti: 'x', iat: Math.floor(clock / 1000) }).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: privateJwk }).sign(privateKey),
      reused.proof,
    ];
    for (const proof of cases) {
      const response = await token('demo-agent', 'demo-agent-secret', {}, { dpop: proof });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_dpop_proof' });
    }
  });
});

describe('dev authorization server: introspection', () => {
  it('resolves an opaque token (with its DPoP binding) for the gateway', async () => {
    const { proof, jwk } = await dpopProof();
    const issued = (await (await token('demo-opaque', 'demo-opaque-secret', { scope: 'mcp:admin' }, { dpop: proof })).json()) as { access_token: string; token_type: string };
    expect(issued.token_type).toBe('DPoP');
    expect(issued.access_token.split('.')).toHaveLength(1);
    const response = await introspect(issued.access_token);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const answer = (await response.json()) as Record<string, unknown>;
    expect(answer).toMatchObject({
      active: true, scope: 'mcp:admin', client_id: 'demo-opaque', sub: 'demo-opaque', aud: RESOURCE, iss: ISSUER,
      token_type: 'DPoP', cnf: { jkt: await calculateJwkThumbprint(jwk as JWK, 'sha256') }, acr: DEV_ACR,
    });
    expect((answer.exp as number) - (answer.iat as number)).toBe(300);
    expect(answer.auth_time).toBe(answer.iat);
  });

  it('resolves a JWT it issued, with client_secret_post', async () => {
    const issued = (await (await token('demo-agent', 'demo-agent-secret')).json()) as { access_token: string };
    const response = await post('/as/introspect', { token: issued.access_token, client_id: 'portcullis-gateway', client_secret: 'portcullis-gateway-secret' });
    expect(await response.json()).toMatchObject({ active: true, client_id: 'demo-agent', aud: RESOURCE, token_type: 'Bearer', scope: 'mcp:tools' });
  });

  it('answers active:false for unknown, foreign and expired tokens', async () => {
    expect(await (await introspect('no-such-token')).json()).toEqual({ active: false });
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ client_id: 'demo-agent', scope: 'mcp:tools' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(ISSUER).setAudience(RESOURCE).setIssuedAt().setExpirationTime('5m').sign(privateKey);
    expect(await (await introspect(foreign)).json()).toEqual({ active: false });

    const jwt = ((await (await token('demo-agent', 'demo-agent-secret')).json()) as { access_token: string }).access_token;
    const opaque = ((await (await token('demo-opaque', 'demo-opaque-secret')).json()) as { access_token: string }).access_token;
    const saved = clock;
    clock += 301_000;
    try {
      expect(await (await introspect(jwt)).json()).toEqual({ active: false });
      expect(await (await introspect(opaque)).json()).toEqual({ active: false });
    } finally {
      clock = saved;
    }
  });

  it('refuses introspection to demo-agent and to bad credentials (401, WWW-Authenticate: Basic)', async () => {
    for (const authorization of [basic('demo-agent', 'demo-agent-secret'), basic('portcullis-gateway', 'wrong')]) {
      const response = await post('/as/introspect', { token: 'x' }, { authorization });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    }
  });

  it('answers with a signed JWT when asked (RFC 9701)', async () => {
    const issued = (await (await token('demo-agent', 'demo-agent-secret')).json()) as { access_token: string };
    const response = await introspect(issued.access_token, { accept: 'application/token-introspection+jwt' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt');
    const jwt = await response.text();
    expect(decodeProtectedHeader(jwt).typ).toBe('token-introspection+jwt');
    const { payload } = await jwtVerify(jwt, await jwks(), { issuer: ISSUER, audience: 'portcullis-gateway', typ: 'token-introspection+jwt', currentDate: new Date(clock) });
    expect(payload.iat).toEqual(expect.any(Number));
    expect(payload.token_introspection).toMatchObject({ active: true, client_id: 'demo-agent', aud: RESOURCE });
  });
});

describe('demo upstreams mount the authorization server', () => {
  it('routes /as/* and the well-known path when an issuer is given, and not otherwise', async () => {
    const handler = demoHandler({ issuer: ISSUER });
    const metadata = await handler(new Request(`${ORIGIN}/.well-known/oauth-authorization-server/as`));
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(ISSUER);
    expect((await handler(new Request(`${ISSUER}/jwks`))).status).toBe(200);
    expect((await demoHandler()(new Request(`${ISSUER}/jwks`))).status).toBe(404);
  });

  describe('on a listener', () => {
    let upstreams: DemoUpstreams;
    beforeAll(async () => {
      upstreams = await startDemoUpstreams({ port: 0 });
    });
    afterAll(() => upstreams?.close());

    it('names the listening port in its issuer', async () => {
      expect(upstreams.issuer).toBe(devAuthorizationServerIssuer(upstreams.port));
      expect(upstreams.issuer).toBe(`http://127.0.0.1:${upstreams.port}/as`);
      const response = await fetch(`http://127.0.0.1:${upstreams.port}/.well-known/oauth-authorization-server/as`);
      expect(((await response.json()) as { issuer: string }).issuer).toBe(upstreams.issuer);
    });
  });
});

describe('dev authorization server: identity chaining (token exchange at A, jwt-bearer at B)', () => {
  const A = 'http://as-a.test/as';
  const B = 'http://as-b.test/as';
  const FOREIGN = 'http://rs-b.test/api';
  let asA: DevAuthorizationServer;
  let asB: DevAuthorizationServer;
  let t = Date.now();
  const jwksFetches: string[] = [];
  beforeAll(() => {
    asA = createDevAuthorizationServer({ issuer: A, now: () => t, peers: [B] });
    asB = createDevAuthorizationServer({
      issuer: B,
      now: () => t,
      trust: { [A]: { jwksUrl: `${A}/jwks` } },
      fetch: async (url) => {
        jwksFetches.push(url);
        return asA.fetch(new Request(url));
      },
    });
  });

  const form = (server: DevAuthorizationServer, params: Record<string, string | string[]>, headers: Record<string, string> = {}) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) body.append(k, one);
    return server.fetch(new Request(server.tokenEndpoint, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }));
  };
  const egress = { authorization: basic('portcullis-egress', 'portcullis-egress-secret') };

  async function accessTokenAtA(client = 'demo-agent', scope = 'mcp:tools mcp:admin'): Promise<string> {
    const response = await form(asA, { grant_type: 'client_credentials', resource: 'http://gw-a.test/b/mcp', scope }, { authorization: basic(client, `${client}-secret`) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }
  const exchange = (subject: string, extra: Record<string, string | string[]> = { resource: B }, headers = egress) =>
    form(asA, { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, ...extra }, headers);
  async function grantFromA(scope?: string): Promise<string> {
    const response = await exchange(await accessTokenAtA(), { resource: B, ...(scope ? { scope } : {}) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }
  const bearer = (assertion: string, extra: Record<string, string> = { resource: FOREIGN }, headers: Record<string, string> = egress) => form(asB, { grant_type: JWT_BEARER_GRANT, assertion, ...extra }, headers);

  it('advertises the chaining grants only where configured', async () => {
    const meta = async (server: DevAuthorizationServer) => ((await (await server.fetch(new Request(server.metadataUrl))).json()) as { grant_types_supported: string[] }).grant_types_supported;
    expect(await meta(asA)).toEqual(['client_credentials', TOKEN_EXCHANGE_GRANT]);
    expect(await meta(asB)).toEqual(['client_credentials', JWT_BEARER_GRANT]);
  });

  it('token exchange: a JWT grant for the peer, sub from the subject token, scope narrowed on request', async () => {
    const subject = await accessTokenAtA();
    const response = await exchange(subject, { resource: B, scope: 'mcp:tools' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ issued_token_type: JWT_TOKEN_TYPE, token_type: 'N_A', expires_in: 60, scope: 'mcp:tools' });
    expect(body.refresh_token).toBeUndefined();
    const set = createLocalJWKSet((await (await asA.fetch(new Request(`${A}/jwks`))).json()) as JSONWebKeySet);
    const { payload } = await jwtVerify(body.access_token as string, set, { issuer: A, audience: B, currentDate: new Date(t) });
    expect(payload).toMatchObject({ sub: 'demo-agent', scope: 'mcp:tools', client_id: 'portcullis-egress' });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(payload.jti).toEqual(expect.any(String));
    // `audience` works as well as `resource`; the default scope is the subject token's.
    const byAudience = await exchange(subject, { audience: B });
    expect(((await byAudience.json()) as { scope: string }).scope).toBe('mcp:tools mcp:admin');
  });

  it('token exchange accepts an opaque subject token issued here', async () => {
    const opaqueToken = await accessTokenAtA('demo-opaque', 'mcp:tools');
    const response = await exchange(opaqueToken);
    expect(response.status).toBe(200);
    expect(decodeJwt(((await response.json()) as { access_token: string }).access_token)).toMatchObject({ sub: 'demo-opaque', aud: B });
  });

  it('token exchange refusals: unknown target, bad subject token, wider scope, wrong client, no client', async () => {
    const subject = await accessTokenAtA('demo-agent', 'mcp:tools');
    const error = async (response: Response) => [response.status, ((await response.json()) as { error: string }).error];
    expect(await error(await exchange(subject, { resource: 'http://as-c.test/as' }))).toEqual([400, 'invalid_target']);
    expect(await error(await exchange(subject, {}))).toEqual([400, 'invalid_target']);
    expect(await error(await exchange(subject, { resource: B, audience: B }))).toEqual([400, 'invalid_target']);
    expect(await error(await exchange('not-a-token'))).toEqual([400, 'invalid_request']);
    expect(await error(await exchange(subject, { resource: B, subject_token_type: JWT_TOKEN_TYPE }))).toEqual([400, 'invalid_request']);
    expect(await error(await exchange(subject, { resource: B, scope: 'mcp:admin' }))).toEqual([400, 'invalid_scope']);
    expect(await error(await exchange(subject, { resource: B }, { authorization: basic('demo-agent', 'demo-agent-secret') }))).toEqual([400, 'unauthorized_client']);
    expect(await error(await exchange(subject, { resource: B }, {} as typeof egress))).toEqual([401, 'invalid_client']);
    // A token from another server is no subject token here.
    const fromB = await form(asB, { grant_type: 'client_credentials', resource: FOREIGN }, { authorization: basic('demo-agent', 'demo-agent-secret') });
    expect(await error(await exchange(((await fromB.json()) as { access_token: string }).access_token))).toEqual([400, 'invalid_request']);
    // A server without peers does not do token exchange at all.
    expect(await error(await form(asB, { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, resource: A }, egress))).toEqual([400, 'unsupported_grant_type']);
  });

  it('jwt-bearer: an RFC 9068 access token for the resource, sub from the grant, no refresh token; the grant is single-use', async () => {
    const grant = await grantFromA();
    const response = await bearer(grant, { resource: FOREIGN, scope: 'mcp:tools' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'mcp:tools' });
    expect(body.refresh_token).toBeUndefined();
    const set = createLocalJWKSet((await (await asB.fetch(new Request(`${B}/jwks`))).json()) as JSONWebKeySet);
    const { payload, protectedHeader } = await jwtVerify(body.access_token as string, set, { issuer: B, audience: FOREIGN, typ: 'at+jwt', currentDate: new Date(t) });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'demo-agent', client_id: 'portcullis-egress', scope: 'mcp:tools', acr: DEV_ACR });
    expect(jwksFetches).toEqual([`${A}/jwks`]);
    const again = await bearer(grant);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant', error_description: 'the assertion was already used' });
  });

  it('jwt-bearer without client authentication takes client_id from the grant; B introspects its own token with the grant\'s sub', async () => {
    const response = await bearer(await grantFromA('mcp:tools'), { resource: FOREIGN }, {});
    expect(response.status).toBe(200);
    const accessToken = ((await response.json()) as { access_token: string }).access_token;
    expect(decodeJwt(accessToken)).toMatchObject({ sub: 'demo-agent', client_id: 'portcullis-egress', scope: 'mcp:tools' });
    const introspected = await asB.fetch(new Request(asB.introspectionEndpoint, { method: 'POST', body: new URLSearchParams({ token: accessToken }), headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('portcullis-gateway', 'portcullis-gateway-secret') } }));
    expect(await introspected.json()).toMatchObject({ active: true, sub: 'demo-agent', client_id: 'portcullis-egress', aud: FOREIGN });
  });

  it('jwt-bearer refusals (invalid_grant): untrusted issuer, wrong audience, expired, bad signature, an access token; resource and scope rules', async () => {
    const error = async (response: Response) => [response.status, ((await response.json()) as { error: string }).error];
    // An access token from A whose aud happens to be B is not a grant.
    const lookalike = await form(asA, { grant_type: 'client_credentials', resource: B }, { authorization: basic('demo-agent', 'demo-agent-secret') });
    expect(await error(await bearer(((await lookalike.json()) as { access_token: string }).access_token))).toEqual([400, 'invalid_grant']);
    // Signed by a key that is not A's.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ scope: 'mcp:tools' }).setProtectedHeader({ alg: 'ES256', kid: 'x' }).setIssuer(A).setSubject('mallory').setAudience(B).setIssuedAt().setExpirationTime('1m').setJti('j1').sign(privateKey);
    expect(await error(await bearer(forged))).toEqual([400, 'invalid_grant']);
    const untrusted = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('http://as-c.test/as').setSubject('x').setAudience(B).setIssuedAt().setExpirationTime('1m').setJti('j2').sign(privateKey);
    expect(await error(await bearer(untrusted))).toEqual([400, 'invalid_grant']);
    const grant = await grantFromA();
    expect(await error(await bearer(grant, { scope: 'mcp:tools' }))).toEqual([400, 'invalid_target']);
    expect(await error(await bearer(grant, { resource: FOREIGN, scope: 'mcp:other' }))).toEqual([400, 'invalid_scope']);
    expect(await error(await bearer('a.b'))).toEqual([400, 'invalid_grant']);
    expect(await error(await form(asB, { grant_type: JWT_BEARER_GRANT, resource: FOREIGN }, egress))).toEqual([400, 'invalid_request']);
    // Expired: the grant lives 60 s (30 s of skew allowed).
    const old = await grantFromA();
    t += 120_000;
    try {
      expect(await error(await bearer(old))).toEqual([400, 'invalid_grant']);
    } finally {
      t -= 120_000;
    }
    // A client that is not a chaining client may not present grants.
    expect(await error(await bearer(await grantFromA(), { resource: FOREIGN }, { authorization: basic('demo-agent', 'demo-agent-secret') }))).toEqual([400, 'unauthorized_client']);
  });

  it('jwt-bearer accepts a grant whose aud is the token endpoint, and keys given by a function', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const C = 'http://as-c.test/as';
    const asB2 = createDevAuthorizationServer({ issuer: B, now: () => t, trust: { [C]: { jwks: async () => ({ keys: [jwk] }) } } });
    const grant = await new SignJWT({ scope: 'mcp:tools mcp:unknown' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(C).setSubject('alice@c').setAudience(asB2.tokenEndpoint).setIssuedAt(Math.floor(t / 1000)).setExpirationTime(Math.floor(t / 1000) + 60).setJti('once').sign(privateKey);
    const elsewhere = await new SignJWT({ scope: 'mcp:tools' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(C).setSubject('alice@c').setAudience('http://as-x.test/as').setIssuedAt(Math.floor(t / 1000)).setExpirationTime(Math.floor(t / 1000) + 60).setJti('other').sign(privateKey);
    const wrongAudience = await form(asB2, { grant_type: JWT_BEARER_GRANT, assertion: elsewhere, resource: FOREIGN });
    expect([wrongAudience.status, ((await wrongAudience.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(C).setAudience(B).setIssuedAt(Math.floor(t / 1000)).setExpirationTime(Math.floor(t / 1000) + 60).setJti('nosub').sign(privateKey);
    expect((await form(asB2, { grant_type: JWT_BEARER_GRANT, assertion: noSub, resource: FOREIGN })).status).toBe(400);
    const response = await form(asB2, { grant_type: JWT_BEARER_GRANT, assertion: grant, resource: FOREIGN });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; scope: string };
    // Only the scopes B knows are carried over.
    expect(body.scope).toBe('mcp:tools');
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: 'alice@c', client_id: C, aud: FOREIGN, iss: B });
  });
});
