/**
 * Test helpers for tokens the in-process gateway signs: its published JWK Set (`/.well-known/jwks.json`, fetched
 * through `gateway.fetch` as a verifier would fetch it) and a Txn-Token verified against it.
 */
import type { JWK } from 'jose';
import { expect } from 'vitest';
import type { Gateway } from '../../src/gateway/app.ts';
import { verifyTxnToken, type VerifiedTxnToken } from '../../src/verify/txn-token.ts';

export async function publishedKeys(gw: Pick<Gateway, 'fetch'>): Promise<JWK[]> {
  const res = await gw.fetch(new Request('http://127.0.0.1/.well-known/jwks.json'));
  expect(res.status).toBe(200);
  return ((await res.json()) as { keys: JWK[] }).keys;
}

/** `token` verified as a Txn-Token for `audience` with the gateway's published keys; fails the test otherwise. */
export async function verifiedTxnToken(gw: Pick<Gateway, 'fetch'>, token: string, audience: string): Promise<VerifiedTxnToken> {
  const keys = await publishedKeys(gw);
  const result = await verifyTxnToken(token, { keys: async (kid) => keys.find((k) => k.kid === kid), audience, now: Date.now });
  expect(result.ok, result.ok ? '' : `${result.code}: ${result.detail}`).toBe(true);
  return (result as { value: VerifiedTxnToken }).value;
}
