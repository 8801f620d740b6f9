/**
 * Demo A2A agent (upstream of the dev stack) on @a2a-js/sdk without Express: a Web-standard
 * `(Request) => Promise<Response>` handler around the SDK's framework-free JSON-RPC transport handlers, so it runs
 * unchanged in workerd, Node, Deno and Bun (no Express, no `node:` imports).
 *
 * Below its base path (e.g. `/a2a`) it serves:
 *   GET  /.well-known/agent-card.json   the 1.0 Agent Card, its interface URLs built for whoever asked (see publicBase)
 *   POST /jsonrpc                       JSON-RPC binding, A2A 1.0 and 0.3 on the same URL (below)
 *
 * The agent echoes the user's text. Each message becomes a task that goes submitted -> working -> artifact ->
 * completed, so a streaming caller sees several events and a blocking caller gets the finished task.
 *
 * Protocol versions: the card declares the JSONRPC interface twice, protocolVersion "1.0" and "0.3" (same URL), and
 * a request is dispatched on its A2A-Version (header, else query parameter) as the SDK's Express `jsonRpcHandler`
 * does with `legacyCompat`: "0.3", or no version at all (A2A §3.1: empty means 0.3), goes to the SDK's
 * LegacyJsonRpcTransportHandler (0.3 method names such as `message/send`, `tasks/get`,
 * `agent/getAuthenticatedExtendedCard`, and 0.3-shaped errors); anything else to the 1.0 handler, after the SDK's
 * validateVersion (an undeclared version is VersionNotSupported, -32009). The card GET always answers the 1.0 card
 * (the gateway derives the 0.3 shape itself). There is no HTTP+JSON binding: the SDK ships it only as an Express
 * adapter (test/e2e/a2a-rest-agent.ts runs that one for the tests).
 *
 * Authentication: given a Txn-Token verifier (portcullis/downstream, for the gateway's JWK Set), a JSON-RPC request
 * carrying a `Txn-Token` is served only when it verifies (else 401 with the verifier's code), and the SDK's call
 * context names the caller the token names (`sub`) as an authenticated user; a request without one is served as
 * unauthenticated, so the demo also runs without the gateway. Tasks and push configs are scoped to that user by the
 * SDK's in-memory stores.
 *
 * Extended card (`capabilities.extendedAgentCard`, `GetExtendedAgentCard` / 0.3 `agent/getAuthenticatedExtendedCard`):
 * an authenticated caller gets the card with the skills `echo`, `shout` and `admin-stats`; anyone else gets the public
 * card (skill `echo` only). That is the SDK's own rule for an extended card given as a value (it has no error for an
 * unauthenticated caller, and A2A defines none), applied here by a provider because the URLs differ per request.
 *
 * Push notifications (`capabilities.pushNotifications`): configs are accepted, stored (in memory) and listed, from
 * `CreateTaskPushNotificationConfig` / 0.3 `tasks/pushNotificationConfig/set` or a message's configuration, but no
 * notification is ever sent: the SDK's sender is replaced by one that does nothing, since a demo must not POST to
 * URLs its callers pick. Tests only look at which URLs reach the agent.
 */
import { AgentCard, A2A_VERSION_HEADER, HTTP_EXTENSION_HEADER, Extensions, Role, TaskState, formatSSEEvent, formatSSEErrorEvent } from '@a2a-js/sdk';
import type { Message, Part, Task, TaskStatus } from '@a2a-js/sdk';
import { A2A_LEGACY_PROTOCOL_VERSION, LEGACY_HTTP_EXTENSION_HEADER, LEGACY_METHOD_TASKS_RESUBSCRIBE, duplicateInterfacesForLegacy } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import {
  AgentEvent,
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  InMemoryPushNotificationStore,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  UnauthenticatedUser,
  defaultServerCallContextBuilder,
  validateVersion,
  type AgentExecutor,
  type ExecutionEventBus,
  type ExtendedAgentCardProvider,
  type PushNotificationSender,
  type RequestContext,
  type User,
} from '@a2a-js/sdk/server';
import { ContentTypeNotSupportedError } from '@a2a-js/sdk/errors';
import { txnTokenFailureResponse, type TxnTokenVerifier } from '../../src/downstream/index.ts';

const CARD_PATH = '/.well-known/agent-card.json';
const JSONRPC_PATH = '/jsonrpc';
/** Pause between streamed events, so a streaming caller really receives them one by one. */
const STEP_MS = 20;

/**
 * Where a transport leaves the public base URL of the current request in the SDK call context's `state`, for the
 * extended card provider (the SDK hands it the context, not the request).
 */
export const PUBLIC_BASE_STATE = 'portcullis.demo.publicBase';

function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function agentMessage(text: string, taskId: string, contextId: string): Message {
  return { messageId: crypto.randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts: [textPart(text)], metadata: undefined, extensions: [], referenceTaskIds: [] };
}

function status(state: TaskState, message?: Message): TaskStatus {
  return { state, message, timestamp: new Date().toISOString() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Echoes the text of the user's message as an artifact and as the completing status message. */
export const echoExecutor: AgentExecutor = {
  async execute(ctx: RequestContext, bus: ExecutionEventBus) {
    const { taskId, contextId } = ctx;
    const text = ctx.userMessage.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
    // The SDK requires a task (or message) as the first event of every execution.
    const task: Task = ctx.task ?? { id: taskId, contextId, status: status(TaskState.TASK_STATE_SUBMITTED), artifacts: [], history: [ctx.userMessage], metadata: undefined };
    bus.publish(AgentEvent.task(task));
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(TaskState.TASK_STATE_WORKING, agentMessage('echoing', taskId, contextId)), metadata: undefined }));
    await sleep(STEP_MS);
    bus.publish(AgentEvent.artifactUpdate({
      taskId,
      contextId,
      artifact: { artifactId: 'echo', name: 'echo', description: 'The text the user sent.', parts: [textPart(text)], metadata: undefined, extensions: [] },
      append: false,
      lastChunk: true,
      metadata: undefined,
    }));
    await sleep(STEP_MS);
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(TaskState.TASK_STATE_COMPLETED, agentMessage(text, taskId, contextId)), metadata: undefined }));
    bus.finished();
  },
  async cancelTask(taskId: string, bus: ExecutionEventBus) {
    // Echo tasks finish within milliseconds; a cancel that still finds one just marks it canceled.
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId: '', status: status(TaskState.TASK_STATE_CANCELED), metadata: undefined }));
    bus.finished();
  },
};

/** One endpoint of the agent; echoAgentCard declares it for protocol 1.0 and 0.3. */
export interface EchoInterface {
  url: string;
  protocolBinding: 'JSONRPC' | 'HTTP+JSON';
}

const ECHO_SKILL = { id: 'echo', name: 'Echo', description: 'Replies with the text it was sent.', tags: ['demo', 'echo'], examples: ['hello'] };
/** Listed only in the extended card, to show what an authenticated caller sees beyond the public card. */
const EXTENDED_SKILLS = [
  { id: 'shout', name: 'Shout', description: 'Replies with the text in upper case (a card entry only: the demo always echoes).', tags: ['demo'], examples: ['hello'] },
  { id: 'admin-stats', name: 'Admin stats', description: 'Pretend administrative statistics (a card entry only).', tags: ['demo', 'admin'] },
];

/**
 * The public card (or, with `extended`, the authenticated extended card): each interface for protocol 1.0, then
 * its 0.3 twin (same URL) from the SDK's duplicateInterfacesForLegacy. Built from ProtoJSON so the SDK fills the
 * defaults.
 */
export function echoAgentCard(interfaces: readonly EchoInterface[], { extended = false }: { extended?: boolean } = {}): AgentCard {
  const card = AgentCard.fromJSON({
    name: 'Portcullis demo echo agent',
    description: 'Echoes the text of each message; streams working, artifact and completed events.',
    version: '0.1.0',
    supportedInterfaces: interfaces.map((i) => ({ url: i.url, protocolBinding: i.protocolBinding, protocolVersion: '1.0' })),
    capabilities: { streaming: true, pushNotifications: true, extendedAgentCard: true },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: extended ? [ECHO_SKILL, ...EXTENDED_SKILLS] : [ECHO_SKILL],
  });
  const bindings = [...new Set(interfaces.map((i) => i.protocolBinding))];
  return { ...card, supportedInterfaces: duplicateInterfacesForLegacy(card.supportedInterfaces, bindings) };
}

/** Keeps push notification configs but never delivers one (see the module comment). */
const noDelivery: PushNotificationSender = { send: async () => {} };

/**
 * The SDK request handler of the echo agent: in-memory task and push config stores, no push delivery, and the
 * extended card for authenticated callers. `interfacesAt(base)` lists the interfaces for a public base URL: the one a
 * transport put in the call context under PUBLIC_BASE_STATE, else `defaultBase`. The handler's own card (interfaces
 * at `defaultBase`) only feeds the SDK's capability and version checks; callers get cards built for their request.
 */
export function echoRequestHandler(interfacesAt: (base: string) => EchoInterface[], defaultBase: string): DefaultRequestHandler {
  const extendedCard: ExtendedAgentCardProvider = async (context) => {
    const base = context.state.get(PUBLIC_BASE_STATE);
    // The SDK's rule for an extended card given as a value: authenticated callers get it, anyone else the public card.
    return echoAgentCard(interfacesAt(typeof base === 'string' ? base : defaultBase), { extended: context.user?.isAuthenticated === true });
  };
  const pushConfigs = new InMemoryPushNotificationStore();
  return new DefaultRequestHandler(echoAgentCard(interfacesAt(defaultBase)), new InMemoryTaskStore(), echoExecutor, new DefaultExecutionEventBusManager(), pushConfigs, noDelivery, extendedCard);
}

/**
 * The public base URL of this agent for one request. Behind the gateway the X-Forwarded-* fields come from its
 * trusted config (it drops any the caller sent): proto and host give the origin, and the prefix replaces our
 * own base path (a proxy mounted at "/" sends no prefix). Direct callers get the request's own origin and path.
 * Malformed values are ignored rather than echoed into the card.
 */
export function publicBase(request: Request, basePath: string): string {
  const own = new URL(request.url);
  const proto = request.headers.get('x-forwarded-proto');
  const host = request.headers.get('x-forwarded-host');
  const prefix = request.headers.get('x-forwarded-prefix');
  const okProto = proto === 'http' || proto === 'https' ? proto : null;
  const okHost = host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? host : null;
  const okPrefix = prefix && /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+\/?$/.test(prefix) ? prefix.replace(/\/$/, '') : null;
  const origin = `${okProto ?? own.protocol.slice(0, -1)}://${okHost ?? own.host}`;
  const path = okPrefix ?? (okHost ? '' : basePath);
  return origin + path;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function rpcError(id: unknown, error: unknown): Response {
  // Like the SDK's own adapter: JSON-RPC errors ride on HTTP 200 (the error is in the body).
  return json({ jsonrpc: '2.0', id: id ?? null, error });
}

/** An SSE response: the frame `first`, then one per event `rest` yields, pulled as the reader asks; a failure ends it with `onError`'s frame. */
function sse(first: string, rest?: AsyncIterator<unknown>, onError?: (error: unknown) => string, headers: Record<string, string> = {}): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(first));
      if (!rest) controller.close();
    },
    async pull(controller) {
      if (!rest) return;
      try {
        const next = await rest.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(formatSSEEvent(next.value)));
      } catch (error) {
        if (onError) controller.enqueue(encoder.encode(onError(error)));
        controller.close();
      }
    },
    async cancel() {
      await rest?.return?.(undefined);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers },
  });
}

export interface A2aAgentOptions {
  /** Where the agent is mounted on its server, e.g. `/a2a` (no trailing slash). */
  basePath: string;
  /** Checks the gateway's Txn-Token (portcullis/downstream txnTokenVerifier). */
  txnTokens?: TxnTokenVerifier;
}

/** The caller a Txn-Token names, as the A2A SDK's User (here verified; the test REST agent takes it unverified). */
export class TxnTokenUser implements User {
  readonly #sub: string;
  constructor(sub: string) {
    this.#sub = sub;
  }
  get isAuthenticated(): boolean {
    return true;
  }
  get userName(): string {
    return this.#sub;
  }
}

export function createA2aHandler({ basePath, txnTokens }: A2aAgentOptions): (request: Request) => Promise<Response> {
  const requestHandler = echoRequestHandler((base) => [{ url: base + JSONRPC_PATH, protocolBinding: 'JSONRPC' }], `http://127.0.0.1${basePath}`);
  const transport = new JsonRpcTransportHandler(requestHandler);
  const legacyTransport = new LegacyJsonRpcTransportHandler(requestHandler);
  const versionCard = requestHandler.getAgentCard();

  async function handleJsonRpc(request: Request): Promise<Response> {
    // A2A §3.1: the version comes from the A2A-Version header (or query parameter); empty means 0.3.
    const requestedVersion = request.headers.get(A2A_VERSION_HEADER) || new URL(request.url).searchParams.get(A2A_VERSION_HEADER) || undefined;
    // As the SDK's Express adapter with legacyCompat: exactly "0.3", or nothing, is served by the 0.3 handler.
    const legacy = (requestedVersion ?? A2A_LEGACY_PROTOCOL_VERSION) === A2A_LEGACY_PROTOCOL_VERSION;
    const mapError = (error: unknown) => (legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError(error) : JsonRpcTransportHandler.mapToJSONRPCError(error));
    const extensionsField = legacy ? LEGACY_HTTP_EXTENSION_HEADER : HTTP_EXTENSION_HEADER;

    const mediaType = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
    if (mediaType && mediaType !== 'application/json') {
      return rpcError(null, mapError(new ContentTypeNotSupportedError(`Unsupported Content-Type "${mediaType}"; expected application/json.`)));
    }
    let user: User = new UnauthenticatedUser();
    if (txnTokens && request.headers.has('txn-token')) {
      const checked = await txnTokens(request);
      if (!checked.ok) return txnTokenFailureResponse(checked.code);
      user = new TxnTokenUser(checked.value.sub);
    }
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      return rpcError(null, { code: -32700, message: 'Invalid JSON payload.' });
    }
    // The transports answer a body that is not a request object themselves; only its id is read here.
    const rpc = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
    const context = defaultServerCallContextBuilder({
      // 0.3 clients name extensions in X-A2A-Extensions; the SDK's adapter also takes the 1.0 field from them.
      extensions: Extensions.parseServiceParameter((legacy ? request.headers.get(LEGACY_HTTP_EXTENSION_HEADER) : null) ?? request.headers.get(HTTP_EXTENSION_HEADER) ?? undefined),
      user,
      headers: Object.fromEntries(request.headers),
      requestedVersion,
    });
    context.state.set(PUBLIC_BASE_STATE, publicBase(request, basePath));
    try {
      validateVersion(context.requestedVersion, await versionCard, 'JSONRPC');
    } catch (error) {
      return rpcError(rpc.id, mapError(error));
    }
    const result = await (legacy ? legacyTransport : transport).handle(body as Record<string, unknown>, context);
    const headers: Record<string, string> = {};
    if (context.activatedExtensions?.length) headers[extensionsField] = context.activatedExtensions.join(', ');
    if (!(Symbol.asyncIterator in result)) return json(result, 200, headers);

    const events = result[Symbol.asyncIterator]();
    const errorEvent = (error: unknown) => formatSSEErrorEvent({ jsonrpc: '2.0', id: rpc.id ?? null, error: mapError(error) });
    let firstEvent: IteratorResult<unknown>;
    try {
      firstEvent = await events.next();
    } catch (error) {
      // Failures before the stream starts are plain JSON-RPC errors, as the SDK's adapter does, except for a 0.3
      // tasks/resubscribe, which the adapter always answers as a stream.
      if (legacy && rpc.method === LEGACY_METHOD_TASKS_RESUBSCRIBE) return sse(errorEvent(error), undefined, undefined, headers);
      return rpcError(rpc.id, mapError(error));
    }
    if (firstEvent.done) return new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers } });
    return sse(formatSSEEvent(firstEvent.value), events, errorEvent, headers);
  }

  return async (request) => {
    const path = new URL(request.url).pathname;
    const rest = path.startsWith(basePath) ? path.slice(basePath.length) : null;
    if (rest === CARD_PATH) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return json({ error: 'method not allowed' }, 405, { allow: 'GET, HEAD' });
      const body = AgentCard.toJSON(echoAgentCard([{ url: publicBase(request, basePath) + JSONRPC_PATH, protocolBinding: 'JSONRPC' }]));
      // The card depends on the forwarding fields, so shared caches must key on them. It does not depend on
      // A2A-Version (always the 1.0 card), but naming it keeps caches right if it ever does.
      return json(body, 200, { 'cache-control': 'no-cache', vary: 'X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix, A2A-Version' });
    }
    if (rest === JSONRPC_PATH) {
      if (request.method !== 'POST') return json({ error: 'method not allowed' }, 405, { allow: 'POST' });
      return handleJsonRpc(request);
    }
    return json({ error: 'not found' }, 404);
  };
}
