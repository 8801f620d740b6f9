/**
 * Reading a key set document from where the config says it is, with the bounds a gateway needs: a URL is fetched
 * with a timeout, without following redirects (the configured URL is the trust decision; a redirect would hand it
 * to whoever controls the Location), must answer 200, and its body is read up to MAX_KEY_SET_BYTES and decoded as
 * strict UTF-8. A file is read through the runtime's port and bounded the same way. Errors say what went wrong
 * without quoting the body.
 */
import { KEY_FETCH_TIMEOUT_MS, MAX_KEY_SET_BYTES } from '../limits.ts';

export type KeyFetch = (url: string, init: RequestInit) => Promise<Response>;
export type ReadTextFile = (path: string) => Promise<string>;

export async function fetchKeySetText(fetchImpl: KeyFetch, url: string, timeoutMs: number = KEY_FETCH_TIMEOUT_MS): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, { method: 'GET', redirect: 'manual', signal: controller.signal, headers: { accept: 'application/jwk-set+json, application/json' } });
    } catch (error) {
      throw new Error(controller.signal.aborted ? `no answer within ${timeoutMs} ms` : `request failed (${error instanceof Error ? error.name : typeof error})`);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new Error(response.status >= 300 && response.status < 400 ? `answered ${response.status}: redirects are not followed` : `answered ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (declared > MAX_KEY_SET_BYTES) {
      await response.body?.cancel().catch(() => {});
      throw new Error(`declares ${declared} bytes, limit ${MAX_KEY_SET_BYTES}`);
    }
    return decode(await readBounded(response, controller.signal, timeoutMs));
  } finally {
    clearTimeout(timer);
  }
}

export async function readKeySetFile(readFile: ReadTextFile, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (error) {
    throw new Error(`cannot be read (${(error as { code?: string }).code ?? (error instanceof Error ? error.name : typeof error)})`);
  }
  if (text.length > MAX_KEY_SET_BYTES) throw new Error(`is over ${MAX_KEY_SET_BYTES} bytes`);
  return text;
}

async function readBounded(response: Response, signal: AbortSignal, timeoutMs: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_KEY_SET_BYTES) throw new Error(`body is over ${MAX_KEY_SET_BYTES} bytes`);
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (signal.aborted) throw new Error(`no complete body within ${timeoutMs} ms`);
    throw error instanceof Error && error.message.startsWith('body is over') ? error : new Error('body could not be read');
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Error('body is not UTF-8');
  }
}
