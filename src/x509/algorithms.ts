/**
 * The certificate signature algorithms this verifier accepts, read from a signature AlgorithmIdentifier, and how an
 * issuer's SubjectPublicKeyInfo has to look for each. Pure: no Web Crypto calls (signature.ts makes them).
 *
 * Accepted (anything else is refused, never guessed):
 *  - ecdsa-with-SHA256 / ecdsa-with-SHA384, parameters absent (RFC 5758 §3.2), issuer key id-ecPublicKey on P-256 or
 *    P-384 (RFC 5480 §2.1.1: namedCurve only);
 *  - sha256/384/512WithRSAEncryption, parameters NULL or absent (RFC 4055 §5; absent is a common encoder habit);
 *  - RSASSA-PSS (RFC 4055 §3.1) with explicit SHA-256/384/512, MGF1 over the same hash, trailerField 1, and a salt length
 *    of 0..512 octets; both RSA forms need an rsaEncryption issuer key (an id-RSASSA-PSS key is refused: Web Crypto
 *    support for it differs between runtimes);
 *  - Ed25519, parameters absent (RFC 8410 §3, §4), issuer key Ed25519.
 * Not accepted: SHA-1 and MD5 anything, ECDSA with SHA-512 or on P-521, DSA, Ed448, RSA PSS with SHA-1 or differing
 * MGF hash.
 *
 * Does NOT: check RSA key size (signature.ts does, after import) or the EC point (Web Crypto does on import).
 */
import { fail, ok, type Result } from '../result.ts';
import type { AlgorithmIdentifier } from './certificate.ts';
import { children, content, decodeOid, minimalInteger, readTlv, TAG } from './der.ts';

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

export type SignatureScheme =
  | { family: 'ecdsa'; hash: 'SHA-256' | 'SHA-384'; label: string }
  | { family: 'rsa-pkcs1'; hash: HashName; label: string }
  | { family: 'rsa-pss'; hash: HashName; saltLength: number; label: string }
  | { family: 'ed25519'; label: string };

export type CurveName = 'P-256' | 'P-384';

/** How Web Crypto imports the issuer key and verifies, once the key fits the scheme. */
export type VerifyPlan =
  | { family: 'ecdsa'; curve: CurveName; hash: 'SHA-256' | 'SHA-384' }
  | { family: 'rsa-pkcs1'; hash: HashName }
  | { family: 'rsa-pss'; hash: HashName; saltLength: number }
  | { family: 'ed25519' };

const HASHES: Readonly<Record<string, HashName>> = {
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};
const ECDSA: Readonly<Record<string, 'SHA-256' | 'SHA-384'>> = { '1.2.840.10045.4.3.2': 'SHA-256', '1.2.840.10045.4.3.3': 'SHA-384' };
const RSA_PKCS1: Readonly<Record<string, HashName>> = {
  '1.2.840.113549.1.1.11': 'SHA-256',
  '1.2.840.113549.1.1.12': 'SHA-384',
  '1.2.840.113549.1.1.13': 'SHA-512',
};
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';
const ED25519 = '1.3.101.112';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const CURVES: Readonly<Record<string, CurveName>> = { '1.2.840.10045.3.1.7': 'P-256', '1.3.132.0.34': 'P-384' };
const NULL = [TAG.NULL, 0x00];
const MAX_PSS_SALT_OCTETS = 512;

const isNull = (parameters: Uint8Array | undefined) => parameters !== undefined && parameters.length === 2 && parameters[0] === NULL[0] && parameters[1] === NULL[1];

/** The signature scheme of a certificate's signatureAlgorithm, or why it is not accepted. */
export function signatureScheme(alg: AlgorithmIdentifier): Result<SignatureScheme, 'unsupported'> {
  const ecdsa = ECDSA[alg.oid];
  if (ecdsa) {
    return alg.parameters === undefined ? ok({ family: 'ecdsa', hash: ecdsa, label: `ecdsa-with-${ecdsa.replace('-', '')}` }) : fail('unsupported', 'ECDSA signature algorithm with parameters');
  }
  const pkcs1 = RSA_PKCS1[alg.oid];
  if (pkcs1) {
    return alg.parameters === undefined || isNull(alg.parameters)
      ? ok({ family: 'rsa-pkcs1', hash: pkcs1, label: `${pkcs1.replace('-', '').toLowerCase()}WithRSAEncryption` })
      : fail('unsupported', 'RSA PKCS#1 v1.5 signature algorithm with parameters other than NULL');
  }
  if (alg.oid === RSASSA_PSS) return pssScheme(alg.parameters);
  if (alg.oid === ED25519) return alg.parameters === undefined ? ok({ family: 'ed25519', label: 'Ed25519' }) : fail('unsupported', 'Ed25519 with parameters');
  return fail('unsupported', `signature algorithm ${alg.oid} is not accepted`);
}

/** Whether the issuer key fits the scheme: `mismatch` for a key of another type, `unsupported` for an unaccepted curve. */
export function verifyPlan(scheme: SignatureScheme, key: AlgorithmIdentifier): Result<VerifyPlan, 'mismatch' | 'unsupported'> {
  switch (scheme.family) {
    case 'ecdsa': {
      if (key.oid !== EC_PUBLIC_KEY) return fail('mismatch', `${scheme.label} signature but the issuer key is not an EC key`);
      const curveOid = key.parameters ? namedCurve(key.parameters) : undefined;
      const curve = curveOid ? CURVES[curveOid] : undefined;
      return curve ? ok({ family: 'ecdsa', curve, hash: scheme.hash }) : fail('unsupported', 'issuer EC key is not on P-256 or P-384 (named curve)');
    }
    case 'rsa-pkcs1':
    case 'rsa-pss':
      if (key.oid !== RSA_ENCRYPTION) return fail('mismatch', `${scheme.label} signature but the issuer key is not an rsaEncryption key`);
      if (!isNull(key.parameters)) return fail('mismatch', 'rsaEncryption key parameters are not NULL');
      return ok(scheme.family === 'rsa-pss' ? { family: 'rsa-pss', hash: scheme.hash, saltLength: scheme.saltLength } : { family: 'rsa-pkcs1', hash: scheme.hash });
    case 'ed25519':
      if (key.oid !== ED25519 || key.parameters !== undefined) return fail('mismatch', 'Ed25519 signature but the issuer key is not an Ed25519 key');
      return ok({ family: 'ed25519' });
  }
}

function namedCurve(parameters: Uint8Array): string | undefined {
  const tlv = readTlv(parameters, 0);
  if (typeof tlv === 'string' || tlv.tag !== TAG.OID || tlv.end !== parameters.length) return undefined;
  return decodeOid(content(parameters, tlv));
}

/**
 * RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] DEFAULT sha1, maskGenAlgorithm [1] DEFAULT mgf1SHA1,
 *   saltLength [2] INTEGER DEFAULT 20, trailerField [3] INTEGER DEFAULT 1 } (RFC 4055 §3.1), each tag EXPLICIT.
 */
function pssScheme(parameters: Uint8Array | undefined): Result<SignatureScheme, 'unsupported'> {
  const bad = (why: string) => fail('unsupported', `RSASSA-PSS ${why}`);
  if (!parameters) return bad('without parameters (SHA-1 defaults)');
  const seq = readTlv(parameters, 0);
  if (typeof seq === 'string' || seq.tag !== TAG.SEQUENCE || seq.end !== parameters.length) return bad('parameters are not a SEQUENCE');
  const fields = children(parameters, seq);
  if (typeof fields === 'string') return bad('parameters do not parse');
  let hash: HashName | undefined;
  let mgfHash: HashName | undefined;
  let saltLength = 20;
  let trailer = 1;
  let last = -1;
  for (const field of fields) {
    const n = field.tag - 0xa0;
    if (n < 0 || n > 3 || n <= last) return bad('parameters have an unexpected field');
    last = n;
    const inner = children(parameters, field);
    if (typeof inner === 'string' || inner.length !== 1) return bad('parameters do not parse');
    const body = parameters.subarray((inner[0] as typeof field).start, (inner[0] as typeof field).end);
    if (n === 0) hash = hashOf(body);
    else if (n === 1) mgfHash = mgf1HashOf(body);
    else {
      const int = smallInteger(body);
      if (int === undefined) return bad('parameters have an unreadable integer');
      if (n === 2) saltLength = int;
      else trailer = int;
    }
  }
  if (!hash) return bad('hash is not SHA-256, SHA-384 or SHA-512');
  if (mgfHash !== hash) return bad('mask generation is not MGF1 with the signature hash');
  if (trailer !== 1) return bad('trailerField is not 1');
  if (saltLength > MAX_PSS_SALT_OCTETS) return bad(`salt length over ${MAX_PSS_SALT_OCTETS}`);
  return ok({ family: 'rsa-pss', hash, saltLength, label: `RSASSA-PSS/${hash}` });
}

/** A hash AlgorithmIdentifier with NULL or absent parameters (RFC 4055 §2.1: accept both). */
function hashOf(element: Uint8Array): HashName | undefined {
  const alg = algorithmIdentifierOf(element);
  if (!alg || (alg.parameters !== undefined && !isNull(alg.parameters))) return undefined;
  return HASHES[alg.oid];
}

/** AlgorithmIdentifier { id-mgf1, hash AlgorithmIdentifier }. */
function mgf1HashOf(element: Uint8Array): HashName | undefined {
  const alg = algorithmIdentifierOf(element);
  return alg?.oid === MGF1 && alg.parameters ? hashOf(alg.parameters) : undefined;
}

function algorithmIdentifierOf(element: Uint8Array): AlgorithmIdentifier | undefined {
  const seq = readTlv(element, 0);
  if (typeof seq === 'string' || seq.tag !== TAG.SEQUENCE || seq.end !== element.length) return undefined;
  const parts = children(element, seq);
  if (typeof parts === 'string' || parts.length < 1 || parts.length > 2 || parts[0]?.tag !== TAG.OID) return undefined;
  const oid = decodeOid(content(element, parts[0]));
  if (oid === undefined) return undefined;
  return parts[1] ? { oid, parameters: element.subarray(parts[1].start, parts[1].end) } : { oid };
}

function smallInteger(element: Uint8Array): number | undefined {
  const tlv = readTlv(element, 0);
  if (typeof tlv === 'string' || tlv.tag !== TAG.INTEGER || tlv.end !== element.length) return undefined;
  const body = content(element, tlv);
  if (!minimalInteger(body) || body.length > 4 || (body[0] as number) & 0x80) return undefined;
  return body.reduce((value, byte) => value * 256 + byte, 0);
}
