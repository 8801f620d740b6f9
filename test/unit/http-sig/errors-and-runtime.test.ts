/**
 * Meta checks on src/http-sig: every error code has a negative test asserting it, and the module stays
 * runtime-neutral (Web APIs only: no `node:` imports, Buffer or process), as it must run on Workers, Deno and Bun.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HTTP_SIG_ERRORS } from '../../../src/http-sig/errors.ts';

const testDir = new URL('./', import.meta.url);
const srcDir = new URL('../../../src/http-sig/', import.meta.url);
const read = (dir: URL, ext: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(ext))
    .map((f) => ({ file: f, text: readFileSync(new URL(f, dir), 'utf8') }));

describe('http-sig error codes', () => {
  const tests = read(testDir, '.test.ts')
    .map((f) => f.text)
    .join('\n');

  it.each(Object.keys(HTTP_SIG_ERRORS))('%s is asserted by a negative test', (code) => {
    expect(tests).toMatch(new RegExp(`expectCode\\([\\s\\S]*?'${code}'\\)`));
  });

  it('every code has a description', () => {
    for (const description of Object.values(HTTP_SIG_ERRORS)) expect(description.length).toBeGreaterThan(20);
  });
});

describe('runtime neutrality', () => {
  it.each(read(srcDir, '.ts').map((f) => [f.file, f.text] as const))('%s uses Web APIs only and opens with a header comment', (_file, text) => {
    expect(text).not.toMatch(/from ['"]node:|require\(|\bBuffer\b|\bprocess\./);
    expect(text.startsWith('/**\n')).toBe(true);
  });
});
