/**
 * Per-project global setup of the conformance suite: starts the fixture upstream (Node, in this process)
 * and the gateway on the project's runtime with a config generated for that fixture, waits for /healthz,
 * provides both URLs to the tests, and stops both in teardown (also when startup fails).
 */
import type { TestProject } from 'vitest/node';
import type { ConformanceTarget } from './context.ts';
import { conformanceConfig } from './config.ts';
import { startFixture } from './fixture.ts';
import { deadPort, RUNTIMES, startGateway, type Runtime } from './runtimes.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runtime = runtimeOf(project);
  const fixture = await startFixture();
  let gateway;
  try {
    gateway = await startGateway(runtime, conformanceConfig(fixture.url, await deadPort()));
  } catch (error) {
    await fixture.close();
    throw error;
  }
  const target: ConformanceTarget = { runtime, gatewayUrl: gateway.url, fixtureUrl: fixture.url };
  project.provide('conformanceTarget', target);
  return async () => {
    await gateway.stop();
    await fixture.close();
  };
}

function runtimeOf(project: TestProject): Runtime {
  const provided = project.getProvidedContext().conformanceRuntime as Runtime | undefined;
  const fromName = project.name.split(':')[1] as Runtime | undefined;
  const runtime = provided ?? fromName;
  if (!runtime || !RUNTIMES.includes(runtime)) throw new Error(`conformance: project "${project.name}" names no runtime (${RUNTIMES.join(', ')})`);
  return runtime;
}
