/**
 * Reading a key set document from where the config says it is, with the bounds a gateway needs: a URL is fetched
 * with a timeout, without following redirects (the configured URL is the trust decision; a redirect would hand it
 * to whoever controls the Location), must answer 200, and its body is read up to MAX_KEY_SET_BYTES and decoded as
 * strict UTF-8. A file is read through the runtime's port and bounded the same way. Errors say what went wrong
 * without quoting the body.
 */
import { KEY_FETCH_TIMEOUT_MS, MAX_KEY_SET_BYTES } from '../limits.ts';
import { readBounded } from '../read-bounded.ts';

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
    let bytes: Uint8Array | undefined;
    try {
      bytes = await readBounded(response.body, MAX_KEY_SET_BYTES);
    } catch {
      throw new Error(controller.signal.aborted ? `no complete body within ${timeoutMs} ms` : 'body could not be read');
    }
    if (bytes === undefined) throw new Error(`body is over ${MAX_KEY_SET_BYTES} bytes`);
    return decode(bytes);
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

function decode(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Error('body is not UTF-8');
  }
}
