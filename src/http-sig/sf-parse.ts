/**
 * Strict parser for Structured Field Values: Dictionaries, Lists, Items, Inner Lists and Parameters, with every
 * bare item type (RFC 8941 §4.2; Dates and Display Strings per RFC 9651 §4.2.9, §4.2.10).
 *
 * Follows the RFC algorithms step by step: the whole value must be ASCII, leading and trailing SP are allowed,
 * OWS (SP / HTAB) only between List and Dictionary members, numbers are bounded (15 integer digits, 12.3 for
 * Decimals), Strings hold only VCHAR / SP with `\"` and `\\` escapes, Byte Sequences only base64.
 *
 * One deliberate option: `rejectDuplicateKeys`. RFC 8941 keeps the last of repeated Dictionary or Parameter
 * keys; RFC 9421 needs labels to be unique across all Signature-Input / Signature field values (§4.1, §4.2), and
 * a signer with a conformant serializer never repeats a parameter, so the signature parsers ask for a failure.
 *
 * Does NOT combine field lines: the caller passes the combined field value (lines joined with ", ").
 */
import { fail, ok, type Result } from '../result.ts';
import { base64Decode } from './sf-base64.ts';
import type { BareItem, Dictionary, InnerList, Item, List, Member, StructuredFieldType } from './sf-types.ts';

export interface SfParseOptions {
  /** Fail on a repeated Dictionary key or Parameter key instead of keeping the last one. */
  rejectDuplicateKeys?: boolean;
}

class SfParseError extends Error {}

const DIGIT = /[0-9]/;
const ALPHA = /[A-Za-z]/;
const LCALPHA = /[a-z]/;
const KEY_CHAR = /[a-z0-9_.*-]/;
// tchar (RFC 9110 §5.6.2) plus ":" and "/" (RFC 8941 §3.3.4).
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;
const LOWER_HEX = /^[0-9a-f]{2}$/;
const ASCII = /^[\x00-\x7f]*$/;

class Parser {
  private pos = 0;
  private readonly input: string;
  private readonly options: SfParseOptions;

  constructor(input: string, options: SfParseOptions) {
    this.input = input;
    this.options = options;
  }

  private peek(): string | undefined {
    return this.input[this.pos];
  }

  private empty(): boolean {
    return this.pos >= this.input.length;
  }

  private failAt(message: string): never {
    throw new SfParseError(`${message} at offset ${this.pos}`);
  }

  skipSP(): void {
    while (this.peek() === ' ') this.pos++;
  }

  private skipOWS(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  ensureEnd(): void {
    this.skipSP();
    if (!this.empty()) this.failAt('unexpected characters after the value');
  }

  private put<V>(map: Map<string, V>, key: string, value: V, what: string): void {
    if (map.has(key) && this.options.rejectDuplicateKeys) this.failAt(`repeated ${what} "${key}"`);
    map.set(key, value);
  }

  parseList(): List {
    const members: Member[] = [];
    while (!this.empty()) {
      members.push(this.parseItemOrInnerList());
      this.skipOWS();
      if (this.empty()) return members;
      if (this.input[this.pos++] !== ',') this.failAt('expected "," between list members');
      this.skipOWS();
      if (this.empty()) this.failAt('trailing comma');
    }
    return members;
  }

  parseDictionary(): Dictionary {
    const dictionary = new Map<string, Member>();
    while (!this.empty()) {
      const key = this.parseKey();
      let member: Member;
      if (this.peek() === '=') {
        this.pos++;
        member = this.parseItemOrInnerList();
      } else {
        member = { kind: 'item', value: { type: 'boolean', value: true }, params: this.parseParameters() };
      }
      this.put(dictionary, key, member, 'dictionary key');
      this.skipOWS();
      if (this.empty()) return dictionary;
      if (this.input[this.pos++] !== ',') this.failAt('expected "," between dictionary members');
      this.skipOWS();
      if (this.empty()) this.failAt('trailing comma');
    }
    return dictionary;
  }

  private parseItemOrInnerList(): Member {
    return this.peek() === '(' ? this.parseInnerList() : this.parseItem();
  }

  private parseInnerList(): InnerList {
    if (this.input[this.pos++] !== '(') this.failAt('expected "("');
    const items: Item[] = [];
    while (!this.empty()) {
      this.skipSP();
      if (this.peek() === ')') {
        this.pos++;
        return { kind: 'innerList', items, params: this.parseParameters() };
      }
      items.push(this.parseItem());
      const next = this.peek();
      if (next !== ' ' && next !== ')') this.failAt('expected SP or ")" after an inner list item');
    }
    return this.failAt('inner list not closed');
  }

  parseItem(): Item {
    const value = this.parseBareItem();
    return { kind: 'item', value, params: this.parseParameters() };
  }

  private parseBareItem(): BareItem {
    const c = this.peek();
    if (c === undefined) return this.failAt('expected a bare item');
    if (c === '-' || DIGIT.test(c)) return this.parseNumber();
    if (c === '"') return { type: 'string', value: this.parseString() };
    if (c === '*' || ALPHA.test(c)) return { type: 'token', value: this.parseToken() };
    if (c === ':') return { type: 'byteSequence', value: this.parseByteSequence() };
    if (c === '?') return { type: 'boolean', value: this.parseBoolean() };
    if (c === '@') return this.parseDate();
    if (c === '%') return { type: 'displayString', value: this.parseDisplayString() };
    return this.failAt('unrecognised bare item');
  }

  private parseParameters(): Map<string, BareItem> {
    const params = new Map<string, BareItem>();
    while (!this.empty()) {
      if (this.peek() !== ';') break;
      this.pos++;
      this.skipSP();
      const key = this.parseKey();
      let value: BareItem = { type: 'boolean', value: true };
      if (this.peek() === '=') {
        this.pos++;
        value = this.parseBareItem();
      }
      this.put(params, key, value, 'parameter');
    }
    return params;
  }

  private parseKey(): string {
    const first = this.peek();
    if (first === undefined || !(first === '*' || LCALPHA.test(first))) this.failAt('a key must start with a-z or "*"');
    const start = this.pos;
    while (!this.empty() && KEY_CHAR.test(this.peek()!)) this.pos++;
    return this.input.slice(start, this.pos);
  }

  private parseNumber(): BareItem {
    let type: 'integer' | 'decimal' = 'integer';
    let sign = 1;
    let digits = '';
    if (this.peek() === '-') {
      this.pos++;
      sign = -1;
    }
    if (this.empty()) this.failAt('empty number');
    if (!DIGIT.test(this.peek()!)) this.failAt('expected a digit');
    while (!this.empty()) {
      const c = this.input[this.pos++]!;
      if (DIGIT.test(c)) {
        digits += c;
      } else if (type === 'integer' && c === '.') {
        if (digits.length > 12) this.failAt('more than 12 integer digits in a decimal');
        digits += c;
        type = 'decimal';
      } else {
        this.pos--;
        break;
      }
      if (type === 'integer' && digits.length > 15) this.failAt('more than 15 digits in an integer');
      if (type === 'decimal' && digits.length > 16) this.failAt('more than 16 characters in a decimal');
    }
    // `-0` parses to 0, like the Decimal below: Structured Fields has no negative zero.
    if (type === 'integer') return { type, value: sign * Number.parseInt(digits, 10) + 0 };
    if (digits.endsWith('.')) this.failAt('a decimal must not end with "."');
    if (digits.length - digits.indexOf('.') - 1 > 3) this.failAt('more than 3 fractional digits');
    // `-0` and `-0.0` parse to 0: Structured Fields has no negative zero.
    return { type, value: sign * Number.parseFloat(digits) + 0 };
  }

  private parseString(): string {
    if (this.input[this.pos++] !== '"') this.failAt('expected DQUOTE');
    let out = '';
    while (!this.empty()) {
      const c = this.input[this.pos++]!;
      if (c === '\\') {
        if (this.empty()) this.failAt('string ends after a backslash');
        const next = this.input[this.pos++]!;
        if (next !== '"' && next !== '\\') this.failAt('only \\" and \\\\ escapes are allowed');
        out += next;
      } else if (c === '"') {
        return out;
      } else if (c < ' ' || c > '~') {
        this.failAt('strings hold only VCHAR and SP');
      } else {
        out += c;
      }
    }
    return this.failAt('string not closed');
  }

  private parseToken(): string {
    const first = this.peek();
    if (first === undefined || !(first === '*' || ALPHA.test(first))) this.failAt('a token must start with ALPHA or "*"');
    const start = this.pos;
    while (!this.empty() && TOKEN_CHAR.test(this.peek()!)) this.pos++;
    return this.input.slice(start, this.pos);
  }

  private parseByteSequence(): Uint8Array<ArrayBuffer> {
    if (this.input[this.pos++] !== ':') this.failAt('expected ":"');
    const end = this.input.indexOf(':', this.pos);
    if (end === -1) this.failAt('byte sequence not closed');
    const content = this.input.slice(this.pos, end);
    this.pos = end + 1;
    const bytes = base64Decode(content);
    if (bytes === undefined) this.failAt('byte sequence is not base64');
    return bytes;
  }

  private parseBoolean(): boolean {
    if (this.input[this.pos++] !== '?') this.failAt('expected "?"');
    const c = this.input[this.pos++];
    if (c === '1') return true;
    if (c === '0') return false;
    this.pos--;
    return this.failAt('a boolean is ?0 or ?1');
  }

  private parseDate(): BareItem {
    if (this.input[this.pos++] !== '@') this.failAt('expected "@"');
    const number = this.parseNumber();
    if (number.type !== 'integer') this.failAt('a date must be an integer');
    return { type: 'date', value: number.value as number };
  }

  private parseDisplayString(): string {
    if (this.input.slice(this.pos, this.pos + 2) !== '%"') this.failAt('expected %"');
    this.pos += 2;
    const bytes: number[] = [];
    while (!this.empty()) {
      const c = this.input[this.pos++]!;
      if (c < ' ' || c > '~') this.failAt('display strings hold only VCHAR and SP');
      if (c === '%') {
        const hex = this.input.slice(this.pos, this.pos + 2);
        if (!LOWER_HEX.test(hex)) this.failAt('"%" must be followed by two lowercase hex digits');
        this.pos += 2;
        bytes.push(Number.parseInt(hex, 16));
      } else if (c === '"') {
        try {
          return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
        } catch {
          return this.failAt('display string is not UTF-8');
        }
      } else {
        bytes.push(c.charCodeAt(0));
      }
    }
    return this.failAt('display string not closed');
  }
}

function run<T>(input: string, options: SfParseOptions, body: (parser: Parser) => T): Result<T> {
  if (!ASCII.test(input)) return fail('ERR_SF_PARSE', 'field value is not ASCII');
  try {
    const parser = new Parser(input, options);
    parser.skipSP();
    const value = body(parser);
    parser.ensureEnd();
    return ok(value);
  } catch (error) {
    if (error instanceof SfParseError) return fail('ERR_SF_PARSE', error.message);
    throw error;
  }
}

/** RFC 8941 §4.2 with field_type "dictionary". */
export function parseDictionary(input: string, options: SfParseOptions = {}): Result<Dictionary> {
  return run(input, options, (p) => p.parseDictionary());
}

/** RFC 8941 §4.2 with field_type "list". */
export function parseList(input: string, options: SfParseOptions = {}): Result<List> {
  return run(input, options, (p) => p.parseList());
}

/** RFC 8941 §4.2 with field_type "item". */
export function parseItem(input: string, options: SfParseOptions = {}): Result<Item> {
  return run(input, options, (p) => p.parseItem());
}

/** Parses a field value as the given structured type. */
export function parseStructuredField(input: string, type: StructuredFieldType, options: SfParseOptions = {}): Result<Dictionary | List | Item> {
  if (type === 'dictionary') return parseDictionary(input, options);
  if (type === 'list') return parseList(input, options);
  return parseItem(input, options);
}
