/**
 * The push notification URL allow-list of an A2A route (`routes[].a2a.pushNotifications.allowedUrls`). The agent,
 * not the gateway, calls a registered URL, from inside the network and with the credentials the caller put in the
 * config. A2A 1.0's push notification security considerations say agents SHOULD refuse private, loopback and
 * link-local webhooks; the gateway goes further and lets only URLs under a configured prefix through (a host name
 * alone says nothing about where it resolves). Pure: no I/O, never throws.
 *
 * A URL passes when it is printable ASCII, https, without userinfo, with its host written in normal form, with no
 * encoded separator or leftover dot segment in its path, and, once parsed (WHATWG URL: lower-cased host, default
 * port dropped, `..` resolved), it has the origin of a prefix and a path equal to the prefix's or continuing it at a
 * segment boundary. Everything that another URL parser (the agent's: Python, Go, Java) could read as a different
 * host or path than the gateway's is refused rather than normalised: backslashes, percent-encoded or non-ASCII
 * hosts, numeric host shorthands, `%2f`, `%5c`, `%25`, `..;`.
 *
 * Reasons go to the audit log: they name the rule and at most the URL's origin, never its path (webhook paths often
 * embed a secret), query, userinfo or fragment.
 */
import { MAX_A2A_PUSH_URL_LENGTH } from '../limits.ts';

/** Stable error code of a refused push notification URL (gateway/errors.ts: 400, JSON-RPC -32602 Invalid params). */
export const A2A_PUSH_URL_ERRORS = {
  ERR_A2A_PUSH_URL_NOT_ALLOWED:
    '400, JSON-RPC -32602 Invalid params: a push notification URL (SendMessage configuration, ' +
    'CreateTaskPushNotificationConfig, 0.3 tasks/pushNotificationConfig/set, or their REST bodies) is not under a ' +
    'prefix of a2a.pushNotifications.allowedUrls, or the route has none',
} as const;

export type A2aPushUrlErrorCode = keyof typeof A2A_PUSH_URL_ERRORS;

/** Printable ASCII without space: what a URL serialiser emits. Anything else is read differently by other parsers. */
const PRINTABLE_ASCII = /^[\x21-\x7E]*$/;
/** Encoded `/`, `\`, `%` and control characters: a webhook server that decodes before routing sees another path. */
const AMBIGUOUS_PATH_ENCODING = /%(?:2f|5c|25|[01][0-9a-f]|7f)/i;
/** A segment that is still a dot segment to a server that decodes `%2e` or drops `;` parameters (Tomcat: `..;`). */
const DOT_SEGMENT = /^\.{1,2}(?:;|$)/;
const HTTPS_PREFIX = 'https://';

/** undefined when `url` may be registered; else a reason for the audit log that never contains the URL's query, userinfo or any credential. */
export function pushUrlProblem(url: string, allowedPrefixes: readonly string[] | undefined): string | undefined {
  if (allowedPrefixes === undefined || allowedPrefixes.length === 0) return 'push notification URLs are not allowed on this route (no a2a.pushNotifications.allowedUrls)';
  if (url.length > MAX_A2A_PUSH_URL_LENGTH) return `the push notification URL is longer than MAX_A2A_PUSH_URL_LENGTH (${MAX_A2A_PUSH_URL_LENGTH})`;
  if (url.includes('\\')) return 'the push notification URL contains a backslash (WHATWG parsers read it as "/", others do not)';
  if (!PRINTABLE_ASCII.test(url)) return 'the push notification URL is not printable ASCII (spaces, controls, or an unencoded IDN)';
  // Scheme-relative, "https:host" and other schemes parse differently across URL libraries; https only (the
  // agent sends the caller's push credentials there).
  if (url.slice(0, HTTPS_PREFIX.length).toLowerCase() !== HTTPS_PREFIX) return 'the push notification URL is not an https:// URL';
  const parsed = parseUrl(url);
  if (parsed === undefined || parsed.protocol !== 'https:') return 'the push notification URL is not an absolute https URL';
  if (parsed.username !== '' || parsed.password !== '') return `the push notification URL for ${parsed.origin} carries userinfo`;
  const host = rawHost(url);
  if (host.includes('%') || asciiLower(host) !== parsed.hostname) return 'the push notification URL\'s host is not written in normal form (percent-encoded, numeric shorthand, or empty)';
  const path = pathProblem(parsed.pathname);
  if (path !== undefined) return `the push notification URL for ${parsed.origin} ${path}`;
  for (const prefix of allowedPrefixes) {
    if (underPrefix(parsed, prefix)) return undefined;
  }
  return `the push notification URL for ${parsed.origin} is not under an allowed prefix`;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The host as written (after "https://", before the port and the path), for comparison with the parsed one. */
function rawHost(url: string): string {
  const rest = url.slice(HTTPS_PREFIX.length);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  // An IPv6 literal keeps its brackets in URL.hostname; its colons are not a port separator.
  const close = authority.startsWith('[') ? authority.indexOf(']') + 1 : 0;
  const colon = authority.indexOf(':', close);
  return colon < 0 ? authority : authority.slice(0, colon);
}

function pathProblem(pathname: string): string | undefined {
  if (AMBIGUOUS_PATH_ENCODING.test(pathname)) return 'has an encoded "/", "\\", "%" or control character in its path';
  for (const segment of pathname.split('/')) {
    if (DOT_SEGMENT.test(segment.replace(/%2e/gi, '.'))) return 'has a dot segment left in its path';
  }
  return undefined;
}

/** Same origin (scheme, host, port) and the prefix's path, exactly or followed by a segment. */
function underPrefix(url: URL, prefix: string): boolean {
  const allowed = parseUrl(prefix);
  if (allowed === undefined || allowed.protocol !== 'https:' || allowed.origin !== url.origin) return false;
  const base = allowed.pathname;
  if (base.endsWith('/')) return url.pathname.startsWith(base);
  return url.pathname === base || url.pathname.startsWith(`${base}/`);
}

function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
