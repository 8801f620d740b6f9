/**
 * The SPIFFE leaf profile of the first certificate of a chain: the one URI SAN is the SPIFFE ID, it belongs to the
 * expected trust domain, and the certificate is an end-entity certificate for digital signatures.
 *
 * Specs: X509-SVID §2 (exactly one URI SAN; "Validators encountering an SVID containing more than one URI SAN MUST
 * reject the SVID"), §3.1 (non-root path; the SAN is critical when the subject is empty, per RFC 5280 §4.1.2.6),
 * §4.1 (cA=false), §4.3 (keyUsage set, critical, digitalSignature, never keyCertSign or cRLSign), §4.4 (an
 * extKeyUsage, when present, includes id-kp-clientAuth), §5.2 (leaf validation); SPIFFE-ID §2 via parseWorkloadId.
 *
 * Checks, in order (first failure returned):
 *  1. subjectAltName present with exactly one URI, which is a canonical `spiffe://` ID (the strict identity parser;
 *     `wimse://` and every other scheme refused) with a non-empty path; critical when the subject is empty
 *                                                                  ERR_X509_SAN_INVALID
 *  2. its trust domain is `trustDomain`, byte for byte              ERR_X509_TRUST_DOMAIN_MISMATCH
 *  3. basicConstraints absent or cA=false (absent means false, RFC 5280 §4.2.1.9)  ERR_X509_CA_INVALID
 *  4. keyUsage present, critical, with digitalSignature, without keyCertSign and cRLSign; extKeyUsage, when present,
 *     with id-kp-clientAuth (this verifier authenticates callers)  ERR_X509_KEY_USAGE_INVALID
 *
 * leafSpiffeId is check 1 alone (any trust domain), for callers that pick the bundle by the leaf's trust domain.
 *
 * Does NOT: look at DNS or other SAN types (X509-SVID §2: any number MAY appear), the subject name, keyEncipherment /
 * keyAgreement (MAY be set), or id-kp-serverAuth (a requirement on issuers, and irrelevant for client certificates).
 */
import { parseWorkloadId, type WorkloadId } from '../identity/workload-id.ts';
import { fail, ok, type Result } from '../result.ts';
import { OID, type X509Cert } from './certificate.ts';

export type LeafErrorCode = 'ERR_X509_SAN_INVALID' | 'ERR_X509_TRUST_DOMAIN_MISMATCH' | 'ERR_X509_CA_INVALID' | 'ERR_X509_KEY_USAGE_INVALID';

export function checkLeaf(cert: X509Cert, trustDomain: string): Result<WorkloadId, LeafErrorCode> {
  const spiffeId = leafSpiffeId(cert);
  if (!spiffeId.ok) return spiffeId;
  const id = spiffeId.value;

  if (id.trustDomain !== trustDomain) return fail('ERR_X509_TRUST_DOMAIN_MISMATCH', 'the SPIFFE ID is in another trust domain than the bundle');

  if (cert.basicConstraints?.cA) return fail('ERR_X509_CA_INVALID', 'the leaf has basicConstraints cA=true');

  const ku = cert.keyUsage;
  if (!ku) return fail('ERR_X509_KEY_USAGE_INVALID', 'the leaf has no keyUsage');
  if (!ku.critical) return fail('ERR_X509_KEY_USAGE_INVALID', 'the leaf keyUsage is not critical');
  if (!ku.digitalSignature) return fail('ERR_X509_KEY_USAGE_INVALID', 'the leaf keyUsage lacks digitalSignature');
  if (ku.keyCertSign) return fail('ERR_X509_KEY_USAGE_INVALID', 'the leaf keyUsage sets keyCertSign');
  if (ku.cRLSign) return fail('ERR_X509_KEY_USAGE_INVALID', 'the leaf keyUsage sets cRLSign');
  const eku = cert.extKeyUsage;
  if (eku && !eku.purposes.includes(OID.clientAuth)) return fail('ERR_X509_KEY_USAGE_INVALID', 'the leaf extKeyUsage lacks id-kp-clientAuth');
  return ok(id);
}

/** Step 1 alone: the leaf's SPIFFE ID, whatever its trust domain (also used to pick the bundle, verify-svid.ts). */
export function leafSpiffeId(cert: X509Cert): Result<WorkloadId, 'ERR_X509_SAN_INVALID'> {
  const san = cert.subjectAltName;
  if (!san) return fail('ERR_X509_SAN_INVALID', 'the leaf has no subjectAltName');
  if (san.uris.length !== 1) return fail('ERR_X509_SAN_INVALID', `the leaf has ${san.uris.length} URI SANs, not exactly one`);
  const parsed = parseWorkloadId(san.uris[0] as string);
  if (!parsed.ok) return fail('ERR_X509_SAN_INVALID', `the URI SAN is not a canonical SPIFFE ID (${parsed.code}: ${parsed.detail})`);
  const id = parsed.value;
  if (id.scheme !== 'spiffe') return fail('ERR_X509_SAN_INVALID', 'the URI SAN scheme is not spiffe');
  if (id.path === '') return fail('ERR_X509_SAN_INVALID', 'the SPIFFE ID has no path (a trust domain ID names no workload)');
  if (cert.subjectEmpty && !san.critical) return fail('ERR_X509_SAN_INVALID', 'the subject is empty but subjectAltName is not critical');
  return ok(id);
}
