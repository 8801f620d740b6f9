/**
 * Derived component values (RFC 9421 §2.2) from the context message:
 *   @method (§2.2.1) the method, case kept · @target-uri (§2.2.2) scheme://authority/path?query ·
 *   @authority (§2.2.3) host[:port], lowercase, default port omitted · @scheme (§2.2.4) lowercase ·
 *   @request-target (§2.2.5) `requestTarget` if given, else origin form path?query · @path (§2.2.6), "/" if
 *   empty · @query (§2.2.7) with its "?", "?" alone when there is none · @query-param;name (§2.2.8) ·
 *   @status (§2.2.9) three digits, responses only.
 * `req` (§2.4) is honoured by the caller, which passes the related request as the context message.
 *
 * URL parts come from the WHATWG parse of the message's `url` (what `Request.url` holds on every runtime), with
 * percent-escapes left as they are (§2.2.6, §2.2.7: RFC 3986 §6.2.1 simple string comparison). That parse cannot
 * tell an empty query (`/p?`) from none (`/p`), so both give `@query` "?" and no "?" in @target-uri.
 *
 * Refuses (§2.5): unknown derived names and parameters, flags other than Boolean true, `name` missing or not a
 * String on @query-param, a request component on a response context (sign it with `req`), @status on a request,
 * and values with characters outside VCHAR / SP or with leading or trailing SP (§2.2).
 * Does NOT check that the URL is the one the client used (§7.4.3): the caller supplies the context.
 */
import { fail, ok, type Result } from '../result.ts';
import type { ComponentIdentifier } from './component-identifier.ts';
import type { HttpSigErrorCode } from './errors.ts';
import { isResponse, type HttpSigMessage } from './message.ts';
import { queryParamValue } from './query-param.ts';

export const DERIVED_COMPONENTS = ['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query', '@query-param', '@status'] as const;

export type DerivedComponentName = (typeof DERIVED_COMPONENTS)[number];

const KNOWN = new Set<string>(DERIVED_COMPONENTS);
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DERIVED_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
const REQUEST_TARGET = /^[\x21-\x7e]+$/;

function requestUrl(context: HttpSigMessage, name: string): Result<URL, HttpSigErrorCode> {
  if (context.url === undefined) return fail('ERR_SIG_COMPONENT_MISSING', `${name}: the message has no target URI`);
  try {
    return ok(new URL(context.url));
  } catch {
    return fail('ERR_SIG_COMPONENT_INVALID', `${name}: the target URI is not an absolute URL`);
  }
}

function requestValue(context: HttpSigMessage, id: ComponentIdentifier): Result<string, HttpSigErrorCode> {
  if (id.name === '@method') {
    if (context.method === undefined) return fail('ERR_SIG_COMPONENT_MISSING', '@method: the message has no method');
    return METHOD.test(context.method) ? ok(context.method) : fail('ERR_SIG_COMPONENT_INVALID', '@method: the method is not a token');
  }
  if (id.name === '@request-target' && context.requestTarget !== undefined) {
    return REQUEST_TARGET.test(context.requestTarget) ? ok(context.requestTarget) : fail('ERR_SIG_COMPONENT_INVALID', '@request-target: not a request-target');
  }
  const parsed = requestUrl(context, id.name);
  if (!parsed.ok) return parsed;
  const url = parsed.value;
  const path = url.pathname === '' ? '/' : url.pathname;
  switch (id.name) {
    case '@target-uri':
      return ok(`${url.protocol}//${url.host.toLowerCase()}${path}${url.search}`);
    case '@authority':
      return url.host === '' ? fail('ERR_SIG_COMPONENT_MISSING', '@authority: the target URI has no authority') : ok(url.host.toLowerCase());
    case '@scheme':
      return ok(url.protocol.slice(0, -1));
    case '@request-target':
      return ok(`${path}${url.search}`);
    case '@path':
      return ok(path);
    case '@query':
      return ok(url.search === '' ? '?' : url.search);
    case '@query-param': {
      const name = id.params.get('name');
      if (name === undefined || name.type !== 'string') return fail('ERR_SIG_COMPONENT_INVALID', '@query-param: the name parameter must be a String');
      return queryParamValue(url.search, name.value);
    }
  }
  return fail('ERR_SIG_COMPONENT_UNSUPPORTED', `unknown derived component ${id.name}`);
}

export function derivedComponentValue(context: HttpSigMessage, id: ComponentIdentifier): Result<string, HttpSigErrorCode> {
  if (!KNOWN.has(id.name)) return fail('ERR_SIG_COMPONENT_UNSUPPORTED', `unknown derived component ${id.name}`);
  for (const [param, value] of id.params) {
    if (param === 'req') {
      if (value.type !== 'boolean' || !value.value) return fail('ERR_SIG_COMPONENT_INVALID', `${id.name}: req must be the flag true`);
    } else if (!(param === 'name' && id.name === '@query-param')) {
      return fail('ERR_SIG_COMPONENT_UNSUPPORTED', `${id.name}: unknown parameter ${param}`);
    }
  }
  let value: Result<string, HttpSigErrorCode>;
  if (id.name === '@status') {
    if (!isResponse(context)) return fail('ERR_SIG_COMPONENT_INVALID', '@status applies to responses only (§2.2.9)');
    const status = context.status!;
    value = Number.isInteger(status) && status >= 100 && status <= 999 ? ok(String(status)) : fail('ERR_SIG_COMPONENT_INVALID', '@status: not a three-digit status code');
  } else {
    if (isResponse(context)) return fail('ERR_SIG_COMPONENT_INVALID', `${id.name} applies to requests; a response covers it with req (§2.4)`);
    value = requestValue(context, id);
  }
  if (value.ok && !DERIVED_VALUE.test(value.value)) return fail('ERR_SIG_COMPONENT_INVALID', `${id.name}: value has characters outside VCHAR / SP or surrounding spaces`);
  return value;
}
