/**
 * The RFC 9421 Appendix B examples (and the B.4 / §4.3 sets) checked with Web APIs only, so the same check runs on
 * every runtime: Node (test/unit/runtimes.test.ts), Deno and Bun (spawned by that test with run-http-sig-vectors.ts),
 * and workerd (test/workers/http-sig-vectors.test.ts). For each vector: the signature base is re-created byte for
 * byte, the published signature verifies with the published public key, and a changed message does not.
 * Returns the failures as strings (empty when all pass) and how many checks ran.
 */
import { createSignatureBase } from '../../src/http-sig/signature-base.ts';
import { parseSignatures } from '../../src/http-sig/parse-signatures.ts';
import { verifySignature } from '../../src/http-sig/verify.ts';
import type { HttpSigAlgorithm } from '../../src/http-sig/algorithms.ts';
import type { HttpSigMessage } from '../../src/http-sig/message.ts';
import keys from '../vectors/rfc9421/keys.json' with { type: 'json' };
import b21 from '../vectors/rfc9421/b2-1-minimal-rsa-pss.json' with { type: 'json' };
import b22 from '../vectors/rfc9421/b2-2-selective-rsa-pss.json' with { type: 'json' };
import b23 from '../vectors/rfc9421/b2-3-full-coverage-rsa-pss.json' with { type: 'json' };
import b24 from '../vectors/rfc9421/b2-4-response-ecdsa-p256.json' with { type: 'json' };
import b25 from '../vectors/rfc9421/b2-5-hmac-sha256.json' with { type: 'json' };
import b26 from '../vectors/rfc9421/b2-6-ed25519.json' with { type: 'json' };
import b3 from '../vectors/rfc9421/b3-tls-terminating-proxy.json' with { type: 'json' };

interface VectorMessage {
  method?: string;
  url?: string;
  status?: number;
  headers: [string, string][];
  request?: VectorMessage;
}

interface Vector {
  id: string;
  message: VectorMessage;
  key: string;
  algorithm: string;
  signatureInput: string;
  signature: string;
  signatureBase: string;
}

const VECTORS = [b21, b22, b23, b24, b25, b26, b3] as unknown as Vector[];

/** Web Crypto import parameters per RFC 9421 algorithm (also used by test/unit/http-sig/vectors.ts). */
export const IMPORT_PARAMS: Record<HttpSigAlgorithm, { name: string; hash?: string; namedCurve?: string }> = {
  'rsa-pss-sha512': { name: 'RSA-PSS', hash: 'SHA-512' },
  'rsa-v1_5-sha256': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  'hmac-sha256': { name: 'HMAC', hash: 'SHA-256' },
  'ecdsa-p256-sha256': { name: 'ECDSA', namedCurve: 'P-256' },
  'ecdsa-p384-sha384': { name: 'ECDSA', namedCurve: 'P-384' },
  ed25519: { name: 'Ed25519' },
};

function message(v: VectorMessage, headers: [string, string][] = []): HttpSigMessage {
  return {
    ...(v.method !== undefined ? { method: v.method } : {}),
    ...(v.url !== undefined ? { url: v.url } : {}),
    ...(v.status !== undefined ? { status: v.status } : {}),
    ...(v.request !== undefined ? { request: message(v.request) } : {}),
    headers: [...v.headers, ...headers],
  };
}

async function verificationKey(kid: string, algorithm: string): Promise<CryptoKey> {
  const entry = (keys as { keys: Record<string, { jwk?: JsonWebKey; base64?: string }> }).keys[kid]!;
  const params = IMPORT_PARAMS[algorithm as HttpSigAlgorithm];
  if (entry.base64 !== undefined) {
    const raw = Uint8Array.from(atob(entry.base64), (c) => c.charCodeAt(0));
    return crypto.subtle.importKey('raw', raw, params, false, ['verify']);
  }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = entry.jwk as JsonWebKey & Record<string, unknown>;
  return crypto.subtle.importKey('jwk', { ...publicJwk, key_ops: ['verify'] } as JsonWebKey, params, false, ['verify']);
}

export async function checkHttpSigVectors(): Promise<{ checks: number; failures: string[] }> {
  const failures: string[] = [];
  let checks = 0;
  for (const v of VECTORS) {
    const signed = message(v.message, [['Signature-Input', v.signatureInput], ['Signature', v.signature]]);
    const parsed = parseSignatures(signed.headers);
    if (!parsed.ok || parsed.value.length !== 1) {
      failures.push(`${v.id}: signature fields do not parse`);
      continue;
    }
    const signature = parsed.value[0]!;
    const base = createSignatureBase(signed, signature.components, signature.params);
    checks++;
    if (!base.ok || base.value !== v.signatureBase) failures.push(`${v.id}: signature base differs`);
    const key = await verificationKey(v.key, v.algorithm);
    const verified = await verifySignature(signed, signature, { algorithm: v.algorithm as HttpSigAlgorithm, key });
    checks++;
    if (!verified.ok) failures.push(`${v.id}: published signature does not verify (${verified.code})`);
    // A changed covered component must break it: the first covered field gets another value.
    const field = signature.components.find((c) => !c.name.startsWith('@'));
    if (field) {
      const changed = message({ ...v.message, headers: v.message.headers.map(([n, value]): [string, string] => [n, n.toLowerCase() === field.name ? `${value}x` : value]) }, [['Signature-Input', v.signatureInput], ['Signature', v.signature]]);
      const refused = await verifySignature(changed, signature, { algorithm: v.algorithm as HttpSigAlgorithm, key });
      checks++;
      if (refused.ok || refused.code !== 'ERR_SIG_INVALID') failures.push(`${v.id}: a changed ${field.name} still verifies`);
    }
  }
  return { checks, failures };
}
