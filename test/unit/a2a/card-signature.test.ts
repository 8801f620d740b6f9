/**
 * Signed Agent Cards (src/a2a/card-signature.ts): round trips with our verifier and with @a2a-js/sdk 1.3.0's
 * `verifyAgentCardSignature` (both directions), the canonical bytes against the SDK's `canonicalizeAgentCard`,
 * one-byte tampering of every top-level member, key rotation, and one test per error code.
 */
import { canonicalizeAgentCard, generateAgentCardSignature, verifyAgentCardSignature, type AgentCard } from '@a2a-js/sdk';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { canonicalAgentCard, signAgentCard, verifyAgentCard, type AgentCardJson } from '../../../src/a2a/card-signature.ts';
import { base64urlEncode } from '../../../src/crypto/base64url.ts';

// The gateway-served card of docs reference §3.2 (constructed), plus an icon and documentation URL.
const CARD: AgentCardJson = {
  name: 'Echo Agent (via gateway)',
  description: 'Upstream echo agent fronted by the edge gateway. Ünïcödé € 😀',
  supportedInterfaces: [
    { url: 'https://gw.example.com/a2a/echo/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
    { url: 'https://gw.example.com/a2a/echo/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
  ],
  provider: { organization: 'Example Corp', url: 'https://example.com' },
  iconUrl: 'https://gw.example.com/icon.png',
  version: '1.0.0',
  documentationUrl: 'https://docs.example.com/echo',
  capabilities: { streaming: true, pushNotifications: false, extendedAgentCard: true },
  securitySchemes: {
    gw_oauth: {
      oauth2SecurityScheme: {
        flows: { clientCredentials: { tokenUrl: 'https://auth.example.com/oauth/token', scopes: { 'a2a:echo': 'Call the echo agent' } } },
        oauth2MetadataUrl: 'https://auth.example.com/.well-known/oauth-authorization-server',
      },
    },
    gw_bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', bearerFormat: 'JWT' } },
  },
  securityRequirements: [{ schemes: { gw_oauth: { list: ['a2a:echo'] } } }],
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['text/plain'],
  skills: [{ id: 'echo', name: 'Echo', description: 'Echoes input.', tags: ['test'], examples: ['say "hi"\n'] }],
};

async function es256(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid } as JWK };
}

const keysOf = (...known: { kid: string; jwk: JWK }[]) => async (kid: string) => known.find((k) => k.kid === kid)?.jwk;
const sdkVerify = (...known: { kid: string; jwk: JWK }[]) =>
  verifyAgentCardSignature(async (kid) => {
    const hit = known.find((k) => k.kid === kid);
    if (!hit) throw new Error('unknown kid');
    return hit.jwk;
  });
const sdkAccepts = async (card: AgentCardJson, ...known: { kid: string; jwk: JWK }[]) => {
  try {
    await sdkVerify(...known)(card as unknown as AgentCard);
    return true;
  } catch {
    return false;
  }
};

vi.spyOn(console, 'debug').mockImplementation(() => {}); // the SDK logs every failed entry

describe('canonical bytes', () => {
  it('equal the SDK canonicaliser for a ProtoJSON-normal card, signatures and empty values excluded', () => {
    const withEmpties = { ...CARD, signatures: [{ protected: 'x', signature: 'y' }], tenantless: undefined, skills: [...(CARD.skills as object[]), {}] } as AgentCardJson;
    delete (withEmpties as Record<string, unknown>).tenantless;
    expect(canonicalAgentCard(CARD)).toBe(canonicalizeAgentCard(CARD as unknown as AgentCard));
    expect(canonicalAgentCard(withEmpties)).toBe(canonicalAgentCard(CARD));
    expect(canonicalAgentCard({ name: 'x', description: '', skills: [], provider: {}, tags: [''] })).toBe('{"name":"x"}');
  });
});

describe('signAgentCard / verifyAgentCard', () => {
  it('produces the SDK shape: {protected, signature}, header {alg, typ: JOSE, kid, jku}', async () => {
    const k = await es256('gw-2026-11');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid, jku: 'https://gw.example.com/.well-known/jwks.json' });
    expect(signed.signatures).toHaveLength(1);
    const [entry] = signed.signatures;
    expect(Object.keys(entry!).sort()).toEqual(['protected', 'signature']);
    expect(JSON.parse(Buffer.from(entry!.protected, 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JOSE', kid: k.kid, jku: 'https://gw.example.com/.well-known/jwks.json' });
    expect({ ...signed, signatures: undefined }).toEqual({ ...CARD, signatures: undefined });
  });

  it('our signature verifies with our verifier and with the SDK verifier (ES256, EdDSA, PS256)', async () => {
    for (const alg of ['ES256', 'EdDSA', 'PS256'] as const) {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = await exportJWK(publicKey);
      const signed = await signAgentCard(CARD, { key: privateKey, alg, kid: `k-${alg}` });
      const result = await verifyAgentCard(signed, { keys: keysOf({ kid: `k-${alg}`, jwk }), algorithms: [alg] });
      expect(result).toEqual({ ok: true, value: { index: 0, alg, kid: `k-${alg}` } });
      expect(await sdkAccepts(signed, { kid: `k-${alg}`, jwk })).toBe(true);
    }
  });

  it('a card signed by the SDK verifies with our verifier', async () => {
    const k = await es256('sdk-key');
    const signed = await generateAgentCardSignature(k.privateKey, { alg: 'ES256', kid: k.kid, typ: 'JOSE' })(CARD as unknown as AgentCard);
    const result = await verifyAgentCard(signed as unknown as AgentCardJson, { keys: keysOf(k), algorithms: ['ES256'] });
    expect(result.ok).toBe(true);
  });

  it('the verifier passes kid and jku to the caller and never fetches', async () => {
    const k = await es256('k1');
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid, jku: 'https://evil.example/jwks' });
    const keys = vi.fn(keysOf(k));
    expect((await verifyAgentCard(signed, { keys, algorithms: ['ES256'] })).ok).toBe(true);
    expect(keys).toHaveBeenCalledWith('k1', 'https://evil.example/jwks');
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it('changing one byte in any top-level member fails, for us and for the SDK', async () => {
    const k = await es256('k1');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid });
    const mutate = (v: unknown): unknown => {
      if (typeof v === 'string') return v.slice(0, -1) + String.fromCharCode(v.charCodeAt(v.length - 1) ^ 1);
      if (typeof v === 'boolean') return !v;
      if (Array.isArray(v)) return [mutate(v[0]), ...v.slice(1)];
      const [first, ...rest] = Object.entries(v as object);
      return Object.fromEntries([[first![0], mutate(first![1])], ...rest]);
    };
    const members = Object.keys(CARD);
    expect(members).toHaveLength(13);
    for (const member of members) {
      const tampered = { ...signed, [member]: mutate(signed[member]) };
      const result = await verifyAgentCard(tampered, { keys: keysOf(k), algorithms: ['ES256'] });
      expect([member, result.ok || result.code]).toEqual([member, 'ERR_CARD_SIGNATURE_INVALID']);
      expect([member, await sdkAccepts(tampered, k)]).toEqual([member, false]);
    }
    // and an added member
    const added = await verifyAgentCard({ ...signed, extra: 'x' }, { keys: keysOf(k), algorithms: ['ES256'] });
    expect(added.ok).toBe(false);
  });

  it('key rotation: card signed by old and new key verifies with the new kid while the old is still known, and after it is gone', async () => {
    const old = await es256('gw-2026-10');
    const next = await es256('gw-2026-11');
    const once = await signAgentCard(CARD, { key: old.privateKey, alg: 'ES256', kid: old.kid });
    const twice = await signAgentCard(once, { key: next.privateKey, alg: 'ES256', kid: next.kid });
    expect(twice.signatures).toHaveLength(2);
    expect(twice.signatures[0]).toEqual(once.signatures[0]); // the canonical form excludes signatures
    const both = await verifyAgentCard(twice, { keys: keysOf(old, next), algorithms: ['ES256'] });
    expect(both).toEqual({ ok: true, value: { index: 0, alg: 'ES256', kid: old.kid } });
    const newOnly = await verifyAgentCard(twice, { keys: keysOf(next), algorithms: ['ES256'] });
    expect(newOnly).toEqual({ ok: true, value: { index: 1, alg: 'ES256', kid: next.kid } });
    const reSigned = await signAgentCard(CARD, { key: next.privateKey, alg: 'ES256', kid: next.kid });
    expect((await verifyAgentCard(reSigned, { keys: keysOf(old, next), algorithms: ['ES256'] })).ok).toBe(true);
    expect(await sdkAccepts(twice, next)).toBe(true);
    expect(await sdkAccepts(reSigned, old)).toBe(false);
  });
});

describe('error codes', () => {
  const header = (h: object) => base64urlEncode(JSON.stringify(h));
  const verify = async (card: AgentCardJson, k: { kid: string; jwk: JWK }, algorithms = ['ES256']) => verifyAgentCard(card, { keys: keysOf(k), algorithms });

  it('MISSING', async () => {
    const k = await es256('k1');
    expect(await verify(CARD, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_MISSING' });
    expect(await verify({ ...CARD, signatures: [] }, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_MISSING' });
  });

  it('MALFORMED', async () => {
    const k = await es256('k1');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid });
    const good = signed.signatures[0]!;
    const cases: unknown[] = [
      'x',
      { protected: 1, signature: good.signature },
      { protected: good.protected, signature: 'not base64url!' },
      { protected: 'bm90IGpzb24', signature: good.signature },
      { protected: good.protected, signature: good.signature, header: 'x' },
      { protected: good.protected, signature: good.signature, header: { kid: 'k1' } },
      { protected: header({ alg: 'ES256', typ: 'JOSE', kid: 'k1', crit: ['exp'], exp: 1 }), signature: good.signature },
      { protected: header({ alg: 'ES256', typ: 'JOSE', kid: 'k1', b64: false, crit: ['b64'] }), signature: good.signature },
      { protected: header({ alg: 'ES256', typ: 'JOSE' }), signature: good.signature },
      { protected: header({ typ: 'JOSE', kid: 'k1' }), signature: good.signature },
    ];
    for (const entry of cases) {
      expect([entry, await verify({ ...CARD, signatures: [entry] } as AgentCardJson, k)]).toMatchObject([entry, { ok: false, code: 'ERR_CARD_SIGNATURE_MALFORMED' }]);
    }
    expect(await verify({ ...CARD, signatures: 'x' } as unknown as AgentCardJson, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_MALFORMED' });
    expect(await verify({ ...CARD, n: Number.NaN, signatures: [good] }, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_MALFORMED' });
    expect(await verify({ ...CARD, signatures: Array(9).fill(good) }, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_MALFORMED' });
  });

  it('TYP_INVALID: typ missing or not JOSE (application/jose and jose are JOSE)', async () => {
    const k = await es256('k1');
    for (const typ of [undefined, 'JWT', 'application/jose+json']) {
      const signed = await generateAgentCardSignature(k.privateKey, { alg: 'ES256', kid: k.kid, ...(typ ? { typ } : {}) })(CARD as unknown as AgentCard);
      expect(await verify(signed as unknown as AgentCardJson, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_TYP_INVALID' });
    }
    for (const typ of ['jose', 'application/JOSE']) {
      const signed = await generateAgentCardSignature(k.privateKey, { alg: 'ES256', kid: k.kid, typ })(CARD as unknown as AgentCard);
      expect((await verify(signed as unknown as AgentCardJson, k)).ok).toBe(true);
    }
  });

  it('ALG_NOT_ALLOWED: outside the allowlist, HS256 even when listed, none', async () => {
    const k = await es256('k1');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid });
    expect(await verify(signed, k, ['EdDSA'])).toMatchObject({ code: 'ERR_CARD_SIGNATURE_ALG_NOT_ALLOWED' });
    for (const alg of ['HS256', 'none']) {
      const forged = { ...CARD, signatures: [{ protected: header({ alg, typ: 'JOSE', kid: 'k1' }), signature: 'AAAA' }] };
      expect(await verify(forged, k, ['ES256', alg])).toMatchObject({ code: 'ERR_CARD_SIGNATURE_ALG_NOT_ALLOWED' });
    }
  });

  it('KEY_NOT_FOUND: unknown kid, or the key source throws', async () => {
    const k = await es256('k1');
    const other = await es256('k2');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid });
    expect(await verify(signed, other)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_KEY_NOT_FOUND' });
    const throwing = await verifyAgentCard(signed, { keys: async () => { throw new Error('https://secret'); }, algorithms: ['ES256'] });
    expect(throwing).toMatchObject({ code: 'ERR_CARD_SIGNATURE_KEY_NOT_FOUND' });
    expect(throwing.ok || throwing.detail).not.toContain('secret');
  });

  it('INVALID: wrong key under the right kid, key of another type, signature bytes changed', async () => {
    const k = await es256('k1');
    const impostor = await es256('k1');
    const signed = await signAgentCard(CARD, { key: k.privateKey, alg: 'ES256', kid: k.kid });
    expect(await verify(signed, impostor)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_INVALID' });
    const ed = await generateKeyPair('EdDSA', { extractable: true });
    expect(await verify(signed, { kid: 'k1', jwk: await exportJWK(ed.publicKey) })).toMatchObject({ code: 'ERR_CARD_SIGNATURE_INVALID' });
    const sig = signed.signatures[0]!.signature;
    const flipped = { ...signed, signatures: [{ ...signed.signatures[0]!, signature: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) }] };
    expect(await verify(flipped, k)).toMatchObject({ code: 'ERR_CARD_SIGNATURE_INVALID' });
  });
});
