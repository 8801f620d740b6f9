/**
 * Verifies one certificate's signature with its issuer's SubjectPublicKeyInfo, over Web Crypto only.
 *
 * Specs: RFC 5280 §4.1.1.3 and §6.1.3 (a)(1) (the signature over the DER TBSCertificate, with the working public key);
 * RFC 5758 §3.2 and RFC 3279 §2.2.3 (ECDSA-Sig-Value, converted here to the fixed-size r‖s Web Crypto expects);
 * RFC 8017 §8 (RSA PKCS#1 v1.5 and PSS); RFC 8410 §6 (Ed25519).
 *
 * Checks, after algorithms.ts has chosen the plan: the key imports for exactly that plan (curve included); an RSA key
 * has MIN..MAX_X509_RSA_MODULUS_BITS and a public exponent of at most 32 bits (a huge exponent makes every verify slow);
 * an ECDSA signature is one SEQUENCE of two minimal positive INTEGERs that fit the curve; the signature verifies.
 *
 * Does NOT: choose or trust the issuer (chain.ts does), cache imported keys (a later step can, keyed by SPKI hash).
 * Details name the algorithm, never key or signature bytes.
 */
import { MAX_X509_RSA_MODULUS_BITS, MIN_X509_RSA_MODULUS_BITS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { VerifyPlan } from './algorithms.ts';
import { children, content, minimalInteger, readTlv, TAG } from './der.ts';

type Bytes = Uint8Array<ArrayBuffer>;
/** Web Crypto algorithm parameters, spelled structurally so the DOM and the Workers type libraries both accept them. */
type Params = { name: string; namedCurve?: string; hash?: string; saltLength?: number };
/** What an imported RSA key reports (RsaHashedKeyAlgorithm in the DOM library). */
type RsaKeyView = { modulusLength?: number; publicExponent?: Uint8Array };

export async function verifySignature(
  tbs: Uint8Array,
  signature: Uint8Array,
  issuerSpki: Uint8Array,
  plan: VerifyPlan,
): Promise<Result<true, 'invalid' | 'unsupported'>> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('spki', issuerSpki as Bytes, importParams(plan), false, ['verify']);
  } catch {
    return fail('invalid', `the issuer key does not import as ${plan.family}`);
  }
  if (plan.family === 'rsa-pkcs1' || plan.family === 'rsa-pss') {
    const rsa = key.algorithm as RsaKeyView;
    const bits = rsa.modulusLength ?? 0;
    if (bits < MIN_X509_RSA_MODULUS_BITS || bits > MAX_X509_RSA_MODULUS_BITS) {
      return fail('unsupported', `RSA key of ${bits} bits, outside ${MIN_X509_RSA_MODULUS_BITS}..${MAX_X509_RSA_MODULUS_BITS}`);
    }
    const exponent = rsa.publicExponent ?? new Uint8Array(0);
    let first = 0;
    while (first < exponent.length && exponent[first] === 0) first++;
    if (exponent.length - first > 4) return fail('unsupported', 'RSA public exponent over 32 bits');
  }
  let signed: Uint8Array = signature;
  if (plan.family === 'ecdsa') {
    const converted = ecdsaRawSignature(signature, plan.curve === 'P-256' ? 32 : 48);
    if (!converted) return fail('invalid', 'ECDSA signature is not a DER ECDSA-Sig-Value for the curve');
    signed = converted;
  }
  let verified = false;
  try {
    verified = await crypto.subtle.verify(verifyParams(plan), key, signed as Bytes, tbs as Bytes);
  } catch {
    verified = false;
  }
  return verified ? ok(true) : fail('invalid', `${plan.family} signature does not verify`);
}

function importParams(plan: VerifyPlan): Params {
  switch (plan.family) {
    case 'ecdsa':
      return { name: 'ECDSA', namedCurve: plan.curve };
    case 'rsa-pkcs1':
      return { name: 'RSASSA-PKCS1-v1_5', hash: plan.hash };
    case 'rsa-pss':
      return { name: 'RSA-PSS', hash: plan.hash };
    case 'ed25519':
      return { name: 'Ed25519' };
  }
}

function verifyParams(plan: VerifyPlan): Params {
  switch (plan.family) {
    case 'ecdsa':
      return { name: 'ECDSA', hash: plan.hash };
    case 'rsa-pkcs1':
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'rsa-pss':
      return { name: 'RSA-PSS', saltLength: plan.saltLength };
    case 'ed25519':
      return { name: 'Ed25519' };
  }
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } to r‖s, each left-padded to `size` octets. */
function ecdsaRawSignature(der: Uint8Array, size: number): Uint8Array | undefined {
  const seq = readTlv(der, 0);
  if (typeof seq === 'string' || seq.tag !== TAG.SEQUENCE || seq.end !== der.length) return undefined;
  const parts = children(der, seq);
  if (typeof parts === 'string' || parts.length !== 2) return undefined;
  const out = new Uint8Array(2 * size);
  for (const [i, part] of parts.entries()) {
    if (part.tag !== TAG.INTEGER) return undefined;
    let value = content(der, part);
    if (!minimalInteger(value) || (value[0] as number) & 0x80) return undefined; // negative
    if (value[0] === 0 && value.length > 1) value = value.subarray(1);
    if (value.length > size) return undefined;
    out.set(value, (i + 1) * size - value.length);
  }
  return out;
}
