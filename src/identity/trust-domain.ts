/**
 * Trust domain names: the authority of a workload identifier, checked as raw ASCII with no normalisation.
 *
 * Validates
 * - `spiffe` (SPIFFE-ID §2.1, §2.3): not empty; only `[a-z0-9._-]`, so lowercase only, no percent-encoding,
 *   no userinfo (`@`), no port (`:`), no IPv6 literal (`[`); at most 255 octets.
 * - `wimse` (draft-ietf-wimse-identifier-03 §4.1, §4.4): not empty; only lowercase ASCII letters, digits,
 *   dots, hyphens and underscores; no percent-encoding; no userinfo or port; must not end with a dot.
 *
 * Does NOT validate
 * - that the trust domain is trusted (draft §7.3): that is the caller's allowlist, compared byte for byte;
 * - DNS structure: a SPIFFE name ending in a dot, or a `wimse` name with a leading dot or an empty label
 *   (`a..b`), is accepted because neither spec forbids it (SPIFFE-ID §2.1: trust domain names are not
 *   processed as DNS names);
 * - IPv4 dotted quads: allowed by both character sets; SPIFFE-ID §2.1 forbids treating them differently,
 *   and the draft's "IP addresses MUST NOT be used" (§4.3) is a rule for whoever names the trust domain;
 * - a length limit for `wimse` names: the draft sets none beyond the identifier's 2048 octets.
 */
import { fail, ok, type Result } from '../result.ts';
import type { WorkloadIdError, WorkloadIdScheme } from './workload-id.ts';

/** SPIFFE-ID §2.3: RFC 3986 limits a host to 255 characters, "therefore a maximum length of a trust domain name is 255 bytes". */
export const MAX_SPIFFE_TRUST_DOMAIN_OCTETS = 255;

const TRUST_DOMAIN_CHAR = /^[a-z0-9._-]$/;
const UPPER = /^[A-Z]$/;

/** Why `name` is not a valid trust domain name for `scheme`, as a Result carrying the name when it is. */
export function checkTrustDomainName(scheme: WorkloadIdScheme, name: string): Result<string, WorkloadIdError> {
  if (typeof name !== 'string' || name.length === 0) return fail('ERR_ID_TRUST_DOMAIN', 'the trust domain is empty');
  let uppercase = false;
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if (TRUST_DOMAIN_CHAR.test(c)) continue;
    if (UPPER.test(c)) uppercase = true;
    else if (c === '%') return fail('ERR_ID_NOT_CANONICAL', `percent-encoding in the trust domain at offset ${i}`);
    else if (c === '@') return fail('ERR_ID_TRUST_DOMAIN', 'the authority has a userinfo part');
    else if (c === ':') return fail('ERR_ID_TRUST_DOMAIN', 'the authority has a port part');
    else if (c === '[' || c === ']') return fail('ERR_ID_TRUST_DOMAIN', 'the trust domain is an IP literal');
    else return fail('ERR_ID_TRUST_DOMAIN', `character U+${codePoint(c)} at offset ${i} is not allowed in a trust domain`);
  }
  if (uppercase) return fail('ERR_ID_NOT_CANONICAL', 'the trust domain has uppercase letters');
  if (scheme === 'spiffe' && name.length > MAX_SPIFFE_TRUST_DOMAIN_OCTETS) {
    return fail('ERR_ID_TRUST_DOMAIN', `the trust domain has ${name.length} octets, over ${MAX_SPIFFE_TRUST_DOMAIN_OCTETS}`);
  }
  if (scheme === 'wimse' && name.endsWith('.')) return fail('ERR_ID_NOT_CANONICAL', 'a wimse trust domain ends with a dot');
  return ok(name);
}

/** Whether `name` is a valid trust domain name for `scheme` (for config validation). */
export function isTrustDomainName(scheme: WorkloadIdScheme, name: string): boolean {
  return checkTrustDomainName(scheme, name).ok;
}

/** `0041` for `A`: how a rejected character is named in a detail, so details never echo raw input. */
export function codePoint(c: string): string {
  return (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}
