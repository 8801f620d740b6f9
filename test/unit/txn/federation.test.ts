/**
 * verifyAuthorizationGrant (src/txn/federation.ts): the identity-chaining draft's example grant verifies with AS A's
 * published key (a policy without required jti, clock before its exp, audience AS B); one negative per check,
 * asserting its stable code; jti single use; the scope rule (exchange.ts grantScope) and subject transcription.
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import type { ReplayStore } from '../../../src/state/ports.ts';
import { grantScope, JWT_BEARER_GRANT, JWT_TOKEN_TYPE, parseTxnTokenRequest, requestGrantType, TOKEN_EXCHANGE_GRANT, TXN_TOKEN_TYPE } from '../../../src/txn/exchange.ts';
import { transcribeSubject, verifyAuthorizationGrant, type GrantContext } from '../../../src/txn/federation.ts';
import { MAX_GRANT_BYTES } from '../../../src/limits.ts';
import { encodeSegment, expectFailure, expectOk, generateKey, sign, signHs256, without, type TestKey } from '../verify/mint.ts';

const vector = JSON.parse(readFileSync(new URL('../../vectors/identity-chaining/draft-17-grant.json', import.meta.url), 'utf8')) as {
  issuerJwk: JWK;
  grant: string;
  audience: string;
  nowSeconds: number;
  expected: { header: Record<string, unknown>; claims: Record<string, unknown> & { iss: string; sub: string; exp: number; iat: number } };
};

const ISS = 'https://as.a.example/auth';
const AUD = 'https://gw.example/txn-token';
const NOW = 1_800_000_000;

let key: TestKey;
let other: TestKey;
let es384: TestKey;

beforeAll(async () => {
  [key, other, es384] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES384')]);
});

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: ISS, sub: 'johndoe@a.example', aud: AUD, exp: NOW + 60, iat: NOW - 1, jti: crypto.randomUUID(), scope: 'orders.read orders.write', ...extra });
const header = (extra: Record<string, unknown> = {}) => ({ alg: 'ES256', kid: 'k1', ...extra });

function context(extra: Partial<GrantContext> = {}): GrantContext {
  return {
    issuers: { [ISS]: { algorithms: ['ES256'], maxLifetimeSeconds: 300 } },
    keys: async (iss, kid) => (iss === ISS && kid === 'k1' ? key.publicJwk : undefined),
    audience: AUD,
    replay: memoryReplayStore(),
    now: () => NOW * 1000,
    ...extra,
  };
}

describe('verifyAuthorizationGrant', () => {
  it('verifies the identity-chaining-17 example grant with AS A\'s key (jti not required)', async () => {
    const ctx = context({
      issuers: { [vector.expected.claims.iss]: { requireJti: false } },
      keys: async (iss, kid) => (iss === vector.expected.claims.iss && kid === vector.issuerJwk.kid ? vector.issuerJwk : undefined),
      audience: vector.audience,
      now: () => vector.nowSeconds * 1000,
    });
    const grant = expectOk(await verifyAuthorizationGrant(vector.grant, ctx));
    expect(grant).toMatchObject({ issuer: vector.expected.claims.iss, subject: vector.expected.claims.sub, audience: [vector.audience], expiresAt: vector.expected.claims.exp * 1000, issuedAt: vector.expected.claims.iat * 1000 });
    expect(grant.scopes).toBeUndefined();
    expect(grant.jti).toBeUndefined();
    // The same grant under the default policy (jti required), and after its exp plus skew:
    expectFailure(await verifyAuthorizationGrant(vector.grant, { ...ctx, issuers: { [vector.expected.claims.iss]: {} } }), 'ERR_GRANT_JTI_INVALID');
    expectFailure(await verifyAuthorizationGrant(vector.grant, { ...ctx, now: () => (vector.expected.claims.exp + 61) * 1000 }), 'ERR_GRANT_EXPIRED');
    expectFailure(await verifyAuthorizationGrant(vector.grant, { ...ctx, audience: 'https://as.c.example/auth' }), 'ERR_GRANT_AUD_MISMATCH');
  });

  it('accepts a valid grant once, with its scope, client_id and jti', async () => {
    const ctx = context();
    const jwt = await sign(header(), claims({ client_id: 'client-a', aud: ['https://other.example', AUD] }), key);
    const grant = expectOk(await verifyAuthorizationGrant(jwt, ctx));
    expect(grant).toMatchObject({ issuer: ISS, subject: 'johndoe@a.example', clientId: 'client-a', scopes: ['orders.read', 'orders.write'] });
    expectFailure(await verifyAuthorizationGrant(jwt, ctx), 'ERR_GRANT_REPLAYED', [jwt]);
  });

  const cases: Array<[string, () => Promise<string>, string, Partial<GrantContext>?]> = [
    ['an oversized grant', async () => 'a'.repeat(MAX_GRANT_BYTES + 1), 'ERR_GRANT_TOO_LARGE'],
    ['a JWE-shaped token', async () => 'a.b.c.d.e', 'ERR_GRANT_MALFORMED'],
    ['alg none', async () => `${encodeSegment({ alg: 'none' })}.${encodeSegment(claims())}.`, 'ERR_GRANT_MALFORMED'],
    ['alg HS256', async () => signHs256({ alg: 'HS256', kid: 'k1' }, claims(), new Uint8Array(32)), 'ERR_GRANT_ALG_NOT_ALLOWED'],
    ['an unknown alg', async () => sign(header({ alg: 'XS256' }), claims(), key), 'ERR_GRANT_ALG_NOT_ALLOWED'],
    ['crit', async () => sign(header({ crit: ['exp'] }), claims(), key), 'ERR_GRANT_CRIT_UNSUPPORTED'],
    ['a numeric kid', async () => sign(header({ kid: 7 }), claims(), key), 'ERR_GRANT_KID_INVALID'],
    ['an unknown issuer', async () => sign(header(), claims({ iss: 'https://as.evil.example/auth' }), key), 'ERR_GRANT_ISSUER_NOT_ALLOWED'],
    ['an issuer with a trailing slash', async () => sign(header(), claims({ iss: `${ISS}/` }), key), 'ERR_GRANT_ISSUER_NOT_ALLOWED'],
    ['no iss', async () => sign(header(), without(claims(), 'iss'), key), 'ERR_GRANT_ISSUER_NOT_ALLOWED'],
    ['an asymmetric alg the issuer does not allow', async () => sign(header({ alg: 'ES384' }), claims(), es384), 'ERR_GRANT_ALG_NOT_ALLOWED'],
    ['an unknown kid', async () => sign(header({ kid: 'k2' }), claims(), key), 'ERR_GRANT_KEY_NOT_FOUND'],
    ['a failing key source', async () => sign(header(), claims(), key), 'ERR_GRANT_KEY_SOURCE_FAILED', { keys: async () => { throw new Error('down'); } }],
    ['another key\'s signature', async () => sign(header(), claims(), other), 'ERR_GRANT_SIGNATURE_INVALID'],
    ['another audience', async () => sign(header(), claims({ aud: 'https://as.b.example/auth' }), key), 'ERR_GRANT_AUD_MISMATCH'],
    ['no aud', async () => sign(header(), without(claims(), 'aud'), key), 'ERR_GRANT_AUD_MISMATCH'],
    ['no exp', async () => sign(header(), without(claims(), 'exp'), key), 'ERR_GRANT_EXP_INVALID'],
    ['an expired grant', async () => sign(header(), claims({ iat: NOW - 200, exp: NOW - 61 }), key), 'ERR_GRANT_EXPIRED'],
    ['a string iat', async () => sign(header(), claims({ iat: 'now' }), key), 'ERR_GRANT_IAT_INVALID'],
    ['iat in the future', async () => sign(header(), claims({ iat: NOW + 120, exp: NOW + 180 }), key), 'ERR_GRANT_NOT_YET_VALID'],
    ['a string nbf', async () => sign(header(), claims({ nbf: 'soon' }), key), 'ERR_GRANT_NBF_INVALID'],
    ['nbf in the future', async () => sign(header(), claims({ nbf: NOW + 120 }), key), 'ERR_GRANT_NOT_YET_VALID'],
    ['a lifetime over the limit', async () => sign(header(), claims({ exp: NOW + 400 }), key), 'ERR_GRANT_LIFETIME_TOO_LONG'],
    ['a long life without iat', async () => sign(header(), without(claims({ exp: NOW + 400 }), 'iat'), key), 'ERR_GRANT_LIFETIME_TOO_LONG'],
    ['no sub', async () => sign(header(), without(claims(), 'sub'), key), 'ERR_GRANT_SUB_INVALID'],
    ['an empty sub', async () => sign(header(), claims({ sub: '' }), key), 'ERR_GRANT_SUB_INVALID'],
    ['a numeric client_id', async () => sign(header(), claims({ client_id: 5 }), key), 'ERR_GRANT_CLIENT_ID_INVALID'],
    ['a malformed scope', async () => sign(header(), claims({ scope: 'a  b' }), key), 'ERR_GRANT_SCOPE_INVALID'],
    ['a scope array', async () => sign(header(), claims({ scope: ['a'] }), key), 'ERR_GRANT_SCOPE_INVALID'],
    ['no jti', async () => sign(header(), without(claims(), 'jti'), key), 'ERR_GRANT_JTI_INVALID'],
    ['an empty jti', async () => sign(header(), claims({ jti: '' }), key), 'ERR_GRANT_JTI_INVALID'],
    ['a failing replay store', async () => sign(header(), claims(), key), 'ERR_GRANT_REPLAY_STORE_FAILED', { replay: { checkAndSet: async () => { throw new Error('down'); } } satisfies ReplayStore }],
  ];
  for (const [name, make, code, extra] of cases) {
    it(`refuses ${name} (${code})`, async () => {
      const jwt = await make();
      expectFailure(await verifyAuthorizationGrant(jwt, context(extra)), code, [jwt]);
    });
  }

  it('spends no replay marker on a grant that fails another check', async () => {
    const ctx = context();
    const jti = crypto.randomUUID();
    expectFailure(await verifyAuthorizationGrant(await sign(header(), claims({ jti, aud: 'https://x.example' }), key), ctx), 'ERR_GRANT_AUD_MISMATCH');
    expectOk(await verifyAuthorizationGrant(await sign(header(), claims({ jti }), key), ctx));
  });

  it('scopes jti per issuer: the same jti from two issuers is two grants', async () => {
    const B = 'https://as.b2.example';
    const ctx = context({ issuers: { [ISS]: {}, [B]: {} }, keys: async (_iss, kid) => (kid === 'k1' ? key.publicJwk : undefined) });
    const jti = 'same';
    expectOk(await verifyAuthorizationGrant(await sign(header(), claims({ jti }), key), ctx));
    expectOk(await verifyAuthorizationGrant(await sign(header(), claims({ jti, iss: B }), key), ctx));
  });
});

describe('grantScope (draft rule 10 for grants)', () => {
  const allowed = ['orders.read', 'orders.write'];
  it('keeps a request within the grant and the federation', () => {
    expect(grantScope(['orders.read'], ['orders.read', 'admin'], allowed)).toEqual({ ok: true, value: ['orders.read'] });
  });
  it('refuses a grant without scope, never unconstrained', () => {
    expect(grantScope(['orders.read'], undefined, allowed)).toMatchObject({ ok: false, code: 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN' });
    expect(grantScope([], undefined, allowed)).toMatchObject({ ok: false, code: 'ERR_TTS_SUBJECT_SCOPE_UNKNOWN' });
  });
  it('refuses scope beyond the grant, and beyond the federation', () => {
    expect(grantScope(['orders.write'], ['orders.read'], allowed)).toMatchObject({ ok: false, code: 'ERR_TTS_SCOPE_EXCEEDS_SUBJECT' });
    expect(grantScope(['admin'], ['admin'], allowed)).toMatchObject({ ok: false, code: 'ERR_TTS_SCOPE_EXCEEDS_FEDERATION' });
  });
  it('derives an omitted scope: the grant\'s scopes the federation allows', () => {
    expect(grantScope([], ['admin', 'orders.read'], allowed)).toEqual({ ok: true, value: ['orders.read'] });
    expect(grantScope([], ['admin'], allowed)).toMatchObject({ ok: false, code: 'ERR_TTS_SCOPE_EXCEEDS_FEDERATION' });
  });
});

describe('transcribeSubject', () => {
  it('prefixes, or keeps the grant\'s sub', () => {
    expect(transcribeSubject('johndoe@a.example', { prefix: 'a.example:' })).toBe('a.example:johndoe@a.example');
    expect(transcribeSubject('johndoe@a.example', undefined)).toBe('johndoe@a.example');
  });
});

describe('parseTxnTokenRequest with federation', () => {
  const FORM = 'application/x-www-form-urlencoded';
  const TD = 'trust.example';
  const body = (params: Record<string, string>) => new TextEncoder().encode(new URLSearchParams(params).toString());
  it('parses the RFC 7523 §2.1 grant (scope optional), only with federation', () => {
    const parsed = parseTxnTokenRequest(FORM, body({ grant_type: JWT_BEARER_GRANT, assertion: 'a.b.c' }), TD, { federation: true });
    expect(parsed).toEqual({ ok: true, value: { scope: [], subjectToken: 'a.b.c', subjectTokenType: JWT_TOKEN_TYPE, jwtBearer: true } });
    expect(parseTxnTokenRequest(FORM, body({ grant_type: JWT_BEARER_GRANT, assertion: 'a.b.c' }), TD)).toMatchObject({ ok: false, code: 'ERR_TTS_GRANT_TYPE_UNSUPPORTED' });
    expect(parseTxnTokenRequest(FORM, body({ grant_type: JWT_BEARER_GRANT }), TD, { federation: true })).toMatchObject({ ok: false, code: 'ERR_TTS_ASSERTION_MISSING' });
    expect(parseTxnTokenRequest(FORM, body({ grant_type: JWT_BEARER_GRANT, assertion: 'x', requested_token_type: 'urn:ietf:params:oauth:token-type:access_token' }), TD, { federation: true })).toMatchObject({ ok: false, code: 'ERR_TTS_REQUESTED_TOKEN_TYPE' });
    expect(parseTxnTokenRequest(FORM, body({ grant_type: JWT_BEARER_GRANT, assertion: 'x', resource: 'https://r' }), TD, { federation: true })).toMatchObject({ ok: false, code: 'ERR_TTS_AUDIENCE_INVALID' });
    expect(parseTxnTokenRequest(FORM, body({ grant_type: JWT_BEARER_GRANT, assertion: 'x', scope: 'a  b' }), TD, { federation: true })).toMatchObject({ ok: false, code: 'ERR_TTS_SCOPE_INVALID' });
  });
  it('accepts a jwt subject token only with federation', () => {
    const params = { grant_type: TOKEN_EXCHANGE_GRANT, requested_token_type: TXN_TOKEN_TYPE, audience: TD, scope: 'a', subject_token: 'a.b.c', subject_token_type: JWT_TOKEN_TYPE, request_details: '{"k":1}' };
    expect(parseTxnTokenRequest(FORM, body(params), TD, { federation: true })).toMatchObject({ ok: true, value: { subjectTokenType: JWT_TOKEN_TYPE, requestDetails: { k: 1 } } });
    expect(parseTxnTokenRequest(FORM, body(params), TD)).toMatchObject({ ok: false, code: 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED' });
  });
  it('reads the grant_type of a form body, or nothing', () => {
    expect(requestGrantType(`${FORM}; charset=utf-8`, body({ grant_type: JWT_BEARER_GRANT }))).toBe(JWT_BEARER_GRANT);
    expect(requestGrantType('application/json', body({ grant_type: JWT_BEARER_GRANT }))).toBeUndefined();
    expect(requestGrantType(FORM, new TextEncoder().encode(`grant_type=a&grant_type=b`))).toBeUndefined();
  });
});
