/**
 * The Structured Field Values data model (RFC 8941 §3, with RFC 9651 §3.3.7 Dates and §3.3.8 Display Strings),
 * as plain tagged values.
 *
 * Integers and Decimals are distinct types here (JavaScript numbers alone cannot tell `1` from `1.0`), so a
 * parsed value re-serialises to exactly its strict form (RFC 9421 §2.1.1) and a Decimal is never mistaken for
 * the Integer a signature parameter requires.
 *
 * Does NOT validate anything itself: values are checked by the parser (sf-parse.ts) and serializer
 * (sf-serialize.ts).
 */

export type BareItem =
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'decimal'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'token'; readonly value: string }
  | { readonly type: 'byteSequence'; readonly value: Uint8Array<ArrayBuffer> }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'date'; readonly value: number }
  | { readonly type: 'displayString'; readonly value: string };

/** Parameters: an ordered map of keys to bare items (RFC 8941 §3.1.2). Insertion order is wire order. */
export type Parameters = ReadonlyMap<string, BareItem>;

export interface Item {
  readonly kind: 'item';
  readonly value: BareItem;
  readonly params: Parameters;
}

export interface InnerList {
  readonly kind: 'innerList';
  readonly items: readonly Item[];
  readonly params: Parameters;
}

export type Member = Item | InnerList;

export type List = readonly Member[];

/** A Dictionary: ordered map of keys to members (RFC 8941 §3.2). */
export type Dictionary = ReadonlyMap<string, Member>;

export type StructuredFieldType = 'item' | 'list' | 'dictionary';

export const NO_PARAMS: Parameters = new Map();

export function item(value: BareItem, params: Parameters = NO_PARAMS): Item {
  return { kind: 'item', value, params };
}

export const sfString = (value: string): BareItem => ({ type: 'string', value });
export const sfInteger = (value: number): BareItem => ({ type: 'integer', value });
export const sfBoolean = (value: boolean): BareItem => ({ type: 'boolean', value });
export const sfBytes = (value: Uint8Array<ArrayBuffer>): BareItem => ({ type: 'byteSequence', value });
