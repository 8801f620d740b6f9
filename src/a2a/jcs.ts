/**
 * RFC 8785 JSON Canonicalization Scheme (JCS) for JSON values already in memory (e.g. from `JSON.parse`).
 *
 * - §3.2.1: no whitespace.
 * - §3.2.2.1 literals `null`, `true`, `false`.
 * - §3.2.2.2 strings: `"` and `\` escaped, U+0008/09/0A/0C/0D as `\b \t \n \f \r`, every other control below
 *   U+0020 as `\u00hh` (lowercase hex); everything else (including `/`, DEL and non-ASCII) as is. Lone
 *   surrogates are refused (§3.2.2.2 / I-JSON, RFC 7493 §2.1).
 * - §3.2.2.3 numbers: ECMAScript `Number.prototype.toString` (so `-0` is `0`); NaN and ±Infinity are refused.
 * - §3.2.3 object members sorted by their names as arrays of UTF-16 code units; arrays keep their order.
 *
 * Refused (JcsError): undefined (also as an array element or member value), functions, symbols, bigints,
 * non-finite numbers, lone surrogates, cyclic structures, and objects that are not plain objects or arrays
 * (Date, Map, class instances: a JSON value never is one). Duplicate member names cannot occur in a JS object,
 * so the §3.1 duplicate check is the parser's job. Not checked: integers beyond ±2^53 (I-JSON §2.2) are
 * serialised as the double they already are.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [name: string]: JsonValue };

export class JcsError extends Error {
  override name = 'JcsError';
}

/** The canonical JSON text of `value` (RFC 8785). Throws JcsError for anything that is not an I-JSON value. */
export function canonicalize(value: unknown): string {
  const parts: string[] = [];
  write(value, parts, new Set());
  return parts.join('');
}

function write(value: unknown, out: string[], open: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(quote(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new JcsError(`${value} is not a JSON number (RFC 8785 §3.2.2.3)`);
      out.push(Object.is(value, -0) ? '0' : String(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new JcsError(`a ${typeof value} is not a JSON value`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (open.has(value)) throw new JcsError('cyclic structure');
  open.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], out, open); // a hole reads as undefined and is refused
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new JcsError('not a plain object');
    const record = value as Record<string, unknown>;
    const names = Object.keys(record).sort(compareCodeUnits);
    out.push('{');
    names.forEach((name, i) => {
      if (i > 0) out.push(',');
      out.push(quote(name), ':');
      write(record[name], out, open);
    });
    out.push('}');
  }
  open.delete(value);
}

/** §3.2.3: compare as sequences of UTF-16 code units (what `<` does on JS strings). */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const SHORT: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

function quote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++; // a well-formed pair, written as is
        continue;
      }
      throw new JcsError('lone surrogate in string (RFC 8785 §3.2.2.2)');
    }
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i) + (SHORT[c] ?? `\\u${c.toString(16).padStart(4, '0')}`);
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}
