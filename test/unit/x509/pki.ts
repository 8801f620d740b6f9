/**
 * Test PKI: keys and certificates built at test time with pkijs (+ its asn1js), signed with Web Crypto here so every
 * algorithm (Ed25519 included) and every broken variant goes through one path. Test code only: pkijs and asn1js are
 * devDependencies, an encoder independent of src/x509's own DER reader (der-builder.ts writes the hand-made edge cases).
 */
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, AltName, AttributeTypeAndValue, BasicConstraints, Certificate, Extension, ExtKeyUsage, GeneralName, PublicKeyInfo } from 'pkijs';

export type KeyKind = 'P-256' | 'P-384' | 'RSA-2048' | 'RSA-1024' | 'Ed25519';
export type SigKind = 'ES256' | 'ES384' | 'ES512' | 'RS256' | 'PS256' | 'RS1' | 'Ed25519';

export interface TestKey {
  kind: KeyKind;
  privateKey: CryptoKey;
  spki: Uint8Array;
  /** RSA only: the private key, re-imported for PKCS#1 v1.5 when signing with it. */
  pkcs8?: ArrayBuffer;
}

const GENERATE: Record<KeyKind, Record<string, unknown>> = {
  'P-256': { name: 'ECDSA', namedCurve: 'P-256' },
  'P-384': { name: 'ECDSA', namedCurve: 'P-384' },
  'RSA-2048': { name: 'RSA-PSS', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  'RSA-1024': { name: 'RSA-PSS', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  Ed25519: { name: 'Ed25519' },
};

export async function generateKey(kind: KeyKind): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey(GENERATE[kind] as unknown as EcKeyGenParams, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  if (!kind.startsWith('RSA')) return { kind, privateKey: pair.privateKey, spki };
  return { kind, privateKey: pair.privateKey, spki, pkcs8: await crypto.subtle.exportKey('pkcs8', pair.privateKey) };
}

export const OIDS = {
  ES256: '1.2.840.10045.4.3.2',
  ES384: '1.2.840.10045.4.3.3',
  ES512: '1.2.840.10045.4.3.4',
  RS256: '1.2.840.113549.1.1.11',
  RS1: '1.2.840.113549.1.1.5',
  PS256: '1.2.840.113549.1.1.10',
  Ed25519: '1.3.101.112',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KU = { digitalSignature: 0, keyEncipherment: 2, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

export interface RawExtension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

export interface CertSpec {
  /** Subject CN; `null` for an empty subject. */
  subject: string | null;
  /** Issuer CN (the subject of the signer). */
  issuer: string;
  /** The certified key. */
  key: TestKey;
  /** The signer's key. */
  signer: TestKey;
  sig?: SigKind;
  serial?: number;
  notBefore: number;
  notAfter: number;
  basicConstraints?: { cA: boolean; pathLen?: number; critical?: boolean } | null;
  keyUsage?: { bits: number[]; critical?: boolean } | null;
  uris?: string[];
  dns?: string[];
  sanCritical?: boolean;
  eku?: string[] | null;
  extra?: RawExtension[];
  /** Called with the signature before it is stored (to break it). */
  tamper?: (signature: Uint8Array) => Uint8Array;
}

function name(cn: string | null) {
  const rdn = new Certificate().subject;
  if (cn === null) rdn.valueBeforeDecode = new Uint8Array([0x30, 0x00]).buffer;
  else rdn.typesAndValues.push(new AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }));
  return rdn;
}

function keyUsageBits(bits: number[]): asn1js.BitString {
  if (bits.length === 0) return new asn1js.BitString({ valueHex: new ArrayBuffer(0) });
  const max = Math.max(...bits);
  const bytes = new Uint8Array((max >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return new asn1js.BitString({ valueHex: bytes.buffer, unusedBits: bytes.length * 8 - (max + 1) });
}

const ber = (o: { toSchema(): { toBER(): ArrayBuffer } }) => new Uint8Array(o.toSchema().toBER());

export async function makeCert(spec: CertSpec): Promise<Uint8Array> {
  const cert = new Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ value: spec.serial ?? 1 });
  cert.issuer = name(spec.issuer);
  cert.subject = name(spec.subject);
  cert.notBefore.value = new Date(spec.notBefore);
  cert.notAfter.value = new Date(spec.notAfter);
  cert.subjectPublicKeyInfo = PublicKeyInfo.fromBER(spec.key.spki as Uint8Array<ArrayBuffer>);

  const extensions: RawExtension[] = [];
  if (spec.basicConstraints) {
    const { cA, pathLen, critical = true } = spec.basicConstraints;
    extensions.push({ oid: '2.5.29.19', critical, value: ber(new BasicConstraints(pathLen === undefined ? { cA } : { cA, pathLenConstraint: pathLen })) });
  }
  if (spec.keyUsage) {
    extensions.push({ oid: '2.5.29.15', critical: spec.keyUsage.critical ?? true, value: new Uint8Array(keyUsageBits(spec.keyUsage.bits).toBER()) });
  }
  const names = [...(spec.uris ?? []).map((value) => new GeneralName({ type: 6, value })), ...(spec.dns ?? []).map((value) => new GeneralName({ type: 2, value }))];
  if (names.length > 0) extensions.push({ oid: '2.5.29.17', critical: spec.sanCritical ?? false, value: ber(new AltName({ altNames: names })) });
  if (spec.eku) extensions.push({ oid: '2.5.29.37', critical: false, value: ber(new ExtKeyUsage({ keyPurposes: spec.eku })) });
  extensions.push(...(spec.extra ?? []));
  if (extensions.length > 0) {
    cert.extensions = extensions.map((e) => new Extension({ extnID: e.oid, critical: e.critical, extnValue: e.value.slice().buffer }));
  }

  const sig = spec.sig ?? defaultSig(spec.signer.kind);
  const algorithm = algorithmIdentifier(sig);
  cert.signature = algorithm;
  cert.signatureAlgorithm = algorithmIdentifier(sig);
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER());
  let signature = await signBytes(sig, spec.signer, cert.tbsView);
  if (spec.tamper) signature = spec.tamper(signature);
  cert.signatureValue = new asn1js.BitString({ valueHex: signature.slice().buffer });
  return new Uint8Array(cert.toSchema().toBER());
}

function defaultSig(kind: KeyKind): SigKind {
  return kind === 'P-256' ? 'ES256' : kind === 'P-384' ? 'ES384' : kind === 'Ed25519' ? 'Ed25519' : 'RS256';
}

function hashAlg(oid: string) {
  return new AlgorithmIdentifier({ algorithmId: oid, algorithmParams: new asn1js.Null() });
}

function algorithmIdentifier(sig: SigKind): AlgorithmIdentifier {
  switch (sig) {
    case 'RS256':
    case 'RS1':
      return new AlgorithmIdentifier({ algorithmId: OIDS[sig], algorithmParams: new asn1js.Null() });
    case 'PS256': {
      const sha256 = '2.16.840.1.101.3.4.2.1';
      const params = new asn1js.Sequence({
        value: [
          new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [hashAlg(sha256).toSchema()] }),
          new asn1js.Constructed({
            idBlock: { tagClass: 3, tagNumber: 1 },
            value: [new AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.8', algorithmParams: hashAlg(sha256).toSchema() }).toSchema()],
          }),
          new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 2 }, value: [new asn1js.Integer({ value: 32 })] }),
        ],
      });
      return new AlgorithmIdentifier({ algorithmId: OIDS.PS256, algorithmParams: params });
    }
    default:
      return new AlgorithmIdentifier({ algorithmId: OIDS[sig] });
  }
}

async function signBytes(sig: SigKind, signer: TestKey, tbs: Uint8Array): Promise<Uint8Array> {
  const data = tbs as Uint8Array<ArrayBuffer>;
  switch (sig) {
    case 'ES256':
    case 'ES384':
    case 'ES512': {
      const hash = { ES256: 'SHA-256', ES384: 'SHA-384', ES512: 'SHA-512' }[sig];
      const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash }, signer.privateKey, data));
      return ecdsaDer(raw);
    }
    case 'RS256':
    case 'RS1': {
      const key = await crypto.subtle.importKey('pkcs8', signer.pkcs8!, { name: 'RSASSA-PKCS1-v1_5', hash: sig === 'RS1' ? 'SHA-1' : 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await crypto.subtle.sign({ name: 'RSASSA-PKCS1-v1_5' }, key, data));
    }
    case 'PS256':
      return new Uint8Array(await crypto.subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, signer.privateKey, data));
    case 'Ed25519':
      return new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, signer.privateKey, data));
  }
}

/** r‖s to ECDSA-Sig-Value DER. */
function ecdsaDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const body = bytes.subarray(i);
    return body[0]! & 0x80 ? [0x02, body.length + 1, 0, ...body] : [0x02, body.length, ...body];
  };
  const inner = [...int(raw.subarray(0, half)), ...int(raw.subarray(half))];
  return new Uint8Array(inner.length < 128 ? [0x30, inner.length, ...inner] : [0x30, 0x81, inner.length, ...inner]);
}

export function toPem(der: Uint8Array): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const b64 = btoa(binary);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export function toBase64(der: Uint8Array): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  return btoa(binary);
}
