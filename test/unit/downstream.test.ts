/**
 * What an upstream agent behind the gateway uses (src/downstream/index.ts): a Hono app with requireTxnToken, the
 * gateway's Txn-Token JWKS served by a fake fetch from a real key ring, rotation (a key rotated in after the JWKS was
 * fetched verifies through an unknown-kid refetch), and refusals with their codes and statuses.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requireTxnToken, txnTokenVerifier, type TxnTokenVariables } from '../../src/downstream/index.ts';
import { MIN_TXN_KEY_ROTATION_MS } from '../../src/limits.ts';
import type { PublishedJwk } from '../../src/mint/keys.ts';
import { mintTxnToken, type TxnTokenClaims } from '../../src/mint/txn-token.ts';
import { memoryCache, memoryReplayStore } from '../../src/state/memory.ts';
import { txnKeyRing, type TxnSigningKey } from '../../src/txn/key-ring.ts';

const ROTATION = MIN_TXN_KEY_ROTATION_MS;
const T0 = Math.ceil(1_800_000_000_000 / ROTATION) * ROTATION;
const JWKS_URL = 'https://gateway.trust-domain.example/.well-known/txn-token-jwks.json';
const TD = 'trust-domain.example';
const CLAIMS: TxnTokenClaims = { aud: TD, sub: 'user-1', scope: 'trade.stocks', req_wl: 'gateway.trust-domain.example', tctx: { action: 'BUY' } };

/** The gateway side: a key ring, and a JWKS endpoint over it reached through a fake fetch that counts calls. */
function setup(options: { failing?: boolean; replay?: boolean } = {}) {
  const clock = { now: T0 + 60_000 };
  const now = () => clock.now;
  const ring = txnKeyRing(memoryCache({ now }), { now, rotationMs: ROTATION });
  const fetches: string[] = [];
  /** When set, the JWKS served instead of the ring's (an emergency key change). */
  let override: PublishedJwk[] | undefined;
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    fetches.push(url);
    expect(init.redirect).toBe('manual');
    if (options.failing) throw new TypeError('connection refused');
    return new Response(JSON.stringify({ keys: override ?? (await ring.publicKeys()) }), { headers: { 'content-type': 'application/jwk-set+json' } });
  };
  const warnings: Record<string, unknown>[] = [];
  const warn = (line: Record<string, unknown>) => warnings.push(line);
  const verifierOptions = { jwksUrl: JWKS_URL, audience: TD, fetch, now, warn, ...(options.replay ? { replay: memoryReplayStore({ now }) } : {}) };
  const app = new Hono<{ Variables: TxnTokenVariables }>();
  app.use('/api/*', requireTxnToken(verifierOptions));
  app.get('/api/orders', (c) => {
    const t = c.get('txnToken');
    return c.json({ sub: t.sub, scope: t.scope, tctx: t.tctx });
  });
  const mint = async (claims: Partial<TxnTokenClaims> = {}, key?: TxnSigningKey, lifetimeSeconds = 60) =>
    mintTxnToken({ ...CLAIMS, ...claims }, { key: key ?? (await ring.signingKey()), now, lifetimeSeconds });
  const call = (token?: string | string[]) => {
    const headers = new Headers();
    for (const t of token === undefined ? [] : Array.isArray(token) ? token : [token]) headers.append('Txn-Token', t);
    return app.request('/api/orders', { headers });
  };
  return { clock, ring, fetches, warnings, app, mint, call, verifierOptions, setOverride: (keys: PublishedJwk[] | undefined) => (override = keys) };
}

async function refusal(response: Response, code: string, status = 401, token?: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('www-authenticate')).toBeNull();
  const text = await response.text();
  expect(JSON.parse(text)).toMatchObject({ status, code });
  if (token) for (const part of token.split('.')) expect(text).not.toContain(part);
}

describe('requireTxnToken', () => {
  it('passes a valid token: the claims reach the handler; the JWKS is fetched once and then served from memory', async () => {
    const { call, mint, fetches } = setup();
    const response = await call(await mint());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'user-1', scope: ['trade.stocks'], tctx: { action: 'BUY' } });
    expect((await call(await mint())).status).toBe(200);
    expect(fetches).toEqual([JWKS_URL]);
  });

  it('refuses a missing, empty or repeated Txn-Token header', async () => {
    const { call, mint } = setup();
    await refusal(await call(), 'ERR_TXN_TOKEN_MISSING');
    await refusal(await call(''), 'ERR_TXN_TOKEN_MISSING');
    const token = await mint();
    await refusal(await call([token, token]), 'ERR_TXN_TOKEN_MALFORMED', 401, token);
  });

  it('refuses forged, expired and wrong-audience tokens with their codes, never echoing the token', async () => {
    const { call, mint, ring, clock } = setup();
    const attacker = await txnKeyRing(memoryCache(), { now: () => clock.now, rotationMs: ROTATION }).signingKey();
    // The attacker's key under the gateway's kid: the signature fails.
    const forgedSameKid = await mint({}, { ...attacker, kid: (await ring.signingKey()).kid });
    await refusal(await call(forgedSameKid), 'ERR_TXN_TOKEN_SIGNATURE_INVALID', 401, forgedSameKid);
    // The attacker's own kid: not in the gateway's JWKS (after one refetch).
    const forged = await mint({}, attacker);
    await refusal(await call(forged), 'ERR_TXN_TOKEN_KEY_NOT_FOUND', 401, forged);
    const expired = await mint();
    clock.now += 60_000 + 61_000;
    await refusal(await call(expired), 'ERR_TXN_TOKEN_EXPIRED', 401, expired);
    const elsewhere = await mint({ aud: 'other-domain.example' });
    await refusal(await call(elsewhere), 'ERR_TXN_TOKEN_AUD_MISMATCH', 401, elsewhere);
  });

  it('rotation: a token signed with the new key after the rotation verifies (one more JWKS fetch); the old key keeps verifying its tokens', async () => {
    const { call, mint, ring, clock, fetches } = setup();
    expect((await call(await mint())).status).toBe(200); // this workload fetches the JWKS early in the period
    clock.now = T0 + ROTATION - 30_000;
    const before = await mint({}, undefined, 600); // signed with the old key just before the rotation
    const oldKid = (await ring.signingKey()).kid;
    clock.now = T0 + ROTATION + 1_000;
    const newKey = await ring.signingKey();
    expect(newKey.kid).not.toBe(oldKid);
    expect((await call(await mint({}, newKey))).status).toBe(200);
    expect(fetches).toHaveLength(2);
    expect((await call(before)).status).toBe(200);
  });

  it('unknown kid: refetched at once while the copy is fresh, at most once per cooldown', async () => {
    const { call, mint, ring, fetches, setOverride, clock } = setup();
    expect((await call(await mint())).status).toBe(200);
    // The gateway's JWKS changes (an emergency key) while this workload's copy is fresh.
    const other = txnKeyRing(memoryCache(), { now: () => clock.now, rotationMs: ROTATION });
    const emergency = await other.signingKey();
    setOverride([...(await ring.publicKeys()), ...(await other.publicKeys())]);
    clock.now += 1_000;
    expect((await call(await mint({}, emergency))).status).toBe(200);
    expect(fetches).toHaveLength(2);
    // Junk kids right after: no further fetch (cooldown), refused.
    const junk = await mint({}, { ...emergency, kid: 'no-such-key' });
    await refusal(await call(junk), 'ERR_TXN_TOKEN_KEY_NOT_FOUND');
    expect(fetches).toHaveLength(2);
  });

  it('fails closed with 503 ERR_TXN_TOKEN_KEY_SOURCE_FAILED when the JWKS cannot be had', async () => {
    const { call, mint, warnings } = setup({ failing: true });
    await refusal(await call(await mint()), 'ERR_TXN_TOKEN_KEY_SOURCE_FAILED', 503);
    expect(warnings).toEqual([expect.objectContaining({ event: 'key_set_load_failed', source: JWKS_URL, servingStale: false })]);
  });

  it('replay option: the same txn twice is refused', async () => {
    const { call, mint } = setup({ replay: true });
    const token = await mint();
    expect((await call(token)).status).toBe(200);
    await refusal(await call(token), 'ERR_TXN_TOKEN_REPLAYED', 401, token);
  });
});

describe('txnTokenVerifier', () => {
  it('returns the Result for a request', async () => {
    const { mint, verifierOptions } = setup();
    const verify = txnTokenVerifier(verifierOptions);
    const token = await mint();
    const ok = await verify(new Request('https://agent.example/', { headers: { 'txn-token': token } }));
    expect(ok.ok && ok.value.sub).toBe('user-1');
    const missing = await verify(new Request('https://agent.example/'));
    expect(missing).toMatchObject({ ok: false, code: 'ERR_TXN_TOKEN_MISSING' });
  });

  it('refuses a key location that is not https (or loopback http), and an empty audience', () => {
    expect(() => txnTokenVerifier({ jwksUrl: 'http://gateway.example/jwks', audience: TD })).toThrow(/https/);
    expect(() => txnTokenVerifier({ jwksUrl: JWKS_URL, audience: '' })).toThrow(/audience/);
    expect(() => txnTokenVerifier({ jwksUrl: 'http://127.0.0.1:8787/jwks', audience: TD })).not.toThrow();
  });
});
