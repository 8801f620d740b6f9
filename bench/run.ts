/**
 * `npm run bench`: a bounded loopback load test of the Node entry on a public route, against two upstreams:
 * - `minimal`: a bare node:http server answering a fixed JSON body. Almost free, so the ratio shows the
 *   gateway's whole cost (its HTTP server, its upstream client, the pipeline): the worst case.
 * - `demo MCP`: the demo MCP server (official SDK, Streamable HTTP) answering `tools/call echo` over SSE:
 *   a real upstream doing real work.
 * Three processes share the machine: the upstream, the gateway (`portcullis serve`, audit JSON lines to
 * /dev/null as with production logging) and autocannon in this process. Direct and gateway rounds alternate
 * so drift on a noisy machine hits both; only ratios from this one run are reported.
 * Also reports the OAuth access token + DPoP cost against its floor (bench/oauth-cost.ts), Txn-Token minting and
 * re-binding (bench/txn-cost.ts), the WIT+WPT verification cost against its Web Crypto floor (bench/auth-cost.ts), the HTTP Message
 * Signature verification cost against its floor and two peer libraries (bench/http-sig.ts), A2A Agent Card serving
 * from the gateway's cache against a static JSON route (bench/a2a-card.ts: a gateway and upstream of its own, same
 * --duration, --rounds and --connections) and the Workers bundle size from `wrangler deploy --dry-run`.
 * Options: --duration SECONDS (per round, default 5), --rounds N (default 2), --connections N (default 32),
 *          --no-append (print only, do not append to bench/RESULTS.md).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import { OFFLINE_ENV } from '../scripts/runtimes.ts';
import { a2aCardLines, measureA2aCard } from './a2a-card.ts';
import { measureAuthCost } from './auth-cost.ts';
import { httpSigCostLines, measureHttpSigCost } from './http-sig.ts';
import { measureOAuthCost, oauthCostLines } from './oauth-cost.ts';
import { measureTxnCost, txnCostLines } from './txn-cost.ts';
import { createWptSigner, devJwks, DEV_TRUST_DOMAIN_ID, generateDevIssuerKey, mintDevWit } from '../src/mint/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string, fallback: number, max: number) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  // Bounded on purpose: this is a loopback test on a shared machine, not a soak test.
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name}: an integer from 1 to ${max}`);
  return value;
};
const duration = option('duration', 5, 60);
const rounds = option('rounds', 2, 10);
const connections = option('connections', 32, 256);
const append = !args.includes('--no-append');

const GATEWAY_PORT = 18932;

interface Scenario {
  name: string;
  port: number;
  start: [string, string[], string];
  path: string;
  headers: Record<string, string>;
  body: string;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'minimal upstream',
    port: 18931,
    start: [process.execPath, ['bench/upstream.ts', '18931'], 'bench upstream listening'],
    path: '/min',
    headers: { 'content-type': 'application/json' },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}',
  },
  {
    name: 'demo MCP server',
    port: 18933,
    start: [process.execPath, ['examples/demo/serve.ts', '--port', '18933'], 'demo upstreams listening'],
    path: '/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}',
  },
];

function start(command: string, argv: string[], readyText: string, stdout: 'ignore' | 'inherit' = 'ignore'): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: root, stdio: ['ignore', stdout, 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')} did not start: ${err}`)), 20_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk;
      if (err.includes(readyText)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}: ${err}`)));
  });
}

interface Sample { rps: number; p50: number; p99: number }

/** `proof`, when given, supplies a fresh `Authorization` value per request (WPTs are single-use). */
async function load(url: string, scenario: Scenario, seconds: number, proof?: () => string): Promise<Sample> {
  const result = await autocannon({
    url, connections, duration: seconds, method: 'POST', body: scenario.body, headers: scenario.headers,
    ...(proof ? { requests: [{ setupRequest: (req: { headers?: Record<string, string> }) => ({ ...req, headers: { ...req.headers, authorization: proof() } }) }] } : {}),
  } as autocannon.Options);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

function mean(samples: Sample[]): Sample {
  const avg = (f: (s: Sample) => number) => samples.reduce((a, s) => a + f(s), 0) / samples.length;
  return { rps: avg((s) => s.rps), p50: avg((s) => s.p50), p99: avg((s) => s.p99) };
}

function bundleSize(): { raw: number; gzip: number } | undefined {
  if (!existsSync(join(root, 'wrangler.toml'))) return undefined;
  const out = mkdtempSync(join(tmpdir(), 'portcullis-bundle-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', out], {
      cwd: root, stdio: 'ignore', env: { ...process.env, ...OFFLINE_ENV },
    });
    const files = readdirSync(out).filter((f) => f.endsWith('.js'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(out, f))));
    return { raw: files.reduce((a, f) => a + statSync(join(out, f)).size, 0), gzip: gzipSync(bytes).length };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const children: ChildProcess[] = [];
const stopAll = () => { for (const child of children) child.kill('SIGTERM'); };
process.on('exit', stopAll);

const row = (name: string, s: Sample) => `| ${name} | ${Math.round(s.rps)} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} |`;

const configDir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
try {
  const configPath = join(configDir, 'bench.json');
  const issuerKey = await generateDevIssuerKey();
  const minimal = SCENARIOS[0]!;
  writeFileSync(configPath, JSON.stringify({
    publicUrl: `http://127.0.0.1:${GATEWAY_PORT}`,
    trustDomains: { [DEV_TRUST_DOMAIN_ID]: { jwks: devJwks([issuerKey]) } },
    routes: [
      ...SCENARIOS.map((s) => ({ path: s.path, protocol: 'mcp', upstream: `http://127.0.0.1:${s.port}${s.path === '/min' ? '/' : s.path}`, public: true })),
      { path: '/min-auth', protocol: 'mcp', upstream: `http://127.0.0.1:${minimal.port}/`, auth: { wit: { trustDomains: [DEV_TRUST_DOMAIN_ID] } } },
    ],
  }));
  children.push(await start(process.execPath, ['src/cli/main.ts', 'serve', '--config', configPath, '--port', String(GATEWAY_PORT)], 'portcullis listening'));

  const table = ['| upstream, target | req/s | p50 ms | p99 ms |', '|---|---|---|---|'];
  const ratios: string[] = [];
  for (const scenario of SCENARIOS) {
    const [command, argv, ready] = scenario.start;
    const upstream = await start(command, argv, ready);
    children.push(upstream);
    const direct = `http://127.0.0.1:${scenario.port}${scenario.path === '/min' ? '/' : scenario.path}`;
    const gateway = `http://127.0.0.1:${GATEWAY_PORT}${scenario.path}`;
    await load(direct, scenario, 2); // warm-up: JIT, connection pools
    await load(gateway, scenario, 2);
    const d: Sample[] = [];
    const g: Sample[] = [];
    for (let i = 0; i < rounds; i++) {
      d.push(await load(direct, scenario, duration));
      g.push(await load(gateway, scenario, duration));
    }
    upstream.kill('SIGTERM');
    const dm = mean(d);
    const gm = mean(g);
    table.push(row(`${scenario.name}, direct`, dm), row(`${scenario.name}, through the gateway`, gm));
    const ratio = gm.rps / dm.rps;
    ratios.push(`- ${scenario.name}: gateway/direct = **${(ratio * 100).toFixed(1)}%** of direct throughput: ${ratio >= 0.7 ? 'PASS' : 'FAIL'} (target >= 70%)`);
  }
  // Public vs WIT+WPT route on the minimal upstream, through the same gateway. Proofs are minted before the
  // rounds (minting is the caller's cost); one WIT for all, as one calling agent would present.
  const { wit, key } = await mintDevWit(issuerKey, `${DEV_TRUST_DOMAIN_ID}/bench`);
  const sign = await createWptSigner(wit, key);
  const pool: string[] = [];
  const poolSize = 6000 * (2 + duration * rounds);
  for (let i = 0; i < poolSize; i++) pool.push(`WPT ${await sign({ audience: `http://127.0.0.1:${GATEWAY_PORT}/min-auth` })}`);
  let nextProof = 0;
  const proof = () => {
    if (nextProof >= pool.length) throw new Error('proof pool exhausted: raise poolSize');
    return pool[nextProof++]!;
  };
  const authScenario = { ...minimal, headers: { ...minimal.headers, 'workload-identity-token': wit } };
  const upstream = await start(...minimal.start);
  children.push(upstream);
  await load(`http://127.0.0.1:${GATEWAY_PORT}/min`, minimal, 2);
  await load(`http://127.0.0.1:${GATEWAY_PORT}/min-auth`, authScenario, 2, proof);
  const pub: Sample[] = [];
  const authed: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    pub.push(await load(`http://127.0.0.1:${GATEWAY_PORT}/min`, minimal, duration));
    authed.push(await load(`http://127.0.0.1:${GATEWAY_PORT}/min-auth`, authScenario, duration, proof));
  }
  upstream.kill('SIGTERM');
  table.push(row('minimal upstream, gateway public route', mean(pub)), row('minimal upstream, gateway WIT+WPT route', mean(authed)));
  ratios.push(`- WIT+WPT route / public route through the gateway: **${((mean(authed).rps / mean(pub).rps) * 100).toFixed(1)}%** of the public route's requests/s`);
  const a2aCard = await measureA2aCard({ duration, rounds, connections });

  const size = bundleSize();
  const auth = await measureAuthCost();
  const httpSig = await measureHttpSigCost();
  const oauth = await measureOAuthCost();
  const txn = await measureTxnCost();

  const lines = [
    `### ${new Date().toISOString()}: Node ${process.version}, ${cpus().length} cores`,
    '',
    `Command: \`npm run bench -- --duration ${duration} --rounds ${rounds} --connections ${connections}\``,
    '',
    ...table,
    '',
    ...ratios,
    `- WIT+WPT verification with warm caches (in-process, Node): ${auth.verifies} verify + ${auth.digests} digest Web Crypto calls per request; adds ${auth.authUs.toFixed(0)} us to a public-route request (${auth.publicUs.toFixed(0)} us); the same raw calls take ${auth.floorUs.toFixed(0)} us: **${auth.ratio.toFixed(2)}x the floor**: ${auth.ratio <= 1.3 ? 'PASS' : 'FAIL'} (target <= 1.3x); the authentication stage alone (its authenticator called directly) takes ${auth.stageUs.toFixed(0)} us, **${auth.stageRatio.toFixed(2)}x the floor**; a naive jose check (two imports, two jwtVerify, one digest, no replay store) takes ${auth.naiveUs.toFixed(0)} us, so the gateway's check costs ${(auth.authUs / auth.naiveUs).toFixed(2)}x the naive one`,
    ...httpSigCostLines(httpSig),
    ...oauthCostLines(oauth),
    ...txnCostLines(txn),
    ...a2aCardLines(a2aCard),
    size ? `- Workers bundle (wrangler deploy --dry-run): ${(size.raw / 1024).toFixed(1)} KiB raw, **${(size.gzip / 1024).toFixed(1)} KiB gzip**: ${size.gzip <= 200 * 1024 ? 'PASS' : 'FAIL'} (target <= 200 KiB)` : '- Workers bundle: wrangler.toml not found, not measured',
    '',
  ];
  console.log(lines.join('\n'));
  if (append) appendFileSync(join(root, 'bench/RESULTS.md'), `\n${lines.join('\n')}`);
} finally {
  stopAll();
  rmSync(configDir, { recursive: true, force: true });
}
