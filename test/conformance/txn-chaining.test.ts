/**
 * Conformance: Txn-Token chaining across domains and gateways, over HTTP on every runtime.
 * - Federation (transactionTokens.service.federation; src/txn/federation.ts): FEDERATION_ISSUER's RFC 7523 JWT
 *   authorization grants, signed here with the key the global setup generated, become Txn-Tokens at the TTS with no
 *   client credentials; single use; refusals as RFC 6749 §5.2 errors.
 * - Peer gateways (route txnToken.peers; src/gateway/txn-peer.ts): TXN_PEER's own Txn-Token, verified with the JWK Set
 *   published on the fixture, is replaced for the upstream (txn and sub kept, req_wl the peer, rctx.req_wl_chain); a
 *   forged one is refused before the upstream.
 * - Secondary credentials (service.relyingParties): TTS_REQUESTER exchanges its WIT for a JWT aimed at RELYING_PARTY,
 *   verified with jose against the gateway's JWK Set.
 */
import { createRemoteJWKSet, jwtVerify, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { mintTxnToken, type TxnTokenClaims } from '../../src/mint/txn-token.ts';
import { verifyTxnToken, type VerifiedTxnToken } from '../../src/verify/txn-token.ts';
import { generateKey, sign, type TestKey } from '../unit/verify/mint.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { expectProblem, json, record, recorded, requestId, send, type RawResponse } from './client.ts';
import {
  FEDERATION_AUDIENCE, FEDERATION_ISSUER, FEDERATION_KID, FEDERATION_PREFIX, ISSUER, ISSUER_KID, KEY_SET_PEER, PUBLIC_URL, RELYING_PARTY,
  TRUST_DOMAIN, TTS_PATH, TTS_REQUESTER, TXN_LIFETIME, TXN_PEER, TXN_PEER_PATH, TXN_TRUST_DOMAIN,
} from './config.ts';
import { target } from './context.ts';
import { importTestKey } from './keys.ts';
import { JWT_BEARER_GRANT, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, TXN_TOKEN_TYPE } from '../../src/oauth-uris.ts';

const PEER_KID = 'peer-1';

let issuer: TestKey;
let workload: TestKey;
let federation: TestKey;
let peerKey: TestKey;
let stranger: TestKey;
/** Every credential and token this file sent or received: none may come back on an error response. */
const secrets: string[] = [];
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  issuer = await importTestKey(target().wimse.issuer);
  federation = await importTestKey(target().wimse.federation);
  [workload, peerKey, stranger] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
  // The peer gateway's Txn-Token key, published where the route's peers[].jwksUrl points.
  const published = await fetch(`${target().fixtureUrl}/__fixture/key-sets/${KEY_SET_PEER}`, {
    method: 'PUT', body: JSON.stringify({ keys: [{ ...peerKey.publicJwk, kid: PEER_KID, alg: 'ES256', use: 'sig' }] }),
  });
  expect(published.status).toBe(204);
});

/** A WIT for `sub` and a WPT for PUBLIC_URL + `path` (with `tth` when a Txn-Token goes along). */
async function credentials(sub: string, path: string, txnToken?: string): Promise<{ wit: string; headers: Record<string, string> }> {
  const wit = await mintWit({ sub, iss: ISSUER, kid: ISSUER_KID, workload, issuer, claims: { exp: nowS() + 1800 } });
  const wpt = await mintWpt({ wit, workload, aud: `${PUBLIC_URL}${path}`, claims: txnToken === undefined ? {} : { tth: await sha256b64url(txnToken) } });
  secrets.push(wit, wpt);
  const headers: Record<string, string> = { 'workload-identity-token': wit, authorization: `WPT ${wpt}` };
  if (txnToken !== undefined) headers['txn-token'] = txnToken;
  return { wit, headers };
}

function post(params: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(TTS_PATH, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params).toString() });
}

async function gatewayKeys(): Promise<JWK[]> {
  const response = await fetch(`${target().gatewayUrl}/.well-known/jwks.json`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { keys: JWK[] }).keys;
}

async function verified(token: string): Promise<VerifiedTxnToken> {
  const keys = await gatewayKeys();
  const result = await verifyTxnToken(token, { keys: async (kid) => keys.find((k) => k.kid === kid), audience: TXN_TRUST_DOMAIN, now: Date.now });
  expect(result.ok, result.ok ? '' : `${result.code}: ${result.detail}`).toBe(true);
  return (result as { value: VerifiedTxnToken }).value;
}

/** 200 no-store with an access_token; returns the body. */
function issued(response: RawResponse): Record<string, unknown> {
  expect(response.status, response.body).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toBe('no-store');
  const body = json(response.body) as Record<string, unknown>;
  expect(body.access_token).toBeTypeOf('string');
  secrets.push(body.access_token as string);
  return body;
}

/** An RFC 6749 §5.2 error: status, `error`, no-store, nothing this file sent echoed back. */
function refused(response: RawResponse, status: number, error: string): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['cache-control']).toBe('no-store');
  expect((json(response.body) as Record<string, unknown>).error).toBe(error);
  expect(leakedPieces(JSON.stringify({ headers: response.headers, body: response.body }), secrets)).toEqual([]);
}

describe(`Txn-Token chaining (${target().runtime})`, () => {
  describe('federated JWT authorization grants at the TTS', () => {
    async function grant(claims: Record<string, unknown> = {}, key = federation): Promise<string> {
      const payload = { iss: FEDERATION_ISSUER, sub: 'johndoe', aud: FEDERATION_AUDIENCE, client_id: 'fed-client', scope: 'orders.read orders.write', iat: nowS() - 1, exp: nowS() + 60, jti: crypto.randomUUID(), ...claims };
      const token = await sign({ alg: 'ES256', kid: FEDERATION_KID }, payload, key);
      secrets.push(token);
      return token;
    }
    const bearer = (assertion: string, scope = 'orders.read') => post({ grant_type: JWT_BEARER_GRANT, assertion, scope });

    it('a grant without client credentials: 200 Txn-Token with the transcribed sub and the scope; the same grant again: invalid_grant', async () => {
      const g = await grant();
      const body = issued(await bearer(g));
      expect(body).toMatchObject({ issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A', expires_in: TXN_LIFETIME });
      const claims = await verified(body.access_token as string);
      expect(claims).toMatchObject({ aud: [TXN_TRUST_DOMAIN], sub: `${FEDERATION_PREFIX}johndoe`, scope: ['orders.read'], reqWl: 'fed-client' });
      expect(claims.rctx).toMatchObject({ authn: 'jwt-bearer', grant_iss: FEDERATION_ISSUER });
      expect(claims.txn).toBeTypeOf('string');
      refused(await bearer(g), 400, 'invalid_grant');
    });

    it('an expired grant, another audience, an unknown issuer, a forged signature: invalid_grant', async () => {
      const cases = [
        await grant({ iat: nowS() - 200, exp: nowS() - 100 }),
        await grant({ aud: 'https://elsewhere.conformance.test/txn-token' }),
        await grant({ iss: 'https://as.unknown.conformance.test' }),
        await grant({}, stranger),
      ];
      for (const g of cases) refused(await bearer(g), 400, 'invalid_grant');
    });

    it('a scope beyond the federation\'s scopes: invalid_scope', async () => {
      refused(await bearer(await grant({ scope: 'orders.read admin' }), 'admin'), 400, 'invalid_scope');
    });
  });

  describe('a peer gateway\'s Txn-Token (route txnToken.peers)', () => {
    const ORIGINAL: TxnTokenClaims = {
      aud: TXN_TRUST_DOMAIN,
      sub: 'user-peer',
      req_wl: 'edge-client',
      scope: `route:${TXN_PEER_PATH}`,
      tctx: { route: '/front' },
      rctx: { authn: 'access-token', channel: 'web' },
    };
    const peerToken = async (key = peerKey) => {
      const token = await mintTxnToken({ ...ORIGINAL, txn: crypto.randomUUID() }, { key: { kid: PEER_KID, alg: 'ES256', key: key.privateKey }, lifetimeSeconds: 60, now: Date.now });
      secrets.push(token);
      return token;
    };

    it('is replaced for the upstream: txn and sub kept, req_wl the peer, the peer\'s req_wl in rctx.req_wl_chain', async () => {
      const original = await peerToken();
      const originalClaims = JSON.parse(Buffer.from(original.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const id = requestId('txn-peer');
      const response = await send(`${TXN_PEER_PATH}/orders`, { headers: { ...(await credentials(TXN_PEER, TXN_PEER_PATH, original)).headers, 'x-request-id': id } });
      expect(response.status, response.body).toBe(200);
      const seen = await recorded(id);
      const token = seen.headers['txn-token'];
      expect(token, 'txn-token at the upstream').toBeTypeOf('string');
      expect(token).not.toBe(original);
      const claims = await verified(token!);
      expect(claims).toMatchObject({ aud: [TXN_TRUST_DOMAIN], txn: originalClaims.txn, sub: ORIGINAL.sub, reqWl: TXN_PEER, scope: [`route:${TXN_PEER_PATH}`] });
      expect(claims.tctx).toEqual(ORIGINAL.tctx);
      expect(claims.rctx).toMatchObject({ channel: 'web', authn: 'wit+wpt', req_wl_chain: [ORIGINAL.req_wl] });
      expect(claims.exp).toBeLessThanOrEqual((originalClaims.exp as number) * 1000);
    });

    it('a forged peer token (another key, the peer\'s kid): 401 ERR_TXN_TOKEN_SIGNATURE_INVALID, upstream not called', async () => {
      const id = requestId('txn-peer-forged');
      const response = await send(TXN_PEER_PATH, { headers: { ...(await credentials(TXN_PEER, TXN_PEER_PATH, await peerToken(stranger))).headers, 'x-request-id': id } });
      expectProblem(response, 401, 'ERR_TXN_TOKEN_SIGNATURE_INVALID');
      expect(leakedPieces(JSON.stringify({ headers: response.headers, body: response.body }), secrets)).toEqual([]);
      expect(await record(id)).toBeNull();
    });
  });

  describe('secondary credentials (service.relyingParties)', () => {
    const exchange = (headers: Record<string, string>, wit: string, audience: string) =>
      post({ grant_type: TOKEN_EXCHANGE_GRANT, requested_token_type: JWT_TOKEN_TYPE, audience, subject_token: wit, subject_token_type: JWT_TOKEN_TYPE }, headers);

    it('a listed requester exchanges its WIT for a JWT the relying party verifies with the gateway JWK Set', async () => {
      const { wit, headers } = await credentials(TTS_REQUESTER, TTS_PATH);
      const body = issued(await exchange(headers, wit, RELYING_PARTY));
      expect(body).toMatchObject({ issued_token_type: JWT_TOKEN_TYPE, token_type: 'N_A' });
      const jwks = createRemoteJWKSet(new URL(`${target().gatewayUrl}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(body.access_token as string, jwks, {
        issuer: new URL(PUBLIC_URL).origin, audience: RELYING_PARTY, typ: 'JWT', algorithms: ['ES256'], requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      });
      expect(protectedHeader.typ).toBe('JWT');
      expect(payload.sub).toBe(TTS_REQUESTER);
      expect(payload.sub?.startsWith(TRUST_DOMAIN)).toBe(true);
    });

    it('an audience that is no relying party: 400 invalid_target', async () => {
      const { wit, headers } = await credentials(TTS_REQUESTER, TTS_PATH);
      refused(await exchange(headers, wit, 'https://unknown.conformance.test/api'), 400, 'invalid_target');
    });
  });
});
