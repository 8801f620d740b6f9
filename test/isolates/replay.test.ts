/**
 * WPT replay protection across isolates (Workers). One workerd (Miniflare) runs the bundled Workers entry as
 * two gateway Workers, A and B, that share one PortcullisState Durable Object namespace: A defines the class,
 * B binds to it by scriptName. Same WIT, same WPT, many requests at once through both: exactly one may pass.
 *
 * Why not the `workers` project: @cloudflare/vitest-plugin runs the tests inside one Worker, so it cannot put
 * two gateway isolates side by side. Why a bundle: workerd runs JavaScript, so `wrangler deploy --dry-run`
 * builds the same code a deployment would ship.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OFFLINE_ENV } from '../../scripts/runtimes.ts';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { mintWit, mintWpt } from '../wimse.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PUBLIC = 'https://gateway.example';
const TD = 'spiffe://isolates.test';
const AUD = `${PUBLIC}/api`;

/**
 * Each gateway Worker's main module: the real entry, wrapped so the test can see which isolate served it (src/
 * stays free of test hooks). The counter and id are module-level, like the gateway's per-isolate WIT hot cache:
 * shared by everything in one isolate and by nothing outside it. Different ids therefore show that no memory is
 * shared, so the Durable Object is the only thing that can make a proof single-use. The id is made on first use
 * because workerd forbids randomness at startup.
 */
const PROBE = `import gateway from './workers.js';
export { PortcullisState } from './workers.js';
let isolate;
let served = 0;
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === '/__isolate') return Response.json({ isolate: (isolate ??= crypto.randomUUID()), served });
    served++;
    return gateway.fetch(request, env, ctx);
  },
};`;

let dir: string;
let mf: Miniflare | undefined;
let issuer: TestKey;
let workload: TestKey;
type Gateway = Awaited<ReturnType<Miniflare['getWorker']>>;
let a: Gateway;
let b: Gateway;
/** A third gateway with its own namespace (the control: a store not shared must let a replay through). */
let c: Gateway;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-isolates-'));
  [issuer, workload] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', dir], {
    cwd: ROOT, env: { ...process.env, ...OFFLINE_ENV },
  });
  const bundle = readdirSync(dir).find((f) => f.endsWith('.js'));
  if (!bundle) throw new Error(`wrangler wrote no .js bundle to ${dir}`);

  const { kty, crv, x, y } = issuer.publicJwk;
  const config = JSON.stringify({
    publicUrl: PUBLIC,
    audit: { sink: 'none' },
    trustDomains: { [TD]: { jwks: { keys: [{ kty, crv, x, y, kid: 'k1' }] } } },
    routes: [{ path: '/api', protocol: 'http', upstream: { service: 'UPSTREAM' }, auth: { wit: { trustDomains: [TD] } } }],
  });
  // Compatibility settings as in wrangler.toml. A and C define the class; B uses A's (one shared namespace).
  const gateway = (name: string, scriptName?: string) => ({
    name,
    compatibilityDate: '2026-11-02',
    compatibilityFlags: ['nodejs_compat', 'enable_request_signal'],
    modulesRoot: dir,
    modules: [
      { type: 'ESModule' as const, path: join(dir, 'probe.js'), contents: PROBE.replaceAll('./workers.js', `./${bundle}`) },
      { type: 'ESModule' as const, path: join(dir, bundle) },
    ],
    bindings: { PORTCULLIS_CONFIG: config },
    durableObjects: { PORTCULLIS_STATE: { className: 'PortcullisState', useSQLite: true, ...(scriptName ? { scriptName } : {}) } },
    serviceBindings: { UPSTREAM: 'upstream' },
  });
  // The v4 option shape (as @cloudflare/vitest-plugin uses); converting also keeps the dev registry off.
  mf = new Miniflare(convertV4MiniflareOptions({
    workers: [
      gateway('gateway-a'),
      gateway('gateway-b', 'gateway-a'),
      gateway('gateway-c'),
      { name: 'upstream', modules: true, compatibilityDate: '2026-11-02', script: 'export default { fetch: () => new Response("upstream ok") };' },
    ],
  }));
  [a, b, c] = await Promise.all([mf.getWorker('gateway-a'), mf.getWorker('gateway-b'), mf.getWorker('gateway-c')]);
}, 60_000);

afterAll(async () => {
  await mf?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function credentials(jti?: string): Promise<Record<string, string>> {
  const wit = await mintWit({ sub: `${TD}/ns/test/sa/agent`, workload, issuer });
  return proofHeaders(wit, jti);
}

async function proofHeaders(wit: string, jti?: string): Promise<Record<string, string>> {
  const wpt = await mintWpt({ wit, workload, aud: AUD, ...(jti ? { claims: { jti } } : {}) });
  return { 'workload-identity-token': wit, authorization: `WPT ${wpt}` };
}

async function call(gateway: Gateway, headers: Record<string, string>): Promise<{ status: number; code?: string; challenge: string | null }> {
  const response = await gateway.fetch(`${PUBLIC}/api/tool`, { method: 'POST', body: '{}', headers });
  const text = await response.text();
  // Anything but a problem+json body (a crash, a runtime error page) shows up as its text instead of a code.
  const code = response.status === 200 ? undefined : (text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : text.slice(0, 200));
  return { status: response.status, ...(code ? { code } : {}), challenge: response.headers.get('www-authenticate') };
}

async function isolate(gateway: Gateway): Promise<{ isolate: string; served: number }> {
  return (await (await gateway.fetch('http://probe/__isolate')).json()) as { isolate: string; served: number };
}

describe('WPT replay across two workerd isolates sharing one Durable Object namespace', () => {
  it('the same WIT + WPT sent 40 times at once, alternating A and B, is accepted exactly once', async () => {
    const headers = await credentials();
    const [beforeA, beforeB] = await Promise.all([isolate(a), isolate(b)]);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => call(i % 2 ? b : a, headers)));
    const [afterA, afterB] = await Promise.all([isolate(a), isolate(b)]);

    expect(results.filter((r) => r.status === 200), results.map((r) => r.code ?? r.status).join(' ')).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expect(r).toEqual({ status: 401, code: 'ERR_WPT_REPLAYED', challenge: 'WPT' });
    // Both isolates took part in the race: 20 requests each, counted by each isolate's own module state.
    expect(afterA.isolate).not.toBe(afterB.isolate);
    expect([afterA.served - beforeA.served, afterB.served - beforeB.served]).toEqual([20, 20]);
  });

  it('distinct WPTs (one WIT, different jti) through both isolates at once are all accepted', async () => {
    const wit = await mintWit({ sub: `${TD}/ns/test/sa/agent`, workload, issuer });
    const results = await Promise.all(Array.from({ length: 20 }, async (_, i) => call(i % 2 ? b : a, await proofHeaders(wit))));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
  });

  it('control: the isolates share nothing but the namespace, so a gateway with its own namespace accepts a replay', async () => {
    const headers = await credentials('control-jti');
    expect((await call(a, headers)).status).toBe(200);
    expect(await call(b, headers)).toEqual({ status: 401, code: 'ERR_WPT_REPLAYED', challenge: 'WPT' });
    // C runs the same bundle with the same config but binds its own PortcullisState class: it has never seen the jti.
    expect((await call(c, headers)).status).toBe(200);
    const ids = await Promise.all([a, b, c].map(isolate));
    expect(new Set(ids.map((i) => i.isolate)).size).toBe(3);
  });
});
