/**
 * A2A-shaped gateway errors (src/gateway/errors.ts): the JSON-RPC error object and the HTTP+JSON google.rpc.Status
 * body, compared exactly; statuses and challenges as on other routes; the HTTP → gRPC status mapping; problem+json
 * when the binding is unknown; MCP and problem+json output unchanged; and the @a2a-js/sdk 1.3.0 client transports
 * turning both bodies into their typed errors.
 */
import { describe, expect, it } from 'vitest';
import type { AgentCard } from '@a2a-js/sdk';
import { JsonRpcTransportFactory, RestTransportFactory } from '@a2a-js/sdk/client';
import { errorResponse, errorSpec, grpcStatusName, type ErrorCode } from '../../src/gateway/errors.ts';
import { A2A_JSONRPC_CODES, A2A_REQUEST_ERRORS, type A2aRequestErrorCode } from '../../src/protocols/a2a-request.ts';

async function parts(response: Response) {
  return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as unknown };
}

const restBody = (status: number, grpc: string, title: string, code: ErrorCode, requestId = 'req-1') => ({
  error: {
    code: status,
    status: grpc,
    message: title,
    details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'portcullis', metadata: { requestId } }],
  },
});

describe('A2A JSON-RPC binding', () => {
  it('a push URL refusal: -32602 Invalid params, the call\'s id, the gateway\'s code in data', async () => {
    const response = errorResponse('ERR_A2A_PUSH_URL_NOT_ALLOWED', 'req-1', 'a2a', { a2a: { binding: 'JSONRPC', rpcId: 7 } });
    expect(await parts(response)).toEqual({
      status: 400,
      type: 'application/json',
      body: { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Push notification URL not allowed', data: { status: 400, code: 'ERR_A2A_PUSH_URL_NOT_ALLOWED', requestId: 'req-1' } } },
    });
    expect(response.headers.get('x-request-id')).toBe('req-1');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('echoes string and null ids; an unknown id is null', async () => {
    const body = async (rpcId: string | number | null | undefined) => ((await errorResponse('ERR_A2A_REQUEST_INVALID', 'r', 'a2a', { a2a: rpcId === undefined ? { binding: 'JSONRPC' } : { binding: 'JSONRPC', rpcId } }).json()) as { id: unknown }).id;
    expect(await body('abc')).toBe('abc');
    expect(await body(0)).toBe(0);
    expect(await body(null)).toBeNull();
    expect(await body(undefined)).toBeNull();
  });

  it('each request code carries its JSON-RPC code (parse error -32700, invalid request -32600, content type -32005)', async () => {
    const titles: Record<A2aRequestErrorCode, string> = {
      ERR_A2A_REQUEST_INVALID: 'Invalid A2A request',
      ERR_A2A_PARSE_ERROR: 'Request body is not JSON',
      ERR_A2A_CONTENT_TYPE_NOT_SUPPORTED: 'Content type not supported',
    };
    for (const code of Object.keys(A2A_REQUEST_ERRORS) as A2aRequestErrorCode[]) {
      expect(await parts(errorResponse(code, 'req-2', 'a2a', { a2a: { binding: 'JSONRPC', rpcId: 'x' } }))).toEqual({
        status: 400,
        type: 'application/json',
        body: { jsonrpc: '2.0', id: 'x', error: { code: A2A_JSONRPC_CODES[code], message: titles[code], data: { status: 400, code, requestId: 'req-2' } } },
      });
      expect(errorSpec(code)).toEqual({ status: 400, title: titles[code], decision: 'deny', jsonRpc: A2A_JSONRPC_CODES[code] });
    }
    expect(errorSpec('ERR_A2A_PUSH_URL_NOT_ALLOWED')).toEqual({ status: 400, title: 'Push notification URL not allowed', decision: 'deny', jsonRpc: -32602 });
  });

  it('authentication failures keep their HTTP status and challenges; codes A2A defines none for are -32000', async () => {
    const response = errorResponse('ERR_CREDENTIALS_MISSING', 'req-3', 'a2a', { challenges: ['Bearer realm="a2a"', 'WPT'], headers: { 'dpop-nonce': 'n' }, a2a: { binding: 'JSONRPC', rpcId: 1 } });
    expect(await parts(response)).toEqual({
      status: 401,
      type: 'application/json',
      body: { jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'Authentication required', data: { status: 401, code: 'ERR_CREDENTIALS_MISSING', requestId: 'req-3' } } },
    });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="a2a", WPT');
    expect(response.headers.get('dpop-nonce')).toBe('n');
  });

  it('a status override (the WPT -01 carriage) is the HTTP status and data.status', async () => {
    expect(await parts(errorResponse('ERR_WPT_MISSING', 'req-4', 'a2a', { status: 400, a2a: { binding: 'JSONRPC', rpcId: 2 } }))).toEqual({
      status: 400,
      type: 'application/json',
      body: { jsonrpc: '2.0', id: 2, error: { code: -32000, message: 'Workload proof token missing', data: { status: 400, code: 'ERR_WPT_MISSING', requestId: 'req-4' } } },
    });
  });
});

describe('A2A HTTP+JSON binding: google.rpc.Status', () => {
  it('a push URL refusal', async () => {
    expect(await parts(errorResponse('ERR_A2A_PUSH_URL_NOT_ALLOWED', 'req-1', 'a2a', { a2a: { binding: 'HTTP+JSON' } }))).toEqual({
      status: 400,
      type: 'application/json',
      body: restBody(400, 'INVALID_ARGUMENT', 'Push notification URL not allowed', 'ERR_A2A_PUSH_URL_NOT_ALLOWED'),
    });
  });

  it('an rpcId given by mistake changes nothing', async () => {
    expect(await parts(errorResponse('ERR_A2A_PARSE_ERROR', 'req-1', 'a2a', { a2a: { binding: 'HTTP+JSON', rpcId: 5 } }))).toEqual({
      status: 400,
      type: 'application/json',
      body: restBody(400, 'INVALID_ARGUMENT', 'Request body is not JSON', 'ERR_A2A_PARSE_ERROR'),
    });
  });

  it('each status gets its canonical gRPC name', async () => {
    const cases: Array<[ErrorCode, number, string, string]> = [
      ['ERR_A2A_REQUEST_INVALID', 400, 'INVALID_ARGUMENT', 'Invalid A2A request'],
      ['ERR_CREDENTIALS_MISSING', 401, 'UNAUTHENTICATED', 'Authentication required'],
      ['ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', 403, 'PERMISSION_DENIED', 'Insufficient scope'],
      ['ERR_ROUTE_NOT_FOUND', 404, 'NOT_FOUND', 'No route matches this path'],
      ['ERR_BODY_TOO_LARGE', 413, 'RESOURCE_EXHAUSTED', 'Request body too large'],
      ['ERR_HEADERS_TOO_LARGE', 431, 'RESOURCE_EXHAUSTED', 'Request header fields too large'],
      ['ERR_INTERNAL', 500, 'INTERNAL', 'Internal gateway error'],
      ['ERR_RESPONSE_NOT_SIGNABLE', 501, 'UNIMPLEMENTED', 'Response cannot be signed'],
      ['ERR_UPSTREAM_UNREACHABLE', 502, 'UNAVAILABLE', 'Upstream unreachable'],
      ['ERR_CONFIG_INVALID', 503, 'UNAVAILABLE', 'Gateway not configured'],
      ['ERR_UPSTREAM_TIMEOUT', 504, 'DEADLINE_EXCEEDED', 'Upstream did not answer in time'],
    ];
    for (const [code, status, grpc, title] of cases) {
      expect(await parts(errorResponse(code, 'req-5', 'a2a', { a2a: { binding: 'HTTP+JSON' } }))).toEqual({ status, type: 'application/json', body: restBody(status, grpc, title, code, 'req-5') });
    }
  });

  it('challenges and overridden statuses as in the JSON-RPC binding', async () => {
    const response = errorResponse('ERR_JWT_SVID_MALFORMED', 'req-6', 'a2a', { challenges: ['Bearer error="invalid_token"'], a2a: { binding: 'HTTP+JSON' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(((await response.json()) as { error: { status: string } }).error.status).toBe('UNAUTHENTICATED');
    const overridden = await parts(errorResponse('ERR_WPT_MISSING', 'req-6', 'a2a', { status: 400, a2a: { binding: 'HTTP+JSON' } }));
    expect(overridden).toEqual({ status: 400, type: 'application/json', body: restBody(400, 'INVALID_ARGUMENT', 'Workload proof token missing', 'ERR_WPT_MISSING', 'req-6') });
  });

  it('grpcStatusName: google/rpc/code.proto\'s mapping, and the choices where it has none', () => {
    const table: Record<number, string> = {
      400: 'INVALID_ARGUMENT',
      401: 'UNAUTHENTICATED',
      403: 'PERMISSION_DENIED',
      404: 'NOT_FOUND',
      405: 'UNIMPLEMENTED',
      409: 'ABORTED',
      412: 'FAILED_PRECONDITION',
      413: 'RESOURCE_EXHAUSTED',
      429: 'RESOURCE_EXHAUSTED',
      431: 'RESOURCE_EXHAUSTED',
      499: 'CANCELLED',
      500: 'INTERNAL',
      501: 'UNIMPLEMENTED',
      502: 'UNAVAILABLE',
      503: 'UNAVAILABLE',
      504: 'DEADLINE_EXCEEDED',
      418: 'UNKNOWN',
      507: 'UNKNOWN',
      200: 'UNKNOWN',
    };
    for (const [status, name] of Object.entries(table)) expect({ status, name: grpcStatusName(Number(status)) }).toEqual({ status, name });
  });
});

describe('other shapes are unchanged', () => {
  it('protocol "a2a" without a binding: problem+json', async () => {
    expect(await parts(errorResponse('ERR_A2A_REQUEST_INVALID', 'req-7', 'a2a'))).toEqual({
      status: 400,
      type: 'application/problem+json',
      body: { type: 'about:blank', title: 'Invalid A2A request', status: 400, code: 'ERR_A2A_REQUEST_INVALID', requestId: 'req-7' },
    });
    expect(await parts(errorResponse('ERR_CREDENTIALS_MISSING', 'req-7', 'a2a', { challenges: ['Bearer'] }))).toEqual({
      status: 401,
      type: 'application/problem+json',
      body: { type: 'about:blank', title: 'Authentication required', status: 401, code: 'ERR_CREDENTIALS_MISSING', requestId: 'req-7' },
    });
  });

  it('the a2a option is ignored on other protocols: MCP keeps its JSON-RPC body (id null), http its problem+json', async () => {
    expect(await parts(errorResponse('ERR_MCP_SESSION_UNKNOWN', 'req-8', 'mcp', { a2a: { binding: 'HTTP+JSON', rpcId: 3 } }))).toEqual({
      status: 404,
      type: 'application/json',
      body: { jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found', data: { status: 404, code: 'ERR_MCP_SESSION_UNKNOWN', requestId: 'req-8' } } },
    });
    expect(await parts(errorResponse('ERR_CREDENTIALS_MISSING', 'req-8', 'mcp'))).toEqual({
      status: 401,
      type: 'application/json',
      body: { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Authentication required', data: { status: 401, code: 'ERR_CREDENTIALS_MISSING', requestId: 'req-8' } } },
    });
    expect(await parts(errorResponse('ERR_ROUTE_NOT_FOUND', 'req-8', 'http', { a2a: { binding: 'JSONRPC', rpcId: 3 } }))).toEqual({
      status: 404,
      type: 'application/problem+json',
      body: { type: 'about:blank', title: 'No route matches this path', status: 404, code: 'ERR_ROUTE_NOT_FOUND', requestId: 'req-8' },
    });
    expect(await parts(errorResponse('ERR_ROUTE_NOT_FOUND', 'req-8'))).toEqual({
      status: 404,
      type: 'application/problem+json',
      body: { type: 'about:blank', title: 'No route matches this path', status: 404, code: 'ERR_ROUTE_NOT_FOUND', requestId: 'req-8' },
    });
  });
});

describe('the @a2a-js/sdk 1.3.0 clients read both bodies as typed errors', () => {
  const card = {} as AgentCard;
  const answering = (response: Response): typeof fetch => async () => response;

  it('REST: an A2AError with the title as message and the HTTP status', async () => {
    const response = errorResponse('ERR_ACCESS_TOKEN_INSUFFICIENT_SCOPE', 'req-9', 'a2a', { a2a: { binding: 'HTTP+JSON' } });
    const transport = await new RestTransportFactory({ fetchImpl: answering(response) }).create('http://gw.test/a2a/echo/rest', card);
    const error = await transport.getTask({ tenant: '', id: 't' }).then(
      () => undefined,
      (e: unknown) => e as { name: string; message: string; statusCode: number },
    );
    expect({ name: error?.name, message: error?.message, statusCode: error?.statusCode }).toEqual({ name: 'A2AError', message: 'Insufficient scope', statusCode: 403 });
  });

  it('JSON-RPC: -32602 becomes the SDK\'s malformed-request error, with the JSON-RPC code and our data', async () => {
    const response = errorResponse('ERR_A2A_PUSH_URL_NOT_ALLOWED', 'req-9', 'a2a', { a2a: { binding: 'JSONRPC', rpcId: 1 } });
    const transport = await new JsonRpcTransportFactory({ fetchImpl: answering(response) }).create('http://gw.test/a2a/echo/jsonrpc', card);
    const error = await transport.getTask({ tenant: '', id: 't' }).then(
      () => undefined,
      (e: unknown) => e as { name: string; message: string; envelopeCode: number; data: unknown },
    );
    expect({ name: error?.name, message: error?.message, envelopeCode: error?.envelopeCode, data: error?.data }).toEqual({
      name: 'RequestMalformedError',
      message: 'Push notification URL not allowed',
      envelopeCode: -32602,
      data: { status: 400, code: 'ERR_A2A_PUSH_URL_NOT_ALLOWED', requestId: 'req-9' },
    });
  });
});
