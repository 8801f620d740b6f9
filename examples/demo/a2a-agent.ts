/**
 * Demo A2A v1.0 agent (upstream of the dev stack) on @a2a-js/sdk without Express: a Web-standard
 * `(Request) => Promise<Response>` handler around the SDK's framework-free JsonRpcTransportHandler.
 *
 * Below its base path (e.g. `/a2a`) it serves:
 *   GET  /.well-known/agent-card.json   the Agent Card, its interface URL built for whoever asked (see publicBase)
 *   POST /jsonrpc                       JSON-RPC binding: SendMessage, SendStreamingMessage (SSE), GetTask, ...
 *
 * The agent echoes the user's text. Each message becomes a task that goes submitted -> working -> artifact ->
 * completed, so a streaming caller sees several events and a blocking caller gets the finished task.
 *
 * Given a Txn-Token verifier (portcullis/downstream, for the gateway's JWK Set), a JSON-RPC request carrying a
 * `Txn-Token` is served only when it verifies (else 401 with the verifier's code), and the SDK's call context names
 * the caller the token names (`sub`) as an authenticated user; a request without one is served as unauthenticated,
 * so the demo also runs without the gateway.
 */
import { AgentCard, A2A_VERSION_HEADER, HTTP_EXTENSION_HEADER, Extensions, Role, TaskState, formatSSEEvent, formatSSEErrorEvent } from '@a2a-js/sdk';
import type { Message, Part, Task, TaskStatus } from '@a2a-js/sdk';
import {
  AgentEvent,
  DefaultRequestHandler,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  UnauthenticatedUser,
  defaultServerCallContextBuilder,
  validateVersion,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
  type User,
} from '@a2a-js/sdk/server';
import { ContentTypeNotSupportedError } from '@a2a-js/sdk/errors';
import { txnTokenFailureResponse, type TxnTokenVerifier } from '../../src/downstream/index.ts';

const CARD_PATH = '/.well-known/agent-card.json';
const JSONRPC_PATH = '/jsonrpc';
/** Pause between streamed events, so a streaming caller really receives them one by one. */
const STEP_MS = 20;

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

const echoExecutor: AgentExecutor = {
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

/** The card with `jsonrpcUrl` as its one interface. Built from ProtoJSON so the SDK fills the defaults. */
function card(jsonrpcUrl: string): AgentCard {
  return AgentCard.fromJSON({
    name: 'Portcullis demo echo agent',
    description: 'Echoes the text of each message; streams working, artifact and completed events.',
    version: '0.1.0',
    supportedInterfaces: [{ url: jsonrpcUrl, protocolBinding: 'JSONRPC', protocolVersion: '1.0' }],
    capabilities: { streaming: true, pushNotifications: false },
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [{ id: 'echo', name: 'Echo', description: 'Replies with the text it was sent.', tags: ['demo', 'echo'], examples: ['hello'] }],
  });
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

export interface A2aAgentOptions {
  /** Where the agent is mounted on its server, e.g. `/a2a` (no trailing slash). */
  basePath: string;
  /** Checks the gateway's Txn-Token (portcullis/downstream txnTokenVerifier). */
  txnTokens?: TxnTokenVerifier;
}

/** The caller a verified Txn-Token names, as the A2A SDK's User. */
class TxnTokenUser implements User {
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
  // The handler's own card only feeds the version gate (validateVersion reads the declared protocol versions);
  // callers always get a card built for their request.
  const baseCard = card(`http://127.0.0.1${basePath}${JSONRPC_PATH}`);
  const requestHandler = new DefaultRequestHandler(baseCard, new InMemoryTaskStore(), echoExecutor);
  const transport = new JsonRpcTransportHandler(requestHandler);

  async function handleJsonRpc(request: Request): Promise<Response> {
    const mediaType = request.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
    if (mediaType && mediaType !== 'application/json') {
      return rpcError(null, JsonRpcTransportHandler.mapToJSONRPCError(new ContentTypeNotSupportedError(`Unsupported Content-Type "${mediaType}"; expected application/json.`)));
    }
    let user: User = new UnauthenticatedUser();
    if (txnTokens && request.headers.has('txn-token')) {
      const checked = await txnTokens(request);
      if (!checked.ok) return txnTokenFailureResponse(checked.code);
      user = new TxnTokenUser(checked.value.sub);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await request.text()) as Record<string, unknown>;
    } catch {
      return rpcError(null, { code: -32700, message: 'Invalid JSON payload.' });
    }
    // A2A §3.1: the version comes from the A2A-Version header (or query parameter); empty means 0.3.
    const requestedVersion = request.headers.get(A2A_VERSION_HEADER) || new URL(request.url).searchParams.get(A2A_VERSION_HEADER) || undefined;
    const context = defaultServerCallContextBuilder({
      extensions: Extensions.parseServiceParameter(request.headers.get(HTTP_EXTENSION_HEADER) ?? undefined),
      user,
      headers: Object.fromEntries(request.headers),
      requestedVersion,
    });
    try {
      // Only 1.0 is declared, so a request that names no version (read as 0.3) gets VersionNotSupported (-32009).
      validateVersion(context.requestedVersion, baseCard, 'JSONRPC');
    } catch (error) {
      return rpcError(body.id, JsonRpcTransportHandler.mapToJSONRPCError(error));
    }
    const result = await transport.handle(body, context);
    const headers: Record<string, string> = {};
    if (context.activatedExtensions?.length) headers[HTTP_EXTENSION_HEADER] = context.activatedExtensions.join(', ');
    if (!(Symbol.asyncIterator in result)) return json(result, 200, headers);

    const events = result[Symbol.asyncIterator]();
    let firstEvent: IteratorResult<unknown>;
    try {
      firstEvent = await events.next();
    } catch (error) {
      // Failures before the stream starts are plain JSON-RPC errors, as the SDK's adapter does.
      return rpcError(body.id, JsonRpcTransportHandler.mapToJSONRPCError(error));
    }
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!firstEvent.done) controller.enqueue(encoder.encode(formatSSEEvent(firstEvent.value)));
        else controller.close();
      },
      async pull(controller) {
        try {
          const next = await events.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(formatSSEEvent(next.value)));
        } catch (error) {
          controller.enqueue(encoder.encode(formatSSEErrorEvent({ jsonrpc: '2.0', id: body.id ?? null, error: JsonRpcTransportHandler.mapToJSONRPCError(error) })));
          controller.close();
        }
      },
      async cancel() {
        await events.return?.(undefined);
      },
    });
    return new Response(firstEvent.done ? null : stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...headers },
    });
  }

  return async (request) => {
    const path = new URL(request.url).pathname;
    const rest = path.startsWith(basePath) ? path.slice(basePath.length) : null;
    if (rest === CARD_PATH) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return json({ error: 'method not allowed' }, 405, { allow: 'GET, HEAD' });
      const body = AgentCard.toJSON(card(publicBase(request, basePath) + JSONRPC_PATH));
      // The card depends on the forwarding fields, so shared caches must key on them.
      return json(body, 200, { 'cache-control': 'no-cache', vary: 'X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix' });
    }
    if (rest === JSONRPC_PATH) {
      if (request.method !== 'POST') return json({ error: 'method not allowed' }, 405, { allow: 'POST' });
      return handleJsonRpc(request);
    }
    return json({ error: 'not found' }, 404);
  };
}
