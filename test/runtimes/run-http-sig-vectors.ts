/**
 * Entry for Deno and Bun (spawned by test/unit/runtimes.test.ts): runs the RFC 9421 vector check on this runtime
 * and prints `{ "runtime", "checks", "failures" }` as one JSON line.
 */
import { checkHttpSigVectors } from './http-sig-vectors.ts';

const runtime = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
console.log(JSON.stringify({ runtime, ...(await checkHttpSigVectors()) }));
