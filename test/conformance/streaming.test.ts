/** Conformance: bodies stream through the gateway in both directions, and a caller going away cancels. */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { expectUpstreamStreamStopped, json, record, recorded, requestId, send, waitFor } from './client.ts';
import { target } from './context.ts';

const GAP_MS = 200;
const EVENTS = 5;

describe(`streaming (${target().runtime})`, () => {
  it('delivers SSE events as they are produced, not buffered until the end', async () => {
    const id = requestId('sse');
    const response = await fetch(`${target().gatewayUrl}/svc/events?fx=sse&n=${EVENTS}&gap=${GAP_MS}`, { headers: { 'x-request-id': id } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-accel-buffering')).toBe('no');

    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let firstEventAt = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
      if (!firstEventAt && text.includes('data: event-1\n\n')) firstEventAt = Date.now();
    }
    for (let i = 1; i <= EVENTS; i++) expect(text).toContain(`data: event-${i}\n\n`);

    const written = (await recorded(id)).sseWrittenAt;
    expect(written).toHaveLength(EVENTS);
    const lastWrittenAt = written[EVENTS - 1]!;
    // The last event is produced ~800 ms after the first; a buffering proxy delivers event 1 only after it.
    expect(firstEventAt).toBeGreaterThan(0);
    expect(lastWrittenAt - firstEventAt).toBeGreaterThan(GAP_MS);
  });

  it('marks SSE responses on the MCP route with X-Accel-Buffering: no and streams the final response', async () => {
    const res = await send('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":11,"method":"stream/test","params":{}}',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.body).toContain('data: event-1\n\n');
    expect(res.body).toContain('data: {"jsonrpc":"2.0","id":11,"result":{}}');
  });

  it('does not add X-Accel-Buffering to non-SSE responses', async () => {
    const res = await send('/svc/plain');
    expect(res.status).toBe(200);
    expect(res.headers['x-accel-buffering']).toBeUndefined();
  });

  it('streams a request body without Content-Length to the upstream as it arrives', async () => {
    const id = requestId('stream-up');
    const first = 'first-chunk;';
    const second = 'second-chunk.';
    const result = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${target().gatewayUrl}/svc/upload`, { method: 'POST', agent: false, headers: { 'x-request-id': id, 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (s: string) => { body += s; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(first);
      // The second chunk is sent only once the upstream has seen the first: a buffering gateway never
      // forwards it, so the wait below times out.
      void waitFor(async () => (await record(id))?.body.includes(first), 10_000).then((seen) => {
        req.end(second);
        if (!seen) reject(new Error('the upstream did not receive the first chunk before the body ended'));
      });
    });
    const { status, body } = await result;
    expect(status).toBe(200);
    expect(json(body).bodyBytes).toBe(first.length + second.length);
    const seen = await recorded(id);
    expect(seen.body).toBe(first + second);
    expect(seen.headers['content-length']).toBeUndefined();
  });

  it('cancels the upstream exchange when the caller aborts mid-stream', async () => {
    const id = requestId('abort');
    const controller = new AbortController();
    const response = await fetch(`${target().gatewayUrl}/svc/forever?fx=sse&n=0&gap=100`, { headers: { 'x-request-id': id }, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toContain('data: event-1');
    controller.abort();
    await reader.cancel().catch(() => {});

    await expectUpstreamStreamStopped(id);
  });
});
