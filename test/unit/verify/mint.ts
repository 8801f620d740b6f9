/**
 * Test-only token minting. Signs arbitrary headers and claims with Web Crypto directly (jose refuses to sign
 * `alg: none`, unknown `crit` and other deliberately broken tokens), so each negative test can break exactly
 * one rule of an otherwise valid token.
 */
import { exportJWK, type JWK } from 'jose';
import { expect } from 'vitest';
import { base64urlEncode } from '../../../src/crypto/base64url.ts';
import type { Result } from '../../../src/result.ts';

export interface TestKey {
  alg: 'ES256' | 'EdDSA' | 'ES384';
  privateKey: CryptoKey;
  /** Public JWK without `alg`. */
  publicJwk: JWK;
}

export async function generateKey(alg: TestKey['alg']): Promise<TestKey> {
  const params = alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' };
  const pair = (await crypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  const publicJwk: JWK = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
  return { alg, privateKey: pair.privateKey, publicJwk };
}

/** An EC test key's public JWK with `kid`, as a config JWK Set lists it. */
export function configJwk(key: TestKey, kid: string): { kty: 'EC'; crv: string; x: string; y: string; kid: string } {
  const { kty, crv, x, y } = key.publicJwk as { kty: 'EC'; crv: string; x: string; y: string };
  return { kty, crv, x, y, kid };
}

export function encodeSegment(value: unknown): string {
  return base64urlEncode(JSON.stringify(value));
}

/** Signs `header.claims` with `key` (its own algorithm), whatever the header says. */
export async function sign(header: Record<string, unknown>, claims: Record<string, unknown>, key: TestKey): Promise<string> {
  const input = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  return `${input}.${await rawSignature(input, key)}`;
}

export async function rawSignature(input: string, key: TestKey): Promise<string> {
  const params = key.alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: key.alg === 'ES256' ? 'SHA-256' : 'SHA-384' };
  return base64urlEncode(new Uint8Array(await crypto.subtle.sign(params, key.privateKey, new TextEncoder().encode(input))));
}

/** HMAC-SHA-256 over `header.claims` with `secret` as the key: the classic "public key as HMAC secret" forgery. */
export async function signHs256(header: Record<string, unknown>, claims: Record<string, unknown>, secret: Uint8Array): Promise<string> {
  const input = `${encodeSegment(header)}.${encodeSegment(claims)}`;
  const key = await crypto.subtle.importKey('raw', secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `${input}.${base64urlEncode(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))))}`;
}

/** Returns `claims` without the named members. */
export function without<T extends Record<string, unknown>>(claims: T, ...names: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...claims };
  for (const name of names) delete copy[name];
  return copy;
}

/**
 * Asserts a failure with exactly `code`, and that its detail leaks nothing: no segment of the token and no key
 * coordinate or private member value.
 */
export function expectFailure<C extends string>(result: Result<unknown, C>, code: C, secrets: readonly string[] = []): void {
  if (result.ok) throw new Error(`expected ${code}, got success`);
  expect({ code: result.code, detail: result.detail }).toEqual({ code, detail: expect.any(String) });
  for (const secret of secrets) {
    for (const piece of secret.split('.')) {
      if (piece.length >= 16) expect(result.detail).not.toContain(piece);
    }
  }
}

export function expectOk<T, C extends string>(result: Result<T, C>): T {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.detail}`);
  return result.value;
}
