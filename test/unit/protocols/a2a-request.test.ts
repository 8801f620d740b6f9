/**
 * The A2A request reader (src/protocols/a2a-request.ts): every method of A2A 1.0 and 0.3 over both bindings as the
 * real @a2a-js/sdk 1.3.0 client transports put them on the wire (captured from their fetch), the SDK's own method-name
 * tables, REST prefixes and tenants read as the SDK's own Express server routes them (checked against that server on
 * loopback), every push notification URL location and spelling, one negative test per rule with its code, and a
 * property: it never throws, whatever the input.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, type AgentCard, type Message, type SendMessageRequest, type TaskPushNotificationConfig } from '@a2a-js/sdk';
import { JsonRpcTransportFactory, RestTransportFactory, type Transport } from '@a2a-js/sdk/client';
import type { A2ARequestHandler } from '@a2a-js/sdk/server';
import { restHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import {
  isLegacyJsonRpcMethod,
  isV1JsonRpcMethod,
  legacyJsonRpcToV1Method,
  LEGACY_METHOD_GET_AUTHENTICATED_EXTENDED_CARD,
  LEGACY_METHOD_MESSAGE_SEND,
  LEGACY_METHOD_MESSAGE_STREAM,
  LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_DELETE,
  LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_GET,
  LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_LIST,
  LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_SET,
  LEGACY_METHOD_TASKS_CANCEL,
  LEGACY_METHOD_TASKS_GET,
  LEGACY_METHOD_TASKS_RESUBSCRIBE,
  v1MethodToLegacyJsonRpc,
} from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransport, LegacyRestTransport } from '@a2a-js/sdk/compat/v0_3/client';
import { MAX_A2A_ID_LENGTH, MAX_A2A_METHOD_LENGTH, MAX_A2A_PUSH_URL_LENGTH, MAX_A2A_PUSH_URLS } from '../../../src/limits.ts';
import {
  A2A_JSONRPC_CODES,
  A2A_METHODS,
  A2A_REQUEST_ERRORS,
  a2aBinding,
  readA2aRequest,
  type A2aMethod,
  type A2aRequestErrorCode,
  type A2aRequestInfo,
} from '../../../src/protocols/a2a-request.ts';

const enc = new TextEncoder();
const HOOK = 'https://hooks.example/a2a/cb?sig=1';
const MOUNT = '/a2a/echo';

function call(method: string, restPath: string, body?: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const bytes = body === undefined ? undefined : body instanceof Uint8Array ? body : enc.encode(typeof body === 'string' ? body : JSON.stringify(body));
  return readA2aRequest({ method, headers: new Headers(headers) }, restPath, bytes);
}
const rpc = (payload: unknown, headers?: Record<string, string>) => call('POST', '/jsonrpc', payload, headers);
const v1 = (method: string, params?: unknown, id: unknown = 1) => rpc({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });

function code(result: ReturnType<typeof readA2aRequest>): A2aRequestErrorCode | 'ok' {
  return result.ok ? 'ok' : result.code;
}
function value(result: ReturnType<typeof readA2aRequest>): A2aRequestInfo | undefined {
  if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
  return result.value;
}

// ---- the SDK's clients on the wire ----

interface Captured {
  method: string;
  restPath: string;
  headers: Headers;
  body: Uint8Array | undefined;
}

/** Runs one transport call and returns the HTTP request its fetch was given (the call itself is then abandoned). */
async function capture(transport: Transport, run: (t: Transport) => Promise<unknown>): Promise<Captured> {
  const seen = requests.get(transport)!;
  seen.length = 0;
  await run(transport).catch(() => {});
  expect(seen).toHaveLength(1);
  return seen[0]!;
}

const requests = new Map<Transport, Captured[]>();
async function transport(make: (fetchImpl: typeof fetch) => Transport | Promise<Transport>): Promise<Transport> {
  const seen: Captured[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    expect(url.pathname.startsWith(`${MOUNT}/`)).toBe(true);
    const body = typeof init?.body === 'string' ? enc.encode(init.body) : undefined;
    seen.push({ method: init?.method ?? 'GET', restPath: url.pathname.slice(MOUNT.length), headers: new Headers(init?.headers), body });
    throw new Error('captured');
  };
  const made = await make(fetchImpl);
  requests.set(made, seen);
  return made;
}

const card = {} as AgentCard; // the 1.0 factories do not read the card
const transports = {
  'JSONRPC 1.0': await transport((f) => new JsonRpcTransportFactory({ fetchImpl: f }).create(`http://gw.test${MOUNT}/jsonrpc`, card)),
  'HTTP+JSON 1.0': await transport((f) => new RestTransportFactory({ fetchImpl: f }).create(`http://gw.test${MOUNT}/rest`, card)),
  'JSONRPC 0.3': await transport((f) => new LegacyJsonRpcTransport({ endpoint: `http://gw.test${MOUNT}/jsonrpc`, fetchImpl: f })),
  'HTTP+JSON 0.3': await transport((f) => new LegacyRestTransport({ endpoint: `http://gw.test${MOUNT}/rest`, fetchImpl: f })),
};

const message: Message = {
  messageId: 'm-1',
  contextId: '',
  taskId: 'task-1',
  role: Role.ROLE_USER,
  parts: [{ content: { $case: 'text', value: 'hi' }, metadata: undefined, filename: '', mediaType: '' }],
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
};
const pushConfig: TaskPushNotificationConfig = { tenant: '', id: 'cfg-1', taskId: 'task-1', url: HOOK, token: 'tok', authentication: { scheme: 'Bearer', credentials: 'sekret' } };
const send: SendMessageRequest = {
  tenant: '',
  message,
  // "Task id should be empty when sending this configuration in a `SendMessage` request" (a2a.proto).
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: { ...pushConfig, taskId: '' }, returnImmediately: false },
  metadata: undefined,
};

/** Per transport call: the 1.0 method, the wire name per binding and version, the task, whether a push URL rides along. */
const CALLS: Array<{
  run: (t: Transport) => Promise<unknown>;
  method: A2aMethod;
  wire: Record<keyof typeof transports, string | undefined>;
  taskId?: string;
  push?: true;
}> = [
  {
    run: (t) => t.sendMessage(send),
    method: 'SendMessage',
    wire: { 'JSONRPC 1.0': 'SendMessage', 'HTTP+JSON 1.0': 'POST /message:send', 'JSONRPC 0.3': 'message/send', 'HTTP+JSON 0.3': 'POST /v1/message:send' },
    taskId: 'task-1',
    push: true,
  },
  {
    run: (t) => t.sendMessageStream(send).next(),
    method: 'SendStreamingMessage',
    wire: { 'JSONRPC 1.0': 'SendStreamingMessage', 'HTTP+JSON 1.0': 'POST /message:stream', 'JSONRPC 0.3': 'message/stream', 'HTTP+JSON 0.3': 'POST /v1/message:stream' },
    taskId: 'task-1',
    push: true,
  },
  {
    run: (t) => t.getTask({ tenant: '', id: 'task-1', historyLength: 2 }),
    method: 'GetTask',
    wire: { 'JSONRPC 1.0': 'GetTask', 'HTTP+JSON 1.0': 'GET /tasks/{id}', 'JSONRPC 0.3': 'tasks/get', 'HTTP+JSON 0.3': 'GET /v1/tasks/{id}' },
    taskId: 'task-1',
  },
  {
    run: (t) => t.listTasks({ tenant: '', contextId: '', status: 0, pageToken: '', statusTimestampAfter: undefined }),
    method: 'ListTasks',
    // 0.3 has no tasks/list: both 0.3 transports refuse before sending.
    wire: { 'JSONRPC 1.0': 'ListTasks', 'HTTP+JSON 1.0': 'GET /tasks', 'JSONRPC 0.3': undefined, 'HTTP+JSON 0.3': undefined },
  },
  {
    run: (t) => t.cancelTask({ tenant: '', id: 'task-1', metadata: undefined }),
    method: 'CancelTask',
    wire: { 'JSONRPC 1.0': 'CancelTask', 'HTTP+JSON 1.0': 'POST /tasks/{id}:cancel', 'JSONRPC 0.3': 'tasks/cancel', 'HTTP+JSON 0.3': 'POST /v1/tasks/{id}:cancel' },
    taskId: 'task-1',
  },
  {
    run: (t) => t.resubscribeTask({ tenant: '', id: 'task-1' }).next(),
    method: 'SubscribeToTask',
    // The 1.0 REST client subscribes with POST (spec text), the 0.3 one with GET.
    wire: { 'JSONRPC 1.0': 'SubscribeToTask', 'HTTP+JSON 1.0': 'POST /tasks/{id}:subscribe', 'JSONRPC 0.3': 'tasks/resubscribe', 'HTTP+JSON 0.3': 'GET /v1/tasks/{id}:subscribe' },
    taskId: 'task-1',
  },
  {
    run: (t) => t.createTaskPushNotificationConfig(pushConfig),
    method: 'CreateTaskPushNotificationConfig',
    wire: {
      'JSONRPC 1.0': 'CreateTaskPushNotificationConfig',
      'HTTP+JSON 1.0': 'POST /tasks/{id}/pushNotificationConfigs',
      'JSONRPC 0.3': 'tasks/pushNotificationConfig/set',
      'HTTP+JSON 0.3': 'POST /v1/tasks/{id}/pushNotificationConfigs',
    },
    taskId: 'task-1',
    push: true,
  },
  {
    run: (t) => t.getTaskPushNotificationConfig({ tenant: '', taskId: 'task-1', id: 'cfg-1' }),
    method: 'GetTaskPushNotificationConfig',
    wire: {
      'JSONRPC 1.0': 'GetTaskPushNotificationConfig',
      'HTTP+JSON 1.0': 'GET /tasks/{id}/pushNotificationConfigs/{configId}',
      'JSONRPC 0.3': 'tasks/pushNotificationConfig/get',
      'HTTP+JSON 0.3': 'GET /v1/tasks/{id}/pushNotificationConfigs/{configId}',
    },
    taskId: 'task-1',
  },
  {
    run: (t) => t.listTaskPushNotificationConfig({ tenant: '', taskId: 'task-1', pageSize: 0, pageToken: '' }),
    method: 'ListTaskPushNotificationConfigs',
    wire: {
      'JSONRPC 1.0': 'ListTaskPushNotificationConfigs',
      'HTTP+JSON 1.0': 'GET /tasks/{id}/pushNotificationConfigs',
      'JSONRPC 0.3': 'tasks/pushNotificationConfig/list',
      'HTTP+JSON 0.3': 'GET /v1/tasks/{id}/pushNotificationConfigs',
    },
    taskId: 'task-1',
  },
  {
    run: (t) => t.deleteTaskPushNotificationConfig({ tenant: '', taskId: 'task-1', id: 'cfg-1' }),
    method: 'DeleteTaskPushNotificationConfig',
    wire: {
      'JSONRPC 1.0': 'DeleteTaskPushNotificationConfig',
      'HTTP+JSON 1.0': 'DELETE /tasks/{id}/pushNotificationConfigs/{configId}',
      'JSONRPC 0.3': 'tasks/pushNotificationConfig/delete',
      'HTTP+JSON 0.3': 'DELETE /v1/tasks/{id}/pushNotificationConfigs/{configId}',
    },
    taskId: 'task-1',
  },
  {
    run: (t) => t.getExtendedAgentCard({ tenant: '' }),
    method: 'GetExtendedAgentCard',
    wire: { 'JSONRPC 1.0': 'GetExtendedAgentCard', 'HTTP+JSON 1.0': 'GET /extendedAgentCard', 'JSONRPC 0.3': 'agent/getAuthenticatedExtendedCard', 'HTTP+JSON 0.3': 'GET /v1/card' },
  },
];

describe('every method of both versions and both bindings, as the @a2a-js/sdk 1.3.0 clients send them', () => {
  for (const [name, t] of Object.entries(transports) as Array<[keyof typeof transports, Transport]>) {
    for (const c of CALLS) {
      const wire = c.wire[name];
      if (wire === undefined) continue;
      it(`${name} ${wire}`, async () => {
        const sent = await capture(t, c.run);
        // The SDK's Client adds A2A-Version (its transport's version) to every call.
        sent.headers.set('a2a-version', t.protocolVersion);
        const jsonRpc = name.startsWith('JSONRPC');
        const expected: A2aRequestInfo = { binding: jsonRpc ? 'JSONRPC' : 'HTTP+JSON', method: c.method, wireMethod: wire, legacy: name.endsWith('0.3'), pushUrls: c.push ? [HOOK] : [] };
        if (c.taskId) expected.taskId = c.taskId;
        if (jsonRpc) expected.rpcId = (JSON.parse(new TextDecoder().decode(sent.body)) as { id: number }).id;
        expect(a2aBinding(sent.method, sent.restPath)).toBe(expected.binding);
        expect(readA2aRequest({ method: sent.method, headers: sent.headers }, sent.restPath, sent.body)).toEqual({ ok: true, value: expected });
      });
    }
  }

  it('a 1.0 REST call with a tenant puts it in the path, read as a prefix', async () => {
    const sent = await capture(transports['HTTP+JSON 1.0'], (t) => t.sendMessage({ ...send, tenant: 'tenant-1' }));
    expect(sent.restPath).toBe('/rest/tenant-1/message:send');
    expect(value(readA2aRequest({ method: sent.method, headers: sent.headers }, sent.restPath, sent.body))).toMatchObject({ method: 'SendMessage', taskId: 'task-1', pushUrls: [HOOK] });
  });
});

describe('method names: the SDK\'s tables (@a2a-js/sdk/compat/v0_3)', () => {
  const legacy = [
    LEGACY_METHOD_MESSAGE_SEND,
    LEGACY_METHOD_MESSAGE_STREAM,
    LEGACY_METHOD_TASKS_GET,
    LEGACY_METHOD_TASKS_CANCEL,
    LEGACY_METHOD_TASKS_RESUBSCRIBE,
    LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_SET,
    LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_GET,
    LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_LIST,
    LEGACY_METHOD_PUSH_NOTIFICATION_CONFIG_DELETE,
    LEGACY_METHOD_GET_AUTHENTICATED_EXTENDED_CARD,
  ];

  it('every 1.0 name is one the SDK dispatches, and every one maps back from its 0.3 name', () => {
    for (const method of A2A_METHODS) {
      expect(isV1JsonRpcMethod(method)).toBe(true);
      expect(value(v1(method, {}))).toEqual({ binding: 'JSONRPC', method, wireMethod: method, legacy: false, rpcId: 1, pushUrls: [] });
      if (method !== 'ListTasks') expect(legacy).toContain(v1MethodToLegacyJsonRpc(method));
    }
  });

  it('every 0.3 name reads as the SDK translates it to 1.0, flagged legacy', () => {
    for (const name of legacy) {
      expect(isLegacyJsonRpcMethod(name)).toBe(true);
      expect(value(v1(name, {}, 'r-1'))).toEqual({ binding: 'JSONRPC', method: legacyJsonRpcToV1Method(name), wireMethod: name, legacy: true, rpcId: 'r-1', pushUrls: [] });
    }
  });

  it('an unknown method keeps its wire name; names are case-sensitive as in the SDK\'s dispatch', () => {
    expect(value(v1('tasks/list', {}))).toEqual({ binding: 'JSONRPC', method: undefined, wireMethod: 'tasks/list', legacy: false, rpcId: 1, pushUrls: [] });
    expect(value(v1('sendMessage', {}))?.method).toBeUndefined();
    expect(value(v1('Message/Send', {}))?.method).toBeUndefined();
  });

  it('ids: string, number, null, or absent (a notification); params may be absent', () => {
    expect(value(v1('GetTask', { id: 't' }, 'abc'))).toMatchObject({ rpcId: 'abc', taskId: 't' });
    expect(value(v1('GetTask', { id: 't' }, 0))).toMatchObject({ rpcId: 0 });
    expect(value(v1('GetTask', { id: 't' }, null))).toMatchObject({ rpcId: null });
    expect(value(rpc({ jsonrpc: '2.0', method: 'GetExtendedAgentCard' }))).toEqual({ binding: 'JSONRPC', method: 'GetExtendedAgentCard', wireMethod: 'GetExtendedAgentCard', legacy: false, pushUrls: [] });
  });
});

describe('task ids', () => {
  it('are read from the member each method and version names its task by', () => {
    const cases: Array<[string, unknown, string | undefined]> = [
      ['SendMessage', { message: { taskId: 'a' } }, 'a'],
      ['SendMessage', { message: { task_id: 'a' } }, 'a'],
      ['SendMessage', { message: { messageId: 'm' } }, undefined], // a new task
      ['SendMessage', { message: { taskId: '' } }, undefined], // ProtoJSON "" is unset
      ['message/send', { message: { taskId: 'a' } }, 'a'],
      ['SendStreamingMessage', { request: { taskId: 'a' } }, 'a'], // 0.3 ProtoJSON spells the message `request`
      ['GetTask', { id: 'a' }, 'a'],
      ['tasks/get', { id: 'a' }, 'a'],
      ['CancelTask', { id: 'a' }, 'a'],
      ['tasks/cancel', { id: 'a' }, 'a'],
      ['SubscribeToTask', { id: 'a' }, 'a'],
      ['tasks/resubscribe', { id: 'a' }, 'a'],
      ['CreateTaskPushNotificationConfig', { taskId: 'a', url: HOOK }, 'a'],
      ['CreateTaskPushNotificationConfig', { task_id: 'a', url: HOOK }, 'a'],
      ['tasks/pushNotificationConfig/set', { taskId: 'a', pushNotificationConfig: { url: HOOK } }, 'a'],
      ['GetTaskPushNotificationConfig', { taskId: 'a', id: 'cfg' }, 'a'],
      ['tasks/pushNotificationConfig/get', { id: 'a', pushNotificationConfigId: 'cfg' }, 'a'],
      ['ListTaskPushNotificationConfigs', { taskId: 'a' }, 'a'],
      ['tasks/pushNotificationConfig/list', { id: 'a' }, 'a'],
      ['DeleteTaskPushNotificationConfig', { taskId: 'a', id: 'cfg' }, 'a'],
      ['tasks/pushNotificationConfig/delete', { id: 'a', pushNotificationConfigId: 'cfg' }, 'a'],
      ['ListTasks', { contextId: 'c' }, undefined],
      ['GetExtendedAgentCard', {}, undefined],
    ];
    for (const [method, params, taskId] of cases) {
      const read = value(v1(method, { ...(params as object) }));
      expect({ method, taskId: read?.taskId }).toEqual({ method, taskId });
    }
  });

  it('the REST path\'s {id} is percent-decoded, and may hold ":" (Express: GET /tasks/x:cancel is GetTask "x:cancel")', () => {
    expect(value(call('GET', '/tasks/a%20b'))).toMatchObject({ method: 'GetTask', taskId: 'a b' });
    expect(value(call('GET', '/tasks/ns:x:cancel'))).toMatchObject({ method: 'GetTask', taskId: 'ns:x:cancel' });
    expect(value(call('POST', '/tasks/ns:x:cancel'))).toMatchObject({ method: 'CancelTask', taskId: 'ns:x' });
    expect(value(call('GET', `/tasks/${'t'.repeat(MAX_A2A_ID_LENGTH)}`))?.taskId).toHaveLength(MAX_A2A_ID_LENGTH);
  });

  it('a 0.3 REST create names its task in `name` (a2a-js reads it from there): it must be the path\'s', () => {
    const body = { name: 'tasks/t-1/pushNotificationConfigs/cfg', pushNotificationConfig: { url: HOOK } };
    expect(value(call('POST', '/v1/tasks/t-1/pushNotificationConfigs', body))).toEqual({ binding: 'HTTP+JSON', method: 'CreateTaskPushNotificationConfig', wireMethod: 'POST /v1/tasks/{id}/pushNotificationConfigs', legacy: true, taskId: 't-1', pushUrls: [HOOK] });
    expect(code(call('POST', '/v1/tasks/t-1/pushNotificationConfigs', { ...body, name: 'tasks/t-2/pushNotificationConfigs/cfg' }))).toBe('ERR_A2A_REQUEST_INVALID');
    expect(code(call('POST', '/v1/tasks/t-1/pushNotificationConfigs', { ...body, name: 'tasks/t-1' }))).toBe('ok');
    expect(code(call('POST', '/v1/tasks/t-1/pushNotificationConfigs', { ...body, name: 'task-1' }))).toBe('ERR_A2A_REQUEST_INVALID');
    expect(code(call('POST', '/v1/tasks/t-1/pushNotificationConfigs', { ...body, name: 7 }))).toBe('ERR_A2A_REQUEST_INVALID');
    expect(code(call('POST', '/v1/tasks/t-1/pushNotificationConfigs', { ...body, parent: 'tasks/t-2' }))).toBe('ERR_A2A_REQUEST_INVALID');
  });

  it('a 1.0 REST create\'s body taskId, when present, must be the path\'s', () => {
    expect(code(call('POST', '/tasks/t-1/pushNotificationConfigs', { taskId: 't-1', url: HOOK }))).toBe('ok');
    expect(code(call('POST', '/tasks/t-1/pushNotificationConfigs', { taskId: '', url: HOOK }))).toBe('ok');
    expect(code(call('POST', '/tasks/t-1/pushNotificationConfigs', { taskId: 't-2', url: HOOK }))).toBe('ERR_A2A_REQUEST_INVALID');
    expect(code(call('POST', '/tasks/t-1/pushNotificationConfigs', { task_id: 't-2', url: HOOK }))).toBe('ERR_A2A_REQUEST_INVALID');
  });
});

describe('REST paths: any prefix, tenants, and Express\'s routing', () => {
  const op = (method: string, path: string, headers?: Record<string, string>) => {
    const read = value(call(method, path, undefined, headers));
    return read && { method: read.method, wireMethod: read.wireMethod, legacy: read.legacy, taskId: read.taskId };
  };

  it('reads the operation from the path\'s end, below an interface path or a tenant', () => {
    expect(op('GET', '/rest/tenant-1/tasks/abc')).toEqual({ method: 'GetTask', wireMethod: 'GET /tasks/{id}', legacy: false, taskId: 'abc' });
    expect(op('POST', '/a/b/c/tasks/abc:cancel')).toEqual({ method: 'CancelTask', wireMethod: 'POST /tasks/{id}:cancel', legacy: false, taskId: 'abc' });
    expect(op('GET', '/tenant-1/extendedAgentCard')).toEqual({ method: 'GetExtendedAgentCard', wireMethod: 'GET /extendedAgentCard', legacy: false, taskId: undefined });
    expect(op('GET', '/tasks')).toEqual({ method: 'ListTasks', wireMethod: 'GET /tasks', legacy: false, taskId: undefined });
    expect(op('GET', '/tenant-1/tasks/abc/pushNotificationConfigs/cfg')).toEqual({ method: 'GetTaskPushNotificationConfig', wireMethod: 'GET /tasks/{id}/pushNotificationConfigs/{configId}', legacy: false, taskId: 'abc' });
  });

  it('a tenant named like a keyword reads as a2a-js routes it (its registration order)', () => {
    expect(op('GET', '/tasks/tasks')).toMatchObject({ method: 'GetTask', taskId: 'tasks' });
    expect(op('GET', '/tasks/extendedAgentCard')).toMatchObject({ method: 'GetExtendedAgentCard', taskId: undefined });
    expect(value(call('POST', '/tasks/message:send', { message: {} }))).toEqual({ binding: 'HTTP+JSON', method: 'SendMessage', wireMethod: 'POST /message:send', legacy: false, pushUrls: [] });
    // Express tries "/:tenant/tasks/:taskId" (GetTask) before "/tasks/:taskId/pushNotificationConfigs".
    expect(op('GET', '/tasks/tasks/pushNotificationConfigs')).toMatchObject({ method: 'GetTask', taskId: 'pushNotificationConfigs' });
    expect(op('GET', '/tasks/tasks/x/pushNotificationConfigs')).toMatchObject({ method: 'ListTaskPushNotificationConfigs', taskId: 'x' });
    expect(op('GET', '/tasks/pushNotificationConfigs')).toMatchObject({ method: 'GetTask', taskId: 'pushNotificationConfigs' });
  });

  it('subscribe takes GET and POST; HEAD is read as GET (Express answers it with the GET route)', () => {
    expect(op('GET', '/tasks/abc:subscribe')).toMatchObject({ method: 'SubscribeToTask', wireMethod: 'GET /tasks/{id}:subscribe', taskId: 'abc' });
    expect(op('POST', '/tasks/abc:subscribe')).toMatchObject({ method: 'SubscribeToTask', wireMethod: 'POST /tasks/{id}:subscribe', taskId: 'abc' });
    expect(op('HEAD', '/tasks/abc')).toMatchObject({ method: 'GetTask', wireMethod: 'HEAD /tasks/{id}', taskId: 'abc' });
    expect(op('HEAD', '/extendedAgentCard')).toMatchObject({ method: 'GetExtendedAgentCard' });
  });

  it('keywords are matched case-insensitively and one trailing slash is ignored, as Express does', () => {
    expect(value(call('POST', '/MESSAGE:SEND', { message: {} }))).toMatchObject({ method: 'SendMessage', wireMethod: 'POST /message:send' });
    expect(op('POST', '/Tasks/AbC:Cancel')).toMatchObject({ method: 'CancelTask', taskId: 'AbC' });
    expect(op('GET', '/V1/Card')).toMatchObject({ method: 'GetExtendedAgentCard', legacy: true });
    expect(op('GET', '/tasks/abc/')).toMatchObject({ method: 'GetTask', taskId: 'abc' });
    expect(op('GET', '/tasks/')).toMatchObject({ method: 'ListTasks' });
  });

  it('/v1/ paths are 0.3 without A2A-Version (or with 0.x); with 1.x, "v1" is a tenant (a2a-js routes by the header)', () => {
    expect(op('GET', '/v1/tasks/abc')).toEqual({ method: 'GetTask', wireMethod: 'GET /v1/tasks/{id}', legacy: true, taskId: 'abc' });
    expect(op('GET', '/v1/tasks/abc', { 'a2a-version': '0.3' })).toMatchObject({ legacy: true });
    expect(op('GET', '/v1/tasks/abc', { 'a2a-version': '' })).toMatchObject({ legacy: true });
    expect(op('GET', '/v1/tasks/abc', { 'a2a-version': '1.0' })).toEqual({ method: 'GetTask', wireMethod: 'GET /tasks/{id}', legacy: false, taskId: 'abc' });
    expect(op('GET', '/tasks/abc')).toMatchObject({ legacy: false });
    // /v1/card exists in 0.3 only: it is the extended card whatever the header says.
    expect(op('GET', '/v1/card', { 'a2a-version': '1.0' })).toEqual({ method: 'GetExtendedAgentCard', wireMethod: 'GET /v1/card', legacy: true, taskId: undefined });
    expect(op('GET', '/card')).toBeUndefined();
  });

  it('paths that are no A2A operation, and bodiless methods an operation does not define, are forwarded as they are', () => {
    for (const [method, path] of [
      ['GET', '/.well-known/agent-card.json'],
      ['GET', '/'],
      ['GET', ''],
      ['GET', '/jsonrpc'],
      ['PUT', '/somewhere/else'],
      ['DELETE', '/jsonrpc'],
      ['GET', '/message:send'],
      ['OPTIONS', '/tasks/abc/pushNotificationConfigs'],
      ['HEAD', '/tasks/abc:cancel/x'],
    ] as const) {
      expect({ method, path, result: call(method, path) }).toEqual({ method, path, result: { ok: true, value: undefined } });
    }
  });

  it('a2aBinding: a POST that is no REST operation taking POST is JSON-RPC; all else HTTP+JSON', () => {
    const cases: Array<[string, string, 'JSONRPC' | 'HTTP+JSON']> = [
      ['POST', '/jsonrpc', 'JSONRPC'],
      ['POST', '', 'JSONRPC'],
      ['POST', '/', 'JSONRPC'],
      ['POST', '/tasks/abc', 'JSONRPC'],
      ['POST', '/tasks', 'JSONRPC'],
      ['POST', '/tasks/abc/pushNotificationConfigs/cfg', 'JSONRPC'],
      ['POST', '/v1/message:send', 'HTTP+JSON'],
      ['POST', '/tenant/message:stream', 'HTTP+JSON'],
      ['POST', '/tasks/abc:cancel', 'HTTP+JSON'],
      ['POST', '/tasks/abc:subscribe', 'HTTP+JSON'],
      ['POST', '/tasks/abc/pushNotificationConfigs', 'HTTP+JSON'],
      ['POST', '/message%3Asend', 'HTTP+JSON'], // once decoded a REST operation: refused later, in the REST shape
      ['GET', '/jsonrpc', 'HTTP+JSON'],
      ['PUT', '/jsonrpc', 'HTTP+JSON'],
      ['DELETE', '/tasks/abc/pushNotificationConfigs/cfg', 'HTTP+JSON'],
    ];
    for (const [method, path, binding] of cases) expect({ method, path, binding: a2aBinding(method, path) }).toEqual({ method, path, binding });
  });
});

// express is an optional peer of the SDK and ships no types here.
type Server = { close(done: () => void): void; address(): AddressInfo };
type App = { use(path: string, handler: unknown): void; listen(port: number, host: string, ready: () => void): Server };
const express = createRequire(import.meta.url)('express') as () => App;

describe('agrees with the a2a-js 1.3.0 Express REST server (restHandler, legacyCompat) on every path it dispatches', () => {
  /** What the SDK's router called on the request handler, named by the 1.0 method, with the task it was given. */
  const dispatched: Array<{ method: A2aMethod; taskId?: string }> = [];
  const HANDLER_METHODS: Record<string, A2aMethod> = {
    sendMessage: 'SendMessage',
    sendMessageStream: 'SendStreamingMessage',
    getTask: 'GetTask',
    listTasks: 'ListTasks',
    cancelTask: 'CancelTask',
    resubscribe: 'SubscribeToTask',
    createTaskPushNotificationConfig: 'CreateTaskPushNotificationConfig',
    getTaskPushNotificationConfig: 'GetTaskPushNotificationConfig',
    listTaskPushNotificationConfigs: 'ListTaskPushNotificationConfigs',
    deleteTaskPushNotificationConfig: 'DeleteTaskPushNotificationConfig',
    getAuthenticatedExtendedAgentCard: 'GetExtendedAgentCard',
  };
  const stubCard = {
    name: 'stub',
    supportedInterfaces: ['1.0', '0.3'].map((protocolVersion) => ({ url: 'http://127.0.0.1/rest', protocolBinding: 'HTTP+JSON', protocolVersion, tenant: '' })),
    capabilities: { streaming: true, pushNotifications: true, extendedAgentCard: true },
  } as unknown as AgentCard;
  const handler = new Proxy({} as A2ARequestHandler, {
    get(_target, name) {
      if (name === 'getAgentCard') return async () => stubCard;
      const method = typeof name === 'string' ? HANDLER_METHODS[name] : undefined;
      if (method === undefined) return undefined;
      return (params: { id?: string; taskId?: string; message?: { taskId?: string } }) => {
        const taskId = params.taskId || params.id || params.message?.taskId || undefined;
        dispatched.push(taskId === undefined ? { method } : { method, taskId });
        throw new Error('recorded');
      };
    },
  });

  let server: Server;
  let origin: string;
  beforeAll(async () => {
    const app = express();
    app.use('/rest', restHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    origin = `http://127.0.0.1:${server.address().port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const V1 = { 'a2a-version': '1.0', 'content-type': 'application/json' };
  const V03 = { 'content-type': 'application/json' }; // no A2A-Version: 0.3
  const send1 = { message: { messageId: 'm', taskId: 'abc', role: 'ROLE_USER', parts: [{ text: 'hi' }] }, configuration: { taskPushNotificationConfig: { url: HOOK } } };
  const send03 = { message: { messageId: 'm', taskId: 'abc', role: 'ROLE_USER', content: [{ text: 'hi' }] }, configuration: { pushNotification: { url: HOOK } } };
  const cases: Array<[string, string, Record<string, string>, unknown?]> = [
    ['GET', '/tasks/abc', V1],
    ['GET', '/t1/tasks/abc', V1],
    ['GET', '/TASKS/abc', V1],
    ['GET', '/tasks/abc/', V1],
    ['HEAD', '/tasks/abc', V1],
    ['GET', '/tasks/a%20b', V1],
    ['GET', '/tasks/x:cancel', V1],
    ['GET', '/tasks/abc:subscribe', V1],
    ['POST', '/tasks/abc:subscribe', V1],
    ['POST', '/tasks/abc:cancel', V1],
    ['POST', '/T1/Tasks/AbC:CANCEL', V1],
    ['GET', '/tasks', V1],
    ['GET', '/t1/tasks', V1],
    ['GET', '/tasks/tasks', V1],
    ['GET', '/tasks/extendedAgentCard', V1],
    ['GET', '/extendedAgentCard', V1],
    ['GET', '/v1/tasks/abc', V1],
    ['POST', '/message:send', V1, send1],
    ['POST', '/t1/message:send', V1, send1],
    ['POST', '/tasks/message:send', V1, send1],
    ['POST', '/message:stream', V1, send1],
    ['POST', '/tasks/abc/pushNotificationConfigs', V1, { url: HOOK }],
    ['GET', '/tasks/abc/pushNotificationConfigs', V1],
    ['GET', '/tasks/tasks/pushNotificationConfigs', V1],
    ['GET', '/t1/tasks/abc/pushNotificationConfigs/c', V1],
    ['DELETE', '/tasks/abc/pushNotificationConfigs/c', V1],
    ['GET', '/v1/card', V03],
    ['GET', '/V1/CARD', V03],
    ['POST', '/v1/message:send', V03, send03],
    ['POST', '/v1/message:stream', V03, send03],
    ['GET', '/v1/tasks/abc', V03],
    ['POST', '/v1/tasks/abc:cancel', V03],
    ['GET', '/v1/tasks/abc:subscribe', V03],
    ['POST', '/v1/tasks/abc:subscribe', V03],
    ['POST', '/v1/tasks/abc/pushNotificationConfigs', V03, { name: 'tasks/abc/pushNotificationConfigs/c', pushNotificationConfig: { url: HOOK } }],
    ['GET', '/v1/tasks/abc/pushNotificationConfigs', V03],
    ['GET', '/v1/tasks/abc/pushNotificationConfigs/c', V03],
    ['DELETE', '/v1/tasks/abc/pushNotificationConfigs/c', V03],
  ];

  it.each(cases)('%s %s', async (method, path, headers, body) => {
    dispatched.length = 0;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    await (await fetch(`${origin}/rest${path}`, init)).arrayBuffer();
    expect(dispatched).toHaveLength(1);
    const read = value(call(method, `/rest${path}`, body, headers));
    expect(read && (read.taskId === undefined ? { method: read.method } : { method: read.method, taskId: read.taskId })).toEqual(dispatched[0]);
    if (body !== undefined) expect(read?.pushUrls).toEqual([HOOK]);
  });

  it('a 0.3 REST create acts on the task its body names, not the path\'s: the gateway refuses the disagreement', async () => {
    dispatched.length = 0;
    const body = { name: 'tasks/other/pushNotificationConfigs/c', pushNotificationConfig: { url: HOOK } };
    await (await fetch(`${origin}/rest/v1/tasks/abc/pushNotificationConfigs`, { method: 'POST', headers: V03, body: JSON.stringify(body) })).arrayBuffer();
    expect(dispatched).toEqual([{ method: 'CreateTaskPushNotificationConfig', taskId: 'other' }]);
    expect(code(call('POST', '/rest/v1/tasks/abc/pushNotificationConfigs', body, V03))).toBe('ERR_A2A_REQUEST_INVALID');
  });
});

describe('push notification URLs: every location and spelling of both versions', () => {
  const urls = (result: ReturnType<typeof readA2aRequest>) => value(result)?.pushUrls;

  it('SendMessage configuration: 1.0 taskPushNotificationConfig, 0.3 JSON-RPC pushNotificationConfig, 0.3 ProtoJSON pushNotification, each also snake_case', () => {
    for (const member of ['taskPushNotificationConfig', 'task_push_notification_config', 'pushNotificationConfig', 'push_notification_config', 'pushNotification', 'push_notification']) {
      const params = { message: {}, configuration: { [member]: { url: HOOK } } };
      for (const method of ['SendMessage', 'SendStreamingMessage', 'message/send', 'message/stream']) expect({ member, method, urls: urls(v1(method, params)) }).toEqual({ member, method, urls: [HOOK] });
      for (const path of ['/message:send', '/message:stream', '/v1/message:send', '/v1/message:stream', '/t-1/message:send']) expect({ member, path, urls: urls(call('POST', path, params)) }).toEqual({ member, path, urls: [HOOK] });
    }
  });

  it('create / set: 1.0 `url`, 0.3 `pushNotificationConfig.url` (both spellings), and the 0.3 gRPC request\'s `config`', () => {
    const shapes: unknown[] = [
      { taskId: 't', url: HOOK },
      { taskId: 't', pushNotificationConfig: { url: HOOK } },
      { taskId: 't', push_notification_config: { url: HOOK } },
      { parent: 'tasks/t', config: { name: 'tasks/t/pushNotificationConfigs/c', pushNotificationConfig: { url: HOOK } } },
      { parent: 'tasks/t', config: { url: HOOK } },
    ];
    for (const params of shapes) {
      expect(urls(v1('CreateTaskPushNotificationConfig', params))).toEqual([HOOK]);
      expect(urls(v1('tasks/pushNotificationConfig/set', params))).toEqual([HOOK]);
      expect(urls(call('POST', '/tasks/t/pushNotificationConfigs', params))).toEqual([HOOK]);
      expect(urls(call('POST', '/v1/tasks/t/pushNotificationConfigs', params))).toEqual([HOOK]);
    }
  });

  it('collects every URL a call spells, in order, for the allow-list to check them all', () => {
    const params = { taskId: 't', url: 'https://a.example/1', pushNotificationConfig: { url: 'https://b.example/2' }, config: { pushNotificationConfig: { url: 'https://c.example/3' } } };
    expect(urls(v1('CreateTaskPushNotificationConfig', params))).toEqual(['https://a.example/1', 'https://b.example/2', 'https://c.example/3']);
    const both = { message: {}, configuration: { taskPushNotificationConfig: { url: 'https://a.example/1' }, pushNotificationConfig: { url: 'https://b.example/2' } } };
    expect(urls(v1('SendMessage', both))).toEqual(['https://a.example/1', 'https://b.example/2']);
  });

  it('ProtoJSON null is an unset member: no URL', () => {
    expect(urls(v1('SendMessage', { message: {}, configuration: { taskPushNotificationConfig: null } }))).toEqual([]);
    expect(urls(v1('SendMessage', { message: {}, configuration: null }))).toEqual([]);
    expect(urls(v1('tasks/pushNotificationConfig/set', { taskId: 't', pushNotificationConfig: null }))).toEqual([]);
  });

  it('methods that carry no push config are not read for one', () => {
    expect(urls(v1('GetTask', { id: 't', url: HOOK, configuration: { pushNotificationConfig: { url: HOOK } } }))).toEqual([]);
    expect(urls(v1('tasks/pushNotificationConfig/get', { id: 't', pushNotificationConfig: { url: HOOK } }))).toEqual([]);
    expect(urls(call('POST', '/tasks/t:cancel', { url: HOOK }))).toEqual([]);
  });

  it('an unknown method is read where known ones keep configs, and like a create when its name says push notification', () => {
    expect(urls(v1('message/sendSomehow', { configuration: { pushNotificationConfig: { url: HOOK } } }))).toEqual([HOOK]);
    expect(urls(v1('x/custom', { pushNotificationConfig: { url: HOOK } }))).toEqual([HOOK]);
    expect(urls(v1('SetTaskPushNotificationConfig', { taskId: 't', url: HOOK }))).toEqual([HOOK]);
    expect(urls(v1('tasks/pushNotificationConfig/create', { url: HOOK }))).toEqual([HOOK]);
    // A `url` parameter of some other extension method is no push config.
    expect(urls(v1('x/fetchResource', { url: HOOK }))).toEqual([]);
  });
});

describe('other spellings of the members the gateway reads (case-insensitive decoders: Go encoding/json, a2a-go; .NET)', () => {
  const INTERNAL = 'http://169.254.169.254/latest/meta-data/';
  const detail = (result: ReturnType<typeof readA2aRequest>) => (result.ok ? 'ok' : result.detail);
  it.each([
    ['url and URL in one push config', { configuration: { taskPushNotificationConfig: { url: HOOK, URL: INTERNAL } } }, 'params.configuration.taskPushNotificationConfig has two members whose names differ only in case'],
    ['Configuration / TaskPushNotificationConfig / Url', { Configuration: { TaskPushNotificationConfig: { Url: INTERNAL } } }, 'params spells the member "configuration" another way (case-insensitive decoders would read it)'],
    ['long s (ſ), which Go folds to s', { configuration: { taſkPushNotificationConfig: { url: INTERNAL } } }, 'params.configuration spells the member "taskPushNotificationConfig" another way (case-insensitive decoders would read it)'],
    ['Kelvin sign K in a member name', { message: { messageId: 'm', role: 'ROLE_USER', parts: [], taskId: 't', ['tas\u212Aid']: 'u' } }, 'params.message has two members whose names differ only in case'],
  ])('%s: ERR_A2A_REQUEST_INVALID', (_label, params, why) => {
    const result = v1('SendMessage', params);
    expect(code(result)).toBe('ERR_A2A_REQUEST_INVALID');
    expect(detail(result)).toBe(why);
  });

  it('Method or Params beside the envelope\'s own: refused (a Go upstream would run CancelTask, not the GetTask checked)', () => {
    expect(detail(rpc({ jsonrpc: '2.0', id: 1, method: 'GetTask', Method: 'CancelTask', params: { id: 't' } }))).toBe('the envelope has two members whose names differ only in case');
    expect(detail(rpc({ jsonrpc: '2.0', id: 1, method: 'SendMessage', Params: { configuration: {} } }))).toBe('the envelope spells the member "params" another way (case-insensitive decoders would read it)');
    expect(detail(rpc({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'mine', ID: 'victim' } }))).toBe('params has two members whose names differ only in case');
  });

  it('user data inside a message is free: its members are never compared', () => {
    const params = { message: { messageId: 'm', role: 'ROLE_USER', parts: [{ data: { Name: 'x', name: 'y', URL: 'z', Url: 'w' } }], metadata: { Method: 1, method: 2 } } };
    expect(code(v1('SendMessage', params))).toBe('ok');
  });

  it('a ; path parameter (dropped by Servlet, Spring and JAX-RS routers) is refused on every path', () => {
    expect(code(call('POST', '/rest/tasks/x:cancel;a=b', { jsonrpc: '2.0', id: 1, method: 'x' }))).toBe('ERR_A2A_REQUEST_INVALID');
    expect(code(call('GET', '/rest/extendedAgentCard;x', undefined, {}))).toBe('ERR_A2A_REQUEST_INVALID');
    expect(code(call('GET', '/rest/tasks/a%3Bb', undefined, {}))).toBe('ok');
  });

  it('task ids with C1 or bidi control characters: refused', () => {
    for (const id of ['t\u0085x', 'abc\u202Egnp.exe', 'x\u200By']) expect(code(v1('GetTask', { id }))).toBe('ERR_A2A_REQUEST_INVALID');
  });
});

describe('refusals, each with its code', () => {
  const bad: Array<[string, () => ReturnType<typeof readA2aRequest>, A2aRequestErrorCode]> = [
    // JSON-RPC envelope
    ['a batch', () => rpc([{ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 't' } }]), 'ERR_A2A_REQUEST_INVALID'],
    ['an empty batch', () => rpc('[]'), 'ERR_A2A_REQUEST_INVALID'],
    ['a string body', () => rpc('"SendMessage"'), 'ERR_A2A_REQUEST_INVALID'],
    ['a number body', () => rpc('42'), 'ERR_A2A_REQUEST_INVALID'],
    ['a null body', () => rpc('null'), 'ERR_A2A_REQUEST_INVALID'],
    ['an empty body', () => rpc(''), 'ERR_A2A_REQUEST_INVALID'],
    ['no body', () => call('POST', '/jsonrpc'), 'ERR_A2A_REQUEST_INVALID'],
    ['jsonrpc missing', () => rpc({ id: 1, method: 'GetTask' }), 'ERR_A2A_REQUEST_INVALID'],
    ['jsonrpc "1.0"', () => rpc({ jsonrpc: '1.0', id: 1, method: 'GetTask' }), 'ERR_A2A_REQUEST_INVALID'],
    ['method missing', () => rpc({ jsonrpc: '2.0', id: 1 }), 'ERR_A2A_REQUEST_INVALID'],
    ['method a number', () => rpc({ jsonrpc: '2.0', id: 1, method: 7 }), 'ERR_A2A_REQUEST_INVALID'],
    ['method too long', () => v1('x'.repeat(MAX_A2A_METHOD_LENGTH + 1)), 'ERR_A2A_REQUEST_INVALID'],
    ['id an object', () => v1('GetTask', { id: 't' }, { n: 1 }), 'ERR_A2A_REQUEST_INVALID'],
    ['id a boolean', () => v1('GetTask', { id: 't' }, true), 'ERR_A2A_REQUEST_INVALID'],
    ['id too long', () => v1('GetTask', { id: 't' }, 'i'.repeat(MAX_A2A_ID_LENGTH + 1)), 'ERR_A2A_REQUEST_INVALID'],
    ['params an array', () => v1('GetTask', ['t']), 'ERR_A2A_REQUEST_INVALID'],
    ['params a string', () => v1('GetTask', 't'), 'ERR_A2A_REQUEST_INVALID'],
    ['params null', () => v1('GetTask', null), 'ERR_A2A_REQUEST_INVALID'],
    // JSON
    ['not JSON', () => rpc('{"jsonrpc":"2.0",'), 'ERR_A2A_PARSE_ERROR'],
    ['a byte order mark', () => rpc(`\uFEFF${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask' })}`), 'ERR_A2A_PARSE_ERROR'],
    ['not UTF-8', () => rpc(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), 'ERR_A2A_PARSE_ERROR'],
    ['a repeated method', () => rpc('{"jsonrpc":"2.0","id":1,"method":"GetTask","method":"SendMessage"}'), 'ERR_A2A_REQUEST_INVALID'],
    ['a repeated url', () => rpc(`{"jsonrpc":"2.0","id":1,"method":"CreateTaskPushNotificationConfig","params":{"url":"${HOOK}","url":"https://evil.example/"}}`), 'ERR_A2A_REQUEST_INVALID'],
    ['a repeated, escaped url', () => rpc(`{"jsonrpc":"2.0","id":1,"method":"CreateTaskPushNotificationConfig","params":{"url":"${HOOK}","\\u0075rl":"https://evil.example/"}}`), 'ERR_A2A_REQUEST_INVALID'],
    ['a repeated name deep in a REST body', () => call('POST', '/message:send', `{"message":{},"configuration":{"pushNotification":{"url":"${HOOK}","url":"https://evil.example/"}}}`), 'ERR_A2A_REQUEST_INVALID'],
    // Content-Type
    ['text/plain JSON-RPC', () => call('POST', '/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'GetTask' }, { 'content-type': 'text/plain' }), 'ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED'],
    ['a form', () => call('POST', '/jsonrpc', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }), 'ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED'],
    ['two content types', () => call('POST', '/jsonrpc', { jsonrpc: '2.0', id: 1, method: 'GetTask' }, { 'content-type': 'application/json, text/plain' }), 'ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED'],
    ['text/plain REST body', () => call('POST', '/message:send', { message: {} }, { 'content-type': 'text/plain' }), 'ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED'],
    // params
    ['a task id that is a number', () => v1('GetTask', { id: 7 }), 'ERR_A2A_REQUEST_INVALID'],
    ['a task id too long', () => v1('GetTask', { id: 't'.repeat(MAX_A2A_ID_LENGTH + 1) }), 'ERR_A2A_REQUEST_INVALID'],
    ['a task id with a control character', () => v1('CancelTask', { id: 'a\nb' }), 'ERR_A2A_REQUEST_INVALID'],
    ['taskId and task_id disagree', () => v1('ListTaskPushNotificationConfigs', { taskId: 'a', task_id: 'b' }), 'ERR_A2A_REQUEST_INVALID'],
    ['message and request name two tasks', () => call('POST', '/v1/message:send', { message: { taskId: 'a' }, request: { taskId: 'b' } }), 'ERR_A2A_REQUEST_INVALID'],
    ['message not an object', () => v1('SendMessage', { message: 'hi' }), 'ERR_A2A_REQUEST_INVALID'],
    ['configuration not an object', () => v1('SendMessage', { message: {}, configuration: [] }), 'ERR_A2A_REQUEST_INVALID'],
    ['a push config that is a string', () => v1('SendMessage', { message: {}, configuration: { taskPushNotificationConfig: HOOK } }), 'ERR_A2A_REQUEST_INVALID'],
    ['a push config that is an array', () => v1('message/send', { message: {}, configuration: { pushNotificationConfig: [{ url: HOOK }] } }), 'ERR_A2A_REQUEST_INVALID'],
    ['a 1.0 push url that is a number', () => v1('SendMessage', { message: {}, configuration: { taskPushNotificationConfig: { url: 1 } } }), 'ERR_A2A_REQUEST_INVALID'],
    ['a 0.3 push url that is null', () => v1('message/send', { message: {}, configuration: { pushNotificationConfig: { url: null } } }), 'ERR_A2A_REQUEST_INVALID'],
    ['a 0.3 REST push url that is an object', () => call('POST', '/v1/message:send', { message: {}, configuration: { pushNotification: { url: { href: HOOK } } } }), 'ERR_A2A_REQUEST_INVALID'],
    ['a create url that is an array', () => v1('CreateTaskPushNotificationConfig', { taskId: 't', url: [HOOK] }), 'ERR_A2A_REQUEST_INVALID'],
    ['a set url that is a number', () => v1('tasks/pushNotificationConfig/set', { taskId: 't', pushNotificationConfig: { url: 443 } }), 'ERR_A2A_REQUEST_INVALID'],
    ['a REST create url that is false', () => call('POST', '/tasks/t/pushNotificationConfigs', { url: false }), 'ERR_A2A_REQUEST_INVALID'],
    ['a push url too long', () => v1('CreateTaskPushNotificationConfig', { taskId: 't', url: `https://h.example/${'p'.repeat(MAX_A2A_PUSH_URL_LENGTH)}` }), 'ERR_A2A_REQUEST_INVALID'],
    [
      'more push urls than MAX_A2A_PUSH_URLS',
      () =>
        // 1 + 6 wrappers + config and its nested config: 9.
        v1('CreateTaskPushNotificationConfig', {
          taskId: 't',
          url: HOOK,
          ...Object.fromEntries(['taskPushNotificationConfig', 'task_push_notification_config', 'pushNotificationConfig', 'push_notification_config', 'pushNotification', 'push_notification'].map((m) => [m, { url: HOOK }])),
          config: { url: HOOK, pushNotificationConfig: { url: HOOK } },
        }),
      'ERR_A2A_REQUEST_INVALID',
    ],
    // REST
    ['a REST body that is an array', () => call('POST', '/message:send', [{ message: {} }]), 'ERR_A2A_REQUEST_INVALID'],
    ['a REST body that is null', () => call('POST', '/tasks/t/pushNotificationConfigs', 'null'), 'ERR_A2A_REQUEST_INVALID'],
    ['a REST body that is no JSON', () => call('POST', '/message:stream', '{message'), 'ERR_A2A_PARSE_ERROR'],
    ['an empty REST body', () => call('POST', '/message:send', ''), 'ERR_A2A_REQUEST_INVALID'],
    ['a JSON-RPC envelope on a REST path', () => call('POST', '/message:send', { jsonrpc: '2.0', id: 1, method: 'tasks/pushNotificationConfig/set', params: { pushNotificationConfig: { url: HOOK } } }), 'ERR_A2A_REQUEST_INVALID'],
    ['an empty path task id', () => call('POST', '/tasks//pushNotificationConfigs', { url: HOOK }), 'ERR_A2A_REQUEST_INVALID'],
    ['an empty GetTask id', () => call('GET', '/tasks//'), 'ERR_A2A_REQUEST_INVALID'],
    ['a path task id too long', () => call('GET', `/tasks/${'t'.repeat(MAX_A2A_ID_LENGTH + 1)}`), 'ERR_A2A_REQUEST_INVALID'],
    ['PUT on message:send', () => call('PUT', '/message:send', { message: {} }), 'ERR_A2A_REQUEST_INVALID'],
    ['PATCH on a push config collection', () => call('PATCH', '/tasks/t/pushNotificationConfigs', { url: HOOK }), 'ERR_A2A_REQUEST_INVALID'],
    ['DELETE on a task', () => call('DELETE', '/tasks/t'), 'ERR_A2A_REQUEST_INVALID'],
    ['PUT on a push config', () => call('PUT', '/v1/tasks/t/pushNotificationConfigs/c', { url: HOOK }), 'ERR_A2A_REQUEST_INVALID'],
    // a path read differently before and after percent-decoding
    ['an encoded ":" turning GetTask into SubscribeToTask', () => call('GET', '/tasks/abc%3Asubscribe'), 'ERR_A2A_REQUEST_INVALID'],
    ['an encoded ":" hiding message:send', () => call('POST', '/message%3Asend', { message: {}, configuration: { pushNotification: { url: HOOK } } }), 'ERR_A2A_REQUEST_INVALID'],
    ['an encoded letter in a keyword', () => call('POST', '/t%61sks/abc:cancel'), 'ERR_A2A_REQUEST_INVALID'],
  ];

  for (const [name, run, expected] of bad) {
    it(`${name}: ${expected}`, () => {
      const result = run();
      expect(result.ok ? 'ok' : result.code).toBe(expected);
      // Details never carry values from the request.
      if (!result.ok) expect(result.detail).not.toMatch(/hooks\.example|evil\.example|sekret/);
    });
  }

  it('accepts application/json with parameters, any case, application/a2a+json, and no Content-Type at all', () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 't' } };
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/a2a+json', undefined]) {
      expect(code(call('POST', '/jsonrpc', body, type === undefined ? {} : { 'content-type': type }))).toBe('ok');
    }
  });

  it('every code has a reason and a JSON-RPC code; each one is produced above', () => {
    expect(Object.keys(A2A_JSONRPC_CODES).sort()).toEqual(Object.keys(A2A_REQUEST_ERRORS).sort());
    expect(A2A_JSONRPC_CODES).toEqual({ ERR_A2A_REQUEST_INVALID: -32600, ERR_A2A_PARSE_ERROR: -32700, ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED: -32005 });
    expect(new Set(bad.map(([, , c]) => c))).toEqual(new Set(Object.keys(A2A_REQUEST_ERRORS)));
  });
});

describe('robustness', () => {
  const segment = fc.oneof(
    fc.constantFrom('tasks', 'TASKS', 'message:send', 'message:stream', 'pushNotificationConfigs', 'extendedAgentCard', 'v1', 'card', 'x:cancel', 'x:subscribe', '', '%3A', '%zz', 'a%2Fb'),
    fc.string({ maxLength: 8 }),
  );
  const path = fc.array(segment, { maxLength: 6 }).map((s) => (s.length === 0 ? '' : `/${s.join('/')}`));
  const body = fc.option(
    fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({ jsonrpc: fc.constant('2.0'), id: fc.jsonValue(), method: fc.oneof(fc.constantFrom(...A2A_METHODS, 'message/send', 'tasks/pushNotificationConfig/set'), fc.string()), params: fc.jsonValue() }).map((v) => JSON.stringify(v)),
    ),
    { nil: undefined },
  );

  it('never throws, and a success always has a string array of push URLs', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'), path, body, fc.constantFrom('application/json', 'text/plain', '1.0', ''), (method, p, b, header) => {
        const headers = new Headers(header.includes('/') ? { 'content-type': header } : { 'a2a-version': header });
        const result = readA2aRequest({ method, headers }, p, b === undefined ? undefined : enc.encode(b));
        if (result.ok && result.value) expect(result.value.pushUrls.every((u) => typeof u === 'string')).toBe(true);
        a2aBinding(method, p);
      }),
      { numRuns: 2000 },
    );
  });
});
