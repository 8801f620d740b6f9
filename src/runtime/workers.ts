/**
 * Cloudflare Workers entry (wrangler.toml `main`).
 * - Config: the PORTCULLIS_CONFIG variable, a JSON string or a JSON object var. Routes' `upstream.service`
 *   names are looked up in `env` as service bindings; PORTCULLIS_STATE, when bound, holds replay, revocation
 *   and cache state in Durable Objects (durable-state.ts), otherwise state is per isolate (memory).
 * - Startup: when this module loads, the config and the bindings it names are checked through `env` from
 *   cloudflare:workers; any problem is thrown, listed by path, so `wrangler dev` and `wrangler deploy` refuse a
 *   bad config before serving. A request that still meets a bad config (an `env` handed in by an embedder or a
 *   test) gets a 503 problem+json naming no config detail, and the problems are logged once.
 * - The gateway is built on the first request (random ids and I/O are not allowed at startup) and kept for the
 *   isolate, keyed by the config text.
 */
import { env as startupEnv } from 'cloudflare:workers';
import { ConfigError, formatProblems, parseConfig, parseConfigText, type ConfigProblem } from '../config/load.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { createGateway, type Gateway, type ServiceBinding } from '../gateway/app.ts';
import { errorResponse } from '../gateway/errors.ts';
import { MAX_CONFIG_BYTES } from '../limits.ts';
import { memoryState } from '../state/memory.ts';
import type { StatePorts } from '../state/ports.ts';
import { durableObjectState, type PortcullisState } from './durable-state.ts';

// wrangler needs every Durable Object class exported from `main`.
export { PortcullisState } from './durable-state.ts';

export interface WorkersEnv {
  PORTCULLIS_CONFIG?: unknown;
  PORTCULLIS_STATE?: DurableObjectNamespace<PortcullisState>;
  [binding: string]: unknown;
}

type Checked = { ok: true; config: GatewayConfig } | { ok: false; problems: ConfigProblem[] };

interface Prepared {
  source: unknown;
  text: string;
  checked: Checked;
  gateway?: Gateway;
  logged?: boolean;
}

const VAR = 'PORTCULLIS_CONFIG';

/** Validates the config in `env` and the bindings it names; pure, every problem reported with its path. */
export function checkEnv(env: WorkersEnv): Checked {
  const source = env[VAR];
  if (source === undefined || source === null || source === '') {
    return { ok: false, problems: [{ path: '', message: `the variable ${VAR} is not set (wrangler dev --var ${VAR}:<json>, or a var or secret of the deployment)` }] };
  }
  const parsed = typeof source === 'string' ? parseConfigText(source) : parseConfig(source);
  // Bindings are checked on the raw document too, so one run reports schema and binding problems together.
  const problems = [...(parsed.ok ? [] : parsed.problems), ...bindingProblems(typeof source === 'string' ? jsonOrUndefined(source) : source, env)];
  return problems.length || !parsed.ok ? { ok: false, problems } : parsed;
}

function bindingProblems(document: unknown, env: WorkersEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const routes = (document as { routes?: unknown } | null)?.routes;
  if (Array.isArray(routes)) {
    routes.forEach((route: { upstream?: { service?: unknown }; auth?: { wit?: unknown } } | null, i) => {
      // Proofs are single-use only if every isolate consults one replay store: per-isolate memory would let a
      // WPT be replayed against another isolate or data centre (fail closed instead).
      if (route?.auth?.wit !== undefined && env.PORTCULLIS_STATE === undefined) {
        problems.push({ path: `routes[${i}].auth.wit`, message: 'needs the PORTCULLIS_STATE Durable Object binding (the WPT replay store shared by all isolates)' });
      }
      const name = route?.upstream?.service;
      if (typeof name !== 'string') return;
      const binding = env[name] as Partial<ServiceBinding> | null | undefined;
      if (typeof binding?.fetch !== 'function') {
        problems.push({ path: `routes[${i}].upstream.service`, message: `no service binding named "${name}" in this Worker (add it under [[services]])` });
      }
    });
  }
  const domains = (document as { trustDomains?: unknown } | null)?.trustDomains;
  if (typeof domains === 'object' && domains !== null) {
    for (const [origin, td] of Object.entries(domains as Record<string, { keySource?: { file?: unknown } } | null>)) {
      if (td?.keySource?.file !== undefined) problems.push({ path: `trustDomains["${origin}"].keySource.file`, message: 'a Worker cannot read files: use keySource.url or inline jwks' });
    }
  }
  const identity = (document as { identity?: { file?: unknown; env?: unknown } } | null)?.identity;
  if (identity?.file !== undefined) problems.push({ path: 'identity.file', message: 'a Worker cannot read files: use identity.env naming a secret' });
  if (typeof identity?.env === 'string' && typeof env[identity.env] !== 'string') {
    problems.push({ path: 'identity.env', message: `no variable or secret named "${identity.env}" in this Worker (wrangler secret put ${identity.env})` });
  }
  const ns = env.PORTCULLIS_STATE as { idFromName?: unknown } | undefined;
  if (ns !== undefined && typeof ns.idFromName !== 'function') {
    problems.push({ path: '', message: 'the binding PORTCULLIS_STATE is not a Durable Object namespace' });
  }
  return problems;
}

function jsonOrUndefined(text: string): unknown {
  if (text.length > MAX_CONFIG_BYTES) return undefined; // parseConfigText has reported it
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let prepared: Prepared | undefined;

function prepare(env: WorkersEnv): Prepared {
  const source = env[VAR];
  if (prepared && prepared.source === source) return prepared;
  const text = typeof source === 'string' ? source : (JSON.stringify(source) ?? '');
  if (prepared && prepared.text === text) {
    prepared.source = source;
    return prepared;
  }
  const fresh: Prepared = { source, text, checked: checkEnv(env) };
  prepared = fresh;
  return fresh;
}

function stateFor(env: WorkersEnv): StatePorts {
  if (env.PORTCULLIS_STATE) return durableObjectState(env.PORTCULLIS_STATE);
  // Only public or JWT-SVID routes get here (bindingProblems refuses WIT routes without the binding).
  console.warn('portcullis: PORTCULLIS_STATE is not bound; replay and revocation state is per isolate (memory), not shared');
  return memoryState();
}

function gatewayFor(env: WorkersEnv): Gateway | undefined {
  const p = prepare(env);
  if (p.checked.ok && !p.gateway) {
    try {
      const readEnv = (name: string) => (typeof env[name] === 'string' ? (env[name] as string) : undefined);
      p.gateway = createGateway(p.checked.config, { state: stateFor(env), services: env as Record<string, ServiceBinding | undefined>, readEnv });
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems : [{ path: '', message: (error as Error).message }];
      p.checked = { ok: false, problems };
    }
  }
  if (p.gateway) return p.gateway;
  if (!p.logged && !p.checked.ok) {
    p.logged = true;
    console.error(`portcullis: invalid ${VAR}; every request gets 503:\n${formatProblems(p.checked.problems)}`);
  }
  return undefined;
}

export default {
  fetch(request: Request, env: WorkersEnv, ctx: ExecutionContext): Response | Promise<Response> {
    const gateway = gatewayFor(env);
    // Generic on purpose (DESIGN principle 2): the problems are in the log, never on the wire.
    if (!gateway) return errorResponse('ERR_CONFIG_INVALID', crypto.randomUUID());
    // Cloudflare sets CF-Connecting-IP at its edge and overwrites any value a client sends.
    const clientAddress = request.headers.get('cf-connecting-ip');
    return gateway.fetch(request, clientAddress ? { clientAddress } : {}, ctx);
  },
} satisfies ExportedHandler<WorkersEnv>;

// Startup check (see the module comment). The message carries the whole list; the stack would only point here.
// `env` is typed by whoever declares Cloudflare.Env; this module reads it as the loose WorkersEnv.
const startup = prepare(startupEnv as unknown as WorkersEnv).checked;
if (!startup.ok) {
  const error = new ConfigError(startup.problems, VAR);
  error.stack = `${error.name}: ${error.message}`;
  throw error;
}
