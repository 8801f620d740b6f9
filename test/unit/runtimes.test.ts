/**
 * The RFC 9421 Appendix B examples (test/runtimes/http-sig-vectors.ts) on Node, Deno and Bun: the same Web-API-only
 * check, here in-process and in the other two runtimes as child processes (workerd: test/workers/http-sig-vectors.test.ts). The core must
 * give the same bytes everywhere, so each runtime runs every vector, not a sample.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkHttpSigVectors } from '../runtimes/http-sig-vectors.ts';

const SCRIPT = 'test/runtimes/run-http-sig-vectors.ts';

describe('RFC 9421 Appendix B on every runtime', () => {
  it('node', async () => {
    const result = await checkHttpSigVectors();
    expect(result.failures).toEqual([]);
    expect(result.checks).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ['deno', 'node_modules/.bin/deno', ['run', '--allow-read', '--cached-only', SCRIPT]],
    ['bun', 'node_modules/.bin/bun', ['--no-install', SCRIPT]],
  ] as const)('%s', (runtime, command, args) => {
    const child = spawnSync(command, [...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' } });
    expect(child.status, child.stderr).toBe(0);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { runtime: string; checks: number; failures: string[] };
    expect(result).toMatchObject({ runtime, failures: [] });
    expect(result.checks).toBeGreaterThanOrEqual(20);
  }, 60_000);
});
