/**
 * What an MCP Streamable HTTP request asks for, read strictly from its method, headers and JSON-RPC body, with
 * the header/body cross-check an intermediary must make before it trusts either. Pure: no I/O, never throws.
 *
 * Spec: MCP 2026-07-28 basic/transports/streamable-http ("Request Metadata": `MCP-Protocol-Version` MUST match
 * `params._meta["io.modelcontextprotocol/protocolVersion"]`; `Mcp-Method` REQUIRED for all requests and
 * notifications; `Mcp-Name` = `params.name` (`tools/call`, `prompts/get`) or `params.uri` (`resources/read`), REQUIRED
 * for those; "Value Encoding": `=?base64?{Base64 of the UTF-8}?=`, markers case-sensitive; "Server Validation": a
 * missing required header, a header that disagrees with the body, or one with invalid characters is a 400 with
 * -32020 HeaderMismatch; "Sending Messages" item 4: one request or notification per POST, never a response).
 * MCP 2025-11-25 basic/transports (legacy: `Mcp-Session-Id` of visible ASCII 0x21-0x7E, GET and DELETE on the
 * endpoint); 2025-03-26 (batches, removed in 2025-06-18). JSON-RPC 2.0 §4 (request, notification: no `id`), §4.2
 * (parameters are a structured value), §5 (response: `result` xor `error`), §6 (batch: a non-empty array).
 * RFC 8259 §8.1 (UTF-8), §4 (names SHOULD be unique).
 *
 * Checks: the body is strict UTF-8 JSON (no BOM) with no member name repeated in any object (so the gateway and
 * the upstream cannot read different values from one body); each message is a JSON-RPC 2.0 request, notification
 * or response; `params` (when present) and `params._meta` are objects; a named method (tools/call, prompts/get,
 * resources/read|subscribe|unsubscribe) carries its name or uri as a string; `MCP-Protocol-Version` and the body
 * version are YYYY-MM-DD and agree; modern era (a version >= 2026-07-28, from either place): one message, no
 * response, `MCP-Protocol-Version`, `Mcp-Method` and, for tools/call, prompts/get, resources/read, `Mcp-Name` all
 * present; in any era a present `Mcp-Method` / `Mcp-Name` equals the body (`Mcp-Name` on a method that names nothing
 * is a mismatch: the gateway cannot vouch for it), and neither accompanies a batch; a legacy `Mcp-Session-Id` is one
 * field of 1..MAX_MCP_SESSION_ID_LENGTH visible ASCII characters. Only POST, GET and DELETE are accepted.
 *
 * Does NOT: check `Mcp-Param-*` headers (intermediaries that do not recognise them MUST forward and ignore them);
 * decide whether a protocol version is supported (-32022 is the upstream's answer) or refuse GET / DELETE in the
 * modern era (the upstream answers 405); read `Mcp-Session-Id` in the modern era (servers ignore it there: the
 * caller decides whether to forward it); validate params beyond the members named above; bound the body size
 * (gateway/body-limit.ts does). Details name fields and short method names, never header values or body content.
 */
import { MAX_MCP_BATCH_ENTRIES, MAX_MCP_SESSION_ID_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';

/**
 * Stable error codes, each with its HTTP status and JSON-RPC error code (MCP_JSONRPC_CODES). Codes are part of
 * the public API: never rename one; add new ones instead.
 */
export const MCP_REQUEST_ERRORS = {
  ERR_MCP_REQUEST_INVALID:
    '400, JSON-RPC -32600 Invalid Request: not POST/GET/DELETE; a POST body that is empty, not strict UTF-8 JSON, ' +
    'repeats a member name, or is not a JSON-RPC 2.0 message (or, legacy only, a non-empty batch of at most ' +
    'MAX_MCP_BATCH_ENTRIES); method not a string; id not a string, number or null; params or params._meta not an ' +
    'object; a named method without a string params.name / params.uri; a response or a batch in the modern era; a ' +
    'protocol version (header or body) not YYYY-MM-DD; a malformed legacy Mcp-Session-Id. Bodies that are not ' +
    'UTF-8 JSON are also reported as -32600, not -32700 Parse error: one wire code per error code, and ' +
    'intermediaries need not answer with JSON-RPC at all (2026-07-28 Server Validation)',
  ERR_MCP_HEADER_MISMATCH:
    '400, JSON-RPC -32020 HeaderMismatch (2026-07-28 Server Validation): MCP-Protocol-Version differs from ' +
    '_meta protocolVersion; Mcp-Method differs from method; Mcp-Name (after =?base64?…?= decoding) differs from ' +
    'params.name / params.uri, has invalid characters or a malformed encoding, or names a method that names ' +
    'nothing; Mcp-Method or Mcp-Name with a batch; modern era without MCP-Protocol-Version, Mcp-Method, or Mcp-Name ' +
    '(tools/call, prompts/get, resources/read)',
} as const;

export type McpRequestErrorCode = keyof typeof MCP_REQUEST_ERRORS;

/** The JSON-RPC error code for each failure, for a response body (error with the request id, or no id). */
export const MCP_JSONRPC_CODES: Record<McpRequestErrorCode, number> = {
  ERR_MCP_REQUEST_INVALID: -32600,
  ERR_MCP_HEADER_MISMATCH: -32020,
};

/** HTTP status for every failure of readMcpRequest: 400 Bad Request (2026-07-28 Server Validation). */
export const MCP_REQUEST_FAILURE_STATUS = 400;

/** The first revision with per-request metadata headers and no `initialize` handshake. */
export const MCP_MODERN_PROTOCOL_VERSION = '2026-07-28';

export interface McpCall {
  method: string;
  /** tools/call, prompts/get: params.name; resources/read, resources/subscribe, resources/unsubscribe: params.uri. */
  name?: string;
  id?: string | number | null;
  notification: boolean;
}

export interface McpRequestInfo {
  /** modern: MCP-Protocol-Version (or the body's _meta protocolVersion) >= 2026-07-28; else legacy. */
  era: 'modern' | 'legacy';
  /** From the MCP-Protocol-Version header, else the body's `_meta` (both agree when both are present). */
  protocolVersion?: string;
  /** Mcp-Session-Id, legacy era only (validated: visible ASCII 0x21-0x7E, at most MAX_MCP_SESSION_ID_LENGTH). */
  sessionId?: string;
  /** Empty for GET / DELETE and for a response; one for a single message; several for a legacy batch. */
  calls: McpCall[];
}

type Code = McpRequestErrorCode;
type JsonObject = Record<string, unknown>;

const VERSION_META = 'io.modelcontextprotocol/protocolVersion';
const VERSION = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;
/** 2025-11-25: "The session ID MUST only contain visible ASCII characters (ranging from 0x21 to 0x7E)". */
const SESSION_ID = /^[\x21-\x7E]+$/;
/** RFC 9110 §5.5 field value characters a plain (unencoded) Mcp-Name may use; Headers has trimmed the ends. */
const PLAIN_VALUE = /^[\t\x20-\x7E]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
/** A method name short and plain enough to appear in a detail. */
const LOGGABLE_METHOD = /^[A-Za-z0-9_./-]{1,64}$/;

/** The body member each named method carries, mirrored in Mcp-Name. */
const NAME_FIELD: ReadonlyMap<string, 'name' | 'uri'> = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
  ['resources/subscribe', 'uri'],
  ['resources/unsubscribe', 'uri'],
]);
/** Methods whose Mcp-Name the 2026-07-28 transport requires. */
const NAME_HEADER_REQUIRED: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Reads an MCP request. `body` is the POST body (ignored for GET and DELETE, which carry none). */
export function readMcpRequest(request: { method: string; headers: Headers }, body: Uint8Array | undefined): Result<McpRequestInfo, McpRequestErrorCode> {
  const headers = request.headers;
  const versionHeader = headers.get('mcp-protocol-version');
  if (versionHeader !== null && !VERSION.test(versionHeader)) return fail('ERR_MCP_REQUEST_INVALID', 'MCP-Protocol-Version is not a single YYYY-MM-DD revision');

  if (request.method === 'GET' || request.method === 'DELETE') {
    const era = eraOf(versionHeader ?? undefined);
    const session = readSessionId(headers, era);
    if (!session.ok) return session;
    return ok(info(era, versionHeader ?? undefined, session.value, []));
  }
  if (request.method !== 'POST') return fail('ERR_MCP_REQUEST_INVALID', 'the MCP endpoint takes POST, GET and DELETE only');

  const parsed = parseBody(body);
  if (!parsed.ok) return parsed;
  const batch = Array.isArray(parsed.value);
  const elements: unknown[] = batch ? (parsed.value as unknown[]) : [parsed.value];
  if (batch && elements.length === 0) return fail('ERR_MCP_REQUEST_INVALID', 'the body is an empty batch (JSON-RPC 2.0 §6)');
  if (elements.length > MAX_MCP_BATCH_ENTRIES) return fail('ERR_MCP_REQUEST_INVALID', `the batch has more than MAX_MCP_BATCH_ENTRIES (${MAX_MCP_BATCH_ENTRIES}) messages`);

  const messages: Message[] = [];
  for (let i = 0; i < elements.length; i++) {
    const message = readMessage(elements[i]);
    if (!message.ok) return fail(message.code, batch ? `batch entry ${i}: ${message.detail}` : message.detail);
    messages.push(message.value);
  }

  const bodyVersions = new Set(messages.flatMap((m) => (m.version === undefined ? [] : [m.version])));
  if (bodyVersions.size > 1) return fail('ERR_MCP_REQUEST_INVALID', 'batch entries carry different _meta protocol versions');
  const bodyVersion = bodyVersions.values().next().value;
  if (versionHeader !== null && bodyVersion !== undefined && versionHeader !== bodyVersion) {
    return fail('ERR_MCP_HEADER_MISMATCH', 'MCP-Protocol-Version differs from the body\'s _meta protocolVersion');
  }
  const protocolVersion = versionHeader ?? bodyVersion;
  const era = eraOf(protocolVersion);
  const session = readSessionId(headers, era);
  if (!session.ok) return session;

  const methodHeader = headers.get('mcp-method');
  const nameHeader = headers.get('mcp-name');
  if (era === 'modern') {
    if (batch) return fail('ERR_MCP_REQUEST_INVALID', 'a batch in the modern era (one message per POST)');
    if (versionHeader === null) return fail('ERR_MCP_HEADER_MISMATCH', 'the body is modern but MCP-Protocol-Version is missing');
  }
  if (batch) {
    if (methodHeader !== null || nameHeader !== null) return fail('ERR_MCP_HEADER_MISMATCH', 'Mcp-Method or Mcp-Name accompanies a batch');
  } else {
    const check = crossCheck(messages[0]!.call, era, methodHeader, nameHeader);
    if (!check.ok) return check;
  }
  const calls = messages.flatMap((m) => (m.call === undefined ? [] : [m.call]));
  return ok(info(era, protocolVersion, session.value, calls));
}

/**
 * Decodes an MCP header value: `=?base64?…?=` (strict, padded, canonical base64 of strict UTF-8) or a plain value
 * of field-value characters. `undefined` when neither.
 */
export function decodeMcpHeaderValue(value: string): string | undefined {
  if (value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length && value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX)) {
    const bytes = strictBase64(value.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length));
    return bytes === undefined ? undefined : strictUtf8(bytes);
  }
  return PLAIN_VALUE.test(value) ? value : undefined;
}

interface Message {
  /** Undefined for a response. */
  call: McpCall | undefined;
  version: string | undefined;
}

function info(era: McpRequestInfo['era'], protocolVersion: string | undefined, sessionId: string | undefined, calls: McpCall[]): McpRequestInfo {
  const value: McpRequestInfo = { era, calls };
  if (protocolVersion !== undefined) value.protocolVersion = protocolVersion;
  if (sessionId !== undefined) value.sessionId = sessionId;
  return value;
}

/** YYYY-MM-DD strings order as dates. */
function eraOf(version: string | undefined): McpRequestInfo['era'] {
  return version !== undefined && version >= MCP_MODERN_PROTOCOL_VERSION ? 'modern' : 'legacy';
}

function readSessionId(headers: Headers, era: McpRequestInfo['era']): Result<string | undefined, Code> {
  if (era === 'modern') return ok(undefined);
  const value = headers.get('mcp-session-id');
  if (value === null) return ok(undefined);
  if (value.length > MAX_MCP_SESSION_ID_LENGTH) return fail('ERR_MCP_REQUEST_INVALID', `Mcp-Session-Id is longer than MAX_MCP_SESSION_ID_LENGTH (${MAX_MCP_SESSION_ID_LENGTH})`);
  // A repeated field arrives joined with ", ": the space fails the pattern.
  if (!SESSION_ID.test(value)) return fail('ERR_MCP_REQUEST_INVALID', 'Mcp-Session-Id is empty, repeated, or not visible ASCII (0x21-0x7E)');
  return ok(value);
}

function parseBody(body: Uint8Array | undefined): Result<unknown, Code> {
  if (body === undefined || body.byteLength === 0) return fail('ERR_MCP_REQUEST_INVALID', 'a POST without a body');
  const text = strictUtf8(body);
  if (text === undefined) return fail('ERR_MCP_REQUEST_INVALID', 'the body is not UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('ERR_MCP_REQUEST_INVALID', 'the body is not JSON (a byte order mark included: RFC 8259 §8.1)');
  }
  if (repeatsMemberName(text)) return fail('ERR_MCP_REQUEST_INVALID', 'the body repeats a member name within an object');
  return ok(value);
}

function readMessage(element: unknown): Result<Message, Code> {
  if (!isObject(element)) return fail('ERR_MCP_REQUEST_INVALID', 'a message is not a JSON object');
  if (own(element, 'jsonrpc') !== '2.0') return fail('ERR_MCP_REQUEST_INVALID', 'jsonrpc is missing or not "2.0"');
  const hasId = Object.hasOwn(element, 'id');
  const id = own(element, 'id');
  if (hasId && !isId(id)) return fail('ERR_MCP_REQUEST_INVALID', 'id is not a string, number or null');

  if (!Object.hasOwn(element, 'method')) {
    const result = Object.hasOwn(element, 'result');
    const error = Object.hasOwn(element, 'error');
    if (!hasId || result === error) return fail('ERR_MCP_REQUEST_INVALID', 'a message without method is not a response (id with exactly one of result, error)');
    return ok({ call: undefined, version: undefined });
  }

  const method = own(element, 'method');
  if (typeof method !== 'string') return fail('ERR_MCP_REQUEST_INVALID', 'method is not a string');
  let params: JsonObject | undefined;
  if (Object.hasOwn(element, 'params')) {
    const value = own(element, 'params');
    if (!isObject(value)) return fail('ERR_MCP_REQUEST_INVALID', `params of ${label(method)} is not an object`);
    params = value;
  }

  let version: string | undefined;
  if (params !== undefined && Object.hasOwn(params, '_meta')) {
    const meta = own(params, '_meta');
    if (!isObject(meta)) return fail('ERR_MCP_REQUEST_INVALID', `params._meta of ${label(method)} is not an object`);
    if (Object.hasOwn(meta, VERSION_META)) {
      const value = own(meta, VERSION_META);
      if (typeof value !== 'string' || !VERSION.test(value)) return fail('ERR_MCP_REQUEST_INVALID', `_meta protocolVersion of ${label(method)} is not a YYYY-MM-DD revision`);
      version = value;
    }
  }

  const call: McpCall = { method, notification: !hasId };
  if (hasId) call.id = id as string | number | null;
  const field = NAME_FIELD.get(method);
  if (field !== undefined) {
    const name = params === undefined ? undefined : own(params, field);
    if (typeof name !== 'string') return fail('ERR_MCP_REQUEST_INVALID', `${label(method)} without a string params.${field}`);
    call.name = name;
  }
  return ok({ call, version });
}

function crossCheck(call: McpCall | undefined, era: McpRequestInfo['era'], methodHeader: string | null, nameHeader: string | null): Result<void, Code> {
  if (call === undefined) {
    if (era === 'modern') return fail('ERR_MCP_REQUEST_INVALID', 'a JSON-RPC response in the modern era (clients MUST NOT send responses)');
    if (methodHeader !== null || nameHeader !== null) return fail('ERR_MCP_HEADER_MISMATCH', 'Mcp-Method or Mcp-Name accompanies a response, which has no method');
    return ok(undefined);
  }
  if (methodHeader === null) {
    if (era === 'modern') return fail('ERR_MCP_HEADER_MISMATCH', `Mcp-Method is missing (required in the modern era) for ${label(call.method)}`);
  } else if (methodHeader !== call.method) {
    return fail('ERR_MCP_HEADER_MISMATCH', `Mcp-Method differs from the body method ${label(call.method)}`);
  }
  const field = NAME_FIELD.get(call.method);
  if (nameHeader === null) {
    if (era === 'modern' && NAME_HEADER_REQUIRED.has(call.method)) return fail('ERR_MCP_HEADER_MISMATCH', `Mcp-Name is missing (required in the modern era) for ${label(call.method)}`);
    return ok(undefined);
  }
  if (field === undefined) return fail('ERR_MCP_HEADER_MISMATCH', `Mcp-Name on ${label(call.method)}, which names nothing`);
  const decoded = decodeMcpHeaderValue(nameHeader);
  if (decoded === undefined) return fail('ERR_MCP_HEADER_MISMATCH', 'Mcp-Name has invalid characters or a malformed =?base64?…?= encoding');
  if (decoded !== call.name) return fail('ERR_MCP_HEADER_MISMATCH', `Mcp-Name differs from params.${field} of ${label(call.method)}`);
  return ok(undefined);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own member only: never one inherited from Object.prototype (`constructor`, `toString`). */
function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function isId(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || value === null;
}

function label(method: string): string {
  return LOGGABLE_METHOD.test(method) ? method : 'a method';
}

function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** RFC 4648 §4 base64, padded, in its one canonical spelling (the unused low bits of the last digit are zero). */
function strictBase64(input: string): Uint8Array | undefined {
  if (!BASE64.test(input)) return undefined;
  const padding = input.endsWith('==') ? 2 : input.endsWith('=') ? 1 : 0;
  if (padding > 0) {
    const last = BASE64_DIGITS.indexOf(input[input.length - 1 - padding]!);
    if ((last & (padding === 2 ? 0b1111 : 0b11)) !== 0) return undefined;
  }
  const binary = atob(input);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * True when an object in `text` (already accepted by JSON.parse) names a member twice. JSON.parse keeps the last
 * one, other parsers the first: a gateway and an upstream reading different methods or tool names from one body
 * would make every check here moot. Names are compared after unescaping (`"\u006dethod"` is `"method"`).
 */
function repeatsMemberName(text: string): boolean {
  const open: Array<Set<string> | null> = []; // a Set per enclosing object, null per array
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      let escaped = false;
      while (text.charCodeAt(end) !== 0x22) {
        if (text.charCodeAt(end) === 0x5c) {
          escaped = true;
          end++;
        }
        end++;
      }
      const names = open[open.length - 1];
      if (expectName && names) {
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b) {
      open.push(null);
      expectName = false;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c) {
      expectName = open[open.length - 1] instanceof Set;
    }
  }
  return false;
}
