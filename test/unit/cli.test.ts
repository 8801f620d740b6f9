import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'portcullis-cli-'));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('portcullis CLI', { timeout: 20_000 }, () => {
  it('config check accepts a valid file', async () => {
    const path = file('ok.json', { publicUrl: 'http://127.0.0.1:8787', routes: [{ path: '/a', protocol: 'http', upstream: 'http://127.0.0.1:1/', public: true }] });
    const { code, stdout } = await run(['config', 'check', path]);
    expect(code).toBe(0);
    expect(stdout).toContain('ok (1 route)');
  });

  it('config check lists every problem by path and exits 1, without a stack trace', async () => {
    const path = file('bad.json', { publicUrl: 'http://127.0.0.1:8787', surprise: true, routes: [{ path: '/a', protocol: 'http', upstream: 'gopher://x' }] });
    const { code, stderr } = await run(['config', 'check', path]);
    expect(code).toBe(1);
    expect(stderr).toContain('3 problems');
    expect(stderr).toContain('- surprise: unknown key');
    expect(stderr).toContain('- routes[0].upstream: must use http or https');
    expect(stderr).toContain('- routes[0].auth: required');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('serve refuses an invalid config at startup, listing the problems', async () => {
    const path = file('serve-bad.json', { publicUrl: 'http://127.0.0.1:8787', routes: [{ path: '/a/', protocol: 'http', upstream: 'http://x/', public: true }] });
    const { code, stderr } = await run(['serve', '--config', path, '--port', '0']);
    expect(code).toBe(1);
    expect(stderr).toContain('routes[0].path: must be "/" or "/segment[/segment...]"');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('prints usage and exits 2 for an unknown command', async () => {
    const { code, stderr } = await run(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain('usage:');
  });

  it('config schema prints the JSON Schema', async () => {
    const { code, stdout } = await run(['config', 'schema']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ type: 'object', additionalProperties: false, required: expect.arrayContaining(['publicUrl', 'routes']) });
  });
});
