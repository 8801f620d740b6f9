/**
 * What an A2A call asks for, read from its HTTP method, path, headers and body, for both bindings (JSON-RPC and
 * HTTP+JSON) and both protocol versions (1.0 and 0.3): the method by its 1.0 name, the task it names, and every push
 * notification URL it would have the agent call. Pure: no I/O, never throws.
 *
 * Spec: A2A 1.0 (lf.a2a.v1 a2a.proto: the methods and their HTTP+JSON paths, with an optional `/{tenant}` prefix;
 * §5.3/§11.3.2: SubscribeToTask over POST, the proto's GET kept; §5.4: error codes), A2A 0.3 (JSON-RPC names
 * `message/send` … `agent/getAuthenticatedExtendedCard`, HTTP+JSON paths under `/v1/`), JSON-RPC 2.0 §4 (request),
 * §5.1 (error codes), §6 (batches: A2A has none), RFC 8259 §4 (names SHOULD be unique), §8.1 (UTF-8).
 *
 * Reading the way upstreams do: A2A agents are built on SDKs whose parsers accept more than the spec shows, so the
 * gateway reads every spelling any of them would act on. ProtoJSON parsers (1.0, and 0.3 REST bodies) take a field's
 * lowerCamelCase and its proto name (`taskPushNotificationConfig`, `task_push_notification_config`); push configs
 * sit in different members per version (1.0 `configuration.taskPushNotificationConfig.url`, 0.3 JSON-RPC
 * `configuration.pushNotificationConfig.url`, 0.3 REST `configuration.pushNotification.url`; create: 1.0 `url`, 0.3
 * `pushNotificationConfig.url`, the 0.3 gRPC request `config.…`), so every one is read in every call that can carry a
 * config; REST routing in Express is case-insensitive, tolerates one trailing slash, answers HEAD like GET and tries
 * routes in order (a `/{tenant}` segment may be named like a keyword), while Starlette decodes the path before
 * routing: a path that names another operation once percent-decoded is refused.
 *
 * Checks: JSON-RPC: one JSON-RPC 2.0 request object (no batch), string method, id a string, number or null, params an
 * object; bodies strict UTF-8 JSON with no member name repeated (the gateway and the agent must read the same body);
 * Content-Type (when present) application/json or application/a2a+json for every body read; task ids strings of
 * 1..MAX_A2A_ID_LENGTH without control characters, and all of a call's spellings of its task naming the same one
 * (REST: the path's id and the body's `taskId` / `name`); push URLs strings, at most MAX_A2A_PUSH_URLS of at most
 * MAX_A2A_PUSH_URL_LENGTH; a REST body that is a JSON-RPC envelope (`jsonrpc` member); an HTTP method other than GET,
 * HEAD, OPTIONS or POST on a REST operation path that does not define it.
 *
 * Does NOT: decide whether a push URL is allowed (a2a/push-urls.ts), whether the A2A-Version is supported (the card
 * service and the upstream answer that), or validate params beyond the members named above; read the A2A-Version
 * query parameter (REST `/v1/…` paths are 0.3 unless the header names 1.x); bound the body (gateway/body-limit.ts).
 * Details name fields and methods, never values from the body.
 */
import { MAX_A2A_ID_LENGTH, MAX_A2A_METHOD_LENGTH, MAX_A2A_PUSH_URL_LENGTH, MAX_A2A_PUSH_URLS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';

export type A2aBinding = 'JSONRPC' | 'HTTP+JSON';

/** The A2A 1.0 methods (JSON-RPC names, also the gRPC method names of lf.a2a.v1.A2AService). */
export const A2A_METHODS = [
  'SendMessage',
  'SendStreamingMessage',
  'GetTask',
  'ListTasks',
  'CancelTask',
  'SubscribeToTask',
  'CreateTaskPushNotificationConfig',
  'GetTaskPushNotificationConfig',
  'ListTaskPushNotificationConfigs',
  'DeleteTaskPushNotificationConfig',
  'GetExtendedAgentCard',
] as const;

export type A2aMethod = (typeof A2A_METHODS)[number];

export interface A2aRequestInfo {
  binding: A2aBinding;
  /** The method by its A2A 1.0 name, whatever the protocol version or binding of the call; undefined for a JSON-RPC
   *  method the gateway does not know (its wire name is in `wireMethod`). */
  method: A2aMethod | undefined;
  /** JSON-RPC: the method as sent when it is a plain name (else "a method": it reaches audit logs); REST: "<HTTP method> <path template>", e.g. "POST /tasks/{id}:cancel", "GET /v1/card". */
  wireMethod: string;
  /** A 0.3 call: a 0.3 JSON-RPC name, or a REST path under `/v1/` (with no A2A-Version header, or a 0.x one). */
  legacy: boolean;
  /** The task the call names: params.id / params.taskId / params.message.taskId / the REST path's {id}. */
  taskId?: string;
  /** The JSON-RPC id as sent (absent: a notification), for the error response. */
  rpcId?: string | number | null;
  /** Push notification URLs the call asks the agent to call, in every shape of both versions, for the allow-list. */
  pushUrls: string[];
}

/**
 * Stable error codes, each with its HTTP status and JSON-RPC error code (A2A_JSONRPC_CODES). Codes are part of the
 * public API: never rename one; add new ones instead.
 */
export const A2A_REQUEST_ERRORS = {
  ERR_A2A_REQUEST_INVALID:
    '400, JSON-RPC -32600 Invalid Request: a JSON-RPC body that is empty, a batch, not an object, not jsonrpc "2.0", ' +
    'without a string method (or one over MAX_A2A_METHOD_LENGTH), with an id that is not a string, number or null, ' +
    'or with params that are not an object; a body that repeats a member name; a task id, push URL or push config ' +
    'member of the wrong type or over its bound; two spellings of the task that disagree (REST: path and body); a ' +
    'REST body that is not an object or is a JSON-RPC envelope; a path that reads as another operation once ' +
    'percent-decoded; an HTTP method a REST operation path does not define (other than GET, HEAD, OPTIONS). ' +
    'Malformed params are also -32600, not -32602: one wire code per error code',
  ERR_A2A_PARSE_ERROR: '400, JSON-RPC -32700 Parse error: the body is not strict UTF-8 JSON (a byte order mark included)',
  ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED:
    '400, JSON-RPC -32005 ContentTypeNotSupportedError (A2A §5.4): a body the gateway reads, sent with a Content-Type ' +
    'other than application/json or application/a2a+json (an agent reading it by another media type, or a browser ' +
    'sending it cross-site as text/plain or a form, would see other fields than the gateway checked)',
} as const;

export type A2aRequestErrorCode = keyof typeof A2A_REQUEST_ERRORS;

/** The JSON-RPC error code for each failure (JSON-RPC 2.0 §5.1; A2A §5.4 for -32005). */
export const A2A_JSONRPC_CODES: Record<A2aRequestErrorCode, number> = {
  ERR_A2A_REQUEST_INVALID: -32600,
  ERR_A2A_PARSE_ERROR: -32700,
  ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED: -32005,
};

/** HTTP status for every failure of readA2aRequest (A2A §5.4 maps these errors to 400 Bad Request). */
export const A2A_REQUEST_FAILURE_STATUS = 400;

type Code = A2aRequestErrorCode;
type JsonObject = Record<string, unknown>;

/** 0.3 JSON-RPC names and the 1.0 method of each (0.3 has no ListTasks). */
export const A2A_LEGACY_METHOD_NAMES: ReadonlyMap<string, A2aMethod> = new Map([
  ['message/send', 'SendMessage'],
  ['message/stream', 'SendStreamingMessage'],
  ['tasks/get', 'GetTask'],
  ['tasks/cancel', 'CancelTask'],
  ['tasks/resubscribe', 'SubscribeToTask'],
  ['tasks/pushNotificationConfig/set', 'CreateTaskPushNotificationConfig'],
  ['tasks/pushNotificationConfig/get', 'GetTaskPushNotificationConfig'],
  ['tasks/pushNotificationConfig/list', 'ListTaskPushNotificationConfigs'],
  ['tasks/pushNotificationConfig/delete', 'DeleteTaskPushNotificationConfig'],
  ['agent/getAuthenticatedExtendedCard', 'GetExtendedAgentCard'],
]);
export const A2A_METHOD_NAMES: ReadonlySet<string> = new Set(A2A_METHODS);

/** Members holding a push config: 1.0 SendMessageConfiguration, 0.3 JSON-RPC, 0.3 ProtoJSON, each in both spellings. */
const PUSH_CONFIG_MEMBERS = ['taskPushNotificationConfig', 'task_push_notification_config', 'pushNotificationConfig', 'push_notification_config', 'pushNotification', 'push_notification'] as const;
/** Inside a push config: the above, and `config` (the 0.3 gRPC CreateTaskPushNotificationConfigRequest's wrapper). */
const NESTED_CONFIG_MEMBERS = [...PUSH_CONFIG_MEMBERS, 'config'] as const;
/** Depth of push config wrappers read: create params → config → pushNotificationConfig → url. */
const MAX_CONFIG_DEPTH = 2;
/** A 0.3 resource name: `tasks/{id}` or `tasks/{id}/pushNotificationConfigs[/{configId}]` (0.3 REST create body). */
const TASK_RESOURCE = /^tasks\/([^/]+)(?:\/pushNotificationConfigs(?:\/[^/]*)?)?$/;
/** Control and format characters (C0, DEL, C1, bidi and other Cf): never in a task id that reaches logs and Txn-Tokens. */
const CONTROL = /[\p{Cc}\p{Cf}]/u;
const JSON_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/json', 'application/a2a+json']);
/** Methods that carry no body to read on a path whose operation does not define them. */
const BODILESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A method name short and plain enough to appear in a detail. */
const LOGGABLE_METHOD = /^[A-Za-z0-9_./-]{1,64}$/;

/**
 * Binding of a request on an A2A route, before any body is read (for shaping early errors): a POST whose path (below
 * the route mount) is no REST operation taking POST is JSON-RPC; everything else HTTP+JSON.
 */
export function a2aBinding(method: string, restPath: string): A2aBinding {
  if (method !== 'POST') return 'HTTP+JSON';
  const [raw, decoded] = pathReadings(method, restPath, true);
  return raw.kind === 'operation' || decoded.kind === 'operation' ? 'HTTP+JSON' : 'JSONRPC';
}

/**
 * Reads what an A2A call asks for. `restPath` is the request path below the route mount (e.g. "/jsonrpc",
 * "/v1/message:send", "/rest/tasks/abc:cancel", "/tenant-1/message:send"); `body` is the whole request body (bounded
 * by the caller) or undefined. ok(undefined) for a request that is no A2A operation (e.g. a GET of another path):
 * the caller forwards it under the route's own requirements.
 */
export function readA2aRequest(request: { method: string; headers: Headers }, restPath: string, body: Uint8Array | undefined): Result<A2aRequestInfo | undefined, A2aRequestErrorCode> {
  // Servlet containers, Spring and JAX-RS drop `;` path parameters before routing: `/tasks/x:cancel;a` would be a
  // CancelTask there and no operation here. Encoded (%3B) it is an ordinary character everywhere.
  if (restPath.includes(';')) return fail('ERR_A2A_REQUEST_INVALID', 'a path parameter (;) in an A2A path (upstream routers differ on dropping it)');
  const [raw, decoded] = pathReadings(request.method, restPath, legacyVersion(request.headers));
  if (!sameReading(raw, decoded)) return fail('ERR_A2A_REQUEST_INVALID', 'the path names another A2A operation once percent-decoded (upstreams differ on decoding before routing)');
  if (decoded.kind === 'operation') return readRestCall(request.headers, decoded, body);
  if (request.method === 'POST') return readJsonRpc(request.headers, body);
  if (decoded.kind === 'other-method' && !BODILESS_METHODS.has(request.method)) {
    return fail('ERR_A2A_REQUEST_INVALID', `${label(request.method)} on an A2A REST operation path that does not define it`);
  }
  return ok(undefined);
}

// ---- HTTP+JSON ----

interface RestOperation {
  kind: 'operation';
  method: A2aMethod;
  /** "<HTTP method> <template>", e.g. "GET /tasks/{id}". */
  wireMethod: string;
  legacy: boolean;
  /** The {id} segment, percent-decoded. */
  taskId?: string;
}

/** `other-method`: the path is a REST operation's, for another HTTP method. */
type PathReading = RestOperation | { kind: 'other-method' } | { kind: 'none' };

/** The path read as routed by Express (encoded) and by Starlette (decoded); both must agree. */
function pathReadings(method: string, restPath: string, legacy: boolean): [PathReading, PathReading] {
  const segments = restPath.split('/');
  if (segments[0] === '') segments.shift();
  // Express routes without `strict` accept one trailing slash.
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  return [readPath(method, segments, legacy, decodeSegment), readPath(method, segments.map(decodeSegment), legacy, (s) => s)];
}

function sameReading(a: PathReading, b: PathReading): boolean {
  if (a.kind !== 'operation' || b.kind !== 'operation') return a.kind === b.kind;
  return a.method === b.method && a.legacy === b.legacy && a.taskId === b.taskId;
}

/**
 * The REST operation a path ends in, matched from its end (any prefix: an interface path, a tenant), in the order
 * a2a-js registers its routes, so a tenant named like a keyword reads as it does there. `decodeId` turns a raw {id}
 * segment into the id.
 */
function readPath(method: string, segments: readonly string[], legacyVersion: boolean, decodeId: (segment: string) => string): PathReading {
  const n = segments.length;
  const at = (i: number): string | undefined => (i >= 0 && i < n ? asciiLower(segments[i]!) : undefined);
  const get = method === 'GET' || method === 'HEAD'; // Express answers HEAD with the GET route
  const post = method === 'POST';
  let pathOfAnother = false;
  const op = (name: A2aMethod, template: string, start: number, idSegment?: string): RestOperation => {
    const legacy = at(start - 1) === 'v1' && legacyVersion;
    const found: RestOperation = { kind: 'operation', method: name, wireMethod: `${method} ${legacy ? '/v1' : ''}${template}`, legacy };
    if (idSegment !== undefined) found.taskId = decodeId(idSegment);
    return found;
  };
  const last = at(n - 1);

  if (last === 'extendedagentcard') {
    if (get) return op('GetExtendedAgentCard', '/extendedAgentCard', n - 1);
    pathOfAnother = true;
  }
  if (last === 'card' && at(n - 2) === 'v1') {
    // 0.3 only: the path exists in no 1.0 binding, so it is the 0.3 card whatever A2A-Version says.
    if (get) return { kind: 'operation', method: 'GetExtendedAgentCard', wireMethod: `${method} /v1/card`, legacy: true };
    pathOfAnother = true;
  }
  if (last === 'message:send' || last === 'message:stream') {
    if (post) return last === 'message:send' ? op('SendMessage', '/message:send', n - 1) : op('SendStreamingMessage', '/message:stream', n - 1);
    pathOfAnother = true;
  }
  if (at(n - 2) === 'tasks') {
    const item = segments[n - 1]!;
    const lower = asciiLower(item);
    for (const [suffix, name, allowed] of [[':subscribe', 'SubscribeToTask', get || post], [':cancel', 'CancelTask', post]] as const) {
      if (lower.endsWith(suffix) && item.length > suffix.length) {
        if (allowed) return op(name, `/tasks/{id}${suffix}`, n - 2, item.slice(0, -suffix.length));
        pathOfAnother = true;
      }
    }
    // Like Express: "GET /tasks/x:cancel" is GetTask of "x:cancel".
    if (get) return op('GetTask', '/tasks/{id}', n - 2, item);
    pathOfAnother = true;
  }
  if (last === 'tasks') {
    if (get) return op('ListTasks', '/tasks', n - 1);
    pathOfAnother = true;
  }
  if (last === 'pushnotificationconfigs' && at(n - 3) === 'tasks') {
    if (post) return op('CreateTaskPushNotificationConfig', '/tasks/{id}/pushNotificationConfigs', n - 3, segments[n - 2]!);
    if (get) return op('ListTaskPushNotificationConfigs', '/tasks/{id}/pushNotificationConfigs', n - 3, segments[n - 2]!);
    pathOfAnother = true;
  }
  if (at(n - 2) === 'pushnotificationconfigs' && at(n - 4) === 'tasks') {
    const template = '/tasks/{id}/pushNotificationConfigs/{configId}';
    if (get) return op('GetTaskPushNotificationConfig', template, n - 4, segments[n - 3]!);
    if (method === 'DELETE') return op('DeleteTaskPushNotificationConfig', template, n - 4, segments[n - 3]!);
    pathOfAnother = true;
  }
  return pathOfAnother ? { kind: 'other-method' } : { kind: 'none' };
}

function readRestCall(headers: Headers, operation: RestOperation, body: Uint8Array | undefined): Result<A2aRequestInfo, Code> {
  const { method, wireMethod, legacy } = operation;
  const found: A2aRequestInfo = { binding: 'HTTP+JSON', method, wireMethod, legacy, pushUrls: [] };
  if (operation.taskId !== undefined) {
    const id = checkId(operation.taskId, 'the path\'s task id');
    if (!id.ok) return id;
    if (id.value === '') return fail('ERR_A2A_REQUEST_INVALID', `${wireMethod} with an empty task id`);
    found.taskId = id.value;
  }
  // Only these carry a push config (or, for SendMessage, a task id) in their body; the others are read from the path.
  if (method !== 'SendMessage' && method !== 'SendStreamingMessage' && method !== 'CreateTaskPushNotificationConfig') return ok(found);

  const parsed = parseBody(headers, body);
  if (!parsed.ok) return parsed;
  if (!isObject(parsed.value)) return fail('ERR_A2A_REQUEST_INVALID', `the body of ${wireMethod} is not a JSON object`);
  const payload = parsed.value;
  // An agent that also takes JSON-RPC on this path would act on the envelope's method, not the one read here.
  if (Object.hasOwn(payload, 'jsonrpc')) return fail('ERR_A2A_REQUEST_INVALID', `the body of ${wireMethod} is a JSON-RPC envelope`);
  const read = readCallBody(method, legacy, payload, 'body', wireMethod);
  if (!read.ok) return read;
  found.pushUrls = read.value.pushUrls;
  if (read.value.taskId !== undefined) {
    if (found.taskId !== undefined && read.value.taskId !== found.taskId) return fail('ERR_A2A_REQUEST_INVALID', `the body of ${wireMethod} names another task than the path`);
    found.taskId = read.value.taskId;
  }
  return ok(found);
}

function legacyVersion(headers: Headers): boolean {
  const version = headers.get('a2a-version')?.trim() ?? '';
  // "Agents MUST interpret empty value as 0.3 version" (A2A 1.0, Versioning).
  return version === '' || /^0(?:\.\d+){0,2}$/.test(version);
}

// ---- JSON-RPC ----

function readJsonRpc(headers: Headers, body: Uint8Array | undefined): Result<A2aRequestInfo, Code> {
  const parsed = parseBody(headers, body);
  if (!parsed.ok) return parsed;
  const message = parsed.value;
  if (Array.isArray(message)) return fail('ERR_A2A_REQUEST_INVALID', 'the body is a JSON-RPC batch (A2A defines none)');
  if (!isObject(message)) return fail('ERR_A2A_REQUEST_INVALID', 'the body is not a JSON object');
  const envelope = spelledOnce(message, 'the envelope');
  if (!envelope.ok) return envelope;
  if (own(message, 'jsonrpc') !== '2.0') return fail('ERR_A2A_REQUEST_INVALID', 'jsonrpc is missing or not "2.0"');
  let rpcId: string | number | null | undefined;
  if (Object.hasOwn(message, 'id')) {
    const id = message.id;
    if (typeof id !== 'string' && typeof id !== 'number' && id !== null) return fail('ERR_A2A_REQUEST_INVALID', 'id is not a string, number or null');
    if (typeof id === 'string' && id.length > MAX_A2A_ID_LENGTH) return fail('ERR_A2A_REQUEST_INVALID', `id is longer than MAX_A2A_ID_LENGTH (${MAX_A2A_ID_LENGTH})`);
    rpcId = id;
  }
  const wire = own(message, 'method');
  if (typeof wire !== 'string') return fail('ERR_A2A_REQUEST_INVALID', 'method is not a string');
  if (wire.length > MAX_A2A_METHOD_LENGTH) return fail('ERR_A2A_REQUEST_INVALID', `method is longer than MAX_A2A_METHOD_LENGTH (${MAX_A2A_METHOD_LENGTH})`);
  let params: JsonObject = {};
  if (Object.hasOwn(message, 'params')) {
    const value = message.params;
    if (!isObject(value)) return fail('ERR_A2A_REQUEST_INVALID', `params of ${label(wire)} is not an object`);
    params = value;
  }
  const legacyMethod = A2A_LEGACY_METHOD_NAMES.get(wire);
  const method = A2A_METHOD_NAMES.has(wire) ? (wire as A2aMethod) : legacyMethod;
  const read = readCallBody(method, legacyMethod !== undefined, params, 'params', wire);
  if (!read.ok) return read;
  const found: A2aRequestInfo = { binding: 'JSONRPC', method, wireMethod: label(wire), legacy: legacyMethod !== undefined, pushUrls: read.value.pushUrls };
  if (read.value.taskId !== undefined) found.taskId = read.value.taskId;
  if (rpcId !== undefined) found.rpcId = rpcId;
  return ok(found);
}

// ---- params and REST bodies ----

interface CallBody {
  taskId: string | undefined;
  pushUrls: string[];
}

/** The task and push URLs of JSON-RPC params or a REST body (`where`: "params" or "body", for details). */
function readCallBody(method: A2aMethod | undefined, legacy: boolean, node: JsonObject, where: string, wire: string): Result<CallBody, Code> {
  const spelled = spelledOnce(node, where);
  if (!spelled.ok) return spelled;
  const ids: string[] = [];
  const urls: string[] = [];
  let read: Result<void, Code> = ok(undefined);
  switch (method) {
    case 'SendMessage':
    case 'SendStreamingMessage':
      // The message continues a task when it names one; 0.3 ProtoJSON also spells the message `request`.
      read = all(
        () => nestedIds(node, ['message', 'request'], ['taskId', 'task_id'], where, ids),
        () => configurationUrls(node, where, urls),
      );
      break;
    case 'GetTask':
    case 'CancelTask':
    case 'SubscribeToTask':
      read = idValues(node, ['id'], where, ids);
      break;
    case 'CreateTaskPushNotificationConfig':
      read = all(
        () => idValues(node, ['taskId', 'task_id'], where, ids),
        () => resourceIds(node, where, ids),
        () => configUrls(node, where, true, NESTED_CONFIG_MEMBERS, urls, 0),
      );
      break;
    case 'GetTaskPushNotificationConfig':
    case 'ListTaskPushNotificationConfigs':
    case 'DeleteTaskPushNotificationConfig':
      // 0.3 names the task `id` here (and the config `pushNotificationConfigId`); 1.0 `taskId` (and the config `id`).
      read = idValues(node, legacy ? ['id'] : ['taskId', 'task_id'], where, ids);
      break;
    case 'ListTasks':
    case 'GetExtendedAgentCard':
      break;
    case undefined: {
      // A method unknown here may be one the upstream knows (another draft's name for SendMessage or for creating a
      // push config): its push configs are read wherever a known method keeps them.
      const pushNamed = asciiLower(wire).includes('pushnotification');
      read = all(
        () => configUrls(node, where, pushNamed, pushNamed ? NESTED_CONFIG_MEMBERS : PUSH_CONFIG_MEMBERS, urls, 0),
        () => configurationUrls(node, where, urls),
      );
      break;
    }
  }
  if (!read.ok) return read;
  if (urls.length > MAX_A2A_PUSH_URLS) return fail('ERR_A2A_REQUEST_INVALID', `${label(wire)} carries more than MAX_A2A_PUSH_URLS (${MAX_A2A_PUSH_URLS}) push notification URLs`);
  if (new Set(ids).size > 1) return fail('ERR_A2A_REQUEST_INVALID', `the ${where} of ${label(wire)} name two different tasks`);
  return ok({ taskId: ids[0], pushUrls: urls });
}

/** Runs reads in order, stopping at the first failure. */
function all(...reads: Array<() => Result<void, Code>>): Result<void, Code> {
  for (const read of reads) {
    const result = read();
    if (!result.ok) return result;
  }
  return ok(undefined);
}

/** SendMessage's `configuration`: the push configs it holds (1.0, 0.3 JSON-RPC and 0.3 ProtoJSON members). */
function configurationUrls(node: JsonObject, where: string, out: string[]): Result<void, Code> {
  const configuration = objectMember(node, 'configuration', where);
  if (!configuration.ok || configuration.value === undefined) return configuration.ok ? ok(undefined) : configuration;
  return configUrls(configuration.value, `${where}.configuration`, false, PUSH_CONFIG_MEMBERS, out, 0);
}

/** A push config's own `url` (when `withUrl`) and those of the configs it wraps, down to MAX_CONFIG_DEPTH. */
function configUrls(node: JsonObject, where: string, withUrl: boolean, members: readonly string[], out: string[], depth: number): Result<void, Code> {
  if (withUrl && Object.hasOwn(node, 'url')) {
    const url = node.url;
    if (typeof url !== 'string') return fail('ERR_A2A_REQUEST_INVALID', `${where}.url is not a string`);
    if (url.length > MAX_A2A_PUSH_URL_LENGTH) return fail('ERR_A2A_REQUEST_INVALID', `${where}.url is longer than MAX_A2A_PUSH_URL_LENGTH (${MAX_A2A_PUSH_URL_LENGTH})`);
    out.push(url);
  }
  if (depth >= MAX_CONFIG_DEPTH) return ok(undefined);
  for (const member of members) {
    const inner = objectMember(node, member, where);
    if (!inner.ok) return inner;
    if (inner.value === undefined) continue;
    const read = configUrls(inner.value, `${where}.${member}`, true, NESTED_CONFIG_MEMBERS, out, depth + 1);
    if (!read.ok) return read;
  }
  return ok(undefined);
}

/** An object member; undefined when absent or null (ProtoJSON: null is the default, an unset message). */
function objectMember(node: JsonObject, member: string, where: string): Result<JsonObject | undefined, Code> {
  const value = own(node, member);
  if (value === undefined || value === null) return ok(undefined);
  if (!isObject(value)) return fail('ERR_A2A_REQUEST_INVALID', `${where}.${member} is not an object`);
  const spelled = spelledOnce(value, `${where}.${member}`);
  return spelled.ok ? ok(value) : spelled;
}

/**
 * An object the reader acts on must not hold two members whose names fold to one (`url` and `URL`), nor another
 * spelling of a member the reader reads (`Method`, `Configuration`): a case-insensitive decoder upstream would act on
 * a member the gateway never checked.
 */
function spelledOnce(node: JsonObject, where: string): Result<void, Code> {
  const seen = new Set<string>();
  for (const name of Object.keys(node)) {
    const folded = foldName(name);
    if (seen.has(folded)) return fail('ERR_A2A_REQUEST_INVALID', `${where} has two members whose names differ only in case`);
    seen.add(folded);
    const read = READ_MEMBER_BY_FOLD.get(folded);
    if (read !== undefined && read !== name) return fail('ERR_A2A_REQUEST_INVALID', `${where} spells the member "${read}" another way (case-insensitive decoders would read it)`);
  }
  return ok(undefined);
}

/** The task ids of `names` inside each object member of `holders` (SendMessage's message). */
function nestedIds(node: JsonObject, holders: readonly string[], names: readonly string[], where: string, out: string[]): Result<void, Code> {
  for (const holder of holders) {
    const inner = objectMember(node, holder, where);
    if (!inner.ok) return inner;
    if (inner.value === undefined) continue;
    const read = idValues(inner.value, names, `${where}.${holder}`, out);
    if (!read.ok) return read;
  }
  return ok(undefined);
}

/** Every non-empty value of the members `names` (spellings of one field); null and "" are ProtoJSON's unset. */
function idValues(node: JsonObject, names: readonly string[], where: string, out: string[]): Result<void, Code> {
  for (const name of names) {
    const value = own(node, name);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return fail('ERR_A2A_REQUEST_INVALID', `${where}.${name} is not a string`);
    const id = checkId(value, `${where}.${name}`);
    if (!id.ok) return id;
    if (id.value !== '') out.push(id.value);
  }
  return ok(undefined);
}

/** The task of a 0.3 resource name (`name: "tasks/{id}/pushNotificationConfigs/{configId}"`, gRPC `parent`): a2a-js
 *  takes a 0.3 REST create's task from `name`, not from the path. */
function resourceIds(node: JsonObject, where: string, out: string[]): Result<void, Code> {
  for (const member of ['name', 'parent']) {
    const value = own(node, member);
    if (value === undefined || value === null || value === '') continue;
    const match = typeof value === 'string' ? TASK_RESOURCE.exec(value) : null;
    if (!match) return fail('ERR_A2A_REQUEST_INVALID', `${where}.${member} is not a "tasks/{id}/…" resource name`);
    const id = checkId(match[1]!, `${where}.${member}`);
    if (!id.ok) return id;
    out.push(id.value);
  }
  return ok(undefined);
}

function checkId(value: string, where: string): Result<string, Code> {
  if (value.length > MAX_A2A_ID_LENGTH) return fail('ERR_A2A_REQUEST_INVALID', `${where} is longer than MAX_A2A_ID_LENGTH (${MAX_A2A_ID_LENGTH})`);
  if (CONTROL.test(value)) return fail('ERR_A2A_REQUEST_INVALID', `${where} contains a control character`);
  return ok(value);
}

// ---- body ----

function parseBody(headers: Headers, body: Uint8Array | undefined): Result<unknown, Code> {
  const type = headers.get('content-type');
  // A repeated field arrives joined with ", " and fails the comparison.
  if (type !== null && !JSON_MEDIA_TYPES.has(asciiLower(type.split(';', 1)[0]!.trim()))) {
    return fail('ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED', 'Content-Type is not application/json or application/a2a+json');
  }
  if (body === undefined || body.byteLength === 0) return fail('ERR_A2A_REQUEST_INVALID', 'a POST without a body');
  const text = strictUtf8(body);
  if (text === undefined) return fail('ERR_A2A_PARSE_ERROR', 'the body is not UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('ERR_A2A_PARSE_ERROR', 'the body is not JSON (a byte order mark included: RFC 8259 §8.1)');
  }
  const names = nameProblem(text);
  if (names) return fail('ERR_A2A_REQUEST_INVALID', names);
  return ok(value);
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    // ignoreBOM keeps a leading BOM in the text, where JSON.parse refuses it.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Member names the reader acts on; another spelling of one of them is refused (nameProblem). */
const READ_MEMBERS = ['jsonrpc', 'id', 'method', 'params', 'configuration', 'url', 'message', 'request', 'taskId', 'task_id', 'name', 'parent', ...NESTED_CONFIG_MEMBERS];

/**
 * Case-insensitive JSON decoders (Go's encoding/json, used by a2a-go; .NET's web defaults) match member names by
 * Unicode case folding. NFKC then lower case covers their folding (K and ſ included) and a little more: fail closed.
 */
function foldName(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}
const READ_MEMBER_BY_FOLD: ReadonlyMap<string, string> = new Map(READ_MEMBERS.map((name) => [foldName(name), name]));

/**
 * Why the member names of `text` (which JSON.parse accepted) are ambiguous, or undefined: an object with two members
 * of one name (JSON.parse keeps the last, other parsers the first), so the gateway could check one push URL while the
 * agent registers the other. Names are compared unescaped (`"\u0075rl"` is `"url"`). Other spellings of a name are
 * the structural check's (spelledOnce), on the objects the reader acts on only: user data in messages is free.
 */
function nameProblem(text: string): string | undefined {
  // One entry per open container: the names an object has so far, or undefined for an array.
  const open: Array<Set<string> | undefined> = [];
  let nameNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      let escaped = false;
      for (i++; text[i] !== '"'; i++) {
        if (text[i] === '\\') {
          escaped = true;
          i++;
        }
      }
      const names = open[open.length - 1];
      if (nameNext && names !== undefined) {
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : text.slice(start + 1, i);
        if (names.has(name)) return 'the body repeats a member name within an object';
        names.add(name);
        nameNext = false;
      }
    } else if (c === '{' || c === '[') {
      open.push(c === '{' ? new Set() : undefined);
      nameNext = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
      nameNext = false;
    } else if (c === ',') {
      nameNext = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}

// ---- small helpers ----

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own member only: never one inherited from Object.prototype (`constructor`, `toString`). */
function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Like Express's case-insensitive routes: ASCII letters only (no Unicode folding such as K → k). */
function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Percent-decoded like a framework decodes a path parameter; a malformed sequence stays as it is. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function label(method: string): string {
  return LOGGABLE_METHOD.test(method) ? method : 'a method';
}
