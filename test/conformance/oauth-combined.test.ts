/**
 * Conformance: workload + user on one request (auth.wit with auth.oauth `withWorkload: true`, route COMBINED_PATH),
 * over HTTP, on every runtime. The calling workload proves itself with a WIT and either a -01 WPT in
 * `Workload-Proof-Token` whose `ath` binds a Bearer access token (wpt-01 §2), or a WIMSE HTTP signature
 * (http-signature-07 §3.1) that covers `Authorization`, which may then carry a DPoP-bound token with its proof.
 *   - both credentials pass, and no credential field reaches the upstream;
 *   - the WPT binding another token (ath): 400 ERR_WPT_ATH_MISMATCH; a signature not covering Authorization: 400
 *     ERR_HTTPSIG_COMPONENT_MISSING; a DPoP token beside a WPT: 400 ERR_OAUTH_REQUEST_INVALID;
 *   - a token without the workload credential: 401 ERR_WORKLOAD_CREDENTIAL_MISSING (`WPT` challenge); the workload
 *     credential without a token: 401 ERR_CREDENTIALS_MISSING (Bearer and DPoP challenges).
 * Every refusal asserts its status, its code and the WWW-Authenticate field (or its absence).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../src/crypto/digest.ts';
import { createWimseSigner, type WimseSigner } from '../../src/mint/wimse-signature.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { mintWit, mintWpt } from '../wimse.ts';
import { expectProblem, record, recorded, requestId, send, type RawResponse } from './client.ts';
import { AS_KID, AS_PATH, COMBINED_PATH, ISSUER, ISSUER_KID, PUBLIC_URL, TRUST_DOMAIN } from './config.ts';
import { target } from './context.ts';
import { fixtureAsKey, importTestKey } from './keys.ts';

const SUB = `${TRUST_DOMAIN}/ns/conformance/sa/agent-for-user`;
const AUD = `${PUBLIC_URL}${COMBINED_PATH}`;
const METADATA = `${PUBLIC_URL}/.well-known/oauth-protected-resource${COMBINED_PATH}`;
/** Fields that carry credentials: none may reach the upstream. */
const CREDENTIAL_FIELDS = ['authorization', 'dpop', 'workload-identity-token', 'workload-proof-token', 'signature', 'signature-input'];

const now = () => Math.floor(Date.now() / 1000);
let counter = 0;
const unique = (label: string) => `${label}-${target().runtime}-${process.pid}-${++counter}-${Date.now().toString(36)}`;
const sha = (text: string) => sha256b64url(new TextEncoder().encode(text));

let asKey: CryptoKey;
let workload: TestKey;
let witToken: string;
let signer: WimseSigner;

beforeAll(async () => {
  asKey = await fixtureAsKey();
  const issuer = await importTestKey(target().wimse.issuer);
  workload = await generateKey('ES256');
  witToken = await mintWit({ sub: SUB, iss: ISSUER, kid: ISSUER_KID, workload, issuer });
  signer = await createWimseSigner(witToken, { ...(await exportJWK(workload.privateKey)), alg: 'ES256' });
});

/** An RFC 9068 access token of the fixture AS for the combined route, scope "read"; `jkt` binds it to a DPoP key. */
function accessToken(jkt?: string): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: `${target().fixtureUrl}${AS_PATH}`, sub: 'user-7', aud: AUD, client_id: 'conformance-agent', scope: 'read',
    iat: now(), exp: now() + 600, jti: unique('at'), ...(jkt ? { cnf: { jkt } } : {}),
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: AS_KID }).sign(asKey);
}

interface DpopKey {
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

async function dpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

async function dpopProof(key: DpopKey, token: string): Promise<string> {
  return new SignJWT({ htm: 'GET', htu: AUD, jti: unique('proof'), ath: await sha(token), iat: now() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);
}

/** A -01 WPT for the combined route; `ath` binds an access token. */
function wpt(claims: Record<string, unknown> = {}): Promise<string> {
  return mintWpt({ wit: witToken, workload, aud: AUD, claims });
}

/** WIMSE signature fields for GET COMBINED_PATH over `fields` (lower-case names), which are sent with them. */
async function signed(fields: Record<string, string>): Promise<Record<string, string>> {
  const headers = new Headers({ 'workload-identity-token': witToken, ...fields });
  const out = await signer({ method: 'GET', url: AUD, headers }, { audience: AUD });
  const all: Record<string, string> = {};
  headers.forEach((value, name) => { all[name] = value; });
  for (const [name, value] of Object.entries(out)) if (name !== 'nonce') all[name] = value;
  return all;
}

/** The schemes and auth-params of a WWW-Authenticate field whose auth-param values hold no commas. */
function challenges(response: RawResponse): Array<{ scheme: string; params: Record<string, string> }> {
  const value = response.headers['www-authenticate'];
  expect(value, 'WWW-Authenticate').toBeTypeOf('string');
  const out: Array<{ scheme: string; params: Record<string, string> }> = [];
  for (const part of (value as string).split(/,\s*/)) {
    const param = /^([A-Za-z_][A-Za-z0-9_-]*)="([^"]*)"$/.exec(part);
    if (param) {
      expect(out.length, `auth-param before any scheme in ${String(value)}`).toBeGreaterThan(0);
      out.at(-1)!.params[param[1]!] = param[2]!;
      continue;
    }
    const scheme = /^([A-Za-z][A-Za-z0-9._~+-]*)(?: ([A-Za-z_][A-Za-z0-9_-]*)="([^"]*)")?$/.exec(part);
    expect(scheme, `challenge part ${part}`).not.toBeNull();
    out.push({ scheme: scheme![1]!, params: scheme![2] ? { [scheme![2]]: scheme![3]! } : {} });
  }
  return out;
}

/** Sends GET COMBINED_PATH with `headers`; returns the response and what reached the upstream (null: nothing). */
async function call(label: string, headers: Record<string, string>) {
  const id = requestId(label);
  const response = await send(COMBINED_PATH, { headers: { ...headers, 'x-request-id': id } });
  return { response, upstream: await record(id), id };
}

/** A 400 proof failure: problem+json with `code`, no challenge, nothing upstream. */
async function expectProofRefusal(label: string, headers: Record<string, string>, code: string): Promise<void> {
  const { response, upstream } = await call(label, headers);
  expectProblem(response, 400, code);
  expect(response.headers['www-authenticate']).toBeUndefined();
  expect(upstream).toBeNull();
}

describe(`workload + user on one route (${target().runtime})`, () => {
  it('WIT + -01 WPT binding a Bearer token (ath): 200; no credential field reaches the upstream', async () => {
    const token = await accessToken();
    const { response, id } = await call('combined-wpt', { 'workload-identity-token': witToken, 'workload-proof-token': await wpt({ ath: await sha(token) }), authorization: `Bearer ${token}` });
    expect(response.status, response.body).toBe(200);
    const seen = await recorded(id);
    for (const name of CREDENTIAL_FIELDS) expect(seen.headers[name], name).toBeUndefined();
  });

  it('the WPT binds another token (ath): 400 ERR_WPT_ATH_MISMATCH, no challenge', async () => {
    const token = await accessToken();
    await expectProofRefusal('combined-ath', { 'workload-identity-token': witToken, 'workload-proof-token': await wpt({ ath: await sha(`${token}x`) }), authorization: `Bearer ${token}` }, 'ERR_WPT_ATH_MISMATCH');
    // A WPT without ath beside a token binds nothing either.
    await expectProofRefusal('combined-no-ath', { 'workload-identity-token': witToken, 'workload-proof-token': await wpt(), authorization: `Bearer ${token}` }, 'ERR_WPT_ATH_MISMATCH');
  });

  it('the token alone: 401 ERR_WORKLOAD_CREDENTIAL_MISSING with a WPT challenge', async () => {
    const { response, upstream } = await call('combined-token-only', { authorization: `Bearer ${await accessToken()}` });
    expectProblem(response, 401, 'ERR_WORKLOAD_CREDENTIAL_MISSING');
    expect(challenges(response)).toEqual([{ scheme: 'WPT', params: {} }]);
    expect(upstream).toBeNull();
  });

  it('the workload credential alone: 401 ERR_CREDENTIALS_MISSING with the Bearer and DPoP challenges, no error', async () => {
    const { response, upstream } = await call('combined-workload-only', { 'workload-identity-token': witToken, 'workload-proof-token': await wpt() });
    expectProblem(response, 401, 'ERR_CREDENTIALS_MISSING');
    const list = challenges(response);
    expect(list.map((c) => c.scheme)).toEqual(['Bearer', 'DPoP']);
    for (const c of list) {
      expect(c.params.resource_metadata).toBe(METADATA);
      expect(c.params.scope).toBe('read');
      expect(c.params.error).toBeUndefined();
    }
    expect(upstream).toBeNull();
  });

  it('WIT + WIMSE HTTP signature covering Authorization, with a DPoP token and its proof: 200; nothing of either upstream', async () => {
    const key = await dpopKey();
    const token = await accessToken(key.jkt);
    const fields = await signed({ authorization: `DPoP ${token}` });
    expect(fields['signature-input']).toContain('"authorization"');
    const { response, id } = await call('combined-sig-dpop', { ...fields, dpop: await dpopProof(key, token) });
    expect(response.status, response.body).toBe(200);
    const seen = await recorded(id);
    for (const name of CREDENTIAL_FIELDS) expect(seen.headers[name], name).toBeUndefined();
  });

  it('a signature that does not cover Authorization: 400 ERR_HTTPSIG_COMPONENT_MISSING, no challenge', async () => {
    const key = await dpopKey();
    const token = await accessToken(key.jkt);
    // Signed before the token was added: the signature covers the WIT but not Authorization.
    const fields = await signed({});
    expect(fields['signature-input']).not.toContain('"authorization"');
    await expectProofRefusal('combined-sig-uncovered', { ...fields, authorization: `DPoP ${token}`, dpop: await dpopProof(key, token) }, 'ERR_HTTPSIG_COMPONENT_MISSING');
  });

  it('WIT + WPT with a DPoP token: 400 ERR_OAUTH_REQUEST_INVALID (a WPT binds Bearer tokens only)', async () => {
    const key = await dpopKey();
    const token = await accessToken(key.jkt);
    const { response, upstream } = await call('combined-wpt-dpop', {
      'workload-identity-token': witToken, 'workload-proof-token': await wpt({ ath: await sha(token) }), authorization: `DPoP ${token}`, dpop: await dpopProof(key, token),
    });
    expectProblem(response, 400, 'ERR_OAUTH_REQUEST_INVALID');
    // As every invalid_request on an OAuth route (RFC 6750 §3.1): the error on each scheme the route accepts.
    expect(response.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request", resource_metadata="[^"]+", DPoP error="invalid_request", /);
    expect(upstream).toBeNull();
  });

  // Signature fields beside a WPT are ignored (the WPT is the proof verified), so they must not lift the rule.
  it('WIT + WPT with a DPoP token and a junk Signature-Input field: 400 ERR_OAUTH_REQUEST_INVALID', async () => {
    const key = await dpopKey();
    const token = await accessToken(key.jkt);
    const { response, upstream } = await call('combined-wpt-dpop-junk-sig', {
      'workload-identity-token': witToken, 'workload-proof-token': await wpt(), authorization: `DPoP ${token}`, dpop: await dpopProof(key, token), 'signature-input': 'junk',
    });
    expect(upstream).toBeNull();
    expectProblem(response, 400, 'ERR_OAUTH_REQUEST_INVALID');
  });
});
