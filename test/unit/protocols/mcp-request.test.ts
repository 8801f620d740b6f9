/**
 * The MCP request reader (src/protocols/mcp-request.ts): the 2026-07-28 spec example as a vector, the legacy
 * shapes (initialize without headers, batches, notifications, responses, sessions), one negative test per rule
 * with its code, `=?base64?…?=` decoding of Mcp-Name, and a property: it never throws, whatever the input.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MCP_BATCH_ENTRIES, MAX_MCP_SESSION_ID_LENGTH } from '../../../src/limits.ts';
import {
  decodeMcpHeaderValue,
  MCP_JSONRPC_CODES,
  MCP_REQUEST_ERRORS,
  readMcpRequest,
  type McpRequestErrorCode,
} from '../../../src/protocols/mcp-request.ts';

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
const META = 'io.modelcontextprotocol/protocolVersion';

const enc = new TextEncoder();
const bytes = (value: unknown) => enc.encode(typeof value === 'string' ? value : JSON.stringify(value));
const b64 = (text: string) => `=?base64?${Buffer.from(text, 'utf8').toString('base64')}?=`;

function post(headers: Record<string, string>, body: unknown) {
  return readMcpRequest({ method: 'POST', headers: new Headers(headers) }, body === undefined ? undefined : bytes(body));
}

/** A 2026-07-28 request with every header and the body version. */
function modern(method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}, extra: Record<string, unknown> = { id: 1 }) {
  const named = (params as { name?: string; uri?: string }).name ?? (params as { uri?: string }).uri;
  return post(
    { 'mcp-protocol-version': MODERN, 'mcp-method': method, ...(named === undefined ? {} : { 'mcp-name': named }), ...headers },
    { jsonrpc: '2.0', ...extra, method, params: { ...params, _meta: { [META]: MODERN } } },
  );
}

function code(result: ReturnType<typeof readMcpRequest>): McpRequestErrorCode | 'ok' {
  return result.ok ? 'ok' : result.code;
}

describe('the 2026-07-28 spec example (test/vectors/mcp/2026-07-28-tools-call.json)', () => {
  const v = JSON.parse(readFileSync(new URL('../../vectors/mcp/2026-07-28-tools-call.json', import.meta.url), 'utf8')) as {
    method: string;
    headers: Array<[string, string]>;
    body: string;
    expected: unknown;
  };

  it('reads the era, version and call exactly', () => {
    const result = readMcpRequest({ method: v.method, headers: new Headers(v.headers) }, enc.encode(v.body));
    expect(result).toEqual({ ok: true, value: v.expected });
  });

  it('is refused once any one header disagrees with the body, or a required one is dropped', () => {
    const variants: Array<[string, string | undefined, McpRequestErrorCode]> = [
      ['Mcp-Name', 'get_forecast', 'ERR_MCP_HEADER_MISMATCH'],
      ['Mcp-Method', 'tools/list', 'ERR_MCP_HEADER_MISMATCH'],
      ['MCP-Protocol-Version', '2026-08-01', 'ERR_MCP_HEADER_MISMATCH'],
      ['Mcp-Name', undefined, 'ERR_MCP_HEADER_MISMATCH'],
      ['Mcp-Method', undefined, 'ERR_MCP_HEADER_MISMATCH'],
      ['MCP-Protocol-Version', undefined, 'ERR_MCP_HEADER_MISMATCH'],
    ];
    for (const [name, value, expected] of variants) {
      const headers = new Headers(v.headers);
      if (value === undefined) headers.delete(name);
      else headers.set(name, value);
      expect(code(readMcpRequest({ method: 'POST', headers }, enc.encode(v.body))), `${name}: ${value}`).toBe(expected);
    }
  });

  it('accepts the same request with Mcp-Name in the base64 form, and with Mcp-Param-* headers it does not check', () => {
    const headers = new Headers(v.headers);
    headers.set('Mcp-Name', b64('get_weather'));
    headers.set('Mcp-Param-Location', 'not even the body value');
    expect(readMcpRequest({ method: 'POST', headers }, enc.encode(v.body)).ok).toBe(true);
  });
});

describe('error table', () => {
  it('maps every code to 400-class JSON-RPC codes: -32600 Invalid Request, -32020 HeaderMismatch', () => {
    expect(Object.keys(MCP_JSONRPC_CODES).sort()).toEqual(Object.keys(MCP_REQUEST_ERRORS).sort());
    expect(MCP_JSONRPC_CODES).toEqual({ ERR_MCP_REQUEST_INVALID: -32600, ERR_MCP_HEADER_MISMATCH: -32020 });
  });
});

describe('modern era', () => {
  it('reads resources/read with its uri, and a notification without id', () => {
    const uri = 'file:///projects/myapp/config.json';
    expect(modern('resources/read', { uri })).toEqual({
      ok: true,
      value: { era: 'modern', protocolVersion: MODERN, calls: [{ method: 'resources/read', name: uri, id: 1, notification: false }] },
    });
    expect(modern('notifications/initialized', {}, {}, {})).toEqual({
      ok: true,
      value: { era: 'modern', protocolVersion: MODERN, calls: [{ method: 'notifications/initialized', notification: true }] },
    });
  });

  it('takes the era from the header alone when the body has no _meta version, and from a later revision too', () => {
    const result = post({ 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 'a', method: 'tools/list' });
    expect(result).toEqual({ ok: true, value: { era: 'modern', protocolVersion: MODERN, calls: [{ method: 'tools/list', id: 'a', notification: false }] } });
    const later = post({ 'mcp-protocol-version': '2027-01-15', 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(later.ok && later.value.era).toBe('modern');
  });

  it('ignores Mcp-Session-Id (servers ignore it in 2026-07-28), even a malformed one', () => {
    const result = modern('tools/list', {}, { 'mcp-session-id': 'has space' });
    expect(result.ok && result.value.sessionId).toBe(undefined);
    expect(result.ok).toBe(true);
  });

  it('accepts GET and DELETE (the upstream answers 405) without reading a body', () => {
    for (const method of ['GET', 'DELETE']) {
      const result = readMcpRequest({ method, headers: new Headers({ 'mcp-protocol-version': MODERN }) }, bytes('not json'));
      expect(result).toEqual({ ok: true, value: { era: 'modern', protocolVersion: MODERN, calls: [] } });
    }
  });

  // One negative test per rule.
  it('Mcp-Method is required on POST', () => {
    const result = post({ 'mcp-protocol-version': MODERN }, { jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { [META]: MODERN } } });
    expect(code(result)).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('Mcp-Method is required on a notification too', () => {
    const result = post({ 'mcp-protocol-version': MODERN }, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(code(result)).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('Mcp-Name is required for tools/call, prompts/get and resources/read', () => {
    for (const [method, params] of [['tools/call', { name: 't' }], ['prompts/get', { name: 'p' }], ['resources/read', { uri: 'file:///a' }]] as const) {
      const result = post({ 'mcp-protocol-version': MODERN, 'mcp-method': method }, { jsonrpc: '2.0', id: 1, method, params });
      expect(code(result), method).toBe('ERR_MCP_HEADER_MISMATCH');
    }
  });

  it('MCP-Protocol-Version is required when the body carries a modern _meta version', () => {
    const result = post({ 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [META]: MODERN } } });
    expect(code(result)).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('a batch is invalid in the modern era', () => {
    const result = post({ 'mcp-protocol-version': MODERN }, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
    expect(code(result)).toBe('ERR_MCP_REQUEST_INVALID');
    const byBody = post({}, [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [META]: MODERN } } }]);
    expect(code(byBody)).toBe('ERR_MCP_REQUEST_INVALID');
  });

  it('a JSON-RPC response is invalid in the modern era (clients MUST NOT send responses)', () => {
    const result = post({ 'mcp-protocol-version': MODERN }, { jsonrpc: '2.0', id: 1, result: {} });
    expect(code(result)).toBe('ERR_MCP_REQUEST_INVALID');
  });
});

describe('header / body cross-check (any era)', () => {
  it('Mcp-Method must equal the body method, case-sensitively', () => {
    expect(code(modern('tools/list', {}, { 'mcp-method': 'Tools/List' }))).toBe('ERR_MCP_HEADER_MISMATCH');
    expect(code(post({ 'mcp-method': 'tools/list' }, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }))).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('a repeated Mcp-Method (joined by Headers) is a mismatch', () => {
    const headers = new Headers({ 'mcp-protocol-version': MODERN, 'mcp-name': 'x' });
    headers.append('mcp-method', 'tools/call');
    headers.append('mcp-method', 'tools/call');
    const result = readMcpRequest({ method: 'POST', headers }, bytes({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }));
    expect(code(result)).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('Mcp-Name must equal params.name (tools/call, prompts/get) or params.uri (resources/*)', () => {
    expect(code(modern('tools/call', { name: 'get_weather' }, { 'mcp-name': 'delete_everything' }))).toBe('ERR_MCP_HEADER_MISMATCH');
    expect(code(modern('prompts/get', { name: 'a' }, { 'mcp-name': 'b' }))).toBe('ERR_MCP_HEADER_MISMATCH');
    expect(code(modern('resources/read', { uri: 'file:///a' }, { 'mcp-name': 'file:///b' }))).toBe('ERR_MCP_HEADER_MISMATCH');
    for (const method of ['resources/subscribe', 'resources/unsubscribe']) {
      const ok = post({ 'mcp-method': method, 'mcp-name': 'file:///a' }, { jsonrpc: '2.0', id: 1, method, params: { uri: 'file:///a' } });
      expect(ok.ok && ok.value.calls[0]?.name, method).toBe('file:///a');
      const bad = post({ 'mcp-method': method, 'mcp-name': 'file:///b' }, { jsonrpc: '2.0', id: 1, method, params: { uri: 'file:///a' } });
      expect(code(bad), method).toBe('ERR_MCP_HEADER_MISMATCH');
    }
  });

  it('Mcp-Name on a method that names nothing is a mismatch', () => {
    expect(code(modern('tools/list', {}, { 'mcp-name': 'get_weather' }))).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('Mcp-Name with invalid characters (not base64-encoded) is a mismatch', () => {
    // Headers carries bytes 0x80-0xFF as Latin-1 characters: "café" sent raw instead of encoded.
    expect(code(modern('tools/call', { name: 'café' }, { 'mcp-name': 'café' }))).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('MCP-Protocol-Version must equal the body _meta protocolVersion', () => {
    const result = post(
      { 'mcp-protocol-version': LEGACY, 'mcp-method': 'tools/list' },
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [META]: MODERN } } },
    );
    expect(code(result)).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('Mcp-Method or Mcp-Name with a batch is a mismatch', () => {
    const batch = [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }];
    expect(code(post({ 'mcp-method': 'tools/list' }, batch))).toBe('ERR_MCP_HEADER_MISMATCH');
    expect(code(post({ 'mcp-name': 'x' }, batch))).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('Mcp-Method with a response (no method) is a mismatch', () => {
    expect(code(post({ 'mcp-method': 'tools/call' }, { jsonrpc: '2.0', id: 1, result: {} }))).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('legacy requests may carry the mirrored headers, and they are checked when they do', () => {
    const okResult = post({ 'mcp-protocol-version': LEGACY, 'mcp-method': 'tools/call', 'mcp-name': 'x' }, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } });
    expect(okResult).toEqual({ ok: true, value: { era: 'legacy', protocolVersion: LEGACY, calls: [{ method: 'tools/call', name: 'x', id: 1, notification: false }] } });
    const bad = post({ 'mcp-protocol-version': LEGACY, 'mcp-name': 'y' }, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } });
    expect(code(bad)).toBe('ERR_MCP_HEADER_MISMATCH');
  });
});

describe('Mcp-Name =?base64?…?= encoding', () => {
  it('decodes non-ASCII names (the spec table values) and compares the decoded text', () => {
    expect(decodeMcpHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?=')).toBe('Hello, 世界');
    expect(decodeMcpHeaderValue('=?base64?IHBhZGRlZCA=?=')).toBe(' padded ');
    expect(decodeMcpHeaderValue('=?base64?bGluZTEKbGluZTI=?=')).toBe('line1\nline2');
    expect(decodeMcpHeaderValue('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=')).toBe('=?base64?literal?=');
    expect(decodeMcpHeaderValue('=?base64??=')).toBe('');
    for (const name of ['天気を取得', 'météo', 'Ωmega 🌦', ' lead', 'x\ty']) {
      const result = modern('tools/call', { name }, { 'mcp-name': b64(name) });
      expect(result.ok && result.value.calls[0]?.name, name).toBe(name);
    }
  });

  it('takes plain visible ASCII values as they are, the markers are case-sensitive', () => {
    expect(decodeMcpHeaderValue('get_weather')).toBe('get_weather');
    expect(decodeMcpHeaderValue('=?BASE64?Zm9v?=')).toBe('=?BASE64?Zm9v?=');
    expect(decodeMcpHeaderValue('=?base64?=')).toBe('=?base64?=');
  });

  it('refuses non-strict base64 (alphabet, padding, non-canonical bits) and non-UTF-8 bytes', () => {
    for (const value of ['=?base64?%%%?=', '=?base64?Zm9v YmFy?=', '=?base64?Zm8?=', '=?base64?Zm9=?=', '=?base64?Zg=?=', '=?base64?Zh==?=', '=?base64?Zm9v_-==?=', '=?base64?/w==?=', '=?base64?wAA=?=']) {
      expect(decodeMcpHeaderValue(value), value).toBeUndefined();
    }
    expect(code(modern('tools/call', { name: 'foo' }, { 'mcp-name': '=?base64?Zm8?=' }))).toBe('ERR_MCP_HEADER_MISMATCH');
    // Valid base64 of 0xFF: not UTF-8.
    expect(code(modern('tools/call', { name: 'ÿ' }, { 'mcp-name': '=?base64?/w==?=' }))).toBe('ERR_MCP_HEADER_MISMATCH');
  });

  it('an encoded name that decodes to another name is a mismatch', () => {
    expect(code(modern('tools/call', { name: 'get_weather' }, { 'mcp-name': b64('delete_all') }))).toBe('ERR_MCP_HEADER_MISMATCH');
  });
});

describe('legacy era', () => {
  it('reads initialize without any MCP header', () => {
    const body = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
    expect(post({ 'content-type': 'application/json' }, body)).toEqual({
      ok: true,
      value: { era: 'legacy', calls: [{ method: 'initialize', id: 0, notification: false }] },
    });
  });

  it('reads a notification (no id) and an id of null', () => {
    expect(post({}, { jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual({
      ok: true,
      value: { era: 'legacy', calls: [{ method: 'notifications/initialized', notification: true }] },
    });
    const nullId = post({}, { jsonrpc: '2.0', id: null, method: 'ping' });
    expect(nullId.ok && nullId.value.calls).toEqual([{ method: 'ping', id: null, notification: false }]);
  });

  it('reads a batch of requests, notifications and responses; responses produce no call', () => {
    const result = post({ 'mcp-session-id': 'a1b2-c3' }, [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'one', arguments: {} } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 0 } },
      { jsonrpc: '2.0', id: 'srv-1', result: { roots: [] } },
      { jsonrpc: '2.0', id: 'srv-2', error: { code: -1, message: 'no' } },
      { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///x' } },
    ]);
    expect(result).toEqual({
      ok: true,
      value: {
        era: 'legacy',
        sessionId: 'a1b2-c3',
        calls: [
          { method: 'tools/call', name: 'one', id: 1, notification: false },
          { method: 'notifications/cancelled', notification: true },
          { method: 'resources/read', name: 'file:///x', id: 2, notification: false },
        ],
      },
    });
  });

  it('reads a single response from the client: no call', () => {
    expect(post({ 'mcp-protocol-version': LEGACY }, { jsonrpc: '2.0', id: 7, result: {} })).toEqual({
      ok: true,
      value: { era: 'legacy', protocolVersion: LEGACY, calls: [] },
    });
  });

  it('reads Mcp-Session-Id on GET and DELETE, with no body read', () => {
    for (const method of ['GET', 'DELETE']) {
      const result = readMcpRequest({ method, headers: new Headers({ 'mcp-session-id': 'abc', 'mcp-protocol-version': LEGACY }) }, undefined);
      expect(result).toEqual({ ok: true, value: { era: 'legacy', protocolVersion: LEGACY, sessionId: 'abc', calls: [] } });
    }
  });

  it('a malformed Mcp-Session-Id is invalid: space, repeated, too long, non-ASCII, empty', () => {
    const longest = 'x'.repeat(MAX_MCP_SESSION_ID_LENGTH);
    expect(readMcpRequest({ method: 'GET', headers: new Headers({ 'mcp-session-id': longest }) }, undefined).ok).toBe(true);
    const repeated = new Headers();
    repeated.append('mcp-session-id', 'a');
    repeated.append('mcp-session-id', 'b');
    const cases: Headers[] = [
      new Headers({ 'mcp-session-id': 'a b' }),
      repeated,
      new Headers({ 'mcp-session-id': longest + 'x' }),
      new Headers({ 'mcp-session-id': 'sé' }),
      new Headers({ 'mcp-session-id': '' }),
    ];
    for (const headers of cases) {
      expect(code(readMcpRequest({ method: 'GET', headers }, undefined))).toBe('ERR_MCP_REQUEST_INVALID');
      expect(code(readMcpRequest({ method: 'POST', headers }, bytes({ jsonrpc: '2.0', id: 1, method: 'ping' })))).toBe('ERR_MCP_REQUEST_INVALID');
    }
  });
});

describe('invalid requests (ERR_MCP_REQUEST_INVALID)', () => {
  const invalid = (body: unknown, headers: Record<string, string> = {}) => expect(code(post(headers, body))).toBe('ERR_MCP_REQUEST_INVALID');

  it('malformed JSON, an empty or absent body, a byte order mark', () => {
    invalid('{"jsonrpc":"2.0",');
    invalid('');
    invalid(undefined);
    expect(code(readMcpRequest({ method: 'POST', headers: new Headers() }, new Uint8Array([0xef, 0xbb, 0xbf, ...bytes({ jsonrpc: '2.0', id: 1, method: 'ping' })])))).toBe('ERR_MCP_REQUEST_INVALID');
  });

  it('bytes that are not UTF-8', () => {
    const body = bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"XX"}}');
    body[body.length - 5] = 0xc3; // a lone lead byte
    body[body.length - 4] = 0x28;
    expect(code(readMcpRequest({ method: 'POST', headers: new Headers() }, body))).toBe('ERR_MCP_REQUEST_INVALID');
  });

  it('a member name repeated in any object, escaped spellings included', () => {
    invalid('{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"x"}}');
    invalid('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"safe","\\u006eame":"evil"}}');
    invalid('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":1,"a":2}}}');
    // The same name in sibling objects, and in values, is fine.
    expect(post({}, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"name","arguments":{"a":{"a":"a"},"b":[{"a":1},{"a":"\\"a"}]}}}').ok).toBe(true);
  });

  it('a non-object message, an empty batch, a batch over MAX_MCP_BATCH_ENTRIES', () => {
    invalid('"tools/call"');
    invalid(null);
    invalid(42);
    invalid([]);
    invalid([1]);
    const entry = { jsonrpc: '2.0', method: 'notifications/progress' };
    expect(post({}, Array.from({ length: MAX_MCP_BATCH_ENTRIES }, () => entry)).ok).toBe(true);
    invalid(Array.from({ length: MAX_MCP_BATCH_ENTRIES + 1 }, () => entry));
  });

  it('jsonrpc missing or not "2.0"', () => {
    invalid({ id: 1, method: 'ping' });
    invalid({ jsonrpc: '1.0', id: 1, method: 'ping' });
    invalid({ jsonrpc: 2, id: 1, method: 'ping' });
  });

  it('method not a string', () => {
    invalid({ jsonrpc: '2.0', id: 1, method: 42 });
    invalid({ jsonrpc: '2.0', id: 1, method: null });
  });

  it('id not a string, number or null', () => {
    invalid({ jsonrpc: '2.0', id: {}, method: 'ping' });
    invalid({ jsonrpc: '2.0', id: true, method: 'ping' });
  });

  it('params or params._meta not an object', () => {
    invalid({ jsonrpc: '2.0', id: 1, method: 'ping', params: ['by-position'] });
    invalid({ jsonrpc: '2.0', id: 1, method: 'ping', params: 'x' });
    invalid({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: [] } });
  });

  it('tools/call (and prompts/get, resources/*) without a string name or uri', () => {
    invalid({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
    invalid({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} });
    invalid({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 7 } });
    invalid({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: null } });
    invalid({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { name: 'not-a-uri-member' } });
    // Inherited members do not count.
    invalid({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { arguments: {} }, name: 'constructor' });
  });

  it('a message without method that is not a response', () => {
    invalid({ jsonrpc: '2.0', id: 1 });
    invalid({ jsonrpc: '2.0', result: {} });
    invalid({ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } });
  });

  it('a malformed MCP-Protocol-Version header, on every method', () => {
    for (const value of ['2026-7-28', '2026-07-28, 2026-07-28', 'latest', '2026-13-01', '2026-07-28T00:00']) {
      invalid({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-protocol-version': value });
      expect(code(readMcpRequest({ method: 'GET', headers: new Headers({ 'mcp-protocol-version': value }) }, undefined)), value).toBe('ERR_MCP_REQUEST_INVALID');
    }
  });

  it('a malformed _meta protocolVersion in the body', () => {
    invalid({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { [META]: 20260728 } } });
    invalid({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { [META]: 'next' } } });
  });

  it('batch entries that disagree on the _meta protocol version', () => {
    invalid([
      { jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { [META]: '2025-03-26' } } },
      { jsonrpc: '2.0', id: 2, method: 'ping', params: { _meta: { [META]: '2025-06-18' } } },
    ]);
  });

  it('HTTP methods other than POST, GET and DELETE', () => {
    for (const method of ['PUT', 'PATCH', 'OPTIONS', 'HEAD']) {
      expect(code(readMcpRequest({ method, headers: new Headers() }, bytes({ jsonrpc: '2.0', id: 1, method: 'ping' }))), method).toBe('ERR_MCP_REQUEST_INVALID');
    }
  });

  it('details never echo header values or body content (method names only when short and plain)', () => {
    const secret = 'SECRET-VALUE-1234';
    const results = [
      modern('tools/call', { name: secret }, { 'mcp-name': `${secret}x` }),
      post({ 'mcp-session-id': `${secret} x` }, { jsonrpc: '2.0', id: 1, method: 'ping' }),
      post({ 'mcp-protocol-version': secret }, { jsonrpc: '2.0', id: 1, method: 'ping' }),
      post({}, { jsonrpc: '2.0', id: 1, method: `${secret} with spaces`, params: 'x' }),
      post({}, { jsonrpc: '2.0', id: 1, method: secret.repeat(5), params: 'x' }),
      post({ 'mcp-method': secret }, { jsonrpc: '2.0', id: 1, method: 'ping' }),
      post({}, `{"${secret}":1,"${secret}":2}`),
    ];
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.detail).not.toContain('SECRET');
    }
    const short = post({}, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: 'x' });
    expect(!short.ok && short.detail).toBe('params of tools/list is not an object');
  });
});

describe('property: readMcpRequest never throws', () => {
  const headerName = fc.constantFrom('mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-session-id', 'mcp-param-region', 'content-type');
  const headerValue = fc.oneof(
    fc.constantFrom(MODERN, LEGACY, 'tools/call', 'get_weather', '=?base64?Z2V0X3dlYXRoZXI=?=', '=?base64?%?=', ''),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  );
  const headers = fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }).map((fields) => {
    const h = new Headers();
    for (const [name, value] of fields) h.append(name, value);
    return h;
  });
  const method = fc.constantFrom('POST', 'POST', 'POST', 'GET', 'DELETE', 'PUT');
  const jsonish = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.record({ jsonrpc: fc.constantFrom('2.0', '1.0'), id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)), method: fc.constantFrom('tools/call', 'prompts/get', 'resources/read', 'ping'), params: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    fc.array(fc.record({ jsonrpc: fc.constant('2.0'), method: fc.string(), params: fc.object() }, { requiredKeys: ['jsonrpc'] }), { maxLength: 4 }).map((v) => JSON.stringify(v)),
  );
  const body = fc.oneof(fc.uint8Array({ maxLength: 200 }), jsonish.map((text) => enc.encode(text)), fc.constant(undefined));

  it('returns a Result with a known code for arbitrary bytes, JSON and headers', () => {
    fc.assert(
      fc.property(method, headers, body, (m, h, b) => {
        const result = readMcpRequest({ method: m, headers: h }, b);
        if (!result.ok) expect(Object.keys(MCP_REQUEST_ERRORS)).toContain(result.code);
        else for (const call of result.value.calls) expect(typeof call.method).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('survives deep nesting without a stack overflow', () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":${'['.repeat(200_000)}${']'.repeat(200_000)}}}`;
    const result = post({}, deep);
    expect(result.ok || result.code === 'ERR_MCP_REQUEST_INVALID').toBe(true);
  });

  it('decodeMcpHeaderValue round-trips any string through the base64 form, and never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (text) => {
        expect(decodeMcpHeaderValue(b64(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        decodeMcpHeaderValue(`=?base64?${text}?=`);
        decodeMcpHeaderValue(text);
      }),
      { numRuns: 500 },
    );
  });
});
