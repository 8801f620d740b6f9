/**
 * Loads the RFC 9421 vectors (test/vectors/rfc9421/*.json, extracted from the RFC text; see each file's `source`)
 * and imports their keys with Web Crypto, plus small assertion helpers shared by the http-sig tests.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { HttpSigAlgorithm } from '../../../src/http-sig/algorithms.ts';
import type { HttpSigErrorCode } from '../../../src/http-sig/errors.ts';
import type { FieldLines, HttpSigMessage } from '../../../src/http-sig/message.ts';
import type { Result } from '../../../src/result.ts';
import { IMPORT_PARAMS } from '../../runtimes/http-sig-vectors.ts';

const dir = new URL('../../vectors/rfc9421/', import.meta.url);

export function loadVector<T = any>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;
}

export interface VectorMessage {
  method?: string;
  url?: string;
  requestTarget?: string;
  status?: number;
  headers: [string, string][];
  body?: string;
  request?: VectorMessage;
}

/** The vector message as an HttpSigMessage (field lines in order), with extra field lines appended. */
export function toMessage(v: VectorMessage, extra: FieldLines = []): HttpSigMessage {
  return {
    ...(v.method !== undefined ? { method: v.method } : {}),
    ...(v.url !== undefined ? { url: v.url } : {}),
    ...(v.requestTarget !== undefined ? { requestTarget: v.requestTarget } : {}),
    ...(v.status !== undefined ? { status: v.status } : {}),
    ...(v.request !== undefined ? { request: toMessage(v.request) } : {}),
    headers: [...v.headers, ...extra],
  };
}

interface KeyEntry {
  jwk?: JsonWebKey & { kid?: string };
  base64?: string;
  publicKeyPem?: string;
  privateKeyPem?: string;
}

const keys: Record<string, KeyEntry> = loadVector<{ keys: Record<string, KeyEntry> }>('keys.json').keys;

export function keyEntry(kid: string): KeyEntry {
  const entry = keys[kid];
  if (entry === undefined) throw new Error(`no key ${kid}`);
  return entry;
}

export { IMPORT_PARAMS };

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

export function publicJwk(jwk: JsonWebKey): JsonWebKey {
  return Object.fromEntries(Object.entries(jwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k) && k !== 'kid'));
}

/** The signing and verification keys of an RFC 9421 test key, imported for `alg`. */
export async function importTestKeys(kid: string, alg: HttpSigAlgorithm): Promise<{ signKey: CryptoKey; verifyKey: CryptoKey }> {
  const entry = keyEntry(kid);
  const params = IMPORT_PARAMS[alg];
  if (entry.base64 !== undefined) {
    const secret = Uint8Array.from(atob(entry.base64), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey('raw', secret, params, false, ['sign', 'verify']);
    return { signKey: key, verifyKey: key };
  }
  const { kid: _kid, ...jwk } = entry.jwk!;
  const signKey = await crypto.subtle.importKey('jwk', jwk, params, false, ['sign']);
  const verifyKey = await crypto.subtle.importKey('jwk', publicJwk(jwk), params, true, ['verify']);
  return { signKey, verifyKey };
}

/** Bytes of a PEM body. */
export function pemBytes(pem: string): Uint8Array<ArrayBuffer> {
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

export function expectOk<T>(result: Result<T, string>): T {
  if (!result.ok) expect.fail(`expected success, got ${result.code}: ${result.detail}`);
  return result.value;
}

export function expectCode(result: Result<unknown, HttpSigErrorCode>, code: HttpSigErrorCode): void {
  expect(result.ok ? 'ok' : `${result.code}`, result.ok ? 'succeeded' : result.detail).toBe(code);
}
