/**
 * Chooses the one signature to verify among those a message carries (RFC 9421 §3.2 step 1.1: "determine which
 * signature should be processed ... based on the policy and configuration of the verifier").
 *
 *  - by label: the signature with that label;
 *  - by tag: the only signature whose `tag` parameter equals it; none is ERR_SIG_LABEL_MISSING, several is
 *    ERR_SIG_LABEL_AMBIGUOUS (a profile that identifies its signature by tag, such as WIMSE, must not pick one).
 *
 * Does NOT verify anything; it only picks.
 */
import { fail, ok, type Result } from '../result.ts';
import type { HttpSigErrorCode } from './errors.ts';
import type { HttpSignature } from './parse-signatures.ts';

export type SignatureSelector = { readonly label: string } | { readonly tag: string };

export function selectSignature(signatures: readonly HttpSignature[], selector: SignatureSelector): Result<HttpSignature, HttpSigErrorCode> {
  if ('label' in selector) {
    const found = signatures.find((s) => s.label === selector.label);
    return found === undefined ? fail('ERR_SIG_LABEL_MISSING', `no signature labelled ${selector.label}`) : ok(found);
  }
  const tagged = signatures.filter((s) => s.metadata.tag === selector.tag);
  if (tagged.length === 0) return fail('ERR_SIG_LABEL_MISSING', `no signature with tag ${JSON.stringify(selector.tag)}`);
  if (tagged.length > 1) return fail('ERR_SIG_LABEL_AMBIGUOUS', `${tagged.length} signatures carry tag ${JSON.stringify(selector.tag)}`);
  return ok(tagged[0]!);
}
