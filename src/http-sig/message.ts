/**
 * The message a signature covers (RFC 9421 §1.4, §2): a small interface a Fetch `Request` satisfies as is, and
 * that a `Response` (plus its request) or a plain object can fill.
 *
 *  - a request has `method` and `url` (the absolute target URI, as `Request.url`); a response has `status`
 *    and, for components with the `req` parameter (§2.4), the `request` that triggered it;
 *  - `headers` is a Fetch `Headers`, a record, or the field lines in wire order. Only field lines keep
 *    repeated fields apart, which `bs` (§2.1.3) needs: `Headers` has already combined them with ", "
 *    (except Set-Cookie, read through getSetCookie()).
 *  - `requestTarget` overrides `@request-target` when the request line was not in origin form (absolute,
 *    authority or asterisk form, §2.2.5); by default it is derived from `url`.
 *
 * Does NOT validate field names or values: canonicalisation (field-component.ts) refuses what cannot be signed.
 */

/** A Fetch `Headers` (or anything with its read methods). */
export interface HeadersLike {
  get(name: string): string | null;
  getSetCookie?(): string[];
}

/** Field lines in wire order, as [name, value] pairs; names are matched case-insensitively. */
export type FieldLines = ReadonlyArray<readonly [string, string]>;

/** Field name → value, or values in wire order. */
export type FieldRecord = Readonly<Record<string, string | readonly string[]>>;

export type FieldSource = HeadersLike | FieldLines | FieldRecord;

export interface HttpSigMessage {
  /** Request method, case preserved (§2.2.1). */
  readonly method?: string;
  /** Absolute target URI of a request (§2.2.2); the Fetch `Request.url`. */
  readonly url?: string;
  /** Raw request-target when not in origin form, e.g. `*` or `www.example.com:80` (§2.2.5). */
  readonly requestTarget?: string;
  /** Status code of a response (§2.2.9); its presence makes the message a response. */
  readonly status?: number;
  readonly headers: FieldSource;
  /** For a response: the request that triggered it, source of `req` components (§2.4). */
  readonly request?: HttpSigMessage;
}

export function isResponse(message: HttpSigMessage): boolean {
  return message.status !== undefined;
}

/** Wraps a Fetch `Response` with the request it answers, so `req` components can be resolved. */
export function responseMessage(response: { status: number; headers: HeadersLike }, request?: HttpSigMessage): HttpSigMessage {
  return request === undefined ? { status: response.status, headers: response.headers } : { status: response.status, headers: response.headers, request };
}

function isHeadersLike(source: FieldSource): source is HeadersLike {
  return typeof (source as HeadersLike).get === 'function';
}

/**
 * The values of every line of field `name` (lowercase), in order; `undefined` when the field is absent. A
 * `Headers` source yields one combined line (Set-Cookie excepted).
 */
export function fieldLines(source: FieldSource, name: string): string[] | undefined {
  if (Array.isArray(source)) {
    const values = (source as FieldLines).filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    return values.length > 0 ? values : undefined;
  }
  if (isHeadersLike(source)) {
    if (name === 'set-cookie' && typeof source.getSetCookie === 'function') {
      const cookies = source.getSetCookie();
      return cookies.length > 0 ? cookies : undefined;
    }
    const value = source.get(name);
    return value === null ? undefined : [value];
  }
  const values: string[] = [];
  for (const [n, v] of Object.entries(source as FieldRecord)) {
    if (n.toLowerCase() !== name) continue;
    if (typeof v === 'string') values.push(v);
    else values.push(...v);
  }
  return values.length > 0 ? values : undefined;
}
