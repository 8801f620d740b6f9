/**
 * The WIMSE dev commands of the `portcullis` CLI: mint-wit, dev-jwks, call, explain. Each run gets
 * PORTCULLIS_DEV_DIR pointing at a temporary folder, so the repo's .dev/ is never touched.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDevIssuer, type DevIssuer } from '../../src/cli/dev-issuer.ts';
import { createGateway } from '../../src/gateway/app.ts';
import { mintDevWit } from '../../src/mint/dev-issuer.ts';
import { generateSigningKey, publicJwks } from '../../src/mint/keys.ts';
import { mintWit } from '../../src/mint/wit.ts';
import { mintWpt } from '../../src/mint/wpt.ts';
import { memoryReplayStore } from '../../src/state/memory.ts';
import { verifyWit } from '../../src/verify/wit.ts';
import { verifyWpt } from '../../src/verify/wpt.ts';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'portcullis-cli-wimse-'));
const devDir = join(root, 'dev');

interface Run { code: number; stdout: string; stderr: string }

function run(args: string[], options: { dir?: string; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, PORTCULLIS_DEV_DIR: options.dir ?? devDir }, timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** An `it.for` body: the command exits with `code`, says `message` on stderr, and prints no stack trace. */
async function failsCleanly([args, code, message]: [string[], number, string]): Promise<void> {
  const result = await run(args);
  expect(result.code).toBe(code);
  expect(result.stderr).toContain(message);
  expectNoStack(result);
}

function expectNoStack(result: Run): void {
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

function file(name: string, content: unknown): string {
  const path = join(root, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Keys the way a gateway binds them: the dev trust domain only, by kid. */
function devKeys(jwks: { keys: JWK[] }) {
  return async (trustDomain: string, kid: string | undefined) => (trustDomain === 'dev.portcullis.local' ? jwks.keys.find((k) => k.kid === kid) : undefined);
}

let issuer: DevIssuer;
let firstMint: Run;

beforeAll(async () => {
  firstMint = await run(['mint-wit', 'spiffe://dev.portcullis.local/agents/a', '--ttl', '600']);
  issuer = (await loadDevIssuer({ dir: devDir, create: false })) as DevIssuer;
}, 20_000);

describe('portcullis mint-wit and dev-jwks', { timeout: 20_000 }, () => {
  it('creates the dev issuer on first use in PORTCULLIS_DEV_DIR, mode 0600, and says so', () => {
    expect(firstMint.code).toBe(0);
    expect(firstMint.stderr).toContain('created a dev issuer key');
    expect(issuer.path).toBe(join(devDir, 'dev-issuer.json'));
    if (process.platform !== 'win32') {
      expect(statSync(issuer.path).mode & 0o777).toBe(0o600);
      expect(statSync(devDir).mode & 0o777).toBe(0o700);
    }
  });

  it('refuses a dev issuer key file other users can read', async () => {
    const shared = join(root, 'shared-dev');
    await run(['mint-wit', 'spiffe://dev.portcullis.local/agents/a'], { dir: shared });
    chmodSync(join(shared, 'dev-issuer.json'), 0o644);
    const result = await run(['mint-wit', 'spiffe://dev.portcullis.local/agents/a'], { dir: shared });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is accessible to other users (mode 644); chmod 600 it');
    expect(result.stdout).toBe('');
    expectNoStack(result);
  });

  it('prints only { wit, key }: a WIT that verifies with the dev JWKS and its holder\'s private key, never the issuer key', async () => {
    const printed = JSON.parse(firstMint.stdout) as { wit: string; key: JWK };
    expect(Object.keys(printed).sort()).toEqual(['key', 'wit']);
    expect(printed.key).toMatchObject({ kty: 'EC', alg: 'ES256', d: expect.any(String), kid: expect.any(String) });
    expect(firstMint.stdout).not.toContain(issuer.key.d as string);
    const jwks = JSON.parse((await run(['dev-jwks'])).stdout) as { keys: JWK[] };
    const verified = await verifyWit(printed.wit, { keys: devKeys(jwks), policy: { issuers: ['spiffe://dev.portcullis.local'] }, now: Date.now });
    expect(verified).toMatchObject({ ok: true, value: { subject: { uri: 'spiffe://dev.portcullis.local/agents/a' }, confirmationThumbprint: printed.key.kid } });
    const wit = verified.ok ? verified.value : undefined;
    expect((wit?.expiresAt ?? 0) - (wit?.issuedAt ?? 0)).toBe(600_000);
  });

  it('reuses the issuer on later runs', async () => {
    const again = await run(['mint-wit', 'spiffe://dev.portcullis.local/agents/b']);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    const header = JSON.parse(Buffer.from((JSON.parse(again.stdout) as { wit: string }).wit.split('.')[0] as string, 'base64url').toString()) as { kid: string };
    expect(header.kid).toBe(issuer.key.kid);
  });

  it('two first runs at once agree on one issuer key', async () => {
    const dir = join(root, 'race');
    const results = await Promise.all([run(['mint-wit', 'spiffe://dev.portcullis.local/x'], { dir }), run(['mint-wit', 'spiffe://dev.portcullis.local/y'], { dir }), run(['dev-jwks'], { dir })]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const jwks = JSON.parse((results[2] as Run).stdout) as { keys: JWK[] };
    for (const r of results.slice(0, 2)) {
      const { wit } = JSON.parse(r.stdout) as { wit: string };
      expect((await verifyWit(wit, { keys: devKeys(jwks), now: Date.now })).ok).toBe(true);
    }
  });

  it('dev-jwks prints the public JWKS only', async () => {
    const result = await run(['dev-jwks']);
    expect(result.code).toBe(0);
    const jwks = JSON.parse(result.stdout) as { keys: JWK[] };
    expect(jwks).toEqual({ keys: [{ kty: 'EC', crv: 'P-256', x: issuer.key.x, y: issuer.key.y, alg: 'ES256', kid: issuer.key.kid, use: 'sig' }] });
  });

  it.for([
    [['mint-wit', 'spiffe://prod.example/agent'], 1, 'only mints for spiffe://dev.portcullis.local'],
    [['mint-wit', 'spiffe://dev.portcullis.local/a/../b'], 1, 'not a canonical workload identifier'],
    [['mint-wit', 'spiffe://dev.portcullis.local'], 1, 'trust domain identifier'],
    [['mint-wit', 'spiffe://dev.portcullis.local/a', '--ttl', '90000'], 2, '--ttl: expected whole seconds from 1 to 86400'],
    [['mint-wit'], 2, 'mint-wit: missing argument'],
    [['mint-wit', 'spiffe://dev.portcullis.local/a', '--alg', 'x'], 2, "Unknown option '--alg'"],
    [['dev-jwks', 'extra'], 2, 'unexpected argument'],
  ] as [string[], number, string][])('%j fails with exit %i and a message, no stack', async ([args, code, message], { expect }) => {
    const result = await run(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a damaged issuer file with a message that says what to do', async () => {
    const dir = join(root, 'damaged');
    await run(['dev-jwks'], { dir });
    writeFileSync(join(dir, 'dev-issuer.json'), '{"trustDomain":"spiffe://dev.portcullis.local","keys":[{"kty":"EC"}]}');
    const result = await run(['mint-wit', 'spiffe://dev.portcullis.local/a'], { dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a dev issuer file');
    expect(result.stderr).toContain('delete it to generate a new key');
    expectNoStack(result);
  });
});

describe('portcullis call', { timeout: 20_000 }, () => {
  let server: Server;
  let port: number;
  const seen: { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string; verdict: string }[] = [];

  beforeAll(async () => {
    const jwks = issuer.jwks;
    const replay = memoryReplayStore();
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', async () => {
        const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
        const witToken = String(req.headers['workload-identity-token'] ?? '');
        const authorization = req.headers.authorization ?? '';
        const carriage = authorization.startsWith('WPT ') ? 'authorization' : 'header';
        const proof = carriage === 'authorization' ? authorization.slice(4) : String(req.headers['workload-proof-token'] ?? '');
        const audience = req.headers['x-expect-audience'] ? String(req.headers['x-expect-audience']) : `http://127.0.0.1:${port}${url.pathname}`;
        const wit = await verifyWit(witToken, { keys: devKeys(jwks), now: Date.now });
        const otherTokens = req.headers['x-user-context'] ? { 'x-user-context': String(req.headers['x-user-context']) } : undefined;
        const wpt = wit.ok ? await verifyWpt(proof, { wit: wit.value, witToken, audience, carriage, txnToken: req.headers['txn-token'] as string | undefined, otherTokens, replay, now: Date.now }) : wit;
        const verdict = wpt.ok ? `ok ${wpt.value.subject.uri} ${wpt.value.carriage}` : wpt.code;
        seen.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body, verdict });
        res.writeHead(wpt.ok ? (url.pathname === '/missing' ? 404 : 200) : 401, { 'content-type': 'application/json', 'x-test': 'yes' });
        res.end(JSON.stringify({ verdict }));
      });
    });
    port = await listenInRange(server);
  });

  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('mints a dev WIT for spiffe://dev.portcullis.local/cli and sends it with a -02 proof; prints status, headers and body', async () => {
    const result = await run(['call', `http://127.0.0.1:${port}/mcp?x=1`, '--data', '{"jsonrpc":"2.0","id":1}', '--header', 'Accept: application/json, text/event-stream']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^HTTP 200 OK\n/);
    expect(result.stdout).toContain('\ncontent-type: application/json\n');
    expect(result.stdout).toContain('\nx-test: yes\n');
    expect(result.stdout).toContain('\n\n{"verdict":"ok spiffe://dev.portcullis.local/cli authorization"}');
    expect(result.stderr).toContain('calling as spiffe://dev.portcullis.local/cli');
    const request = seen.at(-1);
    expect(request).toMatchObject({ method: 'POST', path: '/mcp', body: '{"jsonrpc":"2.0","id":1}' });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/json, text/event-stream');
  });

  it('uses a WIT file (-01 carriage, --method, --workload is refused with --wit), binds Txn-Token and context headers', async () => {
    const witFile = file('wit.json', (JSON.parse((await run(['mint-wit', 'spiffe://dev.portcullis.local/agents/filed'])).stdout)));
    const result = await run(['call', `http://127.0.0.1:${port}/a2a`, '--wit', witFile, '--carriage', 'header', '--method', 'PUT', '-H', 'Txn-Token: txn-abc', '-H', 'X-User-Context: ctx', '--context-header', 'x-user-context']);
    expect(result.stdout).toContain('"verdict":"ok spiffe://dev.portcullis.local/agents/filed header"');
    expect(result.code).toBe(0);
    expect(seen.at(-1)?.method).toBe('PUT');
    expect(seen.at(-1)?.headers['workload-proof-token']).toBeDefined();
    const both = await run(['call', `http://127.0.0.1:${port}/a2a`, '--wit', witFile, '--workload', 'spiffe://dev.portcullis.local/x']);
    expect(both.code).toBe(2);
  });

  it('reads the WIT file from stdin with --wit -', async () => {
    const minted = (await run(['mint-wit', 'spiffe://dev.portcullis.local/agents/piped'])).stdout;
    const result = await run(['call', `http://127.0.0.1:${port}/x`, '--wit', '-'], { stdin: minted });
    expect(result.stdout).toContain('ok spiffe://dev.portcullis.local/agents/piped');
  });

  it('--audience sets the proof audience (a request below a gateway mount)', async () => {
    const audience = `http://127.0.0.1:${port}/a2a`;
    const result = await run(['call', `http://127.0.0.1:${port}/a2a/tasks/1`, '--audience', audience, '-H', `X-Expect-Audience: ${audience}`]);
    expect(result.stdout).toContain('"verdict":"ok ');
  });

  it('exits 1 for a status of 400 or more, still printing the response', async () => {
    const result = await run(['call', `http://127.0.0.1:${port}/missing`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^HTTP 404 Not Found\n/);
  });

  it('a proof for the wrong audience is refused by the recipient', async () => {
    const result = await run(['call', `http://127.0.0.1:${port}/a2a/tasks/1`, '--audience', `http://127.0.0.1:${port}/elsewhere`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('ERR_WPT_AUD_MISMATCH');
  });

  it('never sends a proof made for another origin (it could be replayed there)', async () => {
    const result = await run(['call', `http://127.0.0.1:${port}/a2a/tasks/1`, '--audience', 'https://elsewhere.example/a2a']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the proof's aud is for https://elsewhere.example");
    expect(result.stdout).toBe('');
  });

  it.for([
    [['call', 'http://gw.example.org/mcp'], 1, 'refusing to send workload credentials over http to gw.example.org'],
    [['call', 'ftp://127.0.0.1/x'], 1, 'refusing to send workload credentials over ftp'],
    [['call', 'not a url'], 2, 'absolute http(s) URL'],
    [['call', 'http://127.0.0.1:1/x', '--carriage', 'cookie'], 2, '--carriage'],
    [['call', 'http://127.0.0.1:1/x', '--header', 'no colon'], 2, 'Name: value'],
    [['call', 'http://127.0.0.1:1/x', '--wit', '/nonexistent/wit.json'], 1, 'cannot read /nonexistent/wit.json'],
    [['call', 'http://127.0.0.1:1/x', '--workload', 'spiffe://prod.example/a'], 1, 'only mints for'],
  ] as [string[], number, string][])('%j fails with exit %i and a message, no stack', failsCleanly);

  it('reports an unreachable host without a stack', async () => {
    const closed = createServer();
    const freePort = await listenInRange(closed);
    await new Promise<void>((done) => closed.close(() => done()));
    const result = await run(['call', `http://127.0.0.1:${freePort}/x`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot reach http://127.0.0.1:${freePort}`);
    expectNoStack(result);
  });
});

describe('portcullis call --sign httpsig, through a gateway that signs its responses', { timeout: 20_000 }, () => {
  let gatewayServer: Server;
  let upstream: Server;
  let gwPort: number;
  let gw: ReturnType<typeof createGateway>;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ got: body }));
      });
    });
    const upPort = await listenInRange(upstream);
    // A minimal Node front for the in-process gateway (listening first: publicUrl must name the port called).
    gatewayServer = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const response = await gw.fetch(new Request(`http://127.0.0.1:${gwPort}${req.url}`, { method: req.method, headers, ...(body ? { body } : {}) }));
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => { out[k] = v; });
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    });
    gwPort = await listenInRange(gatewayServer);
    const identity = await mintDevWit(issuer.key, 'spiffe://dev.portcullis.local/gateway', { ttlSeconds: 600 });
    const route = (path: string) => ({
      path, protocol: 'http' as const, upstream: `http://127.0.0.1:${upPort}/`,
      auth: { wit: { trustDomains: ['spiffe://dev.portcullis.local'], proofs: ['http-sig' as const] } },
    });
    gw = createGateway(
      {
        publicUrl: `http://127.0.0.1:${gwPort}`,
        trustDomains: { 'spiffe://dev.portcullis.local': { jwks: issuer.jwks as never } },
        identity: { env: 'GW_IDENTITY' },
        routes: [route('/sig')],
        audit: { sink: 'none' },
      },
      { readEnv: () => JSON.stringify({ wit: identity.wit, key: identity.key }) },
    );
  });

  afterAll(async () => {
    await new Promise<void>((done) => gatewayServer.close(() => done()));
    await new Promise<void>((done) => upstream.close(() => done()));
  });

  it('signs the request (body included), requires and verifies the signed response against the dev trust domain', async () => {
    const result = await run(['call', `http://127.0.0.1:${gwPort}/sig/run`, '--sign', 'httpsig', '--sign-response', '--data', '{"n":1}']);
    expect(result.stderr).toContain('with a WIMSE HTTP signature, requiring a signed response');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^HTTP 200 OK\n/);
    expect(result.stdout).toContain('\nworkload-identity-token: ');
    expect(result.stdout).toMatch(/\nsignature-input: sig1=\("@status"/);
    expect(result.stdout).toContain('\n\n{"got":"{\\"n\\":1}"}');
  });

  it('refuses the response when its signer is not trusted (--responder-jwks without the dev keys)', async () => {
    const other = publicJwks([await generateSigningKey('ES256')]);
    const result = await run(['call', `http://127.0.0.1:${gwPort}/sig/run`, '--sign', 'httpsig', '--sign-response', '--responder-jwks', file('other-jwks.json', other)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the response was refused: ERR_WIT_KEY_NOT_FOUND');
    expectNoStack(result);
  });

  it('refuses an unsigned response when one was required (ERR_HTTPSIG_MISSING)', async () => {
    const plain = createServer((_req, res) => res.end('unsigned'));
    const port = await listenInRange(plain);
    try {
      const result = await run(['call', `http://127.0.0.1:${port}/x`, '--sign', 'httpsig', '--sign-response']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the response was refused: ERR_HTTPSIG_MISSING');
    } finally {
      await new Promise<void>((done) => plain.close(() => done()));
    }
  });

  it.for([
    [['call', 'http://127.0.0.1:1/x', '--sign', 'jws'], 2, '--sign is "wpt"'],
    [['call', 'http://127.0.0.1:1/x', '--sign-response'], 2, 'need --sign httpsig'],
    [['call', 'http://127.0.0.1:1/x', '--sign', 'httpsig', '--carriage', 'header'], 2, 'WPT options'],
  ] as [string[], number, string][])('%j fails with exit %i and a message, no stack', failsCleanly);
});

describe('portcullis explain', { timeout: 20_000 }, () => {
  it('decodes a valid dev WIT and says it verifies, without its signature or private keys', async ({ expect }) => {
    const { wit } = await mintDevWit(issuer.key, 'spiffe://dev.portcullis.local/agents/e');
    const result = await run(['explain', wit]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Workload Identity Token (WIT)');
    expect(result.stdout).toContain('"sub": "spiffe://dev.portcullis.local/agents/e"');
    expect(result.stdout).toContain('valid: spiffe://dev.portcullis.local/agents/e');
    expect(result.stdout).toMatch(/exp: \d+ \S+ \(in 60m\)/);
    expect(result.stdout).not.toContain(wit.split('.')[2]);
    expect(result.stdout).not.toContain(issuer.key.d);
  });

  it('names the failing check: expired', async ({ expect }) => {
    const { wit } = await mintDevWit(issuer.key, 'spiffe://dev.portcullis.local/agents/e', { ttlSeconds: 60, now: () => Date.now() - 600_000 });
    const result = await run(['explain', wit]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FAILED ERR_WIT_EXPIRED');
    expect(result.stdout).toMatch(/detail: expired \d+s ago/);
  });

  it('names the failing check: a WIT from another issuer, or another trust domain', async ({ expect }) => {
    const stranger = await generateSigningKey('ES256');
    const foreign = await mintWit({ issuerKey: { ...stranger, kid: issuer.key.kid }, subject: 'spiffe://dev.portcullis.local/agents/e' });
    const bad = await run(['explain', foreign.wit]);
    expect(bad.stdout).toContain('FAILED ERR_WIT_SIGNATURE_INVALID');
    const prod = await mintWit({ issuerKey: stranger, subject: 'spiffe://prod.example/agent' });
    const other = await run(['explain', prod.wit]);
    expect(other.stdout).toContain('FAILED ERR_WIT_KEY_NOT_FOUND');
    expect(other.stdout).toContain('no key for trust domain prod.example');
    // With that trust domain's JWKS it verifies.
    const withJwks = await run(['explain', prod.wit, '--jwks', file('prod-jwks.json', publicJwks([stranger]))]);
    expect(withJwks.code).toBe(0);
    expect(withJwks.stdout).toContain('valid: spiffe://prod.example/agent');
  });

  it('does not display private members a hostile WIT puts in cnf.jwk', async ({ expect }) => {
    const minted = await mintDevWit(issuer.key, 'spiffe://dev.portcullis.local/agents/e');
    const [h, c] = minted.wit.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as { cnf: { jwk: JWK } };
    claims.cnf.jwk.d = minted.key.d;
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${minted.wit.split('.')[2]}`;
    const result = await run(['explain', '-'], { stdin: tampered });
    expect(result.stdout).not.toContain(minted.key.d);
    expect(result.stdout).toContain('(private key members not shown: d)');
    expect(result.code).toBe(1);
  });

  it('shows a WPT\'s claims and expiry state', async ({ expect }) => {
    const minted = await mintDevWit(issuer.key, 'spiffe://dev.portcullis.local/agents/e');
    const wpt = await mintWpt({ ...minted, audience: 'http://127.0.0.1:8787/mcp', txnToken: 'txn' });
    const fresh = await run(['explain', wpt]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('Workload Proof Token (WPT)');
    expect(fresh.stdout).toContain('"aud": "http://127.0.0.1:8787/mcp"');
    expect(fresh.stdout).toContain('"tth"');
    expect(fresh.stdout).toContain('not expired');
    const old = await mintWpt({ ...minted, audience: 'http://127.0.0.1:8787/mcp', now: () => Date.now() - 120_000 });
    const expired = await run(['explain', old]);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toContain('EXPIRED');
  });

  it('without a dev issuer it says so instead of creating one', async ({ expect }) => {
    const dir = join(root, 'empty');
    const { wit } = await mintDevWit(issuer.key, 'spiffe://dev.portcullis.local/agents/e');
    const result = await run(['explain', wit], { dir });
    expect(result.stdout).toContain('no dev issuer key yet');
    expect(result.stdout).toContain('FAILED ERR_WIT_KEY_NOT_FOUND');
    expect(() => readFileSync(join(dir, 'dev-issuer.json'))).toThrow();
  });

  it.for([
    [['explain', 'garbage'], 1, 'not a compact JWT'],
    [['explain'], 2, 'missing argument'],
    [['explain', 'a.b.c', '--jwks', '/nonexistent.json'], 1, 'not a compact JWT'],
  ] as [string[], number, string][])('%j fails with exit %i and a message, no stack', failsCleanly);
});

/** Listens on 127.0.0.1 at a port in 23000-23999 (the range this project's helpers may use). */
async function listenInRange(server: Server): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 23000 + Math.floor(Math.random() * 1000);
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error('no free port in 23000-23999');
}
