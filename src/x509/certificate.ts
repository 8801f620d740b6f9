/**
 * One DER certificate to the flat, checked view the verifier works on (`X509Cert`). Parsing only: no judgement about
 * whether the certificate is a good SVID, CA or anchor (leaf.ts, signing-cert.ts, extensions.ts do that).
 *
 * Specs: RFC 5280 §4.1 (Certificate, TBSCertificate), §4.1.1.2 (signatureAlgorithm equals tbs signature), §4.1.2.1
 * (version), §4.1.2.5 (Validity), §4.1.2.6 (empty subject), §4.2 (at most one instance of an extension), §4.2.1.3
 * (keyUsage), §4.2.1.6 (subjectAltName), §4.2.1.9 (basicConstraints), §4.2.1.12 (extKeyUsage).
 *
 * Refuses (as a detail string; the caller picks the code):
 *  - anything that is not exactly one canonical DER element (der.ts `checkDer`: BER spellings, trailing bytes);
 *  - what pkijs cannot read as a Certificate; a version other than v3 (SVIDs need extensions, X509-SVID §2);
 *  - a TBSCertificate `signature` that differs, byte for byte, from the outer `signatureAlgorithm`;
 *  - a signature BIT STRING with unused bits; an unreadable validity time;
 *  - an extension OID appearing twice; a basicConstraints, keyUsage, subjectAltName or extKeyUsage value that is not
 *    one canonical DER element of its type (pkijs would otherwise fall back silently to an empty default object).
 *
 * Raw byte spans (issuer, subject, SubjectPublicKeyInfo, algorithm identifiers, TBSCertificate) come from der.ts so
 * names are compared and keys imported on the exact bytes that were signed. pkijs decodes the rest.
 *
 * Does NOT: check a signature, a date against the clock, or any profile rule; decode name attributes, policies or
 * any extension not listed above (their presence and criticality are kept for extensions.ts).
 */
import { AltName, BasicConstraints, Certificate, ExtKeyUsage } from 'pkijs';
import { fail, ok, type Result } from '../result.ts';
import { checkDer, children, content, decodeOid, hex, raw, readTlv, sameBytes, TAG, type Tlv } from './der.ts';

/** What pkijs (BufferSource) accepts; every buffer here is a plain ArrayBuffer. */
type Bytes = Uint8Array<ArrayBuffer>;

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
  subjectAltName?: { critical: boolean; uris: string[] };
  extKeyUsage?: { critical: boolean; purposes: string[] };
}

export function parseCertificate(der: Uint8Array): Result<X509Cert, 'malformed'> {
  const problem = checkDer(der);
  if (problem) return fail('malformed', `not DER: ${problem}`);
  const spans = tbsSpans(der);
  if (typeof spans === 'string') return fail('malformed', spans);

  let cert: Certificate;
  try {
    cert = Certificate.fromBER(der as Bytes);
  } catch {
    return fail('malformed', 'not an X.509 certificate');
  }
  if (cert.version !== 2) return fail('malformed', `X.509 version ${cert.version + 1}, not 3`);
  const notBefore = cert.notBefore.value.getTime();
  const notAfter = cert.notAfter.value.getTime();
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) return fail('malformed', 'unreadable validity time');

  const extensions = new Map<string, X509Extension>();
  for (const extension of cert.extensions ?? []) {
    if (extensions.has(extension.extnID)) return fail('malformed', `extension ${extension.extnID} appears twice`);
    extensions.set(extension.extnID, { critical: extension.critical, value: extension.extnValue.valueBlock.valueHexView });
  }

  const parsed: X509Cert = {
    der,
    tbs: spans.tbs,
    serial: hex(cert.serialNumber.valueBlock.valueHexView),
    issuer: spans.issuer,
    subject: spans.subject,
    subjectEmpty: spans.subject.length === 2,
    notBefore,
    notAfter,
    spki: spans.spki,
    spkiAlgorithm: spans.spkiAlgorithm,
    signatureAlgorithm: spans.signatureAlgorithm,
    signature: spans.signature,
    extensions,
  };
  const decoded = decodeExtensions(parsed, extensions);
  return decoded ? fail('malformed', decoded) : ok(parsed);
}

interface Spans {
  tbs: Uint8Array;
  issuer: Uint8Array;
  subject: Uint8Array;
  spki: Uint8Array;
  spkiAlgorithm: AlgorithmIdentifier;
  signatureAlgorithm: AlgorithmIdentifier;
  signature: Uint8Array;
}

/** Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue }, and the TBSCertificate fields up to the key. */
function tbsSpans(der: Uint8Array): Spans | string {
  const top = readTlv(der, 0) as Tlv; // checkDer passed
  const outer = children(der, top);
  if (typeof outer === 'string' || top.tag !== TAG.SEQUENCE || outer.length !== 3) return 'not a Certificate SEQUENCE of three elements';
  const [tbsTlv, algTlv, sigTlv] = outer as [Tlv, Tlv, Tlv];
  if (tbsTlv.tag !== TAG.SEQUENCE || algTlv.tag !== TAG.SEQUENCE || sigTlv.tag !== TAG.BIT_STRING) return 'not a Certificate SEQUENCE of three elements';
  const fields = children(der, tbsTlv);
  if (typeof fields === 'string') return fields;
  // version [0] EXPLICIT is optional in the syntax; v3 (checked later) requires it, so it is expected here.
  const at = fields[0]?.tag === 0xa0 ? 1 : 0;
  const [, innerAlg, issuer, , subject, spki] = fields.slice(at) as (Tlv | undefined)[];
  if (!innerAlg || !issuer || !subject || !spki) return 'TBSCertificate is missing fields';
  if ([innerAlg, issuer, subject, spki].some((t) => t.tag !== TAG.SEQUENCE)) return 'TBSCertificate fields have unexpected types';
  if (!sameBytes(raw(der, innerAlg), raw(der, algTlv))) return 'TBSCertificate signature differs from signatureAlgorithm (RFC 5280 §4.1.1.2)';

  const signatureAlgorithm = algorithmIdentifier(der, algTlv);
  const spkiParts = children(der, spki);
  const spkiAlgorithm = typeof spkiParts === 'string' || spkiParts[0]?.tag !== TAG.SEQUENCE ? undefined : algorithmIdentifier(der, spkiParts[0]);
  if (!signatureAlgorithm || !spkiAlgorithm) return 'unreadable AlgorithmIdentifier';

  const bits = content(der, sigTlv);
  if (bits[0] !== 0) return 'signature BIT STRING has unused bits';
  return {
    tbs: raw(der, tbsTlv),
    issuer: raw(der, issuer),
    subject: raw(der, subject),
    spki: raw(der, spki),
    spkiAlgorithm,
    signatureAlgorithm,
    signature: bits.subarray(1),
  };
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }. */
function algorithmIdentifier(der: Uint8Array, tlv: Tlv): AlgorithmIdentifier | undefined {
  const parts = children(der, tlv);
  if (typeof parts === 'string' || parts.length < 1 || parts.length > 2 || parts[0]?.tag !== TAG.OID) return undefined;
  const oid = decodeOid(content(der, parts[0]));
  if (oid === undefined) return undefined;
  return parts[1] ? { oid, parameters: raw(der, parts[1]) } : { oid };
}

type Decoder = (cert: X509Cert, value: Uint8Array, critical: boolean) => string | undefined;

const DECODERS: Readonly<Record<string, Decoder>> = {
  [OID.basicConstraints]: (cert, value, critical) => {
    const bc = BasicConstraints.fromBER(value as Bytes);
    const pathLen = bc.pathLenConstraint;
    if (pathLen !== undefined && (typeof pathLen !== 'number' || !Number.isSafeInteger(pathLen) || pathLen < 0)) {
      return 'basicConstraints pathLenConstraint out of range';
    }
    cert.basicConstraints = { critical, cA: bc.cA === true, ...(pathLen === undefined ? {} : { pathLenConstraint: pathLen }) };
    return undefined;
  },
  [OID.keyUsage]: (cert, value, critical) => {
    const tlv = readTlv(value, 0);
    if (typeof tlv === 'string' || tlv.tag !== TAG.BIT_STRING) return 'keyUsage is not a BIT STRING';
    const bits = content(value, tlv).subarray(1);
    const bit = (n: number) => (((bits[n >> 3] ?? 0) >> (7 - (n & 7))) & 1) === 1;
    cert.keyUsage = { critical, digitalSignature: bit(0), keyCertSign: bit(5), cRLSign: bit(6) };
    return undefined;
  },
  [OID.subjectAltName]: (cert, value, critical) => {
    const san = AltName.fromBER(value as Bytes);
    // GeneralName uniformResourceIdentifier [6] IA5String; pkijs decodes it one byte per character (lossless).
    cert.subjectAltName = { critical, uris: san.altNames.filter((name) => name.type === 6).map((name) => String(name.value)) };
    return undefined;
  },
  [OID.extKeyUsage]: (cert, value, critical) => {
    cert.extKeyUsage = { critical, purposes: [...ExtKeyUsage.fromBER(value as Bytes).keyPurposes] };
    return undefined;
  },
};

/** Fills the decoded extensions into `cert`; a string says which one does not decode. */
function decodeExtensions(cert: X509Cert, extensions: ReadonlyMap<string, X509Extension>): string | undefined {
  for (const [oid, extension] of extensions) {
    const decode = DECODERS[oid];
    if (!decode) continue;
    const problem = checkDer(extension.value);
    if (problem) return `extension ${oid} value is not DER: ${problem}`;
    try {
      const why = decode(cert, extension.value, extension.critical);
      if (why) return why;
    } catch {
      return `extension ${oid} value does not decode`;
    }
  }
  return undefined;
}
