/**
 * Conformance: trust domain keys from a `keySource` (src/trust/remote-key-set.ts), over HTTP, on every runtime.
 * The `/keys-url` and `/keys-bundle` trust domains fetch their keys from the fixture, whose published documents
 * the tests change at run time (PUT /__fixture/key-sets/<name>); `/keys-down` and `/keys-dead` point at a source
 * that answers 500 and at a closed port; `/keys-file` reads a file beside the config file (node, deno, bun), and
 * workerd must refuse that config. The tests in a describe block run in order and build on each other's state
 * (what the gateway has loaded and cached); the only wait is one unknown-kid cooldown (1 s).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKey, type TestKey } from '../unit/verify/mint.ts';
import { mintWit, mintWpt } from '../wimse.ts';
import { expectProblem, requestId, recorded, send, type RawResponse } from './client.ts';
import {
  FILE_KID,
  KEY_FILE_CONFIG,
  KEY_FILE_PROBLEM_PATH,
  KEY_SET_BUNDLE,
  KEY_SET_URL,
  KEYS_BUNDLE_TRUST_DOMAIN,
  KEYS_DEAD_TRUST_DOMAIN,
  KEYS_DOWN_TRUST_DOMAIN,
  KEYS_FILE_TRUST_DOMAIN,
  KEYS_URL_COOLDOWN_SECONDS,
  KEYS_URL_TRUST_DOMAIN,
  PUBLIC_URL,
} from './config.ts';
import { target } from './context.ts';
import { importTestKey } from './keys.ts';
import { delay, startExpectingRefusal } from './runtimes.ts';

let workload: TestKey;

beforeAll(async () => {
  workload = await generateKey('ES256');
});

/** A WIT for a workload of `trustDomain`, signed by `issuer` and naming `kid`. */
function wit(trustDomain: string, issuer: TestKey, kid: string): Promise<string> {
  return mintWit({ sub: `${trustDomain}/ns/conformance/sa/agent`, kid, workload, issuer });
}

/** Presents `witToken` with a fresh proof for `mount` (a new jti each time, so a WIT can be presented again). */
async function present(mount: string, witToken: string): Promise<RawResponse> {
  const proof = await mintWpt({ wit: witToken, workload, aud: `${PUBLIC_URL}${mount}` });
  return send(mount, { headers: { 'workload-identity-token': witToken, authorization: `WPT ${proof}` } });
}

/** Public JWK of `key` as published by a key source. */
const published = (key: TestKey, kid: string, extra: Record<string, unknown> = {}) => ({ ...key.publicJwk, kid, ...extra });

/** Publishes `document` on the fixture as key set `name` (what the gateway's keySource.url fetches). */
async function publish(name: string, document: unknown): Promise<void> {
  const response = await fetch(`${target().fixtureUrl}/__fixture/key-sets/${name}`, { method: 'PUT', body: JSON.stringify(document) });
  expect(response.status).toBe(204);
}

/** How often the gateway has fetched key set `name` from the fixture. */
async function fetches(name: string): Promise<number> {
  const response = await fetch(`${target().fixtureUrl}/__fixture/key-sets/${name}/fetches`);
  return ((await response.json()) as { fetches: number }).fetches;
}

async function expectAccepted(mount: string, witToken: string): Promise<void> {
  const res = await present(mount, witToken);
  expect(res.status, res.body).toBe(200);
}

async function expectKeyNotFound(mount: string, witToken: string): Promise<void> {
  expectProblem(await present(mount, witToken), 400, 'ERR_WIT_KEY_NOT_FOUND');
}

describe(`keySource.url, JWK Set (${target().runtime})`, () => {
  const MOUNT = '/keys-url';
  let k1: TestKey;
  let k2: TestKey;
  let unpublished: TestKey;
  /** A WIT signed with k1, accepted (and so cached) by the first test. */
  let witK1: string;
  /** When the gateway last answered a token with an unknown kid, i.e. last forced a refetch (epoch ms). */
  let lastUnknownKid = 0;

  beforeAll(async () => {
    [k1, k2, unpublished] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
    await publish(KEY_SET_URL, { keys: [published(k1, 'k1')] });
  });

  it('loads the set on first use, accepts a WIT signed by a published key, and then serves from memory', async () => {
    witK1 = await wit(KEYS_URL_TRUST_DOMAIN, k1, 'k1');
    const id = requestId('keys-url');
    const proof = await mintWpt({ wit: witK1, workload, aud: `${PUBLIC_URL}${MOUNT}` });
    const res = await send(`${MOUNT}/x`, { headers: { 'workload-identity-token': witK1, authorization: `WPT ${proof}`, 'x-request-id': id } });
    expect(res.status, res.body).toBe(200);
    expect((await recorded(id)).headers['workload-identity-token']).toBeUndefined();
    expect(await fetches(KEY_SET_URL)).toBe(1);
    await expectAccepted(MOUNT, await wit(KEYS_URL_TRUST_DOMAIN, k1, 'k1'));
    expect(await fetches(KEY_SET_URL), 'a known kid is served from memory').toBe(1);
  });

  it('rotation: a key published later verifies at once (refetch on its unknown kid); a kid never published is refused', async () => {
    await publish(KEY_SET_URL, { keys: [published(k1, 'k1'), published(k2, 'k2')] });
    await expectAccepted(MOUNT, await wit(KEYS_URL_TRUST_DOMAIN, k2, 'k2'));
    expect(await fetches(KEY_SET_URL)).toBe(2);
    await expectKeyNotFound(MOUNT, await wit(KEYS_URL_TRUST_DOMAIN, unpublished, 'never-published'));
    lastUnknownKid = Date.now();
    // k1 is still published: the WIT accepted before still verifies (from the cache) with a fresh proof.
    await expectAccepted(MOUNT, witK1);
  });

  it('removal: once the gateway has refetched, a key removed at the source no longer verifies, not even a cached WIT', async () => {
    await publish(KEY_SET_URL, { keys: [published(k2, 'k2')] });
    // The next unknown kid forces a refetch only after the cooldown since the last forced one.
    const wait = lastUnknownKid + KEYS_URL_COOLDOWN_SECONDS * 1000 + 150 - Date.now();
    if (wait > 0) await delay(wait);
    const before = await fetches(KEY_SET_URL);
    await expectKeyNotFound(MOUNT, await wit(KEYS_URL_TRUST_DOMAIN, unpublished, 'also-never-published'));
    expect(await fetches(KEY_SET_URL), 'the unknown kid forced a refetch').toBe(before + 1);
    await expectKeyNotFound(MOUNT, witK1);
    await expectKeyNotFound(MOUNT, await wit(KEYS_URL_TRUST_DOMAIN, k1, 'k1'));
    await expectAccepted(MOUNT, await wit(KEYS_URL_TRUST_DOMAIN, k2, 'k2'));
  });
});

describe(`keySource.url, SPIFFE bundle (${target().runtime})`, () => {
  const MOUNT = '/keys-bundle';
  let witKey: TestKey;
  let noUse: TestKey;
  let jwtSvidKey: TestKey;

  beforeAll(async () => {
    [witKey, noUse, jwtSvidKey] = await Promise.all([generateKey('ES256'), generateKey('ES256'), generateKey('ES256')]);
    await publish(KEY_SET_BUNDLE, {
      spiffe_sequence: 1,
      spiffe_refresh_hint: 300,
      keys: [published(witKey, 'b-wit', { use: 'wit-svid' }), published(noUse, 'b-no-use'), published(jwtSvidKey, 'b-jwt', { use: 'jwt-svid' })],
    });
  });

  it('accepts a WIT signed by a bundle key with use wit-svid', async () => {
    await expectAccepted(MOUNT, await wit(KEYS_BUNDLE_TRUST_DOMAIN, witKey, 'b-wit'));
  });

  it('ignores a bundle key without use, and does not verify WITs with a jwt-svid key', async () => {
    await expectKeyNotFound(MOUNT, await wit(KEYS_BUNDLE_TRUST_DOMAIN, noUse, 'b-no-use'));
    await expectKeyNotFound(MOUNT, await wit(KEYS_BUNDLE_TRUST_DOMAIN, jwtSvidKey, 'b-jwt'));
    await expectAccepted(MOUNT, await wit(KEYS_BUNDLE_TRUST_DOMAIN, witKey, 'b-wit'));
  });
});

describe(`keySource.url that fails (${target().runtime})`, () => {
  it('a source answering 500, or a closed port, with no keys ever loaded -> 503 ERR_WIT_KEY_SOURCE_FAILED; the gateway keeps serving', async () => {
    const key = await generateKey('ES256');
    for (const [mount, trustDomain] of [['/keys-down', KEYS_DOWN_TRUST_DOMAIN], ['/keys-dead', KEYS_DEAD_TRUST_DOMAIN]] as const) {
      const token = await wit(trustDomain, key, 'any');
      const res = await present(mount, token);
      expectProblem(res, 503, 'ERR_WIT_KEY_SOURCE_FAILED');
      expect(res.headers['www-authenticate']).toBeUndefined();
      // Within the retry cooldown: still refused, without a crash or a hang.
      expectProblem(await present(mount, token), 503, 'ERR_WIT_KEY_SOURCE_FAILED');
    }
    expect((await send('/healthz')).status).toBe(200);
    expect((await send('/svc/after-key-source-failure')).status).toBe(200);
  });
});

describe(`keySource.file (${target().runtime})`, () => {
  if (target().runtime === 'workerd') {
    it('is refused as a config error on Workers, naming the keySource.file path', async () => {
      // As in config.test.ts: the Worker throws the problems at module load, so wrangler dev fails to start (what
      // it does today); were it to keep serving, every request must get 503 ERR_CONFIG_INVALID instead.
      const outcome = await startExpectingRefusal('workerd', KEY_FILE_CONFIG);
      const text = `${outcome.response?.body ?? ''}\n${outcome.output}`;
      expect(text, text).toContain(`${KEY_FILE_PROBLEM_PATH}: a Worker cannot read files`);
      if (outcome.response) {
        expect(outcome.response.status, text).toBe(503);
        expect(JSON.parse(outcome.response.body), text).toMatchObject({ status: 503, code: 'ERR_CONFIG_INVALID' });
      } else {
        expect(outcome.exitCode, text).not.toBeNull();
        expect(outcome.exitCode, text).not.toBe(0);
      }
    }, 90_000);
  } else {
    it('reads the key set from a file beside the config file', async () => {
      const jwk = target().wimse.file;
      expect(jwk, 'the global setup wrote the key file').toBeDefined();
      const issuer = await importTestKey(jwk!);
      await expectAccepted('/keys-file', await wit(KEYS_FILE_TRUST_DOMAIN, issuer, FILE_KID));
      await expectKeyNotFound('/keys-file', await wit(KEYS_FILE_TRUST_DOMAIN, issuer, 'not-in-the-file'));
    });
  }
});
