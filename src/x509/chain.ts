/**
 * The shape of a presented chain: which certificates form the path below the trust anchor, and which bundle
 * certificates could be that anchor. Names only; signatures are checked afterwards (verify-svid.ts).
 *
 * Specs: RFC 5280 §6.1 (a path x1..xn from the trust anchor's subject down to the target), §6.1.3 (a)(4) (each issuer
 * name is the previous subject); RFC 8446 §4.4.2 (TLS order: sender's certificate first, each following certificate
 * SHOULD certify the one before it); RFC 9440 §2.3 (the root MAY be omitted, so MAY be present); X509-SVID §5.1.
 *
 * Rules: the chain is leaf, intermediates in order, and optionally a copy (byte for byte) of a bundle certificate. The
 * path ends at the first presented certificate after the leaf that is such a copy (RFC 5280 §6.1: validation may stop
 * at any trust anchor, so an intermediate that is itself in the bundle is an anchor); whatever follows it (typically
 * the root) is ignored: parsed (verify-svid.ts step 4) and counted against maxChainLength as presented, but never
 * checked further. Every issuer name equals, byte for byte, the next subject (ERR_X509_CHAIN_INVALID; RFC 5280
 * §7.1 allows some normalisation, byte equality is the stricter rule and what SPIRE-issued chains produce). The
 * candidates are the bundle certificates whose subject is the top certificate's issuer; none is ERR_X509_UNTRUSTED.
 * Several candidates are normal during a CA rotation that keeps the name; the signature decides between them.
 *
 * Does NOT: reorder or search for a path in an unordered chain (fail closed instead), use key identifiers, recognise an
 * anchor by anything but its exact DER (a bundle certificate's name alone makes it a candidate, never ends the path),
 * look at certificates after the anchor, or check any signature, date or extension.
 */
import { fail, ok, type Result } from '../result.ts';
import type { X509Cert } from './certificate.ts';
import { sameBytes } from './der.ts';

export interface PresentedPath {
  /** Leaf first, then the intermediates up to (not including) the trust anchor. */
  path: X509Cert[];
  /** Bundle certificates named as the issuer of the top of `path`. */
  candidates: X509Cert[];
}

export function presentedPath(chain: readonly X509Cert[], anchors: readonly X509Cert[]): Result<PresentedPath, 'ERR_X509_CHAIN_INVALID' | 'ERR_X509_UNTRUSTED'> {
  let end = chain.length;
  for (let i = 1; i < chain.length; i++) {
    if (anchors.some((anchor) => sameBytes(anchor.der, (chain[i] as X509Cert).der))) {
      end = i;
      break;
    }
  }
  const path = chain.slice(0, end);
  for (let i = 0; i + 1 < path.length; i++) {
    if (!sameBytes((path[i] as X509Cert).issuer, (path[i + 1] as X509Cert).subject)) {
      return fail('ERR_X509_CHAIN_INVALID', `the issuer of certificate ${i} is not the subject of certificate ${i + 1}`);
    }
  }
  const top = path[path.length - 1] as X509Cert;
  const presentedAnchor = chain[end];
  if (presentedAnchor && !sameBytes(top.issuer, presentedAnchor.subject)) {
    return fail('ERR_X509_CHAIN_INVALID', `the issuer of certificate ${end - 1} is not the subject of the presented bundle certificate`);
  }
  const candidates = anchors.filter((anchor) => sameBytes(anchor.subject, top.issuer));
  if (candidates.length === 0) return fail('ERR_X509_UNTRUSTED', `no bundle certificate is named as the issuer of certificate ${end - 1}`);
  return ok({ path, candidates });
}
