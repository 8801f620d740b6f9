/**
 * The gateway's own workload identity (config `identity`), in-process: signed responses to signed requests
 * (http-signature-07 §3.4) and the gateway authenticating itself to upstreams (route `upstreamAuth`), checked
 * with the same verifiers a recipient would use.
 */
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertConfig, ConfigError, createGateway, memorySink, type GatewayConfigInput } from '../../src/index.ts';
import { ownIdentity } from '../../src/gateway/own-identity.ts';
import { generateSigningKey } from '../../src/mint/keys.ts';
import { createWimseSigner, type WimseSigner } from '../../src/mint/wimse-signature.ts';
import { mintWit } from '../../src/mint/wit.ts';
import { memoryReplayStore } from '../../src/state/memory.ts';
import { verifyWimseResponseSignature } from '../../src/verify/wimse-response-signature.ts';
import { verifyWimseSignature } from '../../src/verify/wimse-signature.ts';
import { verifyWit, type VerifiedWit } from '../../src/verify/wit.ts';
import { verifyWpt } from '../../src/verify/wpt.ts';
import { expectOk } from './verify/mint.ts';

const PUBLIC = 'https://gw.example';
const TD = 'spiffe://callers.test';
const GW_TD = 'spiffe://gateway.test';
const GW_ID = `${GW_TD}/portcullis`;
let issuerKey: JWK;
let issuerPublic: JWK;
let callerWit: string;
let caller: WimseSigner;
let identityJson: string;
let config: GatewayConfigInput;

beforeAll(async () => {
  issuerKey = { ...(await generateSigningKey('ES256')), kid: 'i1' };
  const { d: _d, ...pub } = issuerKey;
  issuerPublic = pub;
  const minted = await mintWit({ issuerKey, subject: `${TD}/agent` });
  callerWit = minted.wit;
  caller = await createWimseSigner(minted.wit, minted.key);
  const gw = await mintWit({ issuerKey, subject: GW_ID, ttlSeconds: 600 });
  identityJson = JSON.stringify({ wit: gw.wit, key: gw.key });
  const jwks = { keys: [{ ...issuerPublic, kid: 'i1' }] };
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks } },
    identity: { workloadId: GW_ID, env: 'GW_IDENTITY' },
    routes: [
      { path: '/sig', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD], proofs: ['http-sig'] } } },
      { path: '/always', protocol: 'http', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD], proofs: ['http-sig'], httpSignature: { signResponses: 'always' } } } },
      { path: '/up-wpt', protocol: 'http', upstream: 'https://up.internal/wpt', public: true, upstreamAuth: { proof: 'wpt' } },
      { path: '/up-sig', protocol: 'http', upstream: 'https://up.internal/sig', public: true, upstreamAuth: { proof: 'http-sig', audience: 'https://upstream.example/api' } },
    ],
  } as GatewayConfigInput;
});

function gateway(upstream: (request: Request) => Response | Promise<Response> = () => new Response('{"ok":true}', { headers: { 'content-type': 'application/json' } }), env: Record<string, string> = { GW_IDENTITY: identityJson }) {
  const seen: Request[] = [];
  const gw = createGateway(config, {
    audit: memorySink(),
    readEnv: (name) => env[name],
    fetch: async (url, init) => {
      const request = new Request(url, init as RequestInit);
      seen.push(request.clone());
      const response = await upstream(request);
      return { status: response.status, statusText: response.statusText, headers: response.headers, body: response.body };
    },
  });
  return { gw, seen };
}

async function signedRequest(path: string, signResponse: boolean) {
  const headers = new Headers({ 'workload-identity-token': callerWit });
  const url = `${PUBLIC}${path}`;
  const fields = await caller({ method: 'GET', url, headers }, { audience: `${PUBLIC}/${path.split('/')[1]}`, signResponse });
  for (const [name, value] of Object.entries(fields)) if (name !== 'nonce') headers.set(name, value);
  return { request: new Request(`http://127.0.0.1${path}`, { headers }), nonce: fields.nonce, message: { method: 'GET', url: `http://127.0.0.1${path}`, headers } };
}

async function gatewayWit(token: string): Promise<VerifiedWit> {
  return expectOk(await verifyWit(token, { keys: async () => issuerPublic, now: Date.now }));
}

describe('signed responses', () => {
  it('signs the response when the request asks (wimse-sign-response), verifiable with the gateway WIT and the request nonce', async () => {
    const { gw } = gateway();
    const { request, nonce, message } = await signedRequest('/sig/x', true);
    const response = await gw.fetch(request);
    expect(response.status).toBe(200);
    const body = new Uint8Array(await response.arrayBuffer());
    const responderWit = await gatewayWit(response.headers.get('workload-identity-token')!);
    expect(responderWit.subject.uri).toBe(GW_ID);
    expectOk(await verifyWimseResponseSignature({ response: { status: 200, headers: response.headers }, body, request: message, requestNonce: nonce, responderWit, now: Date.now }));
    expect(response.headers.get('content-digest')).toMatch(/^sha-256=:/);
  });

  it('does not sign when not asked, and always signs on a signResponses "always" route', async () => {
    const { gw } = gateway();
    const plain = await gw.fetch((await signedRequest('/sig', false)).request);
    expect(plain.headers.has('signature')).toBe(false);
    const always = await gw.fetch((await signedRequest('/always', false)).request);
    expect(always.headers.get('signature-input')).toMatch(/wimse-req-nonce=/);
  });

  it('drops signature fields the upstream set, so exactly one WIMSE signature reaches the caller', async () => {
    const { gw } = gateway(() => new Response('x', { headers: { signature: 'sig1=:AAAA:', 'signature-input': 'sig1=();tag="wimse-workload-to-workload"' } }));
    const response = await gw.fetch((await signedRequest('/sig', true)).request);
    expect(response.headers.get('signature-input')).not.toContain('sig1=();');
  });

  it('refuses to answer unsigned: an event stream is 501 ERR_RESPONSE_NOT_SIGNABLE; no identity is 503 ERR_OWN_IDENTITY_UNAVAILABLE', async () => {
    const sse = gateway(() => new Response('data: 1\n\n', { headers: { 'content-type': 'text/event-stream' } }));
    const streamed = await sse.gw.fetch((await signedRequest('/sig', true)).request);
    expect(streamed.status).toBe(501);
    expect(await streamed.json()).toMatchObject({ code: 'ERR_RESPONSE_NOT_SIGNABLE' });
    const none = gateway(undefined, {});
    const missing = await none.gw.fetch((await signedRequest('/sig', true)).request);
    expect(missing.status).toBe(503);
    expect(await missing.json()).toMatchObject({ code: 'ERR_OWN_IDENTITY_UNAVAILABLE' });
    // Found out before the upstream acts on the request (a retry must not repeat a side effect).
    expect(none.seen).toHaveLength(0);
  });
});

describe('the gateway authenticating itself to upstreams', () => {
  it('sends its own WIT with a WPT for the upstream URL, never the caller\'s credentials', async () => {
    const { gw, seen } = gateway();
    const response = await gw.fetch(new Request('http://127.0.0.1/up-wpt/tools?x=1', { headers: { authorization: 'Bearer caller-token' } }));
    expect(response.status).toBe(200);
    const sent = seen[0]!;
    const wit = await gatewayWit(sent.headers.get('workload-identity-token')!);
    expect(wit.subject.uri).toBe(GW_ID);
    const proof = sent.headers.get('authorization')!.replace(/^WPT /, '');
    expectOk(await verifyWpt(proof, { wit, witToken: sent.headers.get('workload-identity-token')!, audience: 'https://up.internal/wpt/tools', replay: memoryReplayStore(), now: Date.now }));
  });

  it('keeps the upstream\'s own WIT and signature (made for the gateway) from the caller', async () => {
    const { gw } = gateway(() => new Response('ok', { headers: { 'workload-identity-token': 'upstream.wit.x', signature: 'sig1=:AAAA:', 'signature-input': 'sig1=()' } }));
    const response = await gw.fetch(new Request('http://127.0.0.1/up-wpt'));
    for (const name of ['workload-identity-token', 'signature', 'signature-input']) expect(response.headers.has(name)).toBe(false);
  });

  it('or signs the upstream request (body included, read for its digest) for the configured audience', async () => {
    const { gw, seen } = gateway();
    const response = await gw.fetch(new Request('http://127.0.0.1/up-sig/run', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } }));
    expect(response.status).toBe(200);
    const sent = seen[0]!;
    const body = new Uint8Array(await sent.arrayBuffer());
    expect(new TextDecoder().decode(body)).toBe('{"n":1}');
    const wit = await gatewayWit(sent.headers.get('workload-identity-token')!);
    expectOk(await verifyWimseSignature({ wit, message: { method: 'POST', url: sent.url, headers: sent.headers }, body, audience: 'https://upstream.example/api', replay: memoryReplayStore(), now: Date.now }));
  });

  it('fails closed with 503 ERR_OWN_IDENTITY_UNAVAILABLE when the identity cannot be loaded', async () => {
    const { gw, seen } = gateway(undefined, { GW_IDENTITY: '{"wit":"nope"}' });
    const response = await gw.fetch(new Request('http://127.0.0.1/up-wpt'));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'ERR_OWN_IDENTITY_UNAVAILABLE' });
    expect(seen).toHaveLength(0);
  });
});

describe('identity config and loading', () => {
  it('sends the gateway\'s WIT over https (or http to loopback) only', () => {
    const plain = structuredClone(config) as { routes: Array<Record<string, unknown>> };
    plain.routes[2]!.upstream = 'http://up.internal/wpt';
    expect(() => assertConfig(plain)).toThrow(/routes\[2\]\.upstreamAuth: the gateway's WIT and proof go to https upstreams only/);
    plain.routes[2]!.upstream = 'http://127.0.0.1:9/wpt';
    expect(() => assertConfig(plain)).not.toThrow();
  });

  it('needs the identity for upstreamAuth and signResponses "always"; file needs a file reader', () => {
    const { identity: _omit, ...bare } = config as GatewayConfigInput & { identity: unknown };
    expect(() => assertConfig(bare)).toThrow(/routes\[1\]\.auth\.wit\.httpSignature\.signResponses: needs the top-level identity[\s\S]*routes\[2\]\.upstreamAuth: needs the top-level identity/);
    expect(() => createGateway({ ...config, identity: { file: 'id.json' } } as GatewayConfigInput, {})).toThrow(ConfigError);
    expect(() => assertConfig({ ...config, identity: { file: 'a', env: 'B' } })).toThrow(/set exactly one of file and env/);
  });

  it('reloads at half the WIT lifetime, keeps the old one through a failed reload, refuses a wrong sub or an expired WIT', async () => {
    let now = Date.now();
    let text = identityJson;
    let loads = 0;
    const source = ownIdentity(async () => { loads++; return text; }, { workloadId: GW_ID, now: () => now });
    const first = await source.current();
    await source.current();
    expect(loads).toBe(1);
    text = 'broken';
    now += 301_000; // past half of the 600 s WIT
    expect(await source.current()).toBe(first);
    expect(loads).toBe(2);
    await source.current();
    expect(loads).toBe(2); // a failed source is retried after a pause, not on every request
    now += 5_000;
    await source.current();
    expect(loads).toBe(3);
    now += 300_000; // expired
    await expect(source.current()).rejects.toThrow(/unavailable: the identity document is not JSON/);
    const wrong = ownIdentity(async () => identityJson, { workloadId: `${GW_TD}/other`, now: Date.now });
    await expect(wrong.current()).rejects.toThrow(/names spiffe:\/\/gateway.test\/portcullis, not the configured/);
  });
});
