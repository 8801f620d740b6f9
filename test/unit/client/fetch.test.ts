import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { mountAudience, targetAudience } from '../../../src/client/audience.ts';
import { withWorkloadIdentity, type FetchLike } from '../../../src/client/fetch.ts';
import { isLoopbackHost } from '../../../src/client/transport.ts';
import { parseCompactJwt } from '../../../src/crypto/jws.ts';
import { generateSigningKey, publicJwks } from '../../../src/mint/keys.ts';
import { mintWit, type MintedWit } from '../../../src/mint/wit.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import type { ReplayStore } from '../../../src/state/ports.ts';
import { verifyWit, type VerifiedWit } from '../../../src/verify/wit.ts';
import { verifyWpt, type WptContext } from '../../../src/verify/wpt.ts';
import { expectFailure, expectOk } from '../verify/mint.ts';

const TXN = 'eyJhbGciOiJFUzI1NiJ9.eyJ0eG4iOiIxIn0.c2ln';

let issuerKey: JWK;
let minted: MintedWit;
let wit: VerifiedWit;

/** A fake fetch that records what it was asked to send and answers 204. */
function recorder(): { fetch: FetchLike; sent: Request[] } {
  const sent: Request[] = [];
  return { sent, fetch: async (input, init) => { sent.push(new Request(input, init)); return new Response(null, { status: 204 }); } };
}

function proofOf(request: Request): { token: string; carriage: 'authorization' | 'header' } {
  const authorization = request.headers.get('authorization');
  if (authorization?.startsWith('WPT ')) return { token: authorization.slice(4), carriage: 'authorization' };
  return { token: request.headers.get('workload-proof-token') ?? '', carriage: 'header' };
}

/** What the gateway will do: the WIT from its header, then the proof for the route audience. */
async function verifyAsGateway(request: Request, audience: string, extra: Partial<WptContext> = {}, replay: ReplayStore = memoryReplayStore()) {
  expect(request.headers.get('workload-identity-token')).toBe(minted.wit);
  const { token, carriage } = proofOf(request);
  return verifyWpt(token, { wit, witToken: minted.wit, audience, carriage, replay, now: Date.now, ...extra });
}

beforeAll(async () => {
  issuerKey = await generateSigningKey('ES256');
  minted = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent' });
  const jwks = publicJwks([issuerKey]);
  wit = expectOk(await verifyWit(minted.wit, { keys: async (_td, kid) => jwks.keys.find((k) => k.kid === kid), now: Date.now }));
});

describe('withWorkloadIdentity', () => {
  it('attaches the WIT and an Authorization: WPT proof (-02) that verifies for the URL without query or fragment', async () => {
    const { fetch, sent } = recorder();
    const response = await withWorkloadIdentity(fetch, minted)('https://gw.example.org/mcp?session=1#frag', { method: 'POST', body: '{"jsonrpc":"2.0"}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(204);
    const request = sent[0] as Request;
    expect(request.method).toBe('POST');
    expect(request.headers.get('content-type')).toBe('application/json');
    expect(await request.text()).toBe('{"jsonrpc":"2.0"}');
    expect(request.headers.has('workload-proof-token')).toBe(false);
    const verified = expectOk(await verifyAsGateway(request, 'https://gw.example.org/mcp'));
    expect(verified.subject.uri).toBe('spiffe://example.org/agent');
    expect(parseCompactJwt(proofOf(request).token)).toMatchObject({ ok: true, value: { header: { typ: 'wpt+jwt', alg: 'ES256' } } });
  });

  it('mints a fresh proof (new jti) for every request; each passes one replay store', async () => {
    const { fetch, sent } = recorder();
    const send = withWorkloadIdentity(fetch, minted);
    await send('https://gw.example.org/mcp');
    await send('https://gw.example.org/mcp');
    await send(new Request('https://gw.example.org/mcp'));
    const replay = memoryReplayStore();
    const jtis = [];
    for (const request of sent) jtis.push(expectOk(await verifyAsGateway(request, 'https://gw.example.org/mcp', {}, replay)).jti);
    expect(new Set(jtis).size).toBe(3);
  });

  it('binds the Txn-Token header as tth and configured context headers as oth', async () => {
    const { fetch, sent } = recorder();
    const send = withWorkloadIdentity(fetch, { ...minted, contextTokenHeaders: ['X-User-Context', 'x-absent'] });
    await send('https://gw.example.org/a2a', { headers: { 'Txn-Token': TXN, 'X-User-Context': 'user-token', 'X-Other': 'not bound' } });
    const request = sent[0] as Request;
    const claims = (parseCompactJwt(proofOf(request).token) as { ok: true; value: { claims: Record<string, unknown> } }).value.claims;
    expect(Object.keys(claims.oth as object)).toEqual(['x-user-context']);
    const verified = expectOk(await verifyAsGateway(request, 'https://gw.example.org/a2a', { txnToken: TXN, otherTokens: { 'x-user-context': 'user-token' } }));
    expect(verified.bound).toEqual({ accessToken: false, txnToken: true, otherTokens: ['x-user-context'] });
    // The Txn-Token is bound: a recipient that sees another one refuses the proof.
    expectFailure(await verifyAsGateway(request, 'https://gw.example.org/a2a', { txnToken: `${TXN}x`, otherTokens: { 'x-user-context': 'user-token' } }), 'ERR_WPT_TTH_MISMATCH');
  });

  it('-01 carriage: Workload-Proof-Token, with ath bound to an Authorization: Bearer token', async () => {
    const { fetch, sent } = recorder();
    const send = withWorkloadIdentity(fetch, { ...minted, carriage: 'header' });
    await send('https://gw.example.org/mcp', { headers: { Authorization: 'Bearer access-123' } });
    await send('https://gw.example.org/mcp');
    const [withBearer, without] = sent as [Request, Request];
    expect(withBearer.headers.get('authorization')).toBe('Bearer access-123');
    expect(withBearer.headers.has('workload-proof-token')).toBe(true);
    expect(expectOk(await verifyAsGateway(withBearer, 'https://gw.example.org/mcp', { accessToken: 'access-123' })).bound.accessToken).toBe(true);
    expect(expectOk(await verifyAsGateway(without, 'https://gw.example.org/mcp')).carriage).toBe('header');
  });

  it('-02 carriage refuses a request that already carries an Authorization header', async () => {
    const { fetch, sent } = recorder();
    await expect(withWorkloadIdentity(fetch, minted)('https://gw.example.org/mcp', { headers: { Authorization: 'Bearer x' } })).rejects.toThrow(/already has an Authorization header/);
    expect(sent).toHaveLength(0);
  });

  it('replaces WIT and proof headers already present, so each is sent exactly once', async () => {
    const { fetch, sent } = recorder();
    await withWorkloadIdentity(fetch, { ...minted, carriage: 'header' })('https://gw.example.org/mcp', { headers: { 'Workload-Identity-Token': 'stale', 'Workload-Proof-Token': 'stale' } });
    expectOk(await verifyAsGateway(sent[0] as Request, 'https://gw.example.org/mcp'));
  });

  it('uses the audience function (mountAudience for requests below a gateway mount)', async () => {
    const { fetch, sent } = recorder();
    const send = withWorkloadIdentity(fetch, { ...minted, audience: mountAudience(['https://gw.example.org/a2a', 'https://gw.example.org/mcp']) });
    await send('https://gw.example.org/a2a/tasks/1?x=1');
    expectOk(await verifyAsGateway(sent[0] as Request, 'https://gw.example.org/a2a'));
    expectFailure(await verifyAsGateway(sent[0] as Request, 'https://gw.example.org/a2a/tasks/1'), 'ERR_WPT_AUD_MISMATCH');
  });

  it('sends a proof only to the origin its aud names; origins lists the others allowed and bounds where the WIT goes', async () => {
    const { fetch, sent } = recorder();
    const elsewhere = () => 'https://other.example.org/mcp';
    await expect(withWorkloadIdentity(fetch, { ...minted, audience: elsewhere })('https://gw.example.org/mcp')).rejects.toThrow(/the proof's aud is for https:\/\/other.example.org, not https:\/\/gw.example.org/);
    await expect(withWorkloadIdentity(fetch, { ...minted, audience: () => 'not a url' })('https://gw.example.org/mcp')).rejects.toThrow(/aud is for no origin/);
    expect(sent).toHaveLength(0);
    // A gateway reached by an internal name whose publicUrl is the public one: both listed.
    const internal = withWorkloadIdentity(fetch, { ...minted, origins: ['https://gw.internal', 'https://gw.example.org'], audience: (url) => `https://gw.example.org${url.pathname}` });
    await internal('https://gw.internal/mcp');
    expectOk(await verifyAsGateway(sent[0] as Request, 'https://gw.example.org/mcp'));
    await expect(internal('https://tool.example.com/run')).rejects.toThrow(/https:\/\/tool.example.com is not one of the origins/);
    expect(sent).toHaveLength(1);
    expect(() => withWorkloadIdentity(fetch, { ...minted, origins: ['https://gw.example.org/mcp'] })).toThrow(/origins must list origins/);
  });

  it('refuses plain http to non-loopback hosts unless allowInsecureHttp; other schemes always', async () => {
    const { fetch, sent } = recorder();
    await expect(withWorkloadIdentity(fetch, minted)('http://gw.example.org/mcp')).rejects.toThrow(/plain http/);
    expect(sent).toHaveLength(0);
    await withWorkloadIdentity(fetch, minted)('http://127.0.0.1:8787/mcp');
    await withWorkloadIdentity(fetch, minted)('http://localhost:8787/mcp');
    await withWorkloadIdentity(fetch, { ...minted, allowInsecureHttp: true })('http://gw.mesh.internal/mcp');
    expect(sent).toHaveLength(3);
    expectOk(await verifyAsGateway(sent[0] as Request, 'http://127.0.0.1:8787/mcp'));
  });

  it('never lets fetch follow a redirect with the credentials', async () => {
    const { fetch, sent } = recorder();
    const send = withWorkloadIdentity(fetch, minted);
    await send('https://gw.example.org/mcp');
    await send(new Request('https://gw.example.org/mcp', { redirect: 'error' }));
    await expect(send('https://gw.example.org/mcp', { redirect: 'follow' })).rejects.toThrow('redirect "follow"');
    expect(sent.map((r) => r.redirect)).toEqual(['manual', 'error']);
  });

  it('keeps the method, body stream and abort signal of a Request input', async () => {
    const { fetch, sent } = recorder();
    const controller = new AbortController();
    const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } });
    await withWorkloadIdentity(fetch, minted)(new Request('https://gw.example.org/mcp', { method: 'PUT', body, duplex: 'half', signal: controller.signal } as RequestInit));
    const request = sent[0] as Request;
    expect(request.method).toBe('PUT');
    expect(await request.text()).toBe('streamed');
    controller.abort();
    expect(request.signal.aborted).toBe(true);
  });

  it('asks a credentials function before each request and follows a new WIT', async () => {
    const next = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent' });
    const queue = [minted, next];
    const { fetch, sent } = recorder();
    const send = withWorkloadIdentity(fetch, { credentials: () => queue.shift() as MintedWit });
    await send('https://gw.example.org/mcp');
    await send('https://gw.example.org/mcp');
    expect(sent.map((r) => r.headers.get('workload-identity-token'))).toEqual([minted.wit, next.wit]);
  });

  it('fails the request (not the process) when the key does not match the WIT or the WIT expired', async () => {
    const other = await mintWit({ issuerKey, subject: 'spiffe://example.org/agent' });
    const { fetch, sent } = recorder();
    await expect(withWorkloadIdentity(fetch, { wit: minted.wit, key: other.key })('https://gw.example.org/mcp')).rejects.toThrow(/not the private half/);
    await expect(withWorkloadIdentity(fetch, { ...minted, now: () => minted.expiresAt + 1 })('https://gw.example.org/mcp')).rejects.toThrow(/WIT has expired/);
    expect(sent).toHaveLength(0);
  });

  it('validates its options up front', () => {
    const { fetch } = recorder();
    expect(() => withWorkloadIdentity(fetch, { wit: minted.wit } as never)).toThrow(/required/);
    expect(() => withWorkloadIdentity(fetch, { ...minted, credentials: () => minted })).toThrow(/not both/);
    expect(() => withWorkloadIdentity(fetch, { ...minted, carriage: 'cookie' as never })).toThrow(/carriage/);
    expect(() => withWorkloadIdentity(fetch, { ...minted, contextTokenHeaders: ['Txn-Token'] })).toThrow(/own binding/);
  });
});

describe('audiences and transport', () => {
  it('targetAudience drops query and fragment and normalises the origin', () => {
    expect(targetAudience(new URL('HTTPS://GW.example.org:443/mcp?x=1#y'))).toBe('https://gw.example.org/mcp');
  });

  it('mountAudience picks the longest mount at a segment boundary', () => {
    const audience = mountAudience(['https://gw.example.org/', 'https://gw.example.org/a2a', 'https://gw.example.org/a2a/admin/']);
    expect(audience(new URL('https://gw.example.org/a2a'))).toBe('https://gw.example.org/a2a');
    expect(audience(new URL('https://gw.example.org/a2a/x'))).toBe('https://gw.example.org/a2a');
    expect(audience(new URL('https://gw.example.org/a2a/admin/x'))).toBe('https://gw.example.org/a2a/admin');
    expect(audience(new URL('https://gw.example.org/a2ax'))).toBe('https://gw.example.org/');
    expect(audience(new URL('https://other.example.org/a2a'))).toBe('https://other.example.org/a2a');
  });

  it.each([
    ['localhost', true], ['api.localhost', false], ['127.0.0.1', true], ['127.1.2.3', true], ['[::1]', true],
    ['localhost.example.com', false], ['128.0.0.1', false], ['10.0.0.1', false], ['[::ffff:7f00:1]', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
