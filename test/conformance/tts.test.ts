/**
 * Conformance: the built-in Transaction Token Service (`transactionTokens.service`, src/gateway/tts.ts), over HTTP on
 * every runtime. A requester authenticated with a WIT + WPT (audience PUBLIC_URL + TTS_PATH) exchanges an access token
 * of the fixture AS (aud TTS_SUBJECT_AUDIENCE) for a Txn-Token, which must verify against the JWK Set the gateway
 * publishes at /.well-known/jwks.json; then each refusal: its status and RFC 6749 §5.2 `error`, and no credential or
 * other input echoed on the wire (the suite's gateway audits to sink "none").
 */
import { SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyTxnToken, type VerifiedTxnToken } from '../../src/verify/txn-token.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { json, send, type RawResponse } from './client.ts';
import { AS_KID, AS_PATH, ISSUER, ISSUER_KID, PUBLIC_URL, TRUST_DOMAIN, TTS_PATH, TTS_REQUESTER, TTS_SUBJECT_AUDIENCE, TXN_LIFETIME, TXN_TRUST_DOMAIN } from './config.ts';
import { target } from './context.ts';
import { fixtureAsKey, importTestKey } from './keys.ts';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, TXN_TOKEN_TYPE } from '../../src/oauth-uris.ts';

const NOT_LISTED = `${TRUST_DOMAIN}/ns/conformance/sa/not-a-requester`;
const USER = 'user-tts';

let issuer: TestKey;
let workload: TestKey;
let asKey: CryptoKey;
/** Every credential and token this file sent or received: none may come back on an error response. */
const secrets: string[] = [];
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await importTestKey(target().wimse.issuer);
  workload = await generateKey('ES256');
  asKey = await fixtureAsKey();
});

/** A WIT for `sub` and a WPT for PUBLIC_URL + TTS_PATH (the service's default audience). */
async function credentials(sub = TTS_REQUESTER): Promise<Record<string, string>> {
  const wit = await mintWit({ sub, iss: ISSUER, kid: ISSUER_KID, workload, issuer });
  const wpt = await mintWpt({ wit, workload, aud: `${PUBLIC_URL}${TTS_PATH}` });
  secrets.push(wit, wpt);
  return { 'workload-identity-token': wit, authorization: `WPT ${wpt}` };
}

async function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  const payload = { iss: `${target().fixtureUrl}${AS_PATH}`, sub: USER, aud: TTS_SUBJECT_AUDIENCE, client_id: 'conformance-tts-client', scope: 'trade.read trade.write', iat: nowS() - 5, exp: nowS() + 600, jti: crypto.randomUUID(), ...claims };
  const token = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: AS_KID }).sign(asKey);
  secrets.push(token);
  return token;
}

/** POSTs a Txn-Token Request (the token-exchange defaults, overridden by `params`; `undefined` drops one). */
async function exchange(creds: Record<string, string>, params: Record<string, string | undefined>): Promise<RawResponse> {
  const all: Record<string, string | undefined> = { grant_type: TOKEN_EXCHANGE_GRANT, requested_token_type: TXN_TOKEN_TYPE, audience: TXN_TRUST_DOMAIN, ...params };
  const body = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  return send(TTS_PATH, { method: 'POST', headers: { ...creds, 'content-type': 'application/x-www-form-urlencoded' }, body });
}

async function verified(token: string): Promise<VerifiedTxnToken> {
  const response = await fetch(`${target().gatewayUrl}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  const { keys } = (await response.json()) as { keys: JWK[] };
  const result = await verifyTxnToken(token, { keys: async (kid) => keys.find((k) => k.kid === kid), audience: TXN_TRUST_DOMAIN, now: Date.now });
  expect(result.ok, result.ok ? '' : `${result.code}: ${result.detail}`).toBe(true);
  return (result as { value: VerifiedTxnToken }).value;
}

/** 200 with exactly the Txn-Token Response members, no-store; returns the token. */
function issued(response: RawResponse): string {
  expect(response.status, response.body).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  const body = json(response.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'token_type']);
  expect(body).toMatchObject({ issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A' });
  expect(body.expires_in).toBeTypeOf('number');
  expect(body.refresh_token).toBeUndefined();
  expect(body.access_token).toBeTypeOf('string');
  secrets.push(body.access_token as string);
  return body.access_token as string;
}

/** An RFC 6749 §5.2 error: status, `error`, fixed description, no-store, and nothing sent echoed back. */
function refused(response: RawResponse, status: number, error: string, sent: string[] = []): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  const body = json(response.body) as Record<string, unknown>;
  expect(body.error).toBe(error);
  expect(Object.keys(body).every((k) => k === 'error' || k === 'error_description')).toBe(true);
  const wire = JSON.stringify({ headers: response.headers, body: response.body });
  expect(leakedPieces(wire, secrets)).toEqual([]);
  for (const value of sent) expect(wire).not.toContain(value);
}

describe(`Transaction Token Service (${target().runtime})`, () => {
  let first: { token: string; claims: VerifiedTxnToken } | undefined;

  it('a listed requester exchanges an access token for a Txn-Token', async () => {
    const response = await exchange(await credentials(), { scope: 'trade.read', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE });
    const token = issued(response);
    expect(json(response.body).expires_in).toBe(TXN_LIFETIME);
    const claims = await verified(token);
    expect(claims).toMatchObject({ aud: [TXN_TRUST_DOMAIN], sub: USER, reqWl: TTS_REQUESTER, scope: ['trade.read'] });
    expect(claims.txn).toBeTypeOf('string');
    expect(claims.exp - claims.iat).toBe(TXN_LIFETIME * 1000);
    first = { token, claims };
  });

  it('replacement with a narrower scope keeps txn and sub', async () => {
    expect(first, 'the first exchange succeeded').toBeDefined();
    const narrower = await exchange(await credentials(), { scope: 'trade.read', subject_token: first!.token, subject_token_type: TXN_TOKEN_TYPE });
    const claims = await verified(issued(narrower));
    expect(claims).toMatchObject({ txn: first!.claims.txn, sub: USER, reqWl: TTS_REQUESTER, scope: ['trade.read'], aud: [TXN_TRUST_DOMAIN] });
    expect(claims.exp).toBeLessThanOrEqual(first!.claims.exp);
    // Wider than the Txn-Token being replaced: refused.
    refused(await exchange(await credentials(), { scope: 'trade.read trade.write', subject_token: first!.token, subject_token_type: TXN_TOKEN_TYPE }), 400, 'invalid_scope');
  });

  it('no client credentials: 401 invalid_client with a WWW-Authenticate challenge', async () => {
    const subject = await accessToken();
    const response = await exchange({}, { scope: 'trade.read', subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE });
    refused(response, 401, 'invalid_client');
    expect(response.headers['www-authenticate']).toMatch(/WPT/);
  });

  it('a requester not in service.requesters: 400 unauthorized_client', async () => {
    refused(await exchange(await credentials(NOT_LISTED), { scope: 'trade.read', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'unauthorized_client', [NOT_LISTED]);
  });

  it('a scope wider than the subject token\'s: 400 invalid_scope', async () => {
    refused(await exchange(await credentials(), { scope: 'trade.read trade.admin', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'invalid_scope', ['trade.admin']);
  });

  it('an audience other than the trust domain: 400 invalid_target', async () => {
    const other = 'other.audience.conformance.test';
    refused(await exchange(await credentials(), { audience: other, scope: 'trade.read', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'invalid_target', [other]);
  });

  it('a grant_type other than token-exchange: 400 unsupported_grant_type', async () => {
    refused(await exchange(await credentials(), { grant_type: 'client_credentials', scope: 'trade.read', subject_token: await accessToken(), subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'unsupported_grant_type', ['client_credentials']);
  });

  it('an expired subject token: 400 invalid_grant', async () => {
    const expired = await accessToken({ iat: nowS() - 1200, exp: nowS() - 600 });
    refused(await exchange(await credentials(), { scope: 'trade.read', subject_token: expired, subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'invalid_grant');
  });

  it('a subject access token issued for another resource: 400 invalid_grant', async () => {
    const elsewhere = await accessToken({ aud: 'https://elsewhere.conformance.test' });
    refused(await exchange(await credentials(), { scope: 'trade.read', subject_token: elsewhere, subject_token_type: ACCESS_TOKEN_TYPE }), 400, 'invalid_grant', ['elsewhere.conformance.test']);
  });

  it('GET: 405 with Allow: POST', async () => {
    const response = await send(TTS_PATH, { headers: await credentials() });
    refused(response, 405, 'invalid_request');
    expect(response.headers.allow).toBe('POST');
  });
});
