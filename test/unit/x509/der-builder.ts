/**
 * A tiny DER writer for hand-built certificates whose every byte a test chooses (time formats, BIT STRING padding,
 * GeneralName kinds, field order). Signatures are dummies: parseCertificate does not verify them. Test code only.
 */

type Part = Uint8Array | readonly number[];

export function concat(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) out.push(...part);
  return new Uint8Array(out);
}

/** Identifier octet, definite minimal length, content. */
export function tlv(tag: number, ...parts: Part[]): Uint8Array {
  const body = concat(...parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concat([tag], length, body);
}

export const seq = (...parts: Part[]) => tlv(0x30, ...parts);
export const set = (...parts: Part[]) => tlv(0x31, ...parts);
export const octets = (...parts: Part[]) => tlv(0x04, ...parts);
export const bool = (value: boolean) => tlv(0x01, [value ? 0xff : 0x00]);
export const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** A non-negative INTEGER in its fewest octets. */
export function int(value: number): Uint8Array {
  const bytes: number[] = [];
  do {
    bytes.unshift(value & 0xff);
    value = Math.floor(value / 256);
  } while (value > 0);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(0x02, bytes);
}

export function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const body: number[] = [];
  for (const arc of [a * 40 + b, ...rest]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    body.push(...chunk);
  }
  return tlv(0x06, body);
}

export const utcTime = (text: string) => tlv(0x17, ascii(text));
export const generalizedTime = (text: string) => tlv(0x18, ascii(text));
export const name = (cn: string) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, ascii(cn)))));

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }; `'explicit-false'` encodes the default. */
export function extension(id: string, value: Uint8Array, critical: boolean | 'explicit-false' = false): Uint8Array {
  return seq(oid(id), critical === 'explicit-false' ? bool(false) : critical ? bool(true) : [], octets(value));
}

export const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
/** An id-ecPublicKey P-256 SubjectPublicKeyInfo with a dummy point (never imported by these tests). */
export const SPKI = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, [0x00, 0x04], new Uint8Array(64).fill(7)));

export interface TbsParts {
  /** The [0] version element; `null` leaves it out. Default v3. */
  version?: Uint8Array | null;
  serial?: Uint8Array;
  innerAlgorithm?: Uint8Array;
  issuer?: Uint8Array;
  /** The whole Validity element; default from notBefore / notAfter. */
  validity?: Uint8Array;
  notBefore?: Uint8Array;
  notAfter?: Uint8Array;
  subject?: Uint8Array;
  spki?: Uint8Array;
  /** Elements between the SubjectPublicKeyInfo and the extensions (unique identifiers). */
  afterSpki?: Uint8Array[];
  /** Extension elements, wrapped in [3] { SEQUENCE }; absent or `null` leaves the field out. */
  extensions?: Uint8Array[] | null;
  /** Elements after the extensions. */
  trailing?: Uint8Array[];
}

export interface CertParts extends TbsParts {
  algorithm?: Uint8Array;
  /** The signatureValue element; default a BIT STRING of 8 dummy octets. */
  signatureValue?: Uint8Array;
}

export function tbsCertificate(parts: TbsParts = {}): Uint8Array {
  const extensions = parts.extensions ?? null;
  return seq(
    parts.version === undefined ? tlv(0xa0, int(2)) : (parts.version ?? []),
    parts.serial ?? int(0x1234),
    parts.innerAlgorithm ?? ECDSA_SHA256,
    parts.issuer ?? name('Test Root CA'),
    parts.validity ?? seq(parts.notBefore ?? utcTime('260101000000Z'), parts.notAfter ?? utcTime('270101000000Z')),
    parts.subject ?? name('agent'),
    parts.spki ?? SPKI,
    ...(parts.afterSpki ?? []),
    extensions === null ? [] : tlv(0xa3, seq(...extensions)),
    ...(parts.trailing ?? []),
  );
}

export function certificate(parts: CertParts = {}): Uint8Array {
  return seq(tbsCertificate(parts), parts.algorithm ?? ECDSA_SHA256, parts.signatureValue ?? tlv(0x03, [0x00], new Uint8Array(8).fill(1)));
}
