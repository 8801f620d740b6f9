/**
 * The dev stack's gateway config, in one place for the launcher (scripts/dev.ts), the demo (scripts/demo.ts)
 * and the end-to-end tests (test/e2e/stack.ts): examples/dev/portcullis.json with
 *   - the dev trust domain's keys filled in: `trustDomains["spiffe://dev.portcullis.local"].jwks` becomes the
 *     public JWKS of the dev issuer kept in the dev dir (`.dev/dev-issuer.json`, generated on first use;
 *     src/cli/dev-issuer.ts);
 *   - the ports swapped in when the stack does not run on the defaults (publicUrl and the upstream URLs).
 * Everything else (routes, `auth.wit`, the trust domain's policy) comes from the file as written.
 *
 * The gateway's own identity (`identity`: it signs responses and authenticates itself to upstreams with it) is a
 * WIT for `identity.workloadId` (DEV_GATEWAY_ID) minted here, at every start, by the same dev issuer, valid for
 * DEV_IDENTITY_TTL_SECONDS (a day, the longest a default verifier accepts: restart the stack to renew it). It is
 * handed to the gateway as the variable the file's `identity.env` names (PORTCULLIS_IDENTITY), one mechanism on
 * every runtime: `env` below, which scripts/runtimes.ts puts in the process environment of node, deno and bun and
 * passes to workerd as a `--var`. It never touches the disk.
 *
 * Why the file keeps a placeholder key instead of leaving the trust domain to this module: the file stays a
 * complete config that `portcullis config check` accepts and that says, in one place, which routes require a
 * WIT + WPT from which trust domain. The placeholder is a public key whose private half was discarded when it
 * was generated, and its `kid` says it is replaced at start, so a gateway started on the file as it is accepts
 * no WIT at all (fail closed) rather than someone's.
 *
 * The dev issuer's keys only ever come from the dev dir: whatever keys the file lists for the dev trust domain
 * are replaced, never merged.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDevIssuer, type DevIssuer } from '../src/cli/dev-issuer.ts';
import { DEV_CLIENTS } from '../examples/demo/authorization-server.ts';
import { ConfigError, parseConfig } from '../src/config/load.ts';
import type { GatewayConfig, GatewayConfigInput } from '../src/config/schema.ts';
import { DEFAULT_WIT_MAX_LIFETIME_SECONDS } from '../src/limits.ts';
import { DEV_TRUST_DOMAIN_ID, mintDevWit } from '../src/mint/dev-issuer.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Relative to the repository root. */
export const DEV_CONFIG = 'examples/dev/portcullis.json';
export const DEV_HOST = '127.0.0.1';
export const DEFAULT_GATEWAY_PORT = 8787;
export const DEFAULT_UPSTREAM_PORT = 8788;
/** The gateway's own workload identifier in the dev trust domain (the file's `identity.workloadId`). */
export const DEV_GATEWAY_ID = `${DEV_TRUST_DOMAIN_ID}/gateway`;
/** Lifetime of the gateway WIT minted at start: a day, the default verifier ceiling (DEFAULT_WIT_MAX_LIFETIME_SECONDS). */
export const DEV_IDENTITY_TTL_SECONDS = DEFAULT_WIT_MAX_LIFETIME_SECONDS;

export interface DevConfigOptions {
  /** The gateway's port (publicUrl). */
  port: number;
  /** The demo upstreams' port. */
  upstreamPort: number;
  /** The dev dir holding the issuer key (created there when missing). */
  devDir: string;
}

export interface DevConfig {
  /** The validated config. */
  config: GatewayConfig;
  /** The same config as the JSON the runtimes read (a file, or workerd's PORTCULLIS_CONFIG variable). */
  json: string;
  /** The dev issuer file and whether this call generated it. */
  issuerPath: string;
  issuerCreated: boolean;
  /** Variables the gateway reads by name (`identity.env` -> the identity document; an introspection client secret). */
  env: Record<string, string>;
  /** The gateway's own identity minted for this start, when the file configures one. */
  identity?: { subject: string; variable: string; expiresAt: number };
}

/** Reads examples/dev/portcullis.json and turns it into the config the dev stack runs; throws ConfigError. */
export async function devGatewayConfig({ port, upstreamPort, devDir }: DevConfigOptions): Promise<DevConfig> {
  const input = JSON.parse(readFileSync(join(ROOT, DEV_CONFIG), 'utf8')) as GatewayConfigInput;
  delete input.$schema; // relative to examples/dev; meaningless wherever the result is written
  input.publicUrl = `http://${DEV_HOST}:${port}`;
  // The demo upstreams also serve the dev authorization server (issuer http://127.0.0.1:<upstream port>/as).
  const onUpstreamPort = (url: string) => url.replace(`//${DEV_HOST}:${DEFAULT_UPSTREAM_PORT}/`, `//${DEV_HOST}:${upstreamPort}/`);
  for (const route of input.routes) {
    if (typeof route.upstream === 'string') route.upstream = onUpstreamPort(route.upstream);
    const oauth = route.auth?.oauth;
    if (oauth) oauth.authorizationServers = oauth.authorizationServers.map(onUpstreamPort);
  }
  if (input.authorizationServers) {
    input.authorizationServers = Object.fromEntries(
      Object.entries(input.authorizationServers).map(([issuer, server]) => [onUpstreamPort(issuer), server.tokenEndpoint === undefined ? server : { ...server, tokenEndpoint: onUpstreamPort(server.tokenEndpoint) }]),
    );
  }
  const service = input.transactionTokens?.service;
  if (service) {
    if (service.authorizationServers) service.authorizationServers = service.authorizationServers.map(onUpstreamPort);
    if (service.subjectAudience !== undefined) service.subjectAudience = onUpstreamPort(service.subjectAudience);
  }
  const trustDomain = input.trustDomains?.[DEV_TRUST_DOMAIN_ID];
  if (trustDomain === undefined) {
    throw new ConfigError([{ path: `trustDomains["${DEV_TRUST_DOMAIN_ID}"]`, message: 'the dev config must define the dev trust domain (its keys are filled in at start)' }], DEV_CONFIG);
  }
  const issuer = (await loadDevIssuer({ dir: devDir })) as DevIssuer;
  trustDomain.jwks = { keys: issuer.jwks.keys as NonNullable<typeof trustDomain.jwks>["keys"] };

  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(result.problems, `${DEV_CONFIG} (with the dev trust domain's keys)`);
  const dev: DevConfig = { config: result.config, json: JSON.stringify(input, null, 2), issuerPath: issuer.path, issuerCreated: issuer.created, env: {} };
  // The dev authorization server's introspection client (examples/demo/authorization-server.ts): its secret reaches
  // the gateway the way a deployment's would, as the variable the config names.
  for (const server of Object.values(result.config.authorizationServers ?? {})) {
    const introspection = server.introspection;
    const client = introspection && Object.hasOwn(DEV_CLIENTS, introspection.clientId) ? DEV_CLIENTS[introspection.clientId] : undefined;
    if (introspection && client) dev.env[introspection.clientSecretEnv] = client.secret;
  }
  const identity = result.config.identity;
  if (identity !== undefined) {
    if (identity.env === undefined) {
      throw new ConfigError([{ path: 'identity', message: 'the dev stack mints the gateway\'s identity and passes it in a variable: use "env", not "file"' }], DEV_CONFIG);
    }
    const subject = identity.workloadId ?? DEV_GATEWAY_ID;
    const minted = await mintDevWit(issuer.key, subject, { ttlSeconds: DEV_IDENTITY_TTL_SECONDS });
    dev.env[identity.env] = JSON.stringify({ wit: minted.wit, key: minted.key });
    dev.identity = { subject, variable: identity.env, expiresAt: minted.expiresAt };
  }
  return dev;
}

/** `path` relative to the working directory when it lies below it, else as it is (for banners). */
export function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
