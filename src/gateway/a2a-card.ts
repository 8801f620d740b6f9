/**
 * Agent Cards of A2A routes (A2A v1.0 §8: discovery, §8.4 signing, §8.6 caching), served by the gateway at
 * `<mount>/.well-known/agent-card.json` and the pre-0.3 `<mount>/.well-known/agent.json`, without authentication
 * (a card is how a caller learns how to authenticate).
 *
 * Source: the upstream's card (GET <upstream>/.well-known/agent-card.json with `A2A-Version: 1.0`), kept per isolate
 * for `a2a.card.maxAgeSeconds` and then revalidated with If-None-Match; or the card in config. An upstream that fails
 * keeps its last good card served for A2A_CARD_MAX_STALE_SECONDS (audited), then 502. With `a2a.upstreamSignature`
 * the upstream's own signature is verified against the pinned keys first (never a key from the card's `jku`): an
 * invalid one refuses the card (502) or, with `onInvalid: "flag"`, is audited and served re-signed.
 *
 * Served card: the source read into normal form (a2a/agent-card.ts), every interface URL moved onto the gateway
 * (an interface the gateway cannot front is dropped: another host, gRPC), securitySchemes and security requirements
 * replaced by what the route enforces (a2a/card-security.ts), and signed with the gateway's rotating card key
 * (A2A §8.4: protected header alg, kid, typ "JOSE", jku = the gateway JWKS), which /.well-known/jwks.json publishes
 * with the previous and next key. Signed once per card version, shape and key, not per request.
 *
 * Shapes (A2A §3.1 "A2A-Version"; the header or the `A2A-Version` query parameter): 1.x gets the 1.0 card; an
 * explicit 0.x gets the 0.3 card (a2a/legacy-card.ts), or VersionNotSupported when the card declares no 0.x interface;
 * no version at all gets the 0.3 card when there is a 0.x interface ("Agents MUST interpret empty value as 0.3")
 * and the 1.0 card otherwise. `Vary: A2A-Version` always; an ETag naming the unsigned card and the signing key (the
 * same in every isolate, though ECDSA signature bytes differ), 304 on If-None-Match; a stale card is `no-cache`.
 *
 * Does NOT: fetch a `jku`, follow upstream redirects, present the gateway's own identity (`upstreamAuth`) on the
 * card fetch (an upstream must serve its card to the gateway unauthenticated), translate between protocol versions
 * (a 0.3 card only lists interfaces the upstream itself declares for 0.3), or share fetched cards between isolates
 * (each revalidates on its own: cheap with a 304). Links other than interfaces (icon, documentation, provider) on
 * the upstream's own origin are moved onto the gateway or dropped; links elsewhere are kept as the upstream wrote them.
 */
import { cardSecurity } from '../a2a/card-security.ts';
import { gatewayCard, readAgentCard, withSkills } from '../a2a/agent-card.ts';
import { signAgentCard, verifyAgentCard, type AgentCardJson } from '../a2a/card-signature.ts';
import { isLegacyVersion, legacyCard } from '../a2a/legacy-card.ts';
import type { A2aRouteConfig } from '../config/a2a.ts';
import { ConfigError } from '../config/load.ts';
import type { AuthorizationServerConfig } from '../config/authorization-servers.ts';
import type { RouteConfig } from '../config/schema.ts';
import { sha256b64url } from '../crypto/digest.ts';
import { A2A_CARD_MAX_STALE_SECONDS, A2A_CARD_RETRY_SECONDS, MAX_A2A_CARD_BYTES } from '../limits.ts';
import { readBounded } from '../read-bounded.ts';
import { fail, ok, type Result } from '../result.ts';
import type { TxnKeyRing } from '../txn/key-ring.ts';
import { proxy, type UpstreamSend } from './proxy.ts';

const AGENT_CARD_PATHS: ReadonlySet<string> = new Set(['/.well-known/agent-card.json', '/.well-known/agent.json']);

/**
 * Whether a path below the mount names the card, however spelled: upstream routers differ (Express matches case-
 * insensitively and with one trailing slash, others decode first), and no spelling may reach the upstream's own
 * card, unsigned and unrewritten.
 */
export function isAgentCardPath(rest: string): boolean {
  let path = rest;
  try {
    path = decodeURIComponent(rest);
  } catch {
    // a malformed escape is not the card's path in any spelling
  }
  path = path.toLowerCase();
  return AGENT_CARD_PATHS.has(path.endsWith('/') ? path.slice(0, -1) : path);
}

/** The card refusals, with their HTTP status: the upstream's card cannot be served (502), the signing key is unavailable (503). */
export const A2A_CARD_ERRORS = {
  ERR_A2A_CARD_UNAVAILABLE: 'the upstream card could not be fetched, and no recent one is cached',
  ERR_A2A_CARD_INVALID: 'the upstream (or configured) card is malformed, or declares no interface the gateway can front',
  ERR_A2A_CARD_SIGNATURE_INVALID: 'the upstream card carries no valid signature by a pinned key (upstreamSignature.onInvalid "refuse")',
  ERR_A2A_CARD_SIGNING_UNAVAILABLE: 'the card signing key could not be read or stored (state store failure)',
  ERR_A2A_VERSION_NOT_SUPPORTED: 'the requested A2A-Version is not one the card declares',
} as const;
export type A2aCardErrorCode = keyof typeof A2A_CARD_ERRORS;

/** What happened, for the audit event of the request that was answered. */
export interface CardOutcome {
  response?: Response;
  code?: A2aCardErrorCode;
  /** Set when the card was served although something is wrong (a flagged signature, a stale card). */
  detail?: string;
}

export interface AgentCardService {
  /** Answers a GET or HEAD of one of AGENT_CARD_PATHS below the route's mount; `code` set means refuse with it. */
  serve(request: Request, requestId: string): Promise<CardOutcome>;
  /**
   * The gateway's form of an extended card the upstream returned (A2A `GetExtendedAgentCard`), for one caller: rewritten
   * and signed like the public card, with only the skills `keep` accepts, in the shape `legacy` asks for.
   */
  extended(upstreamCard: unknown, keep: (skillId: string) => boolean, legacy: boolean): Promise<Result<{ card: AgentCardJson; flagged?: string }, A2aCardErrorCode>>;
}

export interface AgentCardServiceOptions {
  route: RouteConfig;
  /** Where the route is in the config (`routes[2]`), for config errors. */
  configPath: string;
  a2a: A2aRouteConfig;
  servers: Record<string, AuthorizationServerConfig>;
  publicUrl: URL;
  /** The route's upstream base URL (nominal for a service binding) and how to reach it. */
  base: URL;
  send: UpstreamSend;
  timeoutMs: number;
  /** The card signing ring; undefined when the route's cards are not signed. */
  keys: TxnKeyRing | undefined;
  jwksUrl: string;
  now: () => number;
}

interface Source {
  card: AgentCardJson;
  etag: string | undefined;
  fetchedAt: number;
  /** The upstream signature failed and onInvalid is "flag". */
  flagged?: string;
}

interface Served {
  /** The source card it was made from: a render that raced a newer card must not stand for it. */
  from: AgentCardJson;
  kid: string | undefined;
  body: string;
  etag: string;
}

type Shape = '1.0' | '0.3';

export function agentCardService(options: AgentCardServiceOptions): AgentCardService {
  const { route, a2a, publicUrl, base, now } = options;
  const maxAgeMs = a2a.card.maxAgeSeconds * 1000;
  const security = cardSecurity(route, options.servers);
  const mount = new URL(route.path === '/' ? '' : route.path.slice(1), publicUrl.href).href.replace(/\/$/, '');
  const mapUrl = interfaceUrlMap(base, mount, typeof route.upstream !== 'string');
  const inline = a2a.card.inline === undefined ? undefined : readAgentCard(a2a.card.inline);
  // A configured card is known now: a broken one is a config error at start, not a 502 on every request.
  if (inline && !inline.ok) throw new ConfigError([{ path: `${options.configPath}.a2a.card.inline`, message: inline.detail }]);

  let source: Source | undefined;
  let pending: Promise<Result<Source, A2aCardErrorCode>> | undefined;
  /** The last failed load, answered again for A2A_CARD_RETRY_SECONDS: unauthenticated callers must not make the
   * gateway refetch a broken card once per request. */
  let failed: { at: number; result: { ok: false; code: A2aCardErrorCode; detail: string } } | undefined;
  const served = new Map<Shape, Served>();

  /** Fetches (or revalidates) the upstream card, verifies its signature when pinned keys are configured. */
  const load = async (previous: Source | undefined): Promise<Result<Source, A2aCardErrorCode>> => {
    const headers = new Headers({ accept: 'application/json', 'accept-encoding': 'identity', 'a2a-version': '1.0' });
    if (previous?.etag) headers.set('if-none-match', previous.etag);
    const url = new URL(base.href.replace(/\/$/, '') + a2a.card.upstreamPath);
    const result = await proxy(options.send, { url, method: 'GET', headers, body: null, signal: new AbortController().signal, timeoutMs: options.timeoutMs, maxBodyBytes: MAX_A2A_CARD_BYTES });
    if (!result.ok) return fail('ERR_A2A_CARD_UNAVAILABLE', `card fetch failed: ${result.code}`);
    const response = result.response;
    if (response.status === 304 && previous) {
      await response.body?.cancel().catch(() => {});
      return ok({ ...previous, fetchedAt: now() });
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return fail('ERR_A2A_CARD_UNAVAILABLE', `upstream answered the card fetch with ${response.status}`);
    }
    const json = await readCardJson(response);
    if (!json.ok) return json;
    const card = readAgentCard(json.value);
    if (!card.ok) return card;
    const etag = response.headers.get('etag') ?? undefined;
    const loaded: Source = { card: card.value, etag: etag && etag.length <= 256 ? etag : undefined, fetchedAt: now() };
    const pinned = await checkPinned(card.value);
    if (!pinned.ok) return pinned;
    if (pinned.value) loaded.flagged = pinned.value;
    return ok(loaded);
  };

  /**
   * The upstream's own signature against the pinned keys (a2a.upstreamSignature), if configured: a refusal, or the
   * flag detail (onInvalid "flag"), or nothing to say.
   */
  const checkPinned = async (card: AgentCardJson): Promise<Result<string | undefined, A2aCardErrorCode>> => {
    const pinned = a2a.upstreamSignature;
    if (!pinned) return ok(undefined);
    const verified = await verifyAgentCard(card, {
      algorithms: pinned.algorithms,
      // Pinned keys only: a jku in the card names a URL the upstream (or whoever altered the card) chose.
      keys: async (kid) => pinned.jwks.keys.find((k) => k.kid === kid) as JsonWebKey | undefined,
    });
    if (verified.ok) return ok(undefined);
    const detail = `upstream card signature: ${verified.code} (${verified.detail})`;
    return pinned.onInvalid === 'refuse' ? fail('ERR_A2A_CARD_SIGNATURE_INVALID', detail) : ok(detail);
  };

  /** The current source card: inline, fresh, revalidated, or stale within A2A_CARD_MAX_STALE_SECONDS. */
  const current = async (): Promise<Result<{ source: Source; stale?: string }, A2aCardErrorCode>> => {
    if (inline?.ok) return ok({ source: { card: inline.value, etag: undefined, fetchedAt: 0 } });
    const held = source;
    if (held && now() - held.fetchedAt < maxAgeMs) return ok({ source: held });
    const recent = failed && now() - failed.at < A2A_CARD_RETRY_SECONDS * 1000 ? failed.result : undefined;
    if (!recent) {
      pending ??= load(held).finally(() => {
        pending = undefined;
      });
    }
    const loaded = recent ?? (await pending!);
    if (!loaded.ok && !recent) failed = { at: now(), result: loaded };
    if (loaded.ok) {
      failed = undefined;
      if (loaded.value.card !== source?.card) served.clear();
      source = loaded.value;
      return ok({ source: loaded.value });
    }
    // Only an unreachable upstream keeps the old card; a card that is now invalid or badly signed is not served.
    if (held && loaded.code === 'ERR_A2A_CARD_UNAVAILABLE' && now() - held.fetchedAt < A2A_CARD_MAX_STALE_SECONDS * 1000) {
      return ok({ source: held, stale: `serving a card fetched ${Math.round((now() - held.fetchedAt) / 1000)} s ago: ${loaded.detail}` });
    }
    return loaded;
  };

  /** The rewritten card in one shape (unsigned). */
  const shaped = (card: AgentCardJson, shape: Shape): Result<AgentCardJson, A2aCardErrorCode> => {
    const rewritten = gatewayCard(card, { mapUrl, ...security });
    if (!rewritten.ok) return rewritten;
    const out = withoutInternalLinks(rewritten.value, base, mapUrl);
    if (shape === '1.0') return ok(out);
    const legacy = legacyCard(out);
    return legacy ? ok(legacy) : fail('ERR_A2A_VERSION_NOT_SUPPORTED', 'the card declares no 0.x interface');
  };

  /** `card` signed with the current card key (and that key's kid), or as it is when the route's cards are unsigned. */
  const signed = async (card: AgentCardJson): Promise<Result<{ card: AgentCardJson; kid?: string }, A2aCardErrorCode>> => {
    if (!options.keys) return ok({ card });
    let key;
    try {
      key = await options.keys.signingKey();
    } catch (error) {
      return fail('ERR_A2A_CARD_SIGNING_UNAVAILABLE', error instanceof Error ? error.message : 'card signing key unavailable');
    }
    try {
      return ok({ card: await signAgentCard(card, { key: key.key, alg: key.alg, kid: key.kid, jku: options.jwksUrl }), kid: key.kid });
    } catch (error) {
      // readAgentCard admits only what RFC 8785 can canonicalise; anything else is a card the gateway cannot sign.
      return fail('ERR_A2A_CARD_INVALID', `card cannot be signed: ${error instanceof Error ? error.name : 'error'}`);
    }
  };

  return {
    async serve(request, requestId) {
      const loaded = await current();
      if (!loaded.ok) return { code: loaded.code, detail: loaded.detail };
      const { source: src, stale } = loaded.value;
      const shape = negotiate(request, src.card);
      if (!shape.ok) return { code: shape.code, detail: shape.detail };
      const kid = options.keys ? await options.keys.signingKey().then((k) => k.kid, () => undefined) : undefined;
      let entry = served.get(shape.value);
      if (!entry || entry.kid !== kid || entry.from !== src.card) {
        const unsigned = shaped(src.card, shape.value);
        if (!unsigned.ok) return { code: unsigned.code, detail: unsigned.detail };
        const done = await signed(unsigned.value);
        if (!done.ok) return { code: done.code, detail: done.detail };
        // The validator names the content and the key, not the signature bytes (ECDSA signatures are randomised):
        // every isolate signing this card with this key gives the same ETag, so revalidation works across them.
        const etag = `"${(await sha256b64url(`${done.value.kid ?? ''}\n${JSON.stringify(unsigned.value)}`)).slice(0, 22)}"`;
        entry = { from: src.card, kid: done.value.kid, body: JSON.stringify(done.value.card), etag };
        if (source === undefined || source.card === src.card) served.set(shape.value, entry);
      }
      const headers = new Headers({
        // A stale card (its upstream failing) is served, but not for callers to keep.
        'cache-control': stale ? 'no-cache' : `public, max-age=${a2a.card.maxAgeSeconds}`,
        vary: 'A2A-Version',
        etag: entry.etag,
        'access-control-allow-origin': '*',
        'x-request-id': requestId,
      });
      const detail = [src.flagged, stale].filter(Boolean).join('; ') || undefined;
      const outcome = (response: Response): CardOutcome => (detail ? { response, detail } : { response });
      if (ifNoneMatch(request.headers.get('if-none-match'), entry.etag)) return outcome(new Response(null, { status: 304, headers }));
      headers.set('content-type', 'application/json');
      return outcome(new Response(request.method === 'HEAD' ? null : entry.body, { status: 200, headers }));
    },
    async extended(upstreamCard, keep, legacy) {
      const card = readAgentCard(upstreamCard);
      if (!card.ok) return card;
      // The upstream signed its extended card as it sent it (all skills): checked before any skill is filtered out.
      const pinned = await checkPinned(card.value);
      if (!pinned.ok) return pinned;
      const unsigned = shaped(withSkills(card.value, keep), legacy ? '0.3' : '1.0');
      if (!unsigned.ok) return unsigned;
      const done = await signed(unsigned.value);
      return done.ok ? ok(pinned.value ? { card: done.value.card, flagged: pinned.value } : { card: done.value.card }) : done;
    },
  };
}

/**
 * The JSON of an upstream's card answer (public or extended), read whole up to MAX_A2A_CARD_BYTES after decoding
 * gzip or deflate: an upstream may compress although not asked to, and some runtimes' upstream clients (node:http,
 * Deno's fetch) hand the compressed bytes through.
 */
export async function readCardJson(response: { headers: Headers; body: ReadableStream<Uint8Array> | null }): Promise<Result<unknown, A2aCardErrorCode>> {
  const encoding = (response.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  let body = response.body;
  if (body && encoding !== 'identity') {
    if (encoding !== 'gzip' && encoding !== 'deflate') {
      await body.cancel().catch(() => {});
      return fail('ERR_A2A_CARD_INVALID', `card in an unsupported content-encoding ${JSON.stringify(encoding.slice(0, 32))}`);
    }
    body = body.pipeThrough(new DecompressionStream(encoding) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
  }
  const bytes = body ? await readBounded(body, MAX_A2A_CARD_BYTES).catch(() => null) : new Uint8Array();
  if (bytes === undefined) return fail('ERR_A2A_CARD_INVALID', `card over ${MAX_A2A_CARD_BYTES} bytes`);
  if (bytes === null) return fail('ERR_A2A_CARD_UNAVAILABLE', 'card body unreadable (or its encoding is broken)');
  try {
    return ok(JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)));
  } catch {
    return fail('ERR_A2A_CARD_INVALID', 'card is not UTF-8 JSON');
  }
}

/**
 * Maps an interface URL the upstream declares onto the gateway: a URL below the upstream base (for a service binding,
 * whose host is nominal, any origin with the base's path) or already below the gateway mount keeps its path below
 * that prefix, under the mount. Anything else is not the gateway's to front.
 */
export function interfaceUrlMap(base: URL, mount: string, anyOrigin: boolean): (url: string) => string | undefined {
  const basePath = base.pathname.replace(/\/$/, '');
  return (value) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return undefined;
    }
    if (url.username || url.password) return undefined;
    const href = url.href;
    if (href === mount || href.startsWith(`${mount}/`) || href.startsWith(`${mount}?`)) return href;
    const originOk = anyOrigin || url.origin === base.origin;
    const path = url.pathname;
    if (!originOk || !(path === basePath || path.startsWith(`${basePath}/`) || basePath === '')) return undefined;
    return mount + path.slice(basePath.length) + url.search;
  };
}

/**
 * The card's other links (icon, documentation, provider) on the upstream's own origin name hosts callers cannot
 * reach and should not learn: moved onto the gateway when below the upstream URL, else dropped. Links elsewhere stay.
 */
function withoutInternalLinks(card: AgentCardJson, base: URL, mapUrl: (url: string) => string | undefined): AgentCardJson {
  const internal = (value: unknown) => {
    try {
      return typeof value === 'string' && new URL(value).origin === base.origin;
    } catch {
      return false;
    }
  };
  const out: AgentCardJson = { ...card };
  for (const member of ['iconUrl', 'documentationUrl'] as const) {
    if (!internal(out[member])) continue;
    const moved = mapUrl(out[member] as string);
    if (moved === undefined) delete out[member];
    else out[member] = moved;
  }
  const provider = out.provider as { url?: unknown; organization?: unknown } | undefined;
  if (provider && internal(provider.url)) {
    const moved = mapUrl(provider.url as string);
    // provider needs both members (A2A 1.0 AgentProvider): without a reachable url it goes.
    if (moved === undefined) delete out.provider;
    else out.provider = { ...provider, url: moved };
  }
  return out;
}

/** The card shape a request asks for (A2A §3.1: header, else query parameter; empty means 0.3). */
function negotiate(request: Request, card: AgentCardJson): Result<Shape, A2aCardErrorCode> {
  const asked = (request.headers.get('a2a-version') ?? new URL(request.url).searchParams.get('A2A-Version') ?? '').trim();
  // One rule for "a 0.3 interface" here and in legacyCard: 0.3 up to (not including) 1.0.
  const hasLegacy = Array.isArray(card.supportedInterfaces) && card.supportedInterfaces.some((i) => {
    const version = (i as { protocolVersion?: unknown }).protocolVersion;
    return typeof version === 'string' && isLegacyVersion(version);
  });
  if (asked === '') return ok(hasLegacy ? '0.3' : '1.0');
  if (/^1\.\d+$/.test(asked)) return ok('1.0');
  if (isLegacyVersion(asked) && hasLegacy) return ok('0.3');
  // Only digits and dots of the caller's value reach the audit detail.
  return fail('ERR_A2A_VERSION_NOT_SUPPORTED', `A2A-Version "${asked.replace(/[^0-9.]/g, '').slice(0, 16)}" (as digits and dots) is not served`);
}

/** RFC 9110 §13.1.2 If-None-Match (weak comparison), `*` included. */
function ifNoneMatch(field: string | null, etag: string): boolean {
  if (field === null) return false;
  if (field.trim() === '*') return true;
  return field.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
