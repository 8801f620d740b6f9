/**
 * Verifies an X509-SVID chain (leaf first, then intermediates, optionally the root) against the X.509 bundle of one
 * trust domain, and returns the SPIFFE ID it proves. Pure: no I/O, no clock but `ctx.now`, Web Crypto only.
 *
 * Specs: SPIFFE X509-SVID (standards/X509-SVID.md) §2, §3, §4.1, §4.3, §4.4, §5.1 (RFC 5280 path validation), §5.2
 * (leaf validation); RFC 5280 §4.1, §4.2, §6.1 (the subset below); RFC 8705 §3.1 (the SHA-256 thumbprint).
 *
 * Validates, in this order (first failure returned; codes in errors.ts):
 *   1. the context: trustDomain a SPIFFE trust domain name, maxChainLength 1..MAX_X509_CHAIN_LENGTH, clockSkewSeconds
 *      0..MAX_CLOCK_SKEW_SECONDS                                               ERR_X509_CONTEXT_INVALID
 *   2. the bundle (when given raw): bundle.ts                                  ERR_X509_BUNDLE_INVALID
 *   3. at most maxChainLength certificates, before any parsing                 ERR_X509_CHAIN_TOO_LONG
 *   4. every certificate: size, PEM, strict DER, X.509 v3 (certificate.ts)     ERR_X509_MALFORMED
 *   5. the leaf profile (leaf.ts): one URI SAN holding a spiffe:// ID with a path, in ctx.trustDomain, cA=false,
 *      keyUsage                     ERR_X509_SAN_INVALID / _TRUST_DOMAIN_MISMATCH / _CA_INVALID / _KEY_USAGE_INVALID
 *   6. the path shape, up to the first presented bundle certificate, and anchor candidates by name (chain.ts)
 *                                                                              ERR_X509_CHAIN_INVALID / _UNTRUSTED
 *   7. for the leaf, then each intermediate upwards: no unknown critical extension (extensions.ts), a signing
 *      certificate (intermediates, signing-cert.ts), valid at now ± skew (validity.ts), an accepted signature
 *      algorithm (algorithms.ts)   ERR_X509_CRITICAL_EXTENSION / _CA_INVALID / _NOT_YET_VALID / _EXPIRED / _ALGORITHM_UNSUPPORTED
 *   8. every signature: each certificate by the next one's key, the top one by a candidate anchor's key (the first
 *      candidate that verifies is the anchor) (signature.ts)       ERR_X509_SIGNATURE_INVALID / _ALGORITHM_UNSUPPORTED
 *   9. the anchor: as step 7 for a signing certificate, its pathLenConstraint counting the whole path
 *
 * Does NOT: check revocation (X509-SVID has no CRL/OCSP profile; lifetimes are short), process name constraints
 * (refused, see extensions.ts) or certificate policies, verify the anchor's self-signature (RFC 5280 §6.1: an anchor
 * is trusted by configuration), or authenticate the presenter: proof of possession of the leaf key is the TLS
 * handshake's job, so callers must only pass chains from a TLS stack they terminate or trust (see
 * client-cert-header.ts). Results are the caller's to cache, keyed by the whole chain (not only `thumbprint`: the
 * path decides the anchor) and bounded by `validUntil`. Details never contain certificate bytes, names or keys.
 *
 * leafTrustDomain: steps 3, 4 (the leaf only) and the SAN part of 5, returning the leaf's trust domain name so that a
 * caller accepting several trust domains verifies once, against the right bundle, instead of once per bundle.
 * Its answer is a routing hint, not a verification.
 */
import { sha256b64url } from '../crypto/digest.ts';
import { isTrustDomainName } from '../identity/trust-domain.ts';
import type { WorkloadId } from '../identity/workload-id.ts';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_X509_MAX_CHAIN_LENGTH, MAX_CLOCK_SKEW_SECONDS, MAX_X509_CHAIN_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { signatureScheme, verifyPlan, type SignatureScheme } from './algorithms.ts';
import { isX509Bundle, parseX509Bundle, type X509Bundle } from './bundle.ts';
import { parseCertificate, type X509Cert } from './certificate.ts';
import { presentedPath } from './chain.ts';
import { sameBytes } from './der.ts';
import type { X509ErrorCode } from './errors.ts';
import { checkExtensions } from './extensions.ts';
import { certificateList, type CertificatesInput } from './input.ts';
import { checkLeaf, leafSpiffeId } from './leaf.ts';
import { verifySignature } from './signature.ts';
import { checkSigningCert } from './signing-cert.ts';
import { checkValidity } from './validity.ts';

export interface X509SvidContext {
  /** The trust domain name the bundle belongs to (`example.org`, no scheme); the leaf's SPIFFE ID must be in it. */
  trustDomain: string;
  /** Its CA certificates: parsed once with parseX509Bundle (preferred), or DER / PEM parsed on every call. */
  bundle: X509Bundle | CertificatesInput;
  /** Epoch milliseconds. */
  now: () => number;
  /** Most certificates accepted in the chain, root included when sent; default DEFAULT_X509_MAX_CHAIN_LENGTH. */
  maxChainLength?: number;
  /** Default DEFAULT_CLOCK_SKEW_SECONDS, at most MAX_CLOCK_SKEW_SECONDS. */
  clockSkewSeconds?: number;
}

export interface VerifiedX509Svid {
  spiffeId: WorkloadId;
  trustDomain: string;
  /** The leaf's notAfter, epoch milliseconds. */
  notAfter: number;
  /** The earliest notAfter over the leaf, the intermediates and the anchor: how long this result may be reused. */
  validUntil: number;
  /** base64url(SHA-256(leaf DER)): RFC 8705 `x5t#S256`, for binding tokens to the certificate, caches and audit. */
  thumbprint: string;
  /** The leaf's serial number, lowercase hex of its DER content octets. */
  serial: string;
  /** base64url(SHA-256(anchor DER)): which bundle certificate vouched, for audit. */
  anchorThumbprint: string;
}

export async function verifyX509Svid(chain: CertificatesInput, ctx: X509SvidContext): Promise<Result<VerifiedX509Svid, X509ErrorCode>> {
  // 1. context
  const maxChainLength = ctx.maxChainLength ?? DEFAULT_X509_MAX_CHAIN_LENGTH;
  const skew = ctx.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!isTrustDomainName('spiffe', ctx.trustDomain)) return fail('ERR_X509_CONTEXT_INVALID', 'trustDomain is not a SPIFFE trust domain name');
  if (!Number.isInteger(maxChainLength) || maxChainLength < 1 || maxChainLength > MAX_X509_CHAIN_LENGTH) {
    return fail('ERR_X509_CONTEXT_INVALID', `maxChainLength must be an integer in 1..${MAX_X509_CHAIN_LENGTH}`);
  }
  if (!Number.isInteger(skew) || skew < 0 || skew > MAX_CLOCK_SKEW_SECONDS) {
    return fail('ERR_X509_CONTEXT_INVALID', `clockSkewSeconds must be an integer in 0..${MAX_CLOCK_SKEW_SECONDS}`);
  }
  const now = ctx.now();
  if (!Number.isFinite(now)) return fail('ERR_X509_CONTEXT_INVALID', 'now() is not a finite number');

  // 2. bundle
  let bundle: X509Bundle;
  if (isX509Bundle(ctx.bundle)) {
    bundle = ctx.bundle;
  } else {
    const parsed = parseX509Bundle(ctx.bundle);
    if (!parsed.ok) return parsed;
    bundle = parsed.value;
  }

  // 3.–4. chain size, then parsing
  const list = certificateList(chain, maxChainLength);
  if (!list.ok) return fail(list.code === 'too-many' ? 'ERR_X509_CHAIN_TOO_LONG' : 'ERR_X509_MALFORMED', list.detail);
  const certs: X509Cert[] = [];
  for (const [i, der] of list.value.entries()) {
    const parsed = parseCertificate(der);
    if (!parsed.ok) return fail('ERR_X509_MALFORMED', `certificate ${i}: ${parsed.detail}`);
    certs.push(parsed.value);
  }
  const leaf = certs[0] as X509Cert;

  // 5. leaf profile
  const spiffeId = checkLeaf(leaf, ctx.trustDomain);
  if (!spiffeId.ok) return spiffeId;

  // 6. path shape
  const shape = presentedPath(certs, bundle.anchors);
  if (!shape.ok) return shape;
  const { path, candidates } = shape.value;

  // 7. every presented certificate of the path, leaf first
  const skewMs = skew * 1000;
  const schemes: SignatureScheme[] = [];
  for (const [i, cert] of path.entries()) {
    const role = roleOf(i);
    const checked = checkPathCert(cert, role, i === 0 ? undefined : intermediatesBelow(path, i), now, skewMs);
    if (!checked.ok) return checked;
    const scheme = signatureScheme(cert.signatureAlgorithm);
    if (!scheme.ok) return fail('ERR_X509_ALGORITHM_UNSUPPORTED', `${role}: ${scheme.detail}`);
    schemes.push(scheme.value);
  }

  // 8. signatures: inside the presented path, and the top one by a candidate anchor
  const inside = path.slice(0, -1).map((cert, i) => signedBy(cert, schemes[i] as SignatureScheme, path[i + 1] as X509Cert, roleOf(i)));
  const top = path.length - 1;
  const [insideResults, anchorResult] = await Promise.all([Promise.all(inside), findAnchor(path[top] as X509Cert, schemes[top] as SignatureScheme, candidates, roleOf(top))]);
  for (const result of insideResults) if (!result.ok) return result;
  if (!anchorResult.ok) return anchorResult;
  const anchor = anchorResult.value;

  // 9. the anchor
  const anchorChecked = checkPathCert(anchor, 'the trust anchor', intermediatesBelow(path, path.length), now, skewMs);
  if (!anchorChecked.ok) return anchorChecked;

  const [thumbprint, anchorThumbprint] = await Promise.all([sha256b64url(leaf.der), sha256b64url(anchor.der)]);
  return ok({
    spiffeId: spiffeId.value,
    trustDomain: spiffeId.value.trustDomain,
    notAfter: leaf.notAfter,
    validUntil: Math.min(...path.map((cert) => cert.notAfter), anchor.notAfter),
    thumbprint,
    serial: leaf.serial,
    anchorThumbprint,
  });
}

/**
 * The trust domain name (`example.org`, no scheme) of the leaf's one URI SAN, parsing only the leaf; the same codes
 * as verifyX509Svid's steps 3–5 (a malformed intermediate is only found by verifyX509Svid).
 */
export function leafTrustDomain(
  chain: CertificatesInput,
  maxChainLength: number = DEFAULT_X509_MAX_CHAIN_LENGTH,
): Result<string, 'ERR_X509_CONTEXT_INVALID' | 'ERR_X509_CHAIN_TOO_LONG' | 'ERR_X509_MALFORMED' | 'ERR_X509_SAN_INVALID'> {
  if (!Number.isInteger(maxChainLength) || maxChainLength < 1 || maxChainLength > MAX_X509_CHAIN_LENGTH) {
    return fail('ERR_X509_CONTEXT_INVALID', `maxChainLength must be an integer in 1..${MAX_X509_CHAIN_LENGTH}`);
  }
  const list = certificateList(chain, maxChainLength);
  if (!list.ok) return fail(list.code === 'too-many' ? 'ERR_X509_CHAIN_TOO_LONG' : 'ERR_X509_MALFORMED', list.detail);
  const leaf = parseCertificate(list.value[0] as Uint8Array);
  if (!leaf.ok) return fail('ERR_X509_MALFORMED', `certificate 0: ${leaf.detail}`);
  const id = leafSpiffeId(leaf.value);
  return id.ok ? ok(id.value.trustDomain) : id;
}

/** How details name a certificate of the path. */
const roleOf = (i: number): string => (i === 0 ? 'the leaf' : `intermediate ${i}`);

/** Step 7 (without the algorithm) and step 9 for one certificate; `intermediates` undefined for the leaf. */
function checkPathCert(cert: X509Cert, role: string, intermediates: number | undefined, now: number, skewMs: number): Result<true, X509ErrorCode> {
  const extensions = checkExtensions(cert);
  if (!extensions.ok) return fail(extensions.code, `${role}: ${extensions.detail}`);
  if (intermediates !== undefined) {
    const signing = checkSigningCert(cert, role, intermediates);
    if (!signing.ok) return signing;
  }
  const validity = checkValidity(cert, now, skewMs);
  return validity.ok ? validity : fail(validity.code, `${role}: ${validity.detail}`);
}

/** RFC 5280 §6.1.4 (l): non-self-issued intermediates strictly between the leaf (index 0) and path index `k`. */
function intermediatesBelow(path: readonly X509Cert[], k: number): number {
  let count = 0;
  for (let i = 1; i < k; i++) {
    const cert = path[i] as X509Cert;
    if (!sameBytes(cert.issuer, cert.subject)) count++;
  }
  return count;
}

async function signedBy(cert: X509Cert, scheme: SignatureScheme, issuer: X509Cert, role: string): Promise<Result<true, X509ErrorCode>> {
  const plan = verifyPlan(scheme, issuer.spkiAlgorithm);
  if (!plan.ok) return fail(plan.code === 'mismatch' ? 'ERR_X509_SIGNATURE_INVALID' : 'ERR_X509_ALGORITHM_UNSUPPORTED', `${role}: ${plan.detail}`);
  const verified = await verifySignature(cert.tbs, cert.signature, issuer.spki, plan.value);
  if (verified.ok) return verified;
  return fail(verified.code === 'unsupported' ? 'ERR_X509_ALGORITHM_UNSUPPORTED' : 'ERR_X509_SIGNATURE_INVALID', `${role}: ${verified.detail}`);
}

/** The first candidate whose key verifies `top`; otherwise the first candidate's failure. */
async function findAnchor(top: X509Cert, scheme: SignatureScheme, candidates: readonly X509Cert[], role: string): Promise<Result<X509Cert, X509ErrorCode>> {
  let first: Result<X509Cert, X509ErrorCode> | undefined;
  for (const candidate of candidates) {
    const result = await signedBy(top, scheme, candidate, role);
    if (result.ok) return ok(candidate);
    first ??= result;
  }
  return first ?? fail('ERR_X509_UNTRUSTED', `${role}: no candidate anchor`);
}
