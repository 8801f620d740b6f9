/**
 * The RFC 9421 Appendix B examples inside workerd: the same Web-API-only check that test/unit/runtimes.test.ts
 * runs on Node, Deno and Bun (test/runtimes/http-sig-vectors.ts).
 */
import { expect, it } from 'vitest';
import { checkHttpSigVectors } from '../runtimes/http-sig-vectors.ts';

it('every RFC 9421 Appendix B base and signature checks out in workerd', async () => {
  const result = await checkHttpSigVectors();
  expect(result.failures).toEqual([]);
  expect(result.checks).toBeGreaterThanOrEqual(20);
});
