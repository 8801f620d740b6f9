/** Values the conformance global setup hands to the test files through vitest's provide/inject. */
import { inject } from 'vitest';
import type { Runtime } from './runtimes.ts';

export interface ConformanceTarget {
  runtime: Runtime;
  /** Base URL of the gateway under test. */
  gatewayUrl: string;
  /** Base URL of the fixture upstream (tests read its records directly). */
  fixtureUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set per project in vitest.config.ts: which runtime the project's gateway runs on. */
    conformanceRuntime: Runtime;
    /** Set by test/conformance/global-setup.ts once the gateway answers. */
    conformanceTarget: ConformanceTarget;
  }
}

export function target(): ConformanceTarget {
  return inject('conformanceTarget');
}
