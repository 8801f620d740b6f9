/**
 * The dev stack in-process for end-to-end tests (scripts/dev-stack.ts): the demo upstreams and a Node gateway on
 * free ports, running examples/dev/portcullis.json, so /mcp and /a2a require a WIT + WPT from
 * spiffe://dev.portcullis.local. The dev issuer lives in a temporary folder per stack (never the repo's .dev/);
 * `mint(subject)` gives a workload in that trust domain its WIT and key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintDevWitFromDir } from '../../src/cli/dev-issuer.ts';
import type { WorkloadCredentials } from '../../src/client/fetch.ts';
import { startInProcessDevStack, type InProcessDevStack } from '../../scripts/dev-stack.ts';

export interface Stack extends InProcessDevStack {
  /** A fresh WIT (and its private key) for `subject`, from this stack's dev issuer. */
  mint(subject: string): Promise<WorkloadCredentials>;
}

export async function startStack(): Promise<Stack> {
  const devDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-dev-'));
  let stack: InProcessDevStack;
  try {
    stack = await startInProcessDevStack({ devDir });
  } catch (error) {
    rmSync(devDir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...stack,
    mint: async (subject) => {
      const { wit, key } = await mintDevWitFromDir(subject, { dir: devDir, ttlSeconds: 600 });
      return { wit, key };
    },
    close: async () => {
      await stack.close();
      rmSync(devDir, { recursive: true, force: true });
    },
  };
}
