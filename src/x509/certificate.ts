/**
 * One DER certificate to the flat, checked view the verifier works on (`X509Cert`). Parsing only: no judgement about
 * whether the certificate is a good SVID, CA or anchor (leaf.ts, signing-cert.ts, extensions.ts do that). Own code on
 * the strict DER walker (der.ts); no ASN.1 library.
 *
 * Specs: RFC 5280 §4.1 (Certificate, TBSCertificate), §4.1.1.2 (signatureAlgorithm equals tbs signature), §4.1.2.1
 * (version), §4.1.2.4 (Name), §4.1.2.5 (Validity: UTCTime YYMMDDHHMMSSZ with the 1950–2049 window, GeneralizedTime
 * YYYYMMDDHHMMSSZ, both in Zulu, no fractional seconds), §4.1.2.6 (empty subject), §4.1.2.8 (unique identifiers), §4.2
 * (Extensions SIZE (1..MAX), at most one instance of an extension), §4.2.1.3 (keyUsage), §4.2.1.6 (subjectAltName,
 * GeneralName), §4.2.1.9 (basicConstraints), §4.2.1.12 (extKeyUsage); ITU-T X.690 §8.6 (BIT STRING).
 *
 * Refuses (as a detail string; the caller picks the code):
 *  - anything that is not exactly one canonical DER element (der.ts `checkDer`: BER spellings, trailing bytes);
 *  - a Certificate or TBSCertificate whose elements are missing, of the wrong type, out of order or followed by
 *    anything; a version other than v3 (SVIDs need extensions, X509-SVID §2); a Name that is not a SEQUENCE OF
 *    non-empty SET OF { OID, value }; a SubjectPublicKeyInfo that is not { AlgorithmIdentifier, BIT STRING };
 *  - a TBSCertificate `signature` that differs, byte for byte, from the outer `signatureAlgorithm`;
 *  - a signature BIT STRING with unused bits; a validity time in any other format than the two above, or not a real
 *    calendar time (month 13, 30 February, hour 24, second 60, lower-case `z`, offsets, fractions);
 *  - an empty extensions list, an extension OID appearing twice; a basicConstraints, keyUsage, subjectAltName or
 *    extKeyUsage value that is not one canonical DER element of exactly its type (fields in order, nothing extra, a
 *    pathLenConstraint that is negative or not a safe integer, an empty GeneralNames or KeyPurposeId list, an unknown
 *    GeneralName tag, an IA5String name with a non-ASCII octet, an iPAddress not of 4 or 16 octets).
 *
 * Tolerated, as widely deployed encoders produce them and their meaning is unambiguous: an explicit FALSE for the
 * DEFAULT `critical` and `cA` booleans; a keyUsage BIT STRING with trailing zero bits or no bit set (decoded as is);
 * GeneralizedTime before 2050 (RFC 5280 asks CAs for UTCTime there; the time is the same).
 *
 * Raw byte spans (issuer, subject, SubjectPublicKeyInfo, algorithm identifiers, TBSCertificate) are views into `der`,
 * so names are compared and keys imported on the exact bytes that were signed.
 *
 * Does NOT: check a signature, a date against the clock, or any profile rule; decode name attribute values, policies
 * or any extension not listed above (their presence and criticality are kept for extensions.ts); check SET OF order.
 */
import { fail, ok, type Result } from '../result.ts';
import { checkDer, children, content, decodeOid, hex, raw, readTlv, sameBytes, TAG, type Tlv } from './der.ts';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  nameConstraints: '2.5.29.30',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

/** RFC 5280 §4.2.1.3 KeyUsage bits, by name. */
export interface KeyUsage {
  critical: boolean;
  digitalSignature: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
}

export interface X509Extension {
  critical: boolean;
  /** The extnValue contents (the DER of the extension's own value). */
  value: Uint8Array;
}

export interface AlgorithmIdentifier {
  oid: string;
  /** The parameters element (identifier, length, content), absent when the AlgorithmIdentifier has none. */
  parameters?: Uint8Array;
}

/** GeneralName kinds other than uniformResourceIdentifier and dNSName (RFC 5280 §4.2.1.6). */
export type OtherGeneralName = 'otherName' | 'rfc822Name' | 'x400Address' | 'directoryName' | 'ediPartyName' | 'iPAddress' | 'registeredID';

export interface SubjectAltName {
  critical: boolean;
  /** uniformResourceIdentifier names, in order. */
  uris: string[];
  /** dNSName names, in order. */
  dnsNames: string[];
  /** The kind of every other name, in order (checked for form, not decoded further). */
  otherNames: OtherGeneralName[];
}

export interface X509Cert {
  der: Uint8Array;
  /** The TBSCertificate element: the signed bytes. */
  tbs: Uint8Array;
  /** Serial number content octets in lowercase hex, as encoded (two's complement). */
  serial: string;
  /** Issuer and subject Name elements, for byte comparison. */
  issuer: Uint8Array;
  subject: Uint8Array;
  /** The subject is an empty SEQUENCE (RFC 5280 §4.1.2.6). */
  subjectEmpty: boolean;
  /** Epoch milliseconds. */
  notBefore: number;
  notAfter: number;
  /** The SubjectPublicKeyInfo element, as Web Crypto imports it (`spki`). */
  spki: Uint8Array;
  spkiAlgorithm: AlgorithmIdentifier;
  signatureAlgorithm: AlgorithmIdentifier;
  /** The signature octets (BIT STRING without its unused-bits octet). */
  signature: Uint8Array;
  /** Every extension by OID, including the ones decoded below. */
  extensions: ReadonlyMap<string, X509Extension>;
  basicConstraints?: { critical: boolean; cA: boolean; pathLenConstraint?: number };
  keyUsage?: KeyUsage;
  subjectAltName?: SubjectAltName;
  extKeyUsage?: { critical: boolean; purposes: string[] };
}

const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;
/** Context-specific tags in a TBSCertificate (RFC 5280 §4.1): [0] EXPLICIT version, [1]/[2] IMPLICIT unique ids, [3] EXPLICIT extensions. */
const VERSION = 0xa0;
const ISSUER_UNIQUE_ID = 0x81;
const SUBJECT_UNIQUE_ID = 0x82;
const EXTENSIONS = 0xa3;

export function parseCertificate(der: Uint8Array): Result<X509Cert, 'malformed'> {
  const problem = checkDer(der);
  if (problem) return fail('malformed', `not DER: ${problem}`);
  const cert = readCertificate(der);
  if (typeof cert === 'string') return fail('malformed', cert);
  const decoded = decodeExtensions(cert);
  return decoded ? fail('malformed', decoded) : ok(cert);
}

/** The elements inside `tlv` when it is a constructed element with identifier `tag`; otherwise `undefined`. */
function inside(bytes: Uint8Array, tlv: Tlv | undefined, tag: number): Tlv[] | undefined {
  if (!tlv || tlv.tag !== tag) return undefined;
  const parts = children(bytes, tlv);
  return typeof parts === 'string' ? undefined : parts;
}

/** Reads a list of elements front to back, taking optional ones by identifier. */
function cursor(list: readonly Tlv[]) {
  let at = 0;
  return {
    /** The next element, taken only when it has identifier `tag`. */
    take: (tag: number): Tlv | undefined => (list[at]?.tag === tag ? list[at++] : undefined),
    /** Whether every element was taken. */
    done: () => at === list.length,
  };
}

/** The single element of `bytes`, which has passed `checkDer`. */
const topOf = (bytes: Uint8Array): Tlv => readTlv(bytes, 0) as Tlv;

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT, serialNumber, signature, issuer, validity, subject,
 *   subjectPublicKeyInfo, issuerUniqueID [1] IMPLICIT OPTIONAL, subjectUniqueID [2] IMPLICIT OPTIONAL,
 *   extensions [3] EXPLICIT OPTIONAL }
 */
function readCertificate(der: Uint8Array): X509Cert | string {
  const outer = inside(der, topOf(der), TAG.SEQUENCE);
  if (!outer || outer.length !== 3) return 'not a Certificate SEQUENCE of three elements';
  const [tbsTlv, algTlv, sigTlv] = outer as [Tlv, Tlv, Tlv];
  const fields = inside(der, tbsTlv, TAG.SEQUENCE);
  if (!fields || algTlv.tag !== TAG.SEQUENCE || sigTlv.tag !== TAG.BIT_STRING) return 'not a Certificate SEQUENCE of three elements';

  const tbs = cursor(fields);
  const version = tbs.take(VERSION);
  const serial = tbs.take(TAG.INTEGER);
  const innerAlg = tbs.take(TAG.SEQUENCE);
  const issuer = tbs.take(TAG.SEQUENCE);
  const validity = tbs.take(TAG.SEQUENCE);
  const subject = tbs.take(TAG.SEQUENCE);
  const spki = tbs.take(TAG.SEQUENCE);
  tbs.take(ISSUER_UNIQUE_ID);
  tbs.take(SUBJECT_UNIQUE_ID);
  const extensionsTlv = tbs.take(EXTENSIONS);
  if (!serial || !innerAlg || !issuer || !validity || !subject || !spki) return 'TBSCertificate is missing fields or has unexpected types';
  if (!tbs.done()) return 'TBSCertificate has unexpected fields';

  const versionNumber = readVersion(der, version);
  if (versionNumber !== 3) return versionNumber === undefined ? 'unreadable X.509 version' : `X.509 version ${versionNumber}, not 3`;
  if (!sameBytes(raw(der, innerAlg), raw(der, algTlv))) return 'TBSCertificate signature differs from signatureAlgorithm (RFC 5280 §4.1.1.2)';
  if (!isName(der, issuer) || !isName(der, subject)) return 'issuer or subject is not a Name';

  const times = inside(der, validity, TAG.SEQUENCE);
  if (!times || times.length !== 2) return 'Validity is not a SEQUENCE of two times';
  const notBefore = readTime(der, times[0] as Tlv);
  const notAfter = readTime(der, times[1] as Tlv);
  if (notBefore === undefined || notAfter === undefined) return 'unreadable validity time';

  const signatureAlgorithm = algorithmIdentifier(der, algTlv);
  const spkiParts = inside(der, spki, TAG.SEQUENCE);
  if (!spkiParts || spkiParts.length !== 2 || spkiParts[1]?.tag !== TAG.BIT_STRING) return 'SubjectPublicKeyInfo is not an AlgorithmIdentifier and a BIT STRING';
  const spkiAlgorithm = spkiParts[0]?.tag === TAG.SEQUENCE ? algorithmIdentifier(der, spkiParts[0]) : undefined;
  if (!signatureAlgorithm || !spkiAlgorithm) return 'unreadable AlgorithmIdentifier';

  const bits = content(der, sigTlv);
  if (bits[0] !== 0) return 'signature BIT STRING has unused bits';

  const extensions = readExtensions(der, extensionsTlv);
  if (typeof extensions === 'string') return extensions;

  return {
    der,
    tbs: raw(der, tbsTlv),
    serial: hex(content(der, serial)),
    issuer: raw(der, issuer),
    subject: raw(der, subject),
    subjectEmpty: subject.end - subject.start === 2,
    notBefore,
    notAfter,
    spki: raw(der, spki),
    spkiAlgorithm,
    signatureAlgorithm,
    signature: bits.subarray(1),
    extensions,
  };
}

/** version [0] EXPLICIT Version DEFAULT v1 (Version ::= INTEGER { v1(0), v2(1), v3(2) }), as 1, 2, 3, …. */
function readVersion(der: Uint8Array, tlv: Tlv | undefined): number | undefined {
  if (!tlv) return 1;
  const inner = inside(der, tlv, VERSION);
  if (!inner || inner.length !== 1 || inner[0]?.tag !== TAG.INTEGER) return undefined;
  const body = content(der, inner[0]);
  return body.length === 1 && (body[0] as number) < 0x80 ? (body[0] as number) + 1 : undefined;
}

/** Name ::= RDNSequence ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }. */
function isName(bytes: Uint8Array, tlv: Tlv): boolean {
  const rdns = inside(bytes, tlv, TAG.SEQUENCE);
  if (!rdns) return false;
  return rdns.every((rdn) => {
    const attributes = inside(bytes, rdn, TAG.SET);
    return (
      attributes !== undefined &&
      attributes.length > 0 &&
      attributes.every((attribute) => {
        const parts = inside(bytes, attribute, TAG.SEQUENCE);
        return parts !== undefined && parts.length === 2 && parts[0]?.tag === TAG.OID;
      })
    );
  });
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }. */
function algorithmIdentifier(der: Uint8Array, tlv: Tlv): AlgorithmIdentifier | undefined {
  const parts = inside(der, tlv, TAG.SEQUENCE);
  if (!parts || parts.length < 1 || parts.length > 2 || parts[0]?.tag !== TAG.OID) return undefined;
  const oid = decodeOid(content(der, parts[0]));
  if (oid === undefined) return undefined;
  return parts[1] ? { oid, parameters: raw(der, parts[1]) } : { oid };
}

const DIGIT_0 = 0x30;
const LETTER_Z = 0x5a;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime } to epoch milliseconds (RFC 5280 §4.1.2.5.1,
 * §4.1.2.5.2): exactly YYMMDDHHMMSSZ (YY ≥ 50 is 19YY, else 20YY) or YYYYMMDDHHMMSSZ; `undefined` otherwise.
 */
function readTime(der: Uint8Array, tlv: Tlv): number | undefined {
  const text = content(der, tlv);
  const yearDigits = tlv.tag === UTC_TIME ? 2 : tlv.tag === GENERALIZED_TIME ? 4 : 0;
  if (yearDigits === 0 || text.length !== yearDigits + 11 || text[text.length - 1] !== LETTER_Z) return undefined;
  const digits: number[] = [];
  for (const byte of text.subarray(0, -1)) {
    if (byte < DIGIT_0 || byte > DIGIT_0 + 9) return undefined;
    digits.push(byte - DIGIT_0);
  }
  const number = (at: number, count: number) => digits.slice(at, at + count).reduce((value, digit) => value * 10 + digit, 0);
  let year = number(0, yearDigits);
  if (yearDigits === 2) year += year >= 50 ? 1900 : 2000;
  const [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map((at) => number(yearDigits + at, 2)) as [number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day < 1 || day > (DAYS_IN_MONTH[month - 1] as number) + (month === 2 && leap ? 1 : 0)) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it reads years 0–99 as 1900–1999
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

/** extensions [3] EXPLICIT SEQUENCE SIZE (1..MAX) OF Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function readExtensions(der: Uint8Array, tlv: Tlv | undefined): Map<string, X509Extension> | string {
  const extensions = new Map<string, X509Extension>();
  if (!tlv) return extensions;
  const wrapper = inside(der, tlv, EXTENSIONS);
  const list = wrapper?.length === 1 ? inside(der, wrapper[0], TAG.SEQUENCE) : undefined;
  if (!list) return 'extensions are not [3] { SEQUENCE OF Extension }';
  if (list.length === 0) return 'extensions list is empty';
  for (const element of list) {
    const parts = inside(der, element, TAG.SEQUENCE);
    if (!parts) return 'an extension is not a SEQUENCE';
    const fields = cursor(parts);
    const id = fields.take(TAG.OID);
    const critical = fields.take(TAG.BOOLEAN);
    const value = fields.take(TAG.OCTET_STRING);
    if (!id || !value || !fields.done()) return 'an extension is not { extnID, critical, extnValue }';
    const oid = decodeOid(content(der, id));
    if (oid === undefined) return 'unreadable extension OID';
    if (extensions.has(oid)) return `extension ${oid} appears twice`;
    extensions.set(oid, { critical: critical !== undefined && content(der, critical)[0] === 0xff, value: content(der, value) });
  }
  return extensions;
}

type Decoder = (cert: X509Cert, value: Uint8Array, critical: boolean) => string | undefined;

/** GeneralName ::= CHOICE (RFC 5280 §4.2.1.6), by identifier octet, for the kinds collected as `otherNames`. */
const OTHER_GENERAL_NAMES: Readonly<Record<number, OtherGeneralName>> = {
  0xa0: 'otherName',
  0x81: 'rfc822Name',
  0xa3: 'x400Address',
  0xa4: 'directoryName',
  0xa5: 'ediPartyName',
  0x87: 'iPAddress',
  0x88: 'registeredID',
};
const DNS_NAME = 0x82;
const URI = 0x86;

const DECODERS: Readonly<Record<string, Decoder>> = {
  // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
  [OID.basicConstraints]: (cert, value, critical) => {
    const parts = inside(value, topOf(value), TAG.SEQUENCE);
    if (!parts) return 'basicConstraints is not a SEQUENCE';
    const fields = cursor(parts);
    const cA = fields.take(TAG.BOOLEAN);
    const pathLen = fields.take(TAG.INTEGER);
    if (!fields.done()) return 'basicConstraints has unexpected fields';
    let pathLenConstraint: number | undefined;
    if (pathLen) {
      const body = content(value, pathLen);
      pathLenConstraint = body.reduce((n, byte) => n * 256 + byte, 0);
      if ((body[0] as number) & 0x80 || !Number.isSafeInteger(pathLenConstraint)) return 'basicConstraints pathLenConstraint out of range';
    }
    cert.basicConstraints = { critical, cA: cA !== undefined && content(value, cA)[0] === 0xff, ...(pathLenConstraint === undefined ? {} : { pathLenConstraint }) };
    return undefined;
  },
  // KeyUsage ::= BIT STRING; bit n is bit 7 - (n mod 8) of octet n / 8 after the unused-bits octet (X.690 §8.6.2.4).
  // checkDer has made the unused bits zero, so a bit past the end or in the padding reads as 0.
  [OID.keyUsage]: (cert, value, critical) => {
    const tlv = topOf(value);
    if (tlv.tag !== TAG.BIT_STRING) return 'keyUsage is not a BIT STRING';
    const bits = content(value, tlv).subarray(1);
    const bit = (n: number) => (((bits[n >> 3] ?? 0) >> (7 - (n & 7))) & 1) === 1;
    cert.keyUsage = { critical, digitalSignature: bit(0), keyCertSign: bit(5), cRLSign: bit(6) };
    return undefined;
  },
  // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
  [OID.subjectAltName]: (cert, value, critical) => {
    const names = inside(value, topOf(value), TAG.SEQUENCE);
    if (!names || names.length === 0) return 'subjectAltName is not a non-empty SEQUENCE OF GeneralName';
    const san: SubjectAltName = { critical, uris: [], dnsNames: [], otherNames: [] };
    for (const name of names) {
      const body = content(value, name);
      if (name.tag === URI || name.tag === DNS_NAME) {
        const text = ia5(body);
        if (text === undefined) return 'subjectAltName has an IA5String name with a non-ASCII octet';
        (name.tag === URI ? san.uris : san.dnsNames).push(text);
        continue;
      }
      const kind = OTHER_GENERAL_NAMES[name.tag];
      if (!kind) return 'subjectAltName has an unknown GeneralName';
      if (!otherGeneralNameFits(value, name, kind)) return `subjectAltName has a malformed ${kind}`;
      san.otherNames.push(kind);
    }
    cert.subjectAltName = san;
    return undefined;
  },
  // ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (OBJECT IDENTIFIER)
  [OID.extKeyUsage]: (cert, value, critical) => {
    const ids = inside(value, topOf(value), TAG.SEQUENCE);
    if (!ids || ids.length === 0) return 'extKeyUsage is not a non-empty SEQUENCE OF OBJECT IDENTIFIER';
    const purposes: string[] = [];
    for (const id of ids) {
      const oid = id.tag === TAG.OID ? decodeOid(content(value, id)) : undefined;
      if (oid === undefined) return 'extKeyUsage has a member that is not an OBJECT IDENTIFIER';
      purposes.push(oid);
    }
    cert.extKeyUsage = { critical, purposes };
    return undefined;
  },
};

/** IA5String content (X.680 §41: ASCII) as a string, or `undefined` for an octet over 0x7F. */
function ia5(body: Uint8Array): string | undefined {
  let text = '';
  for (const byte of body) {
    if (byte > 0x7f) return undefined;
    text += String.fromCharCode(byte);
  }
  return text;
}

/** The form of the GeneralName kinds that are not decoded: the right structure, nothing more. */
function otherGeneralNameFits(bytes: Uint8Array, name: Tlv, kind: OtherGeneralName): boolean {
  const body = content(bytes, name);
  switch (kind) {
    case 'otherName': {
      // [0] IMPLICIT OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
      const parts = inside(bytes, name, 0xa0);
      const explicit = parts?.length === 2 && parts[0]?.tag === TAG.OID ? inside(bytes, parts[1], 0xa0) : undefined;
      return explicit?.length === 1;
    }
    case 'rfc822Name':
      return ia5(body) !== undefined;
    case 'directoryName': {
      // [4] EXPLICIT Name (Name is a CHOICE, so the tag is explicit)
      const parts = inside(bytes, name, 0xa4);
      return parts?.length === 1 && isName(bytes, parts[0] as Tlv);
    }
    case 'iPAddress':
      return body.length === 4 || body.length === 16;
    case 'registeredID':
      return decodeOid(body) !== undefined;
    case 'x400Address':
    case 'ediPartyName':
      return true; // constructed by identifier; checkDer has walked the inside
  }
}

/** Fills the decoded extensions into `cert`; a string says which one does not decode. */
function decodeExtensions(cert: X509Cert): string | undefined {
  for (const [oid, extension] of cert.extensions) {
    const decode = DECODERS[oid];
    if (!decode) continue;
    const problem = checkDer(extension.value);
    if (problem) return `extension ${oid} value is not DER: ${problem}`;
    const why = decode(cert, extension.value, extension.critical);
    if (why) return why;
  }
  return undefined;
}
