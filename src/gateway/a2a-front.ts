/**
 * The A2A front (protocol "a2a" routes), around the proxy:
 *   - Agent Cards at `<mount>/.well-known/agent-card.json` (and `agent.json`), served by the gateway (a2a-card.ts);
 *   - before forwarding: what the call asks for (protocols/a2a-request.ts: the A2A method by its 1.0 name, the task
 *     id, the push notification URLs, for either binding and protocol version), so that a route can require scopes
 *     per method (auth.oauth.methods) and every push notification URL is checked against the route's allow-list
 *     (a2a.pushNotifications; none configured: every URL refused): the agent, inside the network, would call it;
 *   - after: the authenticated extended card the upstream returns (GetExtendedAgentCard, 0.3
 *     agent/getAuthenticatedExtendedCard) is rewritten and signed like the public card, with only the skills the caller
 *     may use (a2a.skills scopes, then the skill policy port: the authorization stage's hook).
 * Everything else (SSE streams, A2A-Version, A2A-Extensions) passes through the proxy untouched.
 *
 * Does NOT: translate between A2A versions or bindings, scope tasks to their creator (the upstream learns the caller
 * from the Txn-Token), or log push notification credentials (only a URL's origin reaches the audit detail).
 */
import { pushUrlProblem } from '../a2a/push-urls.ts';
import type { A2aRouteConfig } from '../config/a2a.ts';
import type { Principal } from '../identity/principal.ts';
import { readA2aRequest, type A2aRequestInfo } from '../protocols/a2a-request.ts';
import { fail, ok, type Result } from '../result.ts';
import { readCardJson, type AgentCardService } from './a2a-card.ts';
import type { ErrorCode } from './errors.ts';
import type { UpstreamResponse } from './proxy.ts';

/** Decides whether a caller may see one skill of the extended card (after the route's own skill scopes allowed it). */
export type SkillPolicy = (input: { route: string; principal: Principal | undefined; skillId: string }) => boolean | Promise<boolean>;

export interface A2aFront {
  card: AgentCardService;
  /** Reads the call (`body`: the bytes read, or undefined). */
  inspect(request: Request, restPath: string, body: Uint8Array | undefined): Result<A2aRequestInfo | undefined, ErrorCode>;
  /** Why the call may not register its push notification URLs (the audit detail), or undefined when it may. */
  pushProblem(info: A2aRequestInfo): string | undefined;
  /**
   * The caller's view of an upstream answer: the extended card rewritten for `principal`; other answers as they are.
   * `detail`: what the audit event should say (an upstream signature flagged by onInvalid "flag").
   */
  respond(upstream: UpstreamResponse, info: A2aRequestInfo | undefined, principal: Principal | undefined): Promise<Result<{ response: UpstreamResponse; detail?: string }, ErrorCode>>;
}

export function a2aFront(routePath: string, config: A2aRouteConfig, card: AgentCardService, policy: SkillPolicy | undefined): A2aFront {
  const allowed = config.pushNotifications?.allowedUrls;

  const skillFilter = async (skillIds: string[], principal: Principal | undefined): Promise<Set<string>> => {
    const granted = new Set(principal?.user?.scopes ?? []);
    const keep = new Set<string>();
    for (const skillId of skillIds) {
      const needs = config.skills && Object.hasOwn(config.skills, skillId) ? config.skills[skillId]!.scopes : [];
      if (!needs.every((scope) => granted.has(scope))) continue;
      if (policy && !(await policy({ route: routePath, principal, skillId }))) continue;
      keep.add(skillId);
    }
    return keep;
  };

  return {
    card,
    inspect: (request, restPath, body) => readA2aRequest({ method: request.method, headers: request.headers }, restPath, body),
    pushProblem(info) {
      for (const url of info.pushUrls) {
        const problem = pushUrlProblem(url, allowed);
        if (problem) return problem;
      }
      return undefined;
    },
    async respond(upstream, info, principal) {
      if (info?.method !== 'GetExtendedAgentCard' || upstream.status < 200 || upstream.status > 299) return ok({ response: upstream });
      // Any other success shape could carry the unfiltered card past the skill filter.
      if (upstream.status !== 200 || !upstream.body) {
        await upstream.body?.cancel().catch(() => {});
        return fail('ERR_UPSTREAM_INVALID', `extended card answered with ${upstream.status}${upstream.body ? '' : ' and no body'}`);
      }
      const read = await readCardJson(upstream);
      if (!read.ok) return fail(read.code === 'ERR_A2A_CARD_UNAVAILABLE' ? 'ERR_UPSTREAM_INVALID' : read.code, `extended card: ${read.detail}`);
      const json = read.value;
      // JSON-RPC: the card is the result of a success; an error answer goes back as the upstream meant it.
      const rpc = info.binding === 'JSONRPC';
      const envelope = rpc && isObject(json) ? json : undefined;
      if (rpc && (!envelope || !('result' in envelope))) {
        // An error goes back as the upstream meant it, without `data` (where a card could hide from the filter).
        const error = envelope && isObject(envelope.error) ? envelope.error : undefined;
        if (!error) return fail('ERR_UPSTREAM_INVALID', 'extended card answer is neither a JSON-RPC result nor an error');
        return ok({ response: rewritten200(upstream, JSON.stringify({ jsonrpc: '2.0', id: envelope!.id ?? null, error: { code: error.code, message: error.message } })) });
      }
      const upstreamCard = envelope ? envelope.result : json;
      const skills = isObject(upstreamCard) && Array.isArray(upstreamCard.skills) ? upstreamCard.skills : [];
      const ids = skills.map((s) => (isObject(s) && typeof s.id === 'string' ? s.id : '')).filter((id) => id !== '');
      const keep = await skillFilter(ids, principal);
      const rewritten = await card.extended(upstreamCard, (id) => keep.has(id), info.legacy);
      if (!rewritten.ok) return rewritten;
      const { card: shown, flagged } = rewritten.value;
      const response = rewritten200(upstream, JSON.stringify(envelope ? { jsonrpc: '2.0', id: envelope.id ?? null, result: shown } : shown));
      return ok(flagged ? { response, detail: flagged } : { response });
    },
  };
}

/** A 200 carrying `body` (decoded and re-serialised: no content-encoding, length or validator of the upstream's). */
function rewritten200(upstream: UpstreamResponse, body: string): UpstreamResponse {
  const headers = new Headers(upstream.headers);
  for (const name of ['content-length', 'content-encoding', 'etag', 'last-modified']) headers.delete(name);
  headers.set('content-type', 'application/json');
  headers.set('cache-control', 'no-store');
  return { status: 200, statusText: upstream.statusText, headers, body: bytesStream(new TextEncoder().encode(body)) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}
