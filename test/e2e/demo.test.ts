/**
 * `npm run demo` (scripts/demo.ts) end to end: the command package.json names, run as a child process with the
 * dev issuer in a temporary folder (PORTCULLIS_DEV_DIR), so the repo's .dev/ is never touched.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const devDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-demo-'));
afterAll(() => rmSync(devDir, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }

function runDemo(): Promise<Run> {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.demo;
  const [command, ...args] = (script ?? '').split(' ');
  // `node` in the script is whichever node npm finds; here, the one running the tests.
  expect(command).toBe('node');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, PORTCULLIS_DEV_DIR: devDir }, timeout: 40_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The audit events the demo printed, in order. */
function auditLines(stdout: string): Record<string, unknown>[] {
  return [...stdout.matchAll(/^\s*audit:\s+(\{.*\})$/gm)].map((m) => (JSON.parse(m[1]!) as { audit: Record<string, unknown> }).audit);
}

describe('npm run demo', { timeout: 45_000 }, () => {
  it('authenticates the agent, prints the result and audit line, refuses the replay, and exits 0', async () => {
    const run = await runDemo();
    // stderr may carry runtime warnings (e.g. type stripping on older Node 22); the demo's own errors start with "demo:".
    expect(run.stderr).not.toMatch(/^demo:/m);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('(created now)'); // first use of this dev dir
    expect(run.stdout).toContain('result: "hello from a workload"');
    expect(run.stdout).toContain('HTTP 401, WWW-Authenticate: WPT, code ERR_WPT_REPLAYED');
    expect(run.stdout).toMatch(/^demo passed/m);
    expect(run.stdout).not.toContain('FAIL');
    const [allowed, refused, ...rest] = auditLines(run.stdout);
    expect(rest).toEqual([]);
    expect(allowed).toMatchObject({ decision: 'allow', reason: 'AUTHENTICATED', route: '/mcp', principal: { workloadId: 'spiffe://dev.portcullis.local/agents/demo' } });
    expect(refused).toMatchObject({ decision: 'deny', reason: 'ERR_WPT_REPLAYED', status: 401, route: '/mcp' });
    // Tokens never appear in the output: only their hashes, in the audit lines.
    expect(run.stdout).not.toMatch(/eyJ[\w-]{10,}\.eyJ/);
  });

  it('reuses the dev issuer it created on a second run', async () => {
    const run = await runDemo();
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).not.toContain('(created now)');
    expect(run.stdout).toContain(join(devDir, 'dev-issuer.json'));
  });
});
