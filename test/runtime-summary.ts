/**
 * A vitest reporter that ends the run with one line per project:
 *   <project>: <passed> passed, <failed> failed, <skipped> skipped
 * so the conformance results per runtime (conformance:node, conformance:workerd, ...) read at a glance.
 * A test file that failed before running any test (a load or setup error) counts as one failure, so a
 * project whose setup broke never reads "0 failed".
 */
import type { Reporter, TestModule } from 'vitest/node';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export default class RuntimeSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const byProject = new Map<string, Counts>();
    for (const module of testModules) {
      const name = module.project.name || '(default)';
      const counts = byProject.get(name) ?? { passed: 0, failed: 0, skipped: 0 };
      byProject.set(name, counts);
      let tests = 0;
      for (const test of module.children.allTests()) {
        tests++;
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') counts.failed++;
        else if (state === 'skipped') counts.skipped++;
      }
      if (tests === 0 && module.state() === 'failed') counts.failed++;
    }
    if (byProject.size === 0) return;
    const lines = [...byProject.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => `${name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }
}
