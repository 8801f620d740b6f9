/**
 * Workload identifiers (`spiffe://` and `wimse://`): parse, canonical check, comparison.
 * Specs: draft-ietf-wimse-identifier-03 (§4.1 URI requirements, §4.4 the `wimse` scheme, §4.6 origin,
 * §7.1 parsing) and SPIFFE-ID (§2 SPIFFE ID, §2.1 trust domain, §2.2 path, §2.3 length).
 *
 * The draft (§4.1) makes consumers reject every identifier that is not in canonical form and forbids
 * repairing it; §7.1 shows why (`.../%70ayment` would collapse onto `.../payment`). So this is a strict
 * parser over the raw string, never `new URL()` (which lowercases, decodes and resolves dot segments), and
 * an identifier is accepted only when it is already the one canonical spelling. Rules, in the order they
 * are checked (the first failure is reported):
 *  1. more than 2048 octets                                                   ERR_ID_TOO_LONG    (§4.1; SPIFFE §2.3)
 *  2. not a string, empty, or a character that is not printable ASCII: whitespace,
 *     controls, DEL, any non-ASCII or lookalike character (RFC 3986 §2)       ERR_ID_MALFORMED
 *  3. no `scheme:` (RFC 3986 §3.1)                                            ERR_ID_MALFORMED
 *     a scheme other than spiffe / wimse                                      ERR_ID_SCHEME
 *     the scheme not in lowercase                                             ERR_ID_NOT_CANONICAL (§4.4; RFC 3986 §6.2.2.1)
 *  4. no `//` authority (§4.1: a non-empty authority is required)             ERR_ID_MALFORMED
 *  5. a query or fragment, even an empty one (§4.1; SPIFFE §2)                ERR_ID_MALFORMED
 *  6. a `%` anywhere: percent-encoding is never canonical (§4.4; SPIFFE §2.1, §2.2) ERR_ID_NOT_CANONICAL
 *  7. the trust domain (see trust-domain.ts): empty, userinfo, port, IP literal,
 *     a character outside [a-z0-9._-], SPIFFE name over 255 octets            ERR_ID_TRUST_DOMAIN
 *     uppercase letters, a `wimse` name ending in a dot                       ERR_ID_NOT_CANONICAL
 *  8. the path: a `wimse` identifier without one (§4.4)                       ERR_ID_PATH
 *     an empty segment (`//` or a trailing `/`), a `.` or `..` segment        ERR_ID_NOT_CANONICAL (§4.4; SPIFFE §2.2)
 *     a segment character outside [A-Za-z0-9._-] (spiffe) or the RFC 3986
 *     unreserved set [A-Za-z0-9._~-] (wimse)                                  ERR_ID_PATH
 * ERR_ID_NOT_CANONICAL marks a spelling that some normaliser would map onto another identifier; the other
 * codes mark what no spelling of a valid identifier contains.
 *
 * Comparison is byte for byte over the complete URI (§4.3, §4.4). A SPIFFE ID without a path (the trust
 * domain's own id, SPIFFE §3.1) is accepted; a `wimse` one is not.
 *
 * Does NOT validate: that the identifier is authenticated (§7.2: only a verified credential makes it so),
 * that its trust domain is trusted (§7.3: the caller's allowlist), or anything about what the path means.
 * Details name offsets and code points, never the input itself.
 */
import { fail, ok, type Result } from '../result.ts';
import { checkTrustDomainName, codePoint } from './trust-domain.ts';

/** draft-ietf-wimse-identifier-03 §4.1 and SPIFFE-ID §2.3: identifiers up to and including 2048 octets MUST
 * be supported and SHOULD NOT be longer; longer ones are refused before any other work (§7.1). */
export const MAX_WORKLOAD_ID_OCTETS = 2048;

export type WorkloadIdScheme = 'spiffe' | 'wimse';

export interface WorkloadId {
  /** The identifier exactly as given; valid only when it is already canonical. */
  uri: string;
  scheme: WorkloadIdScheme;
  /** The authority: the trust domain name. */
  trustDomain: string;
  /** The path, '' for a SPIFFE trust-domain id. */
  path: string;
}

export type WorkloadIdError =
  | 'ERR_ID_MALFORMED'
  | 'ERR_ID_TOO_LONG'
  | 'ERR_ID_SCHEME'
  | 'ERR_ID_TRUST_DOMAIN'
  | 'ERR_ID_PATH'
  | 'ERR_ID_NOT_CANONICAL';

const SCHEME_SYNTAX = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const SEGMENT: Record<WorkloadIdScheme, RegExp> = {
  spiffe: /^[A-Za-z0-9._-]+$/,
  wimse: /^[A-Za-z0-9._~-]+$/,
};

export function parseWorkloadId(input: string): Result<WorkloadId, WorkloadIdError> {
  if (typeof input !== 'string') return fail('ERR_ID_MALFORMED', 'the identifier is not a string');
  // Before the ASCII check: each UTF-16 unit is at least one UTF-8 octet, so this never refuses a short id.
  if (input.length > MAX_WORKLOAD_ID_OCTETS) {
    return fail('ERR_ID_TOO_LONG', `over ${MAX_WORKLOAD_ID_OCTETS} octets`);
  }
  if (input.length === 0) return fail('ERR_ID_MALFORMED', 'the identifier is empty');
  for (let i = 0; i < input.length; i++) {
    const unit = input.charCodeAt(i);
    if (unit <= 0x20 || unit >= 0x7f) {
      return fail('ERR_ID_MALFORMED', `character U+${codePoint(input.slice(i, i + 2))} at offset ${i} is not printable ASCII`);
    }
  }

  const colon = input.indexOf(':');
  if (colon < 1 || !SCHEME_SYNTAX.test(input.slice(0, colon))) return fail('ERR_ID_MALFORMED', 'no URI scheme');
  const written = input.slice(0, colon);
  const scheme = written.toLowerCase();
  if (scheme !== 'spiffe' && scheme !== 'wimse') return fail('ERR_ID_SCHEME', 'the scheme is neither spiffe nor wimse');
  if (written !== scheme) return fail('ERR_ID_NOT_CANONICAL', 'the scheme is not lowercase');
  if (!input.startsWith('//', colon + 1)) return fail('ERR_ID_MALFORMED', 'no authority: expected scheme://trust-domain');

  const rest = input.slice(colon + 3);
  const extra = rest.search(/[?#]/);
  if (extra >= 0) return fail('ERR_ID_MALFORMED', rest[extra] === '?' ? 'a query component is present' : 'a fragment component is present');
  const percent = rest.indexOf('%');
  if (percent >= 0) return fail('ERR_ID_NOT_CANONICAL', `percent-encoding at offset ${colon + 3 + percent}`);

  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  const domain = checkTrustDomainName(scheme, trustDomain);
  if (!domain.ok) return domain;
  const checkedPath = checkPath(scheme, path);
  if (!checkedPath.ok) return checkedPath;
  return ok({ uri: input, scheme, trustDomain, path });
}

function checkPath(scheme: WorkloadIdScheme, path: string): Result<string, WorkloadIdError> {
  if (path === '') return scheme === 'spiffe' ? ok(path) : fail('ERR_ID_PATH', 'a wimse identifier has no path');
  const segments = path.slice(1).split('/');
  for (const [n, segment] of segments.entries()) {
    if (segment === '') {
      return fail('ERR_ID_NOT_CANONICAL', n === segments.length - 1 ? 'the path ends with a slash' : `path segment ${n + 1} is empty`);
    }
    if (segment === '.' || segment === '..') return fail('ERR_ID_NOT_CANONICAL', `path segment ${n + 1} is a dot segment`);
    if (!SEGMENT[scheme].test(segment)) return fail('ERR_ID_PATH', `path segment ${n + 1} has a character not allowed in ${scheme} paths`);
  }
  return ok(path);
}

/**
 * Byte-for-byte comparison of two canonical identifiers (draft-ietf-wimse-identifier: consumers compare the
 * complete URI). Fails closed: an argument that is not a valid canonical identifier equals nothing, not even itself.
 */
export function sameWorkloadId(a: WorkloadId | string, b: WorkloadId | string): boolean {
  const x = typeof a === 'string' ? a : a.uri;
  const y = typeof b === 'string' ? b : b.uri;
  return x === y && parseWorkloadId(x).ok;
}

/** `spiffe://td` or `wimse://td`: the identifier's origin (scheme + trust domain, draft §4.6). */
export function workloadOrigin(id: WorkloadId): string {
  return `${id.scheme}://${id.trustDomain}`;
}
