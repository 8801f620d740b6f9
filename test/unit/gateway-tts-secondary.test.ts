/**
 * Secondary credentials at the built-in Transaction Token Service (transactionTokens.service.relyingParties;
 * src/gateway/tts.ts, src/mint/relying-party-token.ts), in-process: a WIT + WPT workload exchanges its own WIT for a
 * JWT aimed at one configured relying party, which verifies it as any relying party would, with jose's remote JWK Set
 * over the gateway's /.well-known/jwks.json (through gw.fetch), checking iss, aud and exp. Then each refusal with its
 * stable code and RFC 6749 / RFC 8693 error, the lifetime bounds, and the config rules.
 */
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTxnToken } from '../../src/verify/txn-token.ts';
import { createGateway, memorySink, memoryState, parseConfig, type AuditEvent, type GatewayConfigInput } from '../../src/index.ts';
import { leakedPieces, mintWit, mintWpt } from '../wimse.ts';
import { configJwk, generateKey, type TestKey } from './verify/mint.ts';
import { JWT_TOKEN_TYPE, TXN_TOKEN_TYPE } from '../../src/oauth-uris.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://dev.test';
const AGENT = `${TD}/ns/prod/sa/agent`;
const OTHER = `${TD}/ns/prod/sa/other`;
const ISS = 'https://issuer.dev.test';
const TXN_TD = 'trust.internal.example';
const PATH = '/txn-token';
const LEGACY = 'https://legacy.example/api';
const OPEN = 'urn:example:mainframe';

let issuer: TestKey;
let workload: TestKey;
let config: GatewayConfigInput;
const minted: string[] = [];
const allEvents: AuditEvent[] = [];
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  [issuer, workload] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [configJwk(issuer, 'k1')] }, issuers: [ISS] } },
    transactionTokens: {
      trustDomain: TXN_TD,
      service: {
        auth: { wit: { trustDomains: [TD] } },
        requesters: [TD],
        relyingParties: {
          [LEGACY]: { lifetimeSeconds: 900, scopes: ['orders.read', 'orders.write'], requesters: [AGENT] },
          [OPEN]: {},
        },
      },
    },
    routes: [{ path: '/', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] } } }],
  };
});

afterAll(() => {
  expect(leakedPieces(JSON.stringify(allEvents), minted)).toEqual([]);
});

function setup(cfg: GatewayConfigInput = config) {
  const audit = memorySink();
  const gw = createGateway(cfg, {
    state: memoryState(),
    audit: { emit: (e) => { allEvents.push(e); audit.emit(e); } },
    fetch: async () => new Response('upstream'),
  });
  return { gw, audit };
}

async function credentials(sub = AGENT, witClaims: Record<string, unknown> = {}) {
  const wit = await mintWit({ sub, iss: ISS, workload, issuer, claims: witClaims });
  const wpt = await mintWpt({ wit, workload, aud: `${PUBLIC}${PATH}`, claims: { exp: nowS() + 290 } });
  minted.push(wit, wpt);
  return { wit, fields: [['workload-identity-token', wit], ['authorization', `WPT ${wpt}`]] as Array<[string, string]> };
}

function exchange(fields: Array<[string, string]>, params: Record<string, string | undefined>) {
  const all: Record<string, string | undefined> = { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', requested_token_type: JWT_TOKEN_TYPE, audience: LEGACY, ...params };
  const body = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded' });
  for (const [name, value] of fields) headers.append(name, value);
  return new Request(`http://127.0.0.1${PATH}`, { method: 'POST', body, headers });
}

/** What a relying party does: jose with the gateway's JWK Set URL, checking iss, aud and exp. */
function relyingPartyVerify(gw: ReturnType<typeof createGateway>, token: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${PUBLIC}/.well-known/jwks.json`), {
    [customFetch]: async (url: string, init: RequestInit) => gw.fetch(new Request(url.replace(PUBLIC, 'http://127.0.0.1'), init)),
  });
  return jwtVerify(token, jwks, { issuer: PUBLIC, audience, typ: 'JWT', algorithms: ['ES256'], requiredClaims: ['exp', 'iat', 'jti', 'sub'] });
}

async function refusedWith(res: Response, audit: ReturnType<typeof memorySink>, reason: string, error: string) {
  expect(res.status).toBe(400);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { error: string };
  expect(body.error).toBe(error);
  expect(audit.events.at(-1)).toMatchObject({ decision: 'deny', reason, status: 400 });
}

describe('secondary credentials (relyingParties)', () => {
  it('exchanges the requester\'s WIT for a JWT a relying party verifies with the gateway JWK Set', async () => {
    const { gw, audit } = setup();
    const { wit, fields } = await credentials(AGENT, { exp: nowS() + 3000 });
    const res = await gw.fetch(exchange(fields, { scope: 'orders.read', subject_token: wit, subject_token_type: JWT_TOKEN_TYPE }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type']);
    expect(body).toMatchObject({ issued_token_type: JWT_TOKEN_TYPE, token_type: 'N_A', expires_in: 900, scope: 'orders.read' });
    const token = body.access_token as string;
    minted.push(token);
    const { payload, protectedHeader } = await relyingPartyVerify(gw, token, LEGACY);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect(payload).toMatchObject({ iss: PUBLIC, sub: AGENT, aud: LEGACY, scope: 'orders.read' });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    // The same key ring signs Txn-Tokens: one JWK Set, and the relying-party JWT never passes as a Txn-Token.
    const jwks = (await (await gw.fetch(new Request('http://127.0.0.1/.well-known/jwks.json'))).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.some((k) => k.kid === decodeProtectedHeader(token).kid)).toBe(true);
    const asTxn = await verifyTxnToken(token, { keys: async (kid) => jwks.keys.find((k) => k.kid === kid) as never, audience: LEGACY, now: Date.now });
    expect(asTxn.ok).toBe(false);
    // Another relying party refuses it (aud).
    await expect(relyingPartyVerify(gw, token, OPEN)).rejects.toThrow();
    expect(audit.events.at(-1)).toMatchObject({ decision: 'allow', reason: 'RELYING_PARTY_TOKEN_ISSUED', status: 200, principal: { workloadId: AGENT } });
  });

  it('issues no scope when none is asked, with the default lifetime bounded by the WIT', async () => {
    const { gw } = setup();
    const { wit, fields } = await credentials(OTHER, { exp: nowS() + 120 });
    const res = await gw.fetch(exchange(fields, { audience: OPEN, subject_token: wit, subject_token_type: JWT_TOKEN_TYPE }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    minted.push(body.access_token as string);
    expect(body.scope).toBeUndefined();
    expect(body.expires_in).toBeGreaterThanOrEqual(118);
    expect(body.expires_in).toBeLessThanOrEqual(120);
    const { payload } = await relyingPartyVerify(gw, body.access_token as string, OPEN);
    expect(payload).toMatchObject({ sub: OTHER, aud: OPEN });
    expect(payload.scope).toBeUndefined();
  });

  it('refuses an unknown audience (invalid_target)', async () => {
    const { gw, audit } = setup();
    const { wit, fields } = await credentials();
    await refusedWith(await gw.fetch(exchange(fields, { audience: 'https://unknown.example', subject_token: wit, subject_token_type: JWT_TOKEN_TYPE })), audit, 'ERR_TTS_RELYING_PARTY_UNKNOWN', 'invalid_target');
  });

  it('refuses a requester outside the relying party\'s requesters (unauthorized_client)', async () => {
    const { gw, audit } = setup();
    const { wit, fields } = await credentials(OTHER);
    await refusedWith(await gw.fetch(exchange(fields, { subject_token: wit, subject_token_type: JWT_TOKEN_TYPE })), audit, 'ERR_TTS_RELYING_PARTY_REQUESTER_NOT_ALLOWED', 'unauthorized_client');
  });

  it('refuses a scope beyond the relying party\'s (invalid_scope), and any scope where none is configured', async () => {
    const { gw, audit } = setup();
    const { wit, fields } = await credentials();
    await refusedWith(await gw.fetch(exchange(fields, { scope: 'orders.read orders.delete', subject_token: wit, subject_token_type: JWT_TOKEN_TYPE })), audit, 'ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY', 'invalid_scope');
    const again = await credentials();
    await refusedWith(await gw.fetch(exchange(again.fields, { audience: OPEN, scope: 'orders.read', subject_token: again.wit, subject_token_type: JWT_TOKEN_TYPE })), audit, 'ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY', 'invalid_scope');
  });

  it('refuses a subject token other than the WIT the client authenticated with (invalid_grant)', async () => {
    const { gw, audit } = setup();
    const { fields } = await credentials();
    const other = await credentials(OTHER);
    await refusedWith(await gw.fetch(exchange(fields, { subject_token: other.wit, subject_token_type: JWT_TOKEN_TYPE })), audit, 'ERR_TTS_SUBJECT_NOT_REQUESTER', 'invalid_grant');
  });

  it('refuses request checks of the secondary form with their codes', async () => {
    const { gw, audit } = setup();
    const cases: Array<[Record<string, string | undefined>, string, string]> = [
      [{ subject_token_type: TXN_TOKEN_TYPE }, 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'invalid_request'],
      [{ subject_token: undefined }, 'ERR_TTS_SUBJECT_TOKEN_MISSING', 'invalid_request'],
      [{ request_details: '{"a":1}' }, 'ERR_TTS_CONTEXT_NOT_APPLICABLE', 'invalid_request'],
      [{ resource: LEGACY }, 'ERR_TTS_AUDIENCE_INVALID', 'invalid_target'],
    ];
    for (const [params, reason, error] of cases) {
      const { wit, fields } = await credentials();
      await refusedWith(await gw.fetch(exchange(fields, { subject_token: wit, subject_token_type: JWT_TOKEN_TYPE, ...params })), audit, reason, error);
    }
  });

  it('refuses requested_token_type jwt when no relying party is configured', async () => {
    const { relyingParties: _, ...service } = config.transactionTokens!.service!;
    const { gw, audit } = setup({ ...config, transactionTokens: { ...config.transactionTokens!, service } });
    const { wit, fields } = await credentials();
    await refusedWith(await gw.fetch(exchange(fields, { subject_token: wit, subject_token_type: JWT_TOKEN_TYPE })), audit, 'ERR_TTS_REQUESTED_TOKEN_TYPE', 'invalid_request');
  });

  it('bounds the lifetime by the key rotation period', async () => {
    const tt = config.transactionTokens!;
    const { gw } = setup({ ...config, transactionTokens: { ...tt, keyRotationSeconds: 900, service: { ...tt.service!, relyingParties: { [OPEN]: { lifetimeSeconds: 3600 } } } } });
    const { wit, fields } = await credentials(AGENT, { exp: nowS() + 3000 });
    const body = (await (await gw.fetch(exchange(fields, { audience: OPEN, subject_token: wit, subject_token_type: JWT_TOKEN_TYPE }))).json()) as Record<string, unknown>;
    minted.push(body.access_token as string);
    expect(body.expires_in).toBe(600);
  });

  it('validates the relyingParties config', () => {
    const tt = config.transactionTokens!;
    const withParties = (relyingParties: unknown, extra: Record<string, unknown> = {}) => ({ ...config, transactionTokens: { ...tt, service: { ...tt.service!, ...extra, relyingParties } } }) as GatewayConfigInput;
    const problems = (input: GatewayConfigInput) => {
      const result = parseConfig(input);
      return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problems(withParties({ [OPEN]: { requesters: ['spiffe://elsewhere.test/x'] } }))).toEqual([expect.stringMatching(/relyingParties.*requesters.*not within service\.requesters/)]);
    expect(problems(withParties({ [OPEN]: { requesters: [TD] } }, { requesters: [AGENT] }))).toEqual([expect.stringMatching(/narrow/)]);
    expect(problems(withParties({ [OPEN]: {} }, { auth: { mtls: { trustDomains: [TD], certificate: 'rfc9440' } } })).some((p) => /needs auth\.wit/.test(p))).toBe(true);
    expect(problems(withParties({ [OPEN]: { lifetimeSeconds: 3601 } }))).toHaveLength(1);
    const own = config.transactionTokens!.trustDomain;
    expect(problems(withParties({ [own]: {} }))).toEqual([expect.stringMatching(/relyingParties.*must not be the trust domain itself/)]);
    expect(problems(withParties({ [OPEN]: { scopes: ['a', 'a'] } }))).toHaveLength(1);
    expect(problems(withParties({}))).toHaveLength(1);
    const parsed = parseConfig(withParties({ [OPEN]: {} }));
    expect(parsed.ok && parsed.config.transactionTokens!.service!.relyingParties![OPEN]!.lifetimeSeconds).toBe(300);
  });
});
