/**
 * Agent Cards served by the gateway (issue 6; src/gateway/a2a-card.ts) through createGateway, with a fake upstream
 * agent that counts its card requests: the rewrite (interface URLs onto the gateway, the route's own schemes), the
 * signature (checked with @a2a-js/sdk 1.3.0's verifyAgentCardSignature and our verifyAgentCard, keys from the
 * gateway's /.well-known/jwks.json), key rotation, caching and revalidation, stale serving, the 1.0 / 0.3 shapes,
 * and the pinned upstream signature.
 */
import { canonicalizeAgentCard, generateAgentCardSignature, verifyAgentCardSignature, type AgentCard } from '@a2a-js/sdk';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyAgentCard, type AgentCardJson } from '../../src/a2a/card-signature.ts';
import { A2A_CARD_MAX_STALE_SECONDS, A2A_CARD_RETRY_SECONDS } from '../../src/limits.ts';
import { createGateway, memorySink, memoryState, type GatewayConfigInput } from '../../src/index.ts';
import { publishedKeys } from './gateway-jwks.ts';
import { configJwk, generateKey, type TestKey } from './verify/mint.ts';
import upstreamCard from '../vectors/a2a/gateway-upstream-card.json' with { type: 'json' };

const PUBLIC = 'https://gw.example';
const AS = 'https://as.example';
const TD = 'spiffe://dev.test';
const BASE = 'http://agent.internal/base/';
const V1_ONLY = 'http://v1only.internal/';
const JWKS_URL = `${PUBLIC}/.well-known/jwks.json`;
const EVIL_JKU = 'https://evil.example/jwks.json';
const ROTATION_S = 900;

/** The upstream card with only its 1.0 interfaces (no 0.3 shape can be served from it). */
const V1_CARD = {
  ...upstreamCard,
  supportedInterfaces: [{ url: `${V1_ONLY}jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
};
/** The card of the upstream whose signatures are pinned. */
const PINNED_CARD = { ...upstreamCard, supportedInterfaces: [{ url: 'http://pinned.internal/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }] };
const CARD_PATH = '/.well-known/agent-card.json';

let asKey: TestKey;
let witIssuer: TestKey;
let upstreamSigner: { privateKey: CryptoKey; jwk: JWK };
let config: GatewayConfigInput;

vi.spyOn(console, 'debug').mockImplementation(() => {}); // the SDK verifier logs every failed entry

beforeAll(async () => {
  [asKey, witIssuer] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
  const pair = await generateKeyPair('ES256', { extractable: true });
  upstreamSigner = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'up-1' } };
  const wit = { wit: { trustDomains: [TD] } };
  const pinned = { jwks: { keys: [upstreamSigner.jwk as { kty: 'EC'; kid: string }] } };
  const a2a = (path: string, extra: Record<string, unknown> = {}, upstream = BASE) => ({ path, protocol: 'a2a' as const, upstream, auth: wit, ...extra });
  config = {
    publicUrl: PUBLIC,
    trustDomains: { [TD]: { jwks: { keys: [configJwk(witIssuer, 'k1')] } } },
    authorizationServers: { [AS]: { jwks: { keys: [configJwk(asKey, 'a1')] }, algorithms: ['ES256'], tokenEndpoint: `${AS}/oauth/token` } },
    agentCards: { keyRotationSeconds: ROTATION_S },
    routes: [
      {
        path: '/agents/oauth', protocol: 'a2a', upstream: BASE,
        auth: { oauth: { authorizationServers: [AS], scopes: ['a2a'], methods: { CancelTask: { scopes: ['admin'] } } } },
        a2a: { skills: { 'secret-skill': { scopes: ['secret'] } } },
      },
      a2a('/agents/wit'),
      a2a('/agents/cached', { a2a: { card: { maxAgeSeconds: 60 } } }),
      a2a('/agents/v1only', {}, V1_ONLY),
      a2a('/agents/inline', { a2a: { card: { inline: upstreamCard } } }),
      a2a('/agents/unsigned', { a2a: { sign: false } }),
      a2a('/agents/pinned', { a2a: { upstreamSignature: pinned } }, 'http://pinned.internal/'),
      a2a('/agents/flagged', { a2a: { upstreamSignature: { ...pinned, onInvalid: 'flag' } } }, 'http://pinned.internal/'),
    ],
  };
});

/** The fake upstream agent: its card per host, with ETag "v1" and 304 on a match; `down` makes every fetch fail. */
function setup(options: { now?: () => number; state?: ReturnType<typeof memoryState> } = {}) {
  const audit = memorySink();
  const agent = {
    cards: new Map<string, unknown>([['agent.internal', upstreamCard], ['v1only.internal', V1_CARD], ['pinned.internal', PINNED_CARD]]),
    /** Raw body served instead of the JSON card (a malformed card). */
    raw: undefined as string | undefined,
    down: false,
    /** Compress the card (content-encoding gzip), as some upstreams do unasked. */
    gzip: false,
    /** An error status the card fetch is answered with. */
    status: undefined as number | undefined,
    cardRequests: [] as Request[],
    other: [] as string[],
  };
  const fetchedKeys: string[] = [];
  const now = options.now;
  const gw = createGateway(config, {
    audit,
    state: options.state ?? memoryState(now ? { now } : {}),
    ...(now ? { now } : {}),
    fetch: async (url, init) => {
      const req = new Request(url, init as RequestInit);
      if (url.pathname.endsWith(CARD_PATH)) agent.cardRequests.push(req);
      else agent.other.push(url.href);
      if (agent.down) throw new TypeError('fetch failed');
      if (!url.pathname.endsWith(CARD_PATH)) return new Response('not found', { status: 404 });
      if (agent.status) return new Response('unavailable', { status: agent.status });
      if (req.headers.get('if-none-match') === '"v1"') return new Response(null, { status: 304, headers: { etag: '"v1"' } });
      const text = agent.raw ?? JSON.stringify(agent.cards.get(url.hostname));
      if (agent.gzip) return new Response(new Response(text).body!.pipeThrough(new CompressionStream('gzip')), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', etag: '"v1"' } });
      return new Response(text, { headers: { 'content-type': 'application/json', etag: '"v1"' } });
    },
    fetchKeys: async (url) => {
      fetchedKeys.push(url);
      return new Response('{}', { status: 404 });
    },
  });
  return { gw, audit, agent, fetchedKeys };
}

function cardRequest(mount: string, headers: Record<string, string> = {}, options: { method?: string; path?: string; query?: string } = {}) {
  return new Request(`http://127.0.0.1${mount}${options.path ?? CARD_PATH}${options.query ?? ''}`, { method: options.method ?? 'GET', headers });
}

/** Early in a card-key rotation period: a test that compares bodies across a few minutes keeps one signing key. */
const periodStart = () => Math.floor(Date.now() / (ROTATION_S * 1000)) * ROTATION_S * 1000 + 1000;

type Card = AgentCardJson & Record<string, unknown>;

async function getCard(gw: ReturnType<typeof setup>['gw'], mount: string, headers: Record<string, string> = { 'a2a-version': '1.0' }): Promise<Card> {
  const res = await gw.fetch(cardRequest(mount, headers));
  expect(res.status).toBe(200);
  return (await res.json()) as Card;
}

/** The google.rpc.Status body of a refused card request (the card path is an HTTP+JSON GET). */
async function expectCardRefusal(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: number; details: Array<{ reason: string }> } };
  expect({ code: body.error.code, reason: body.error.details[0]!.reason }).toEqual({ code: status, reason: code });
}

function headerOf(card: Card, index = 0): Record<string, unknown> {
  return JSON.parse(Buffer.from(card.signatures![index]!.protected, 'base64url').toString()) as Record<string, unknown>;
}

const ours = (card: unknown, keys: JWK[]) => verifyAgentCard(card as AgentCardJson, { algorithms: ['ES256'], keys: async (kid) => keys.find((k) => k.kid === kid) });
async function sdkAccepts(card: unknown, keys: JWK[]): Promise<boolean> {
  const verify = verifyAgentCardSignature(async (kid) => {
    const key = keys.find((k) => k.kid === kid);
    if (!key) throw new Error(`unknown kid ${kid}`);
    return key;
  });
  try {
    await verify(card as AgentCard);
    return true;
  } catch {
    return false;
  }
}

const GATEWAY_INTERFACES = (mount: string) => [
  { url: `${PUBLIC}${mount}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
  { url: `${PUBLIC}${mount}/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
  { url: `${PUBLIC}${mount}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
];

describe('card serving: rewrite, headers, conditional requests', () => {
  it('serves the card of an authenticated route without credentials, with interfaces moved onto the gateway', async () => {
    const { gw, audit, agent } = setup();
    const card = await getCard(gw, '/agents/wit');
    // Below the upstream base: moved under the mount; another host, a path outside the base and GRPC: dropped.
    expect(card.supportedInterfaces).toEqual(GATEWAY_INTERFACES('/agents/wit'));
    // What the upstream asked for: A2A-Version 1.0, at its base path.
    expect(agent.cardRequests.map((r) => [r.url, r.headers.get('a2a-version')])).toEqual([[`${BASE.slice(0, -1)}${CARD_PATH}`, '1.0']]);
    // Everything else as the upstream declared it.
    expect({ ...card, supportedInterfaces: undefined, securitySchemes: undefined, securityRequirements: undefined, signatures: undefined, skills: undefined }).toEqual({
      ...upstreamCard, supportedInterfaces: undefined, securitySchemes: undefined, securityRequirements: undefined, skills: undefined,
    });
    expect(audit.events).toEqual([expect.objectContaining({ decision: 'allow', reason: 'A2A_AGENT_CARD', status: 200, route: '/agents/wit', protocol: 'a2a' })]);
    expect(audit.events[0]!.principal).toBeUndefined();
  });

  it('a WIT route states wit (apiKey) AND wpt (http WPT); the upstream\'s schemes and skill requirements are gone', async () => {
    const { gw } = setup();
    const card = await getCard(gw, '/agents/wit');
    expect(Object.keys(card.securitySchemes as object)).toEqual(['wit', 'wpt']);
    expect(card.securitySchemes).toMatchObject({
      wit: { apiKeySecurityScheme: { location: 'header', name: 'Workload-Identity-Token' } },
      wpt: { httpAuthSecurityScheme: { scheme: 'WPT' } },
    });
    expect(card.securityRequirements).toEqual([{ schemes: { wit: { list: [] }, wpt: { list: [] } } }]);
    expect(JSON.stringify(card)).not.toContain('upstreamKey');
    expect((card.skills as Array<Record<string, unknown>>).map((s) => s.securityRequirements)).toEqual([undefined, undefined, undefined]);
  });

  it('an OAuth route states one oauth2 scheme: client credentials at the token endpoint, the RFC 8414 metadata URL, every scope', async () => {
    const { gw } = setup();
    const card = await getCard(gw, '/agents/oauth');
    expect(card.supportedInterfaces).toEqual(GATEWAY_INTERFACES('/agents/oauth'));
    expect(Object.keys(card.securitySchemes as object)).toEqual(['oauth2']);
    const scheme = (card.securitySchemes as { oauth2: { oauth2SecurityScheme: { flows: { clientCredentials: { tokenUrl: string; scopes: object } }; oauth2MetadataUrl: string } } }).oauth2.oauth2SecurityScheme;
    expect(scheme.flows.clientCredentials.tokenUrl).toBe(`${AS}/oauth/token`);
    expect(Object.keys(scheme.flows.clientCredentials.scopes)).toEqual(['a2a', 'admin', 'secret']);
    expect(scheme.oauth2MetadataUrl).toBe(`${AS}/.well-known/oauth-authorization-server`);
    expect(card.securityRequirements).toEqual([{ schemes: { oauth2: { list: ['a2a'] } } }]);
    // The scoped skill states the route's scopes plus its own; the others inherit the card's.
    expect((card.skills as Array<Record<string, unknown>>).map((s) => [s.id, s.securityRequirements])).toEqual([
      ['plan', undefined],
      ['secret-skill', [{ schemes: { oauth2: { list: ['a2a', 'secret'] } } }]],
      ['denied-skill', undefined],
    ]);
  });

  it('Vary, Cache-Control and a strong ETag; If-None-Match (also W/ and *) answers 304; HEAD has no body; agent.json is served too', async () => {
    const { gw } = setup();
    const v1 = { 'a2a-version': '1.0' };
    const res = await gw.fetch(cardRequest('/agents/wit', v1));
    const body = await res.text();
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect({ vary: res.headers.get('vary'), cache: res.headers.get('cache-control'), type: res.headers.get('content-type'), cors: res.headers.get('access-control-allow-origin') })
      .toEqual({ vary: 'A2A-Version', cache: 'public, max-age=300', type: 'application/json', cors: '*' });
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const conditional = await gw.fetch(cardRequest('/agents/wit', { ...v1, 'if-none-match': tag }));
      expect({ tag, status: conditional.status, etag: conditional.headers.get('etag'), vary: conditional.headers.get('vary'), body: await conditional.text() }).toEqual({ tag, status: 304, etag, vary: 'A2A-Version', body: '' });
    }
    expect((await gw.fetch(cardRequest('/agents/wit', { ...v1, 'if-none-match': '"other"' }))).status).toBe(200);
    const head = await gw.fetch(cardRequest('/agents/wit', v1, { method: 'HEAD' }));
    expect({ status: head.status, etag: head.headers.get('etag'), body: await head.text() }).toEqual({ status: 200, etag, body: '' });
    const legacyPath = await gw.fetch(cardRequest('/agents/wit', v1, { path: '/.well-known/agent.json' }));
    expect({ status: legacyPath.status, etag: legacyPath.headers.get('etag'), body: await legacyPath.text() }).toEqual({ status: 200, etag, body });
  });
});

/** Every string leaf of `value` (map keys are not leaves), as member paths. */
function stringLeaves(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

/** A copy of `card` with the first character of the leaf at `path` changed. */
function tampered(card: Card, path: Array<string | number>): Card {
  const copy = structuredClone(card);
  let holder = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) holder = holder[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  const leaf = holder[last] as string;
  holder[last] = (leaf.startsWith('x') ? 'y' : 'x') + leaf.slice(1);
  return copy;
}

describe('card path spellings and unsignable cards', () => {
  it('every spelling an upstream router could read as the card path is the gateway\'s card, never the upstream\'s', async () => {
    const { gw, agent } = setup();
    const expected = await (await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' }))).text();
    for (const path of ['/.well-known/AGENT-CARD.json', '/.well-known/agent-card.json/', '/.well-known/%61gent-card.json', '/.well-known/Agent.JSON']) {
      const res = await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' }, { path }));
      expect({ path, status: res.status, body: await res.text() }).toEqual({ path, status: 200, body: expected });
    }
    expect(agent.other).toEqual([]);
  });

  it('a malformed inline card is a config error at start, naming the route', () => {
    const broken = { ...config, routes: [{ path: '/x', protocol: 'a2a' as const, upstream: BASE, public: true, a2a: { card: { inline: { name: 'no interfaces' } } } }] };
    expect(() => createGateway(broken)).toThrow(/routes\[0\]\.a2a\.card\.inline: .*missing/);
  });

  it('a card holding a lone surrogate (no UTF-8 form, so no RFC 8785 form) is 502 ERR_A2A_CARD_INVALID, not a 500', async () => {
    const { gw, agent } = setup();
    agent.raw = JSON.stringify({ ...upstreamCard, description: 'broken \ud800 text' });
    await expectCardRefusal(await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_INVALID');
  });
});

describe('card validators across isolates', () => {
  it('two gateways sharing the state store (two isolates) sign with one key and give the card one ETag, though the signature bytes differ', async () => {
    const state = memoryState();
    const [a, b] = [setup({ state }), setup({ state })];
    const [ra, rb] = [await a.gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' })), await b.gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' }))];
    const [ca, cb] = [(await ra.json()) as Card, (await rb.json()) as Card];
    expect(ca.signatures![0]!.protected).toBe(cb.signatures![0]!.protected); // same kid
    expect(ca.signatures![0]!.signature).not.toBe(cb.signatures![0]!.signature); // ECDSA is randomised
    expect(ra.headers.get('etag')).toBe(rb.headers.get('etag'));
    // So a client that fetched from one isolate revalidates at the other.
    expect((await b.gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0', 'if-none-match': ra.headers.get('etag')! }))).status).toBe(304);
  });
});

describe('card links on the upstream\'s own host', () => {
  it('icon, documentation and provider links on the upstream origin are moved onto the gateway below its URL, else dropped; others stay', async () => {
    const card = {
      ...upstreamCard,
      iconUrl: 'http://agent.internal/base/static/icon.png',
      documentationUrl: 'http://agent.internal/admin/docs',
      provider: { organization: 'Internal', url: 'http://agent.internal/other' },
    };
    const { gw, agent } = setup();
    agent.cards.set('agent.internal', card);
    const served = await getCard(gw, '/agents/wit');
    expect(served.iconUrl).toBe(`${PUBLIC}/agents/wit/static/icon.png`);
    expect(served).not.toHaveProperty('documentationUrl');
    expect(served).not.toHaveProperty('provider');
    const external = await getCard(setup().gw, '/agents/wit');
    expect(external).toMatchObject({ iconUrl: 'https://geo.example/icon.png', documentationUrl: 'https://docs.geo.example/planner', provider: { url: 'https://geo.example' } });
  });
});

describe('card signature (A2A §8.4)', () => {
  it('verifies with the SDK and with our verifier, with the gateway JWKS key named by kid; header alg ES256, typ JOSE, kid, jku', async () => {
    const { gw } = setup();
    const card = await getCard(gw, '/agents/oauth');
    const keys = await publishedKeys(gw);
    expect(card.signatures).toHaveLength(1);
    const header = headerOf(card);
    expect(header).toEqual({ alg: 'ES256', typ: 'JOSE', kid: expect.any(String), jku: JWKS_URL });
    expect(keys.map((k) => k.kid)).toContain(header.kid);
    expect(await sdkAccepts(card, keys)).toBe(true);
    expect(await ours(card, keys)).toEqual({ ok: true, value: { index: 0, alg: 'ES256', kid: header.kid, jku: JWKS_URL } });
    // Only that key verifies it.
    expect(await sdkAccepts(card, keys.filter((k) => k.kid !== header.kid))).toBe(false);
  });

  it('one character changed in any string leaf fails both verifiers; every leaf is one the SDK covers', async () => {
    const { gw } = setup();
    const card = await getCard(gw, '/agents/oauth');
    const keys = await publishedKeys(gw);
    const leaves = stringLeaves({ ...card, signatures: undefined });
    expect(leaves.length).toBeGreaterThan(40);
    const canonical = canonicalizeAgentCard(card as unknown as AgentCard);
    for (const path of leaves) {
      const copy = tampered(card, path);
      const result = await ours(copy, keys);
      expect({ path, code: result.ok ? 'accepted' : result.code }).toEqual({ path, code: 'ERR_CARD_SIGNATURE_INVALID' });
      expect({ path, covered: canonicalizeAgentCard(copy as unknown as AgentCard) !== canonical }).toEqual({ path, covered: true });
      expect({ path, sdk: await sdkAccepts(copy, keys) }).toEqual({ path, sdk: false });
    }
    // The signature entry itself: a changed signature does not verify, a changed protected header is malformed.
    expect(await ours(tampered(card, ['signatures', 0, 'signature']), keys)).toMatchObject({ ok: false, code: 'ERR_CARD_SIGNATURE_INVALID' });
    expect(await ours(tampered(card, ['signatures', 0, 'protected']), keys)).toMatchObject({ ok: false, code: 'ERR_CARD_SIGNATURE_MALFORMED' });
    expect(await sdkAccepts(tampered(card, ['signatures', 0, 'signature']), keys)).toBe(false);
  });

  it('rotation: one period later the card is re-signed with a new kid; the JWKS publishes both and the old card still verifies', async () => {
    let t = periodStart(); // early in a period: no next key yet
    const { gw, agent } = setup({ now: () => t });
    const first = await getCard(gw, '/agents/wit');
    const kidA = headerOf(first).kid;
    expect((await publishedKeys(gw)).map((k) => k.kid)).toEqual([kidA]);
    expect(await getCard(gw, '/agents/wit')).toEqual(first); // same period: signed once, not per request
    t += ROTATION_S * 1000;
    const second = await getCard(gw, '/agents/wit');
    const kidB = headerOf(second).kid;
    expect(kidB).not.toBe(kidA);
    expect(second.signatures).toHaveLength(1);
    expect({ ...second, signatures: undefined }).toEqual({ ...first, signatures: undefined });
    const keys = await publishedKeys(gw);
    expect(keys.map((k) => k.kid).sort()).toEqual([kidA, kidB].sort());
    for (const card of [first, second]) {
      expect((await ours(card, keys)).ok).toBe(true);
      expect(await sdkAccepts(card, keys)).toBe(true);
    }
    // The upstream card was revalidated (304), not refetched whole: the rotation alone re-signed it.
    expect(agent.cardRequests.map((r) => r.headers.get('if-none-match'))).toEqual([null, '"v1"']);
  });

  it('sign: false serves the card unsigned', async () => {
    const { gw } = setup();
    const card = await getCard(gw, '/agents/unsigned');
    expect(card.signatures).toBeUndefined();
    expect(card.supportedInterfaces).toEqual(GATEWAY_INTERFACES('/agents/unsigned'));
  });
});

describe('card caching (A2A §8.6)', () => {
  it('within maxAgeSeconds the upstream is asked once; then revalidated with If-None-Match (304: the same card)', async () => {
    let t = periodStart(); // the card key must not rotate between the requests compared
    const { gw, agent } = setup({ now: () => t });
    const first = await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }));
    const body = await first.text();
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    for (let i = 0; i < 5; i++) {
      t += 10_000;
      expect(await (await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }))).text()).toBe(body);
    }
    expect(agent.cardRequests).toHaveLength(1);
    t += 11_000; // 61 s after the fetch
    const revalidated = await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }));
    expect({ status: revalidated.status, etag: revalidated.headers.get('etag'), body: await revalidated.text() }).toEqual({ status: 200, etag: first.headers.get('etag'), body });
    expect(agent.cardRequests.map((r) => [r.headers.get('if-none-match'), r.headers.get('a2a-version')])).toEqual([[null, '1.0'], ['"v1"', '1.0']]);
    // The 304 renewed the card: no further request within maxAgeSeconds of it.
    t += 30_000;
    await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }));
    expect(agent.cardRequests).toHaveLength(2);
  });

  it('upstream down after a good fetch: the stale card is served and audited, until A2A_CARD_MAX_STALE_SECONDS; then 502', async () => {
    let t = periodStart(); // the card key must not rotate between the requests compared
    const { gw, agent, audit } = setup({ now: () => t });
    const body = await (await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }))).text();
    agent.down = true;
    t += 120_000;
    const stale = await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }));
    expect({ status: stale.status, body: await stale.text() }).toEqual({ status: 200, body });
    // Served, but not for callers to keep while the upstream is failing.
    expect(stale.headers.get('cache-control')).toBe('no-cache');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'allow', reason: 'A2A_AGENT_CARD', status: 200, detail: expect.stringMatching(/^serving a card fetched 120 s ago: card fetch failed: ERR_UPSTREAM_UNREACHABLE/) });
    t += (A2A_CARD_MAX_STALE_SECONDS - 120) * 1000 - 1000; // one second short of the limit
    expect((await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' }))).status).toBe(200);
    t += 1000;
    await expectCardRefusal(await gw.fetch(cardRequest('/agents/cached', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_UNAVAILABLE');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'error', reason: 'ERR_A2A_CARD_UNAVAILABLE', status: 502 });
    // Every request past maxAgeSeconds asked the upstream again, except the last: one second after a failure, which
    // is answered again for A2A_CARD_RETRY_SECONDS.
    expect(agent.cardRequests).toHaveLength(3);
  });

  it('a gzip-compressed card (sent unasked; the gateway asks for identity) is decoded before it is read', async () => {
    const { gw, agent } = setup();
    agent.gzip = true;
    const card = await getCard(gw, '/agents/wit');
    expect(card.name).toBe(upstreamCard.name);
    expect(agent.cardRequests[0]!.headers.get('accept-encoding')).toBe('identity');
  });

  it('never fetched and the upstream down: 502 ERR_A2A_CARD_UNAVAILABLE; an error status: the same; a failure is answered again for A2A_CARD_RETRY_SECONDS without asking', async () => {
    let t = periodStart();
    const { gw, agent, audit } = setup({ now: () => t });
    agent.down = true;
    await expectCardRefusal(await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_UNAVAILABLE');
    expect(audit.events[0]).toMatchObject({ decision: 'error', reason: 'ERR_A2A_CARD_UNAVAILABLE', status: 502, detail: 'card fetch failed: ERR_UPSTREAM_UNREACHABLE' });
    agent.down = false;
    agent.status = 503;
    // Within A2A_CARD_RETRY_SECONDS: the same failure, the upstream not asked (unauthenticated callers cannot make
    // the gateway hammer a failing upstream).
    for (let i = 0; i < 5; i++) await expectCardRefusal(await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_UNAVAILABLE');
    expect(agent.cardRequests).toHaveLength(1);
    t += A2A_CARD_RETRY_SECONDS * 1000;
    await expectCardRefusal(await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_UNAVAILABLE');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'error', reason: 'ERR_A2A_CARD_UNAVAILABLE', status: 502, detail: 'upstream answered the card fetch with 503' });
    expect(agent.cardRequests).toHaveLength(2);
    agent.status = undefined;
    t += A2A_CARD_RETRY_SECONDS * 1000;
    expect((await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' }))).status).toBe(200);
  });

  it('a malformed upstream card: 502 ERR_A2A_CARD_INVALID (not JSON, a member of the wrong type, only GRPC interfaces)', async () => {
    for (const raw of ['<html>', JSON.stringify({ ...upstreamCard, name: 7 }), JSON.stringify({ ...upstreamCard, supportedInterfaces: [{ url: `${BASE}grpc`, protocolBinding: 'GRPC', protocolVersion: '1.0' }] })]) {
      const { gw, agent, audit } = setup();
      agent.raw = raw;
      await expectCardRefusal(await gw.fetch(cardRequest('/agents/wit', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_INVALID');
      expect(audit.events[0]).toMatchObject({ decision: 'error', reason: 'ERR_A2A_CARD_INVALID', status: 502 });
    }
  });

  it('an inline card is served, rewritten and signed, without any upstream request', async () => {
    const { gw, agent } = setup();
    const card = await getCard(gw, '/agents/inline');
    expect(card.supportedInterfaces).toEqual(GATEWAY_INTERFACES('/agents/inline'));
    expect(Object.keys(card.securitySchemes as object)).toEqual(['wit', 'wpt']);
    expect(await sdkAccepts(card, await publishedKeys(gw))).toBe(true);
    expect((await gw.fetch(cardRequest('/agents/inline', {}))).status).toBe(200);
    expect(agent.cardRequests).toHaveLength(0);
  });
});

describe('card shapes by A2A-Version (A2A §3.1)', () => {
  const shape = (card: Card) => ('supportedInterfaces' in card ? '1.0' : card.protocolVersion);

  it('1.0 gets the 1.0 card; 0.3 the 0.3 card from the 0.3 interface, signed; none: 0.3 when there is a 0.3 interface', async () => {
    const { gw } = setup();
    const keys = await publishedKeys(gw);
    expect(shape(await getCard(gw, '/agents/oauth', { 'a2a-version': '1.0' }))).toBe('1.0');
    expect(shape(await getCard(gw, '/agents/oauth', { 'a2a-version': '1.3' }))).toBe('1.0');
    const legacy = await getCard(gw, '/agents/oauth', { 'a2a-version': '0.3' });
    expect({ ...legacy, signatures: undefined, securitySchemes: undefined, skills: undefined }).toEqual({
      protocolVersion: '0.3.0',
      name: upstreamCard.name,
      description: upstreamCard.description,
      url: `${PUBLIC}/agents/oauth/jsonrpc`,
      preferredTransport: 'JSONRPC',
      provider: upstreamCard.provider,
      iconUrl: upstreamCard.iconUrl,
      version: upstreamCard.version,
      documentationUrl: upstreamCard.documentationUrl,
      capabilities: { streaming: true, pushNotifications: true, extensions: upstreamCard.capabilities.extensions },
      security: [{ oauth2: ['a2a'] }],
      defaultInputModes: upstreamCard.defaultInputModes,
      defaultOutputModes: upstreamCard.defaultOutputModes,
      supportsAuthenticatedExtendedCard: true,
      securitySchemes: undefined,
      skills: undefined,
      signatures: undefined,
    });
    expect(legacy.securitySchemes).toEqual({
      oauth2: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: `${AS}/oauth/token`, scopes: expect.any(Object) } }, oauth2MetadataUrl: `${AS}/.well-known/oauth-authorization-server`, description: expect.any(String) },
    });
    expect((legacy.skills as Array<Record<string, unknown>>).map((s) => [s.id, s.security])).toEqual([['plan', undefined], ['secret-skill', [{ oauth2: ['a2a', 'secret'] }]], ['denied-skill', undefined]]);
    expect(headerOf(legacy)).toMatchObject({ alg: 'ES256', typ: 'JOSE', jku: JWKS_URL });
    expect((await ours(legacy, keys)).ok).toBe(true);
    // No version: "Agents MUST interpret empty value as 0.3".
    expect(await getCard(gw, '/agents/oauth', {})).toEqual(legacy);
    expect(await getCard(gw, '/agents/oauth', { 'a2a-version': '' })).toEqual(legacy);
  });

  it('the query parameter A2A-Version works too; each shape has its own ETag', async () => {
    const { gw } = setup();
    const byQuery = await gw.fetch(cardRequest('/agents/oauth', {}, { query: '?A2A-Version=1.0' }));
    const card = (await byQuery.json()) as Card;
    expect(shape(card)).toBe('1.0');
    const legacy = await gw.fetch(cardRequest('/agents/oauth', {}));
    expect(legacy.headers.get('etag')).not.toBe(byQuery.headers.get('etag'));
    // A 1.0 ETag does not match the 0.3 body.
    expect((await gw.fetch(cardRequest('/agents/oauth', { 'if-none-match': byQuery.headers.get('etag')! }))).status).toBe(200);
  });

  it('without a 0.3 interface: no version gets 1.0, 0.3 is refused; an unknown version is refused everywhere', async () => {
    const { gw, audit } = setup();
    expect(shape(await getCard(gw, '/agents/v1only', {}))).toBe('1.0');
    await expectCardRefusal(await gw.fetch(cardRequest('/agents/v1only', { 'a2a-version': '0.3' })), 400, 'ERR_A2A_VERSION_NOT_SUPPORTED');
    expect(audit.events.at(-1)).toMatchObject({ decision: 'deny', reason: 'ERR_A2A_VERSION_NOT_SUPPORTED', status: 400 });
    for (const mount of ['/agents/v1only', '/agents/oauth']) {
      await expectCardRefusal(await gw.fetch(cardRequest(mount, { 'a2a-version': '9.9' })), 400, 'ERR_A2A_VERSION_NOT_SUPPORTED');
      await expectCardRefusal(await gw.fetch(cardRequest(mount, {}, { query: '?A2A-Version=9.9' })), 400, 'ERR_A2A_VERSION_NOT_SUPPORTED');
    }
  });
});

describe('pinned upstream signature (a2a.upstreamSignature)', () => {
  const signedUpstream = async (key: CryptoKey, card: object = PINNED_CARD) =>
    generateAgentCardSignature(key, { alg: 'ES256', kid: 'up-1', typ: 'JOSE', jku: EVIL_JKU })(card as AgentCard);

  it('a valid upstream signature: served, re-signed by the gateway only; the jku is never fetched', async () => {
    const { gw, agent, fetchedKeys, audit } = setup();
    agent.cards.set('pinned.internal', await signedUpstream(upstreamSigner.privateKey));
    const card = await getCard(gw, '/agents/pinned');
    expect(card.supportedInterfaces).toEqual([{ url: `${PUBLIC}/agents/pinned/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }]);
    expect(card.signatures).toHaveLength(1);
    expect(headerOf(card)).toMatchObject({ jku: JWKS_URL });
    expect(await sdkAccepts(card, await publishedKeys(gw))).toBe(true);
    expect(audit.events[0]).toMatchObject({ decision: 'allow', reason: 'A2A_AGENT_CARD' });
    expect(audit.events[0]!.detail).toBeUndefined();
    expect(fetchedKeys).toEqual([]);
    expect(agent.other).toEqual([]);
  });

  it('refuse: a signature by another key, a tampered card or none at all is 502 ERR_A2A_CARD_SIGNATURE_INVALID, audited', async () => {
    const other = (await generateKeyPair('ES256', { extractable: true })).privateKey;
    const valid = await signedUpstream(upstreamSigner.privateKey);
    const cases: Array<[string, object, string]> = [
      ['other key', await signedUpstream(other), 'ERR_CARD_SIGNATURE_INVALID'],
      ['tampered', { ...valid, name: 'Route Planner (evil)' }, 'ERR_CARD_SIGNATURE_INVALID'],
      ['unsigned', PINNED_CARD, 'ERR_CARD_SIGNATURE_MISSING'],
    ];
    for (const [label, served, cause] of cases) {
      const { gw, agent, fetchedKeys, audit } = setup();
      agent.cards.set('pinned.internal', served);
      await expectCardRefusal(await gw.fetch(cardRequest('/agents/pinned', { 'a2a-version': '1.0' })), 502, 'ERR_A2A_CARD_SIGNATURE_INVALID');
      expect({ label, event: audit.events[0] }).toMatchObject({ label, event: { decision: 'error', reason: 'ERR_A2A_CARD_SIGNATURE_INVALID', status: 502, detail: expect.stringContaining(`upstream card signature: ${cause}`) } });
      expect(fetchedKeys).toEqual([]);
      expect(agent.other).toEqual([]);
    }
  });

  it('flag: a bad or missing signature is served, re-signed, with the failure in the audit detail', async () => {
    const other = (await generateKeyPair('ES256', { extractable: true })).privateKey;
    for (const [served, cause] of [[await signedUpstream(other), 'ERR_CARD_SIGNATURE_INVALID'], [PINNED_CARD, 'ERR_CARD_SIGNATURE_MISSING']] as const) {
      const { gw, agent, fetchedKeys, audit } = setup();
      agent.cards.set('pinned.internal', served);
      const card = await getCard(gw, '/agents/flagged');
      expect(card.signatures).toHaveLength(1);
      expect(await sdkAccepts(card, await publishedKeys(gw))).toBe(true);
      expect(audit.events[0]).toMatchObject({ decision: 'allow', reason: 'A2A_AGENT_CARD', status: 200, detail: expect.stringContaining(`upstream card signature: ${cause}`) });
      expect(fetchedKeys).toEqual([]);
      expect(agent.other).toEqual([]);
    }
  });
});
