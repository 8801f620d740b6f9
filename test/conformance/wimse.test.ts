/**
 * Conformance: WIMSE workload authentication (WIT + WPT) and JWT-SVID over HTTP, on every runtime.
 * One negative case per validation step that HTTP can observe (src/verify/wit.ts, wpt.ts; src/gateway/
 * credentials.ts), each asserting status and code, on an http route (problem+json) and an mcp route (JSON-RPC).
 * Steps HTTP cannot reach: ERR_WIT_TOO_LARGE (the 8 KiB header limit answers 431 first, tested), replay-store
 * failures (unit tests; key-source failures: key-sources.test.ts), ERR_WPT_WIT_MISMATCH / ERR_WPT_WIT_EXPIRED (gateway wiring, unit tests),
 * ERR_WPT_OTH_MISMATCH (no context token is understood yet, so any `oth` entry is ERR_WPT_OTH_UNKNOWN_ENTRY).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { generateKey, signHs256, type TestKey } from '../unit/verify/mint.ts';
import { leakedPieces, mintJwtSvid, mintWit, mintWpt, type Overrides } from '../wimse.ts';
import { expectJsonRpcError, expectProblem, json, recorded, requestId, send, type RawResponse } from './client.ts';
import { ISSUER, ISSUER_KID, MAX_WIT_LIFETIME, OTHER_KID, OTHER_TRUST_DOMAIN, PUBLIC_URL, TRUST_DOMAIN } from './config.ts';
import { target } from './context.ts';
import { importTestKey } from './keys.ts';

const SUB = `${TRUST_DOMAIN}/ns/conformance/sa/agent`;
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

let issuer: TestKey;
let other: TestKey;
let workload: TestKey;
let intruder: TestKey;

beforeAll(async () => {
  const keys = target().wimse;
  [issuer, other, workload, intruder] = await Promise.all([importTestKey(keys.issuer), importTestKey(keys.other), generateKey('ES256'), generateKey('ES256')]);
});

const now = () => Math.floor(Date.now() / 1000);

function wit(claims: Overrides = {}, header: Overrides = {}, extra: Partial<Parameters<typeof mintWit>[0]> = {}): Promise<string> {
  return mintWit({ sub: SUB, iss: ISSUER, kid: ISSUER_KID, workload, issuer, claims, header, ...extra });
}

function wpt(witToken: string, aud: string, claims: Overrides = {}, header: Overrides = {}, signWith?: TestKey): Promise<string> {
  return mintWpt({ wit: witToken, workload, aud, claims, header, ...(signWith ? { signWith } : {}) });
}

/** Header fields for a WIT+WPT request (-02 carriage). */
function creds(witToken: string, proof: string): Record<string, string | string[]> {
  return { 'workload-identity-token': witToken, authorization: `WPT ${proof}` };
}

/** A case: builds the credential fields for a route whose WPT audience is `aud`. */
type Case = [name: string, build: (aud: string) => Promise<Record<string, string | string[]>>, status: number, code: string];

const truncate = (token: string) => token.split('.').slice(0, 2).join('.');

const witCases: Case[] = [
  ['WIT truncated (two segments)', async (aud) => { const t = await wit(); return creds(truncate(t), await wpt(t, aud)); }, 400, 'ERR_WIT_MALFORMED'],
  ['WIT typ is JWT', async (aud) => { const t = await wit({}, { typ: 'JWT' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_TYP_INVALID'],
  ['WIT alg none', async (aud) => { const t = await wit({}, { alg: 'none' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_ALG_NOT_ALLOWED'],
  ['WIT HS256 with the issuer public key as secret', async (aud) => {
    const t = await signHs256({ alg: 'HS256', typ: 'wit+jwt', kid: ISSUER_KID }, { sub: SUB, iss: ISSUER, exp: now() + 600, cnf: { jwk: { ...workload.publicJwk, alg: 'ES256' } } }, new TextEncoder().encode(JSON.stringify(issuer.publicJwk)));
    return creds(t, await wpt(t, aud));
  }, 400, 'ERR_WIT_ALG_NOT_ALLOWED'],
  ['WIT alg ES384 (not in the trust domain algorithms)', async (aud) => { const t = await wit({}, { alg: 'ES384' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_ALG_NOT_ALLOWED'],
  ['WIT with crit', async (aud) => { const t = await wit({}, { crit: ['exp'] }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_CRIT_UNSUPPORTED'],
  ['WIT kid not a string', async (aud) => { const t = await wit({}, { kid: 7 }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_KID_INVALID'],
  ['WIT sub not canonical', async (aud) => { const t = await wit({ sub: 'spiffe://Conformance.test/agent' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_SUB_INVALID'],
  ['WIT unknown kid', async (aud) => { const t = await wit({}, { kid: 'rotated-away' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_KEY_NOT_FOUND'],
  ['WIT sub in an unconfigured trust domain', async (aud) => { const t = await wit({ sub: 'spiffe://elsewhere.test/agent' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_KEY_NOT_FOUND'],
  ['WIT sub in a trust domain the route does not accept', async (aud) => {
    const t = await wit({ sub: `${OTHER_TRUST_DOMAIN}/agent` }, {}, { issuer: other, kid: OTHER_KID });
    return creds(t, await wpt(t, aud));
  }, 400, 'ERR_WIT_KEY_NOT_FOUND'],
  ['WIT wrong signature', async (aud) => { const t = await wit({}, {}, { signWith: intruder }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_SIGNATURE_INVALID'],
  ['WIT iss not a string', async (aud) => { const t = await wit({ iss: 7 }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_CLAIM_INVALID'],
  ['WIT iss not allowed', async (aud) => { const t = await wit({ iss: 'https://rogue.example' }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_ISSUER_NOT_ALLOWED'],
  ['WIT without exp', async (aud) => { const t = await wit({ exp: undefined }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_EXP_INVALID'],
  ['WIT expired', async (aud) => { const t = await wit({ iat: now() - 1200, exp: now() - 600 }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_EXPIRED'],
  ['WIT nbf in the future', async (aud) => { const t = await wit({ nbf: now() + 300 }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_NOT_YET_VALID'],
  ['WIT lifetime over the trust domain limit', async (aud) => { const t = await wit({ exp: now() + MAX_WIT_LIFETIME * 2 }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_LIFETIME_TOO_LONG'],
  ['WIT without cnf', async (aud) => { const t = await wit({ cnf: undefined }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_CNF_MISSING'],
  ['WIT cnf.jwk with a private member', async (aud) => { const t = await wit({ cnf: { jwk: { ...workload.publicJwk, alg: 'ES256', d: 'AAAA' } } }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_CNF_PRIVATE_KEY'],
  ['WIT cnf.jwk.alg HS256', async (aud) => { const t = await wit({ cnf: { jwk: { ...workload.publicJwk, alg: 'HS256' } } }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_CNF_ALG_INVALID'],
  ['WIT cnf.jwk use enc', async (aud) => { const t = await wit({ cnf: { jwk: { ...workload.publicJwk, alg: 'ES256', use: 'enc' } } }); return creds(t, await wpt(t, aud)); }, 400, 'ERR_WIT_CNF_KEY_INVALID'],
];

const wptCases: Case[] = [
  ['WPT too large', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { pad: 'p'.repeat(3200) })); }, 401, 'ERR_WPT_TOO_LARGE'],
  ['WPT truncated (two segments)', async (aud) => { const t = await wit(); return creds(t, truncate(await wpt(t, aud))); }, 401, 'ERR_WPT_MALFORMED'],
  ['WPT typ is JWT', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, {}, { typ: 'JWT' })); }, 401, 'ERR_WPT_TYP_INVALID'],
  ['WPT alg differs from cnf.jwk.alg', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, {}, { alg: 'ES384' })); }, 401, 'ERR_WPT_ALG_MISMATCH'],
  ['WPT alg none', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, {}, { alg: 'none' })); }, 401, 'ERR_WPT_ALG_MISMATCH'],
  ['WPT HS256 with the cnf key as secret', async (aud) => {
    const t = await wit();
    const proof = await signHs256({ alg: 'HS256', typ: 'wpt+jwt' }, { aud, exp: now() + 60, jti: crypto.randomUUID(), wth: await sha256b64url(t) }, new TextEncoder().encode(JSON.stringify(workload.publicJwk)));
    return creds(t, proof);
  }, 401, 'ERR_WPT_ALG_MISMATCH'],
  ['WPT with crit', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, {}, { crit: ['wth'] })); }, 401, 'ERR_WPT_CRIT_UNSUPPORTED'],
  ['WPT wrong signature', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, {}, {}, intruder)); }, 401, 'ERR_WPT_SIGNATURE_INVALID'],
  ['WPT wrong audience', async (aud) => { const t = await wit(); return creds(t, await wpt(t, `${aud}-other`)); }, 401, 'ERR_WPT_AUD_MISMATCH'],
  ['WPT audience built from Host', async (aud) => { const t = await wit(); return creds(t, await wpt(t, `${target().gatewayUrl}${new URL(aud).pathname}`)); }, 401, 'ERR_WPT_AUD_MISMATCH'],
  ['WPT without exp', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { exp: undefined })); }, 401, 'ERR_WPT_EXP_INVALID'],
  ['WPT expired', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { exp: now() - 600 })); }, 401, 'ERR_WPT_EXPIRED'],
  ['WPT iat not a NumericDate', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { iat: 'yesterday' })); }, 401, 'ERR_WPT_CLAIM_INVALID'],
  ['WPT exp too far ahead', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { exp: now() + 3600 })); }, 401, 'ERR_WPT_LIFETIME_TOO_LONG'],
  ['WPT nbf in the future', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { nbf: now() + 200, exp: now() + 250 })); }, 401, 'ERR_WPT_NOT_YET_VALID'],
  ['WPT wth of another WIT', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { wth: await sha256b64url(await wit()) })); }, 401, 'ERR_WPT_WTH_MISMATCH'],
  ['WPT without tth beside a Txn-Token', async (aud) => { const t = await wit(); return { ...creds(t, await wpt(t, aud)), 'txn-token': 'a.b.c' }; }, 401, 'ERR_WPT_TTH_MISMATCH'],
  ['WPT oth naming a token the route does not understand', async (aud) => {
    const t = await wit();
    return { ...creds(t, await wpt(t, aud, { oth: { 'x-user-token': await sha256b64url('u') } })), 'x-user-token': 'u' };
  }, 401, 'ERR_WPT_OTH_UNKNOWN_ENTRY'],
  ['WPT without jti', async (aud) => { const t = await wit(); return creds(t, await wpt(t, aud, { jti: undefined })); }, 401, 'ERR_WPT_JTI_INVALID'],
];

const carriageCases: Case[] = [
  ['no credentials', async () => ({}), 401, 'ERR_CREDENTIALS_MISSING'],
  ['Authorization: Basic', async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'ERR_CREDENTIALS_MISSING'],
  ['a WIT without a proof', async () => ({ 'workload-identity-token': await wit() }), 401, 'ERR_WPT_MISSING'],
  ['a proof without a WIT', async (aud) => ({ authorization: `WPT ${await wpt(await wit(), aud)}` }), 400, 'ERR_WIT_MISSING'],
  ['two Workload-Identity-Token fields', async (aud) => { const t = await wit(); return { 'workload-identity-token': [t, t], authorization: `WPT ${await wpt(t, aud)}` }; }, 400, 'ERR_WIT_MALFORMED'],
  ['two Authorization fields', async (aud) => { const t = await wit(); return { 'workload-identity-token': t, authorization: [`WPT ${await wpt(t, aud)}`, `WPT ${await wpt(t, aud)}`] }; }, 401, 'ERR_WPT_MALFORMED'],
  ['a comma-joined WIT', async (aud) => { const t = await wit(); return { 'workload-identity-token': `${t}, ${t}`, authorization: `WPT ${await wpt(t, aud)}` }; }, 400, 'ERR_WIT_MALFORMED'],
  ['Authorization: WPT without credentials', async () => ({ 'workload-identity-token': await wit(), authorization: 'WPT' }), 401, 'ERR_WPT_MALFORMED'],
];

const ROUTES = [
  { label: 'http route', mount: '/wimse', send: (headers: Record<string, string | string[]>) => send('/wimse/x', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' }) },
  { label: 'mcp route', mount: '/mcp-wimse', send: (headers: Record<string, string | string[]>) => send('/mcp-wimse', { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: TOOLS_LIST }) },
] as const;

function expectRefusal(res: RawResponse, route: (typeof ROUTES)[number], status: number, code: string): void {
  if (route.mount === '/mcp-wimse') expectJsonRpcError(res, status, code);
  else expectProblem(res, status, code);
  if (status === 401) expect(res.headers['www-authenticate']).toBe('WPT');
  else expect(res.headers['www-authenticate']).toBeUndefined();
}

describe(`WIT + WPT (${target().runtime})`, () => {
  it('a valid WIT + WPT reaches the upstream, which sees none of the credentials', async () => {
    const id = requestId('wimse-ok');
    const t = await wit();
    const res = await send('/wimse/tools?x=1', { method: 'POST', headers: { ...creds(t, await wpt(t, `${PUBLIC_URL}/wimse`)), 'x-request-id': id }, body: '{}' });
    expect(res.status, res.body).toBe(200);
    const upstream = await recorded(id);
    for (const name of ['authorization', 'workload-identity-token', 'workload-proof-token']) expect(upstream.headers[name], name).toBeUndefined();
    expect(leakedPieces(JSON.stringify(upstream), [t])).toEqual([]);
  });

  it('a valid WIT + WPT on the mcp route gets the MCP server\'s answer', async () => {
    const t = await wit();
    const res = await send('/mcp-wimse', { method: 'POST', headers: { ...MCP_HEADERS, ...creds(t, await wpt(t, `${PUBLIC_URL}/mcp-wimse`)) }, body: TOOLS_LIST });
    expect(res.status, res.body).toBe(200);
    expect(json(res.body)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
  });

  it('the audience may also be the request URL on publicUrl (path below the mount, no query)', async () => {
    const t = await wit();
    expect((await send('/wimse/tools?x=1', { headers: creds(t, await wpt(t, `${PUBLIC_URL}/wimse/tools`)) })).status).toBe(200);
  });

  for (const route of ROUTES) {
    describe(route.label, () => {
      it.each([...carriageCases, ...witCases, ...wptCases])('%s -> %i %s', async (_name, build, status, code) => {
        const res = await route.send(await build(`${PUBLIC_URL}${route.mount}`));
        expectRefusal(res, route, status, code);
      });

      it('a replayed proof -> 401 ERR_WPT_REPLAYED', async () => {
        const t = await wit();
        const headers = creds(t, await wpt(t, `${PUBLIC_URL}${route.mount}`));
        expect((await route.send(headers)).status).toBe(200);
        expectRefusal(await route.send(headers), route, 401, 'ERR_WPT_REPLAYED');
      });
    });
  }

  it('an oversized WIT is refused by the header limit (431), never a 500', async () => {
    const t = await wit({ pad: 'p'.repeat(7000) });
    expectProblem(await send('/wimse', { headers: creds(t, await wpt(t, `${PUBLIC_URL}/wimse`)) }), 431, 'ERR_HEADERS_TOO_LARGE');
  });

  it('the same proof sent 20 times at once is accepted exactly once', async () => {
    if (target().runtime === 'workerd') expect(target().durableState, 'PORTCULLIS_STATE bound in wrangler dev').toBe(true);
    const t = await wit();
    const headers = creds(t, await wpt(t, `${PUBLIC_URL}/wimse`));
    const results = await Promise.all(Array.from({ length: 20 }, () => send('/wimse', { headers })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200), statuses.join(',')).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expectProblem(r, 401, 'ERR_WPT_REPLAYED');
  });
});

describe(`WIT + WPT with the -01 carriage (${target().runtime})`, () => {
  const AUD = `${PUBLIC_URL}/wimse-01`;
  it('takes the proof from Workload-Proof-Token', async () => {
    const t = await wit();
    expect((await send('/wimse-01', { headers: { 'workload-identity-token': t, 'workload-proof-token': await wpt(t, AUD) } })).status).toBe(200);
  });

  it('answers proof failures with 400 and no challenge, including an access token the proof does not bind (ath)', async () => {
    const t = await wit();
    const wrongAud = await send('/wimse-01', { headers: { 'workload-identity-token': t, 'workload-proof-token': await wpt(t, `${AUD}/x`) } });
    expectProblem(wrongAud, 400, 'ERR_WPT_AUD_MISMATCH');
    expect(wrongAud.headers['www-authenticate']).toBeUndefined();
    const unbound = await send('/wimse-01', { headers: { 'workload-identity-token': t, 'workload-proof-token': await wpt(t, AUD), authorization: 'Bearer at-1' } });
    expectProblem(unbound, 400, 'ERR_WPT_ATH_MISMATCH');
    const twice = await send('/wimse-01', { headers: { 'workload-identity-token': t, 'workload-proof-token': [await wpt(t, AUD), await wpt(t, AUD)] } });
    expectProblem(twice, 400, 'ERR_WPT_MALFORMED');
  });
});

describe(`JWT-SVID (${target().runtime})`, () => {
  const AUD = `${PUBLIC_URL}/svid`;
  const svid = (aud: string, claims: Overrides = {}, key: TestKey = issuer) => mintJwtSvid({ sub: SUB, aud, issuer: key, kid: ISSUER_KID, claims: { iss: ISSUER, ...claims } });

  it('a valid bearer JWT-SVID reaches the upstream without its Authorization field', async () => {
    const id = requestId('svid-ok');
    const res = await send('/svid', { headers: { authorization: `Bearer ${await svid(AUD)}`, 'x-request-id': id } });
    expect(res.status, res.body).toBe(200);
    expect((await recorded(id)).headers.authorization).toBeUndefined();
  });

  it('refuses with 401 and WWW-Authenticate: Bearer error="invalid_token"', async () => {
    for (const [token, code] of [[await svid(`${AUD}/other`), 'ERR_JWT_SVID_AUD_MISMATCH'], [await svid(AUD, {}, intruder), 'ERR_JWT_SVID_SIGNATURE_INVALID'], [await svid(AUD, { exp: now() - 600 }), 'ERR_JWT_SVID_EXPIRED']] as const) {
      const res = await send('/svid', { headers: { authorization: `Bearer ${token}` } });
      expectProblem(res, 401, code);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
    const missing = await send('/svid');
    expectProblem(missing, 401, 'ERR_CREDENTIALS_MISSING');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
  });
});
