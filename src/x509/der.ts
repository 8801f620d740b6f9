/**
 * A minimal strict DER reader: element boundaries, the canonical-encoding check of a whole certificate, and the few
 * primitive decodings the verifier needs on raw bytes (OBJECT IDENTIFIER, INTEGER content).
 *
 * Specs: ITU-T X.690 §8.1 (identifier and length octets), §10.1 (DER: definite, minimal lengths), §8.2 and §11.1
 * (BOOLEAN is 0x00 or 0xFF), §8.3 (INTEGER in the fewest octets), §8.6 and §11.2 (BIT STRING unused bits, zero padding),
 * §10.2 / §11 (no constructed string forms); RFC 5280 §4.1 (certificates are DER).
 *
 * Why: BER allows indefinite lengths, long-form lengths, padded integers and trailing bytes, and the signature covers
 * only the TBSCertificate, so a BER reader would let anyone re-spell the outer envelope into a new byte string (a new
 * thumbprint) for the same certificate. `checkDer` refuses all of those spellings before certificate.ts reads the
 * elements (with `readTlv` / `children` below).
 *
 * Does NOT check: SET OF ordering (X.690 §11.6), DEFAULT values encoded explicitly (§11.5), string character sets, or
 * anything inside OCTET STRING contents (certificate.ts runs `checkDer` on each extension value it decodes). High tag
 * numbers (≥ 31) are refused: no certificate field uses them. Errors are short fixed texts with offsets, never bytes.
 */
import { MAX_X509_DER_DEPTH } from '../limits.ts';

export interface Tlv {
  /** The identifier octet (class, constructed bit, tag number < 31). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const CONSTRUCTED = 0x20;
const CLASS_MASK = 0xc0;

/** Reads one element at `offset` that must end by `limit`; a string says why it cannot. */
export function readTlv(bytes: Uint8Array, offset: number, limit: number = bytes.length): Tlv | string {
  if (offset >= limit) return `element expected at offset ${offset}`;
  const tag = bytes[offset] as number;
  if ((tag & 0x1f) === 0x1f) return `high tag number form at offset ${offset}`;
  let at = offset + 1;
  if (at >= limit) return `length missing at offset ${at}`;
  const first = bytes[at++] as number;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) return `indefinite length at offset ${offset}`;
    if (count > 3) return `length of more than 3 octets at offset ${offset}`;
    if (at + count > limit) return `length runs past the end at offset ${offset}`;
    if (bytes[at] === 0) return `length with a leading zero octet at offset ${offset}`;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[at++] as number);
    if (length < 0x80) return `long-form length for a short element at offset ${offset}`;
  }
  const end = at + length;
  if (end > limit) return `element at offset ${offset} runs past its container`;
  return { tag, start: offset, contentStart: at, end };
}

/** The elements inside a constructed element, in order; a string when they do not exactly fill it. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] | string {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const tlv = readTlv(bytes, at, parent.end);
    if (typeof tlv === 'string') return tlv;
    out.push(tlv);
    at = tlv.end;
  }
  return out;
}

/** The element's bytes (identifier, length and content), as a view. */
export const raw = (bytes: Uint8Array, tlv: Tlv): Uint8Array => bytes.subarray(tlv.start, tlv.end);

/** The element's content octets, as a view. */
export const content = (bytes: Uint8Array, tlv: Tlv): Uint8Array => bytes.subarray(tlv.contentStart, tlv.end);

/**
 * `undefined` when `bytes` is exactly one DER element whose every nested element is canonically encoded; otherwise
 * why not. Recurses into every constructed element (SEQUENCE, SET, and context or application tags).
 */
export function checkDer(bytes: Uint8Array): string | undefined {
  const top = readTlv(bytes, 0);
  if (typeof top === 'string') return top;
  if (top.end !== bytes.length) return `${bytes.length - top.end} bytes after the element`;
  return checkElement(bytes, top, 0);
}

function checkElement(bytes: Uint8Array, tlv: Tlv, depth: number): string | undefined {
  if (depth > MAX_X509_DER_DEPTH) return `nesting deeper than ${MAX_X509_DER_DEPTH}`;
  const body = content(bytes, tlv);
  if (tlv.tag & CONSTRUCTED) {
    if ((tlv.tag & CLASS_MASK) === 0 && tlv.tag !== TAG.SEQUENCE && tlv.tag !== TAG.SET) {
      return `constructed form of universal tag ${tlv.tag & 0x1f} at offset ${tlv.start}`;
    }
    const inner = children(bytes, tlv);
    if (typeof inner === 'string') return inner;
    for (const child of inner) {
      const problem = checkElement(bytes, child, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  switch (tlv.tag) {
    case 0x00:
      return `end-of-contents octets (universal tag 0) at offset ${tlv.start}`;
    case TAG.BOOLEAN:
      return body.length === 1 && (body[0] === 0x00 || body[0] === 0xff) ? undefined : `BOOLEAN not 0x00 or 0xFF at offset ${tlv.start}`;
    case TAG.INTEGER:
      return minimalInteger(body) ? undefined : `INTEGER not in its fewest octets at offset ${tlv.start}`;
    case TAG.BIT_STRING: {
      const unused = body[0];
      if (unused === undefined || unused > 7 || (body.length === 1 && unused !== 0)) return `bad BIT STRING unused-bits octet at offset ${tlv.start}`;
      const last = body[body.length - 1] as number;
      return (last & ((1 << unused) - 1)) === 0 ? undefined : `BIT STRING padding bits not zero at offset ${tlv.start}`;
    }
    case TAG.NULL:
      return body.length === 0 ? undefined : `NULL with content at offset ${tlv.start}`;
    case TAG.OID:
      return decodeOid(body) === undefined ? `bad OBJECT IDENTIFIER at offset ${tlv.start}` : undefined;
    default:
      return undefined;
  }
}

/** X.690 §8.3.2: no leading 0x00 before a byte < 0x80, no leading 0xFF before a byte ≥ 0x80, never empty. */
export function minimalInteger(body: Uint8Array): boolean {
  if (body.length === 0) return false;
  if (body.length === 1) return true;
  const [a, b] = body as unknown as [number, number];
  return !((a === 0x00 && b < 0x80) || (a === 0xff && b >= 0x80));
}

/** Dotted-decimal form of OBJECT IDENTIFIER content octets (X.690 §8.19), or `undefined` when not minimal or too long. */
export function decodeOid(body: Uint8Array): string | undefined {
  if (body.length === 0 || body.length > 64) return undefined;
  const arcs: number[] = [];
  let value = 0;
  let fresh = true;
  for (const byte of body) {
    if (fresh && byte === 0x80) return undefined; // a sub-identifier with a leading 0x80 octet is not minimal
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) return undefined;
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      arcs.push(value);
      value = 0;
    }
  }
  if (!fresh) return undefined; // the last sub-identifier continues past the end
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Lowercase hex, for serial numbers. */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Byte-for-byte equality. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
