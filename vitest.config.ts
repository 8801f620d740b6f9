import { defineConfig } from 'vitest/config';
import { workersProject } from './test/workers/project.ts';

/**
 * One `vitest run` covers every project; test/runtime-summary.ts prints pass/fail counts per project.
 * - unit: pure modules and the gateway app in-process (Node).
 * - workers: inside workerd via @cloudflare/vitest-plugin (Durable Object state, the Workers entry).
 * - isolates: Node driving Miniflare: two gateway Workers (separate isolates) sharing one Durable Object namespace.
 * - conformance:<runtime>: one HTTP suite against the gateway running on node, workerd, deno and bun.
 * - e2e: the real MCP and A2A SDK clients and servers through the gateway.
 */
export default defineConfig({
  test: {
    reporters: ['default', './test/runtime-summary.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      workersProject,
      { test: { name: 'isolates', include: ['test/isolates/**/*.test.ts'], environment: 'node', testTimeout: 20_000, hookTimeout: 60_000 } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node' } },
      ...(['node', 'workerd', 'deno', 'bun'] as const).map((runtime) => ({
        test: {
          name: `conformance:${runtime}`,
          include: ['test/conformance/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/conformance/global-setup.ts'],
          provide: { conformanceRuntime: runtime },
          testTimeout: 20_000,
          hookTimeout: 90_000,
        },
      })),
    ],
  },
});
