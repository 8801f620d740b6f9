/**
 * A2A Agent Card serving from the gateway's cache (issue 6: "signed once per card version, not per request:
 * requests/s vs a static JSON route, target >= 80%"), through the Node entry (`portcullis serve`), in one run.
 *
 * One gateway, two routes, one node:http upstream (this file with `--upstream`, a process of its own, like
 * bench/upstream.ts in run.ts):
 * - `card`: an A2A route (WIT + WPT auth, as in the dev config; a card is served without credentials) whose upstream
 *   serves a realistic 1.0 Agent Card (4 interfaces, one of them gRPC that the gateway drops, 5 skills; ~2.6 KiB, ~3.1 KiB as served, its own
 *   securitySchemes that the gateway replaces) with an ETag, answering If-None-Match with 304. Measured:
 *   GET <mount>/.well-known/agent-card.json with `A2A-Version: 1.0`: rewritten, ES256-signed, served from memory.
 * - `static` (the baseline): a public `http` route of the same gateway proxying the same upstream, which answers a
 *   fixed JSON body of exactly the served card's byte length: the cheapest thing the gateway does for a JSON document
 *   (route match, audit line, one pooled upstream request, the body streamed back). Same request headers.
 * - `/healthz`, for reference only: the gateway's own 15-byte JSON answer without upstream or audit line, the
 *   cheapest response it makes; the card is compared with it too, so the baseline's upstream hop is not the only view.
 * All are warmed, then autocannon rounds (same connections and duration) alternate, ABBA order, so drift on a noisy
 * machine hits both. Reported: card req/s / static req/s (pooled over the rounds, and the min-max of the per-round
 * ratios), target >= 80%; and card / healthz.
 *
 * "Not per request", shown two ways:
 * - upstream card fetches, counted by the upstream: the route's `a2a.card.maxAgeSeconds` is set short (default 5 s)
 *   so the run spans several periods; expected about one fetch (a 304 revalidation) per maxAge, not per request;
 * - signatures: the gateway process is started with a counting hook (`node --import data:...`) that wraps
 *   crypto.subtle.sign/digest/importKey/generateKey and reports the counts on SIGUSR2. jose signs through
 *   crypto.subtle, and nothing else in this config signs, so `sign` is the number of card signatures. It is read
 *   after warm-up and after the rounds. Corroborated by probing the card between rounds: ES256 signatures in Web
 *   Crypto are randomised, so a re-signed card would change the signature bytes and the ETag; both stay constant.
 * Exported for bench/run.ts; runs alone with `node bench/a2a-card.ts [--duration S] [--rounds N] [--connections N]
 * [--max-age S] [--no-append]`, which appends its own section to bench/RESULTS.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { devJwks, DEV_TRUST_DOMAIN_ID, generateDevIssuerKey } from '../src/mint/index.ts';

export interface A2aCardOptions {
  /** Seconds per round (default 5). */
  duration?: number;
  /** Rounds of each kind (default 3). */
  rounds?: number;
  /** autocannon connections (default 32, as run.ts). */
  connections?: number;
  /** The A2A route's a2a.card.maxAgeSeconds (default 5: short, so the run spans several revalidations). */
  maxAgeSeconds?: number;
}

interface Round { rps: number; total: number; seconds: number; p50: number; p99: number }

export interface A2aCardResult {
  duration: number;
  rounds: number;
  connections: number;
  maxAgeSeconds: number;
  cardBytes: number;
  staticBytes: number;
  card: Round[];
  static: Round[];
  /** The gateway's own /healthz (a 15-byte JSON answer, no upstream, no audit line): the cheapest thing it serves. */
  health: Round[];
  /** Pooled card / healthz. */
  healthRatio: number;
  /** Pooled: all card requests / all card seconds over the same for static. */
  ratio: number;
  /** Per round (card round i / static round i). */
  ratioMin: number;
  ratioMax: number;
  /** Card requests answered during the measured rounds. */
  cardRequests: number;
  /** Seconds from the first upstream card fetch to the end of the last round. */
  loadSeconds: number;
  fetches: { ok: number; notModified: number };
  /** crypto.subtle calls in the gateway process: from its start to the end of warm-up, then during the rounds. */
  crypto: { warm: CryptoCounts; rounds: CryptoCounts };
  probes: number;
  distinctEtags: number;
  distinctSignatures: number;
  kid: string;
}

type CryptoCounts = { sign: number; digest: number; importKey: number; generateKey: number };

const root = fileURLToPath(new URL('..', import.meta.url));
const MOUNT = '/agent';
const CARD_PATH = `${MOUNT}/.well-known/agent-card.json`;
const STATIC_PATH = '/static';
const HEADERS = { 'a2a-version': '1.0', accept: 'application/json' };
const CRYPTO_LINE = 'bench-a2a-crypto ';

/** Counts crypto.subtle calls in the gateway process; prints them on SIGUSR2 (one line on stderr). Plain JS. */
const HOOK = `const s = globalThis.crypto.subtle; const n = { sign: 0, digest: 0, importKey: 0, generateKey: 0 };
for (const k of Object.keys(n)) { const f = s[k]; s[k] = function (...a) { n[k]++; return f.apply(s, a); }; }
process.on('SIGUSR2', () => process.stderr.write(${JSON.stringify(CRYPTO_LINE)} + JSON.stringify(n) + '\\n'));`;

/** The upstream's card: A2A 1.0 shape, interface URLs below the upstream base (the gateway moves them onto itself). */
function upstreamCard(base: string) {
  const skill = (id: string, name: string, description: string, tags: string[], examples: string[], extra: Record<string, unknown> = {}) => ({ id, name, description, tags, examples, ...extra });
  return {
    name: 'Acme travel concierge',
    description: 'Plans and books business trips: flights, hotels and ground transport within the travel policy of the caller\'s organisation, and keeps itineraries up to date when plans change.',
    version: '2.4.1',
    provider: { organization: 'Acme Corp', url: 'https://acme.example.com' },
    documentationUrl: 'https://docs.acme.example.com/agents/travel-concierge',
    iconUrl: 'https://acme.example.com/static/agents/travel-concierge.png',
    supportedInterfaces: [
      { url: `${base}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: `${base}/rest`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
      { url: `${base}/jsonrpc`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      { url: 'grpc.acme.example.com:443', protocolBinding: 'GRPC', protocolVersion: '1.0' },
    ],
    capabilities: { streaming: true, pushNotifications: true, extendedAgentCard: true },
    securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', bearerFormat: 'JWT', description: 'Internal service token.' } } },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ['text/plain', 'application/json'],
    defaultOutputModes: ['text/plain', 'application/json'],
    skills: [
      skill('search-flights', 'Search flights', 'Finds flights between two airports on given dates, filtered by the travel policy (cabin class, fare caps, preferred carriers).', ['travel', 'flights', 'search'], ['Flights from SFO to JFK next Tuesday morning', 'Cheapest refundable fare LHR-CDG on 3 March']),
      skill('book-flight', 'Book flight', 'Books a flight offer returned by search-flights for the named traveller, charging the corporate card on file.', ['travel', 'flights', 'booking'], ['Book offer 3 for Dana Lee']),
      skill('search-hotels', 'Search hotels', 'Finds hotels near an address or venue with negotiated corporate rates, within the nightly cap of the destination city.', ['travel', 'hotels', 'search'], ['Hotels within 1 km of Moscone Center, 12-15 May']),
      skill('book-hotel', 'Book hotel', 'Books a hotel offer returned by search-hotels; sends the confirmation to the traveller and the approver.', ['travel', 'hotels', 'booking'], ['Book the second hotel for two nights']),
      skill('itinerary', 'Itinerary', 'Returns the traveller\'s current itinerary as structured data, including confirmation numbers and check-in times.', ['travel', 'itinerary'], ['What is my itinerary for next week?'], { outputModes: ['application/json'] }),
    ],
  };
}

/** The upstream (`--upstream`): the card with an ETag (304 on If-None-Match), the static body, and counters for the bench. */
function runUpstream(): void {
  let port = 0;
  let card = '';
  let cardEtag = '';
  let staticBody = '{}';
  const counts = { ok: 0, notModified: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://upstream');
      if (req.method === 'GET' && url.pathname === STATIC_PATH) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(staticBody) });
        res.end(staticBody);
      } else if (req.method === 'GET' && url.pathname === CARD_PATH) {
        if (req.headers['if-none-match'] === cardEtag) {
          counts.notModified++;
          res.writeHead(304, { etag: cardEtag });
          res.end();
        } else {
          counts.ok++;
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(card), etag: cardEtag });
          res.end(card);
        }
      } else if (req.method === 'POST' && url.pathname === '/__bench/static') {
        // A JSON document of exactly `bytes` bytes.
        const bytes = Number(url.searchParams.get('bytes'));
        const shell = JSON.stringify({ kind: 'static', pad: '' });
        staticBody = JSON.stringify({ kind: 'static', pad: 'x'.repeat(Math.max(0, bytes - shell.length)) });
        res.writeHead(204).end();
      } else if (req.method === 'GET' && url.pathname === '/__bench/stats') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    port = (server.address() as AddressInfo).port;
    card = JSON.stringify(upstreamCard(`http://127.0.0.1:${port}${MOUNT}`));
    cardEtag = `"card-v1-${Buffer.byteLength(card)}"`;
    console.error(`a2a bench upstream listening on ${port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A child whose stderr is kept whole (the gateway's crypto counts arrive on it later). */
interface Child { process: ChildProcess; stderr: () => string; waitFor(pattern: RegExp, from: number): Promise<RegExpMatchArray> }

function start(argv: string[], ready: RegExp): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    /** Each returns true once satisfied (then dropped). */
    const waiters = new Set<() => boolean>();
    const waitFor = (pattern: RegExp, from: number) =>
      new Promise<RegExpMatchArray>((ok, no) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          no(new Error(`${argv.join(' ')}: no ${pattern} on stderr: ${err.slice(-2000)}`));
        }, 10_000);
        const check = () => {
          const found = err.slice(from).match(pattern);
          if (!found) return false;
          clearTimeout(timer);
          ok(found);
          return true;
        };
        if (!check()) waiters.add(check);
      });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk;
      for (const w of [...waiters]) if (w()) waiters.delete(w);
    });
    const handle: Child = { process: child, stderr: () => err, waitFor };
    const onExit = (code: number | null) => reject(new Error(`${argv.join(' ')} exited with ${code}: ${err}`));
    child.once('exit', onExit);
    waitFor(ready, 0).then(() => resolve(handle), (error: unknown) => {
      child.kill('SIGTERM');
      reject(error);
    });
  });
}

async function stop(child: Child | undefined): Promise<void> {
  if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function cryptoCounts(gateway: Child): Promise<CryptoCounts> {
  const from = gateway.stderr().length;
  gateway.process.kill('SIGUSR2');
  const found = await gateway.waitFor(new RegExp(`${CRYPTO_LINE}(\\{[^\\n]*\\})\\n`), from);
  return JSON.parse(found[1]!) as CryptoCounts;
}

const minus = (a: CryptoCounts, b: CryptoCounts): CryptoCounts => ({ sign: a.sign - b.sign, digest: a.digest - b.digest, importKey: a.importKey - b.importKey, generateKey: a.generateKey - b.generateKey });

async function load(url: string, seconds: number, connections: number): Promise<Round> {
  const result = await autocannon({ url, connections, duration: seconds, method: 'GET', headers: HEADERS });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.total / result.duration, total: result.requests.total, seconds: result.duration, p50: result.latency.p50, p99: result.latency.p99 };
}

export async function measureA2aCard(options: A2aCardOptions = {}): Promise<A2aCardResult> {
  const duration = options.duration ?? 5;
  const rounds = options.rounds ?? 3;
  const connections = options.connections ?? 32;
  const maxAgeSeconds = options.maxAgeSeconds ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-a2a-bench-'));
  let upstream: Child | undefined;
  let gateway: Child | undefined;
  const stopBoth = () => {
    upstream?.process.kill('SIGTERM');
    gateway?.process.kill('SIGTERM');
  };
  process.once('exit', stopBoth);
  try {
    upstream = await start([fileURLToPath(import.meta.url), '--upstream'], /a2a bench upstream listening on (\d+)/);
    const upstreamPort = Number(upstream.stderr().match(/listening on (\d+)/)![1]);
    const up = `http://127.0.0.1:${upstreamPort}`;
    const gatewayPort = await freePort();
    const gw = `http://127.0.0.1:${gatewayPort}`;
    const issuerKey = await generateDevIssuerKey();
    const configPath = join(dir, 'a2a-bench.json');
    writeFileSync(configPath, JSON.stringify({
      publicUrl: gw,
      trustDomains: { [DEV_TRUST_DOMAIN_ID]: { jwks: devJwks([issuerKey]) } },
      routes: [
        { path: MOUNT, protocol: 'a2a', upstream: `${up}${MOUNT}`, auth: { wit: { trustDomains: [DEV_TRUST_DOMAIN_ID] } }, a2a: { card: { maxAgeSeconds } } },
        { path: STATIC_PATH, protocol: 'http', upstream: `${up}${STATIC_PATH}`, public: true },
      ],
    }));
    gateway = await start(['--import', `data:text/javascript,${encodeURIComponent(HOOK)}`, 'src/cli/main.ts', 'serve', '--config', configPath, '--port', String(gatewayPort)], /portcullis listening/);

    // The first card request fetches and signs; its size sets the static body's.
    const probes: { etag: string; signature: string; kid: string }[] = [];
    const probe = async () => {
      const res = await fetch(gw + CARD_PATH, { headers: HEADERS });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`card probe: ${res.status} ${text.slice(0, 300)}`);
      const card = JSON.parse(text) as { signatures?: { protected: string; signature: string }[] };
      const sig = card.signatures?.[0];
      if (!sig) throw new Error('card probe: the served card is not signed');
      const header = JSON.parse(Buffer.from(sig.protected, 'base64url').toString('utf8')) as { kid: string };
      probes.push({ etag: res.headers.get('etag') ?? '', signature: sig.signature, kid: header.kid });
      return Buffer.byteLength(text);
    };
    const firstFetchAt = performance.now();
    const cardBytes = await probe();
    await fetch(`${up}/__bench/static?bytes=${cardBytes}`, { method: 'POST' });
    const staticRes = await fetch(gw + STATIC_PATH, { headers: HEADERS });
    const staticBytes = Buffer.byteLength(await staticRes.text());
    if (staticRes.status !== 200) throw new Error(`static route: ${staticRes.status}`);

    await load(gw + CARD_PATH, 2, connections); // warm-up: JIT, connection pools
    await load(gw + STATIC_PATH, 2, connections);
    await load(gw + '/healthz', 2, connections);
    const warm = await cryptoCounts(gateway);
    const card: Round[] = [];
    const stat: Round[] = [];
    const health: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      // ABBA: neither kind always runs first; the /healthz reference runs between them.
      if (i % 2 === 0) {
        card.push(await load(gw + CARD_PATH, duration, connections));
        health.push(await load(gw + '/healthz', duration, connections));
        stat.push(await load(gw + STATIC_PATH, duration, connections));
      } else {
        stat.push(await load(gw + STATIC_PATH, duration, connections));
        health.push(await load(gw + '/healthz', duration, connections));
        card.push(await load(gw + CARD_PATH, duration, connections));
      }
      await probe();
    }
    const loadSeconds = (performance.now() - firstFetchAt) / 1000;
    const after = await cryptoCounts(gateway);
    const fetches = (await (await fetch(`${up}/__bench/stats`)).json()) as { ok: number; notModified: number };

    const pooled = (rs: Round[]) => rs.reduce((a, r) => a + r.total, 0) / rs.reduce((a, r) => a + r.seconds, 0);
    const perRound = card.map((c, i) => c.rps / stat[i]!.rps);
    return {
      duration, rounds, connections, maxAgeSeconds, cardBytes, staticBytes,
      card, static: stat, health,
      ratio: pooled(card) / pooled(stat),
      healthRatio: pooled(card) / pooled(health),
      ratioMin: Math.min(...perRound),
      ratioMax: Math.max(...perRound),
      cardRequests: card.reduce((a, r) => a + r.total, 0),
      loadSeconds,
      fetches,
      crypto: { warm, rounds: minus(after, warm) },
      probes: probes.length,
      distinctEtags: new Set(probes.map((p) => p.etag)).size,
      distinctSignatures: new Set(probes.map((p) => p.signature)).size,
      kid: probes[0]!.kid,
    };
  } finally {
    process.removeListener('exit', stopBoth);
    await stop(gateway);
    await stop(upstream);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines for bench/RESULTS.md and the console. */
export function a2aCardLines(r: A2aCardResult): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const mean = (rs: Round[], f: (r: Round) => number) => rs.reduce((a, x) => a + f(x), 0) / rs.length;
  const fetched = r.fetches.ok + r.fetches.notModified;
  const periods = Math.floor(r.loadSeconds / r.maxAgeSeconds) + 1;
  return [
    `- A2A Agent Card from the gateway's cache (GET ${CARD_PATH}, A2A-Version: 1.0; ${r.cardBytes}-byte ES256-signed card) vs a static JSON route (same gateway, public http route proxying a node:http upstream's fixed ${r.staticBytes}-byte JSON body), Node entry, ${r.connections} connections, ${r.rounds} alternating round${r.rounds === 1 ? '' : 's'} of ${r.duration} s each: card ${Math.round(mean(r.card, (x) => x.rps))} req/s (p50 ${mean(r.card, (x) => x.p50).toFixed(1)} ms, p99 ${mean(r.card, (x) => x.p99).toFixed(1)} ms) vs static ${Math.round(mean(r.static, (x) => x.rps))} req/s (p50 ${mean(r.static, (x) => x.p50).toFixed(1)} ms, p99 ${mean(r.static, (x) => x.p99).toFixed(1)} ms) = **${pct(r.ratio)}** pooled (per round ${pct(r.ratioMin)}-${pct(r.ratioMax)}): ${r.ratio >= 0.8 ? 'PASS' : 'FAIL'} (target >= 80%)`,
    `  - for reference, against the gateway's own /healthz (15 bytes, no upstream, no audit line; same rounds): card / healthz = ${pct(r.healthRatio)} pooled (healthz ${Math.round(mean(r.health, (x) => x.rps))} req/s): the card costs its ${r.cardBytes} bytes on the socket and an audit event per request`,
    `  - not per request: ${fetched} upstream card fetch${fetched === 1 ? '' : 'es'} (${r.fetches.ok} x 200, ${r.fetches.notModified} x 304 revalidation) in ${r.loadSeconds.toFixed(0)} s with maxAgeSeconds ${r.maxAgeSeconds} (at most ${periods} if once per maxAge) for ${r.cardRequests} cards served in the rounds; crypto.subtle.sign calls counted in the gateway process: ${r.crypto.warm.sign} up to the end of warm-up, **${r.crypto.rounds.sign} during the rounds** (${r.crypto.rounds.digest} digests, ${r.crypto.rounds.importKey} key imports); ${r.probes} probes between rounds saw ${r.distinctEtags} ETag and ${r.distinctSignatures} signature value (randomised ECDSA: a re-signed card would differ), kid ${r.kid.slice(0, 12)}...`,
  ];
}

const main = import.meta.url === `file://${process.argv[1]}`;
if (main && process.argv.includes('--upstream')) {
  runUpstream();
} else if (main) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number, min: number, max: number) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const value = Number(args[i + 1]);
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name}: an integer from ${min} to ${max}`);
    return value;
  };
  const options = { duration: option('duration', 5, 1, 60), rounds: option('rounds', 3, 1, 10), connections: option('connections', 32, 1, 256), maxAgeSeconds: option('max-age', 5, 1, 900) };
  const lines = a2aCardLines(await measureA2aCard(options));
  const section = [
    `### ${new Date().toISOString()}: A2A Agent Card serving, Node ${process.version}, ${cpus().length} cores`,
    '',
    `Command: \`node bench/a2a-card.ts --duration ${options.duration} --rounds ${options.rounds} --connections ${options.connections} --max-age ${options.maxAgeSeconds}\``,
    '',
    ...lines,
    '',
  ];
  console.log(section.join('\n'));
  if (!args.includes('--no-append')) appendFileSync(join(root, 'bench/RESULTS.md'), `\n${section.join('\n')}`);
}
