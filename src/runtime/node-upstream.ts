/**
 * The Node upstream port: sends the gateway's upstream requests with node:http(s) and keep-alive agents
 * instead of the global fetch. In a loopback A/B on Node 24 (2 cores), a bare proxy on node:http served
 * about twice the requests per second of the same proxy on fetch; the gateway's Node throughput is bounded
 * by this hop.
 * Same contract as fetch for the proxy: redirects are not followed, `init.signal` aborts the exchange,
 * both bodies stream with backpressure, network failures reject. It answers a plain UpstreamResponse, not
 * a Response (see proxy.ts).
 */
import http from 'node:http';
import https from 'node:https';
import { Readable, pipeline } from 'node:stream';
import type { UpstreamSend } from '../gateway/proxy.ts';

export function nodeUpstreamFetch(): UpstreamSend {
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  return (url, init) =>
    new Promise((resolve, reject) => {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new TypeError(`unsupported scheme ${url.protocol}`));
      const headers: Record<string, string> = {};
      init.headers.forEach((value, name) => { headers[name] = value; });
      const send = url.protocol === 'https:' ? https.request : http.request;
      const outgoing = send(url, { method: init.method, headers, agent: agents[url.protocol], signal: init.signal }, (res) => {
        const responseHeaders = new Headers();
        // rawHeaders keeps repeated fields (Set-Cookie) apart.
        for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const status = res.statusCode ?? 502;
        const bodiless = init.method === 'HEAD' || status === 204 || status === 304;
        if (bodiless) res.resume();
        resolve({ status, statusText: res.statusMessage ?? '', headers: responseHeaders, body: bodiless ? null : toWebStream(res) });
      });
      outgoing.once('error', reject);
      if (!init.body || init.body instanceof Uint8Array) {
        outgoing.end(init.body ?? undefined);
        return;
      }
      // A failing body (the gateway's size limit) destroys the upstream request, which rejects above.
      pipeline(Readable.fromWeb(init.body as import('node:stream/web').ReadableStream<Uint8Array>), outgoing, (error) => {
        if (error) outgoing.destroy(error);
      });
    });
}

/** A pull-driven web stream over a Node response: pauses the socket while the consumer is behind. */
function toWebStream(res: http.IncomingMessage): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on('data', (chunk: Buffer) => {
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 1) <= 0) res.pause();
      });
      res.once('end', () => {
        finished = true;
        controller.close();
      });
      res.once('error', (error) => {
        if (!finished) controller.error(error);
      });
    },
    pull() {
      res.resume();
    },
    cancel() {
      // The caller went away: closing the upstream connection tells the upstream (MCP: cancellation).
      res.destroy();
    },
  });
}
