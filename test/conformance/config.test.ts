/** Conformance: an invalid config is refused on every runtime, listing each problem with its path. */
import { describe, expect, it } from 'vitest';
import { INVALID_CONFIG, INVALID_CONFIG_PATHS } from './config.ts';
import { target } from './context.ts';
import { startExpectingRefusal } from './runtimes.ts';

/** A line of a JavaScript stack trace, in V8's (Node, Deno, workerd) or JavaScriptCore's (Bun) format. */
const STACK_LINE = /^\s+at\s|^\s*\S*@\S+:\d+:\d+$/;

describe(`config refusal (${target().runtime})`, () => {
  it('refuses to serve an invalid config and lists every problem with its path, without a stack trace', async () => {
    const { runtime } = target();
    const outcome = await startExpectingRefusal(runtime, INVALID_CONFIG);
    if (outcome.response) {
      // wrangler dev keeps running whatever the Worker does: the Worker must refuse every request instead.
      expect(outcome.response.status, outcome.output).toBeGreaterThanOrEqual(500);
      const text = `${outcome.response.body}\n${outcome.output}`;
      for (const path of INVALID_CONFIG_PATHS) expect(text, text).toContain(path);
      expect(outcome.response.body).not.toMatch(STACK_LINE);
    } else {
      expect(outcome.exitCode, outcome.output).not.toBeNull();
      expect(outcome.exitCode, outcome.output).not.toBe(0);
      for (const path of INVALID_CONFIG_PATHS) expect(outcome.output).toContain(path);
      const frames = outcome.output.split('\n').filter((line) => STACK_LINE.test(line));
      // Runtime difference: workerd appends the location of an uncaught startup error (one `at workers.js:L:C`
      // line) although the Worker drops the stack; every other runtime prints the problems only.
      expect(frames.length, outcome.output).toBeLessThanOrEqual(runtime === 'workerd' ? 1 : 0);
      expect(outcome.output).not.toContain('listening');
    }
  }, 90_000);
});
