/**
 * The `workers` vitest project: test/workers/*.test.ts run inside workerd through @cloudflare/vitest-plugin,
 * with wrangler.toml's Worker (the gateway entry and its Durable Object) as the main Worker. The plugin sits
 * in this project's own `plugins`, so no other project runs in workerd. Runs in Node (vitest config), not in
 * workerd, which is why test/workers/tsconfig.json leaves this file out.
 */
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineProject } from 'vitest/config';
import { UPSTREAM_SCRIPT, WORKERS_TEST_CONFIG } from './fixtures.ts';

export const workersProject = defineProject({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL('../../wrangler.toml', import.meta.url)) },
      miniflare: {
        bindings: { PORTCULLIS_CONFIG: JSON.stringify(WORKERS_TEST_CONFIG) },
        serviceBindings: { UPSTREAM: 'upstream' },
        workers: [{ name: 'upstream', modules: true, script: UPSTREAM_SCRIPT, compatibilityDate: '2026-11-02' }],
      },
    }),
  ],
  // The first request of a file loads the whole gateway module into a fresh isolate (seconds on a loaded 2-core
  // machine): the timeout guards against hangs, not speed.
  test: { name: 'workers', include: ['test/workers/**/*.test.ts'], testTimeout: 20_000 },
});
