/**
 * Which HTTP fields are Structured Fields, and of which type: what `sf` (RFC 9421 §2.1.1) needs to know, since
 * "if the application does not know the type of the field ... the use of this flag will produce an error".
 *
 * The defaults are the structured fields defined by the RFCs this project touches; an application adds its own
 * through the `structuredFields` option (lowercase name → type), which takes precedence.
 *
 * Does NOT guess: a field in neither table has no known type, and `sf` on it fails.
 */
import type { StructuredFieldType } from './sf-types.ts';

export type StructuredFieldTypes = Readonly<Record<string, StructuredFieldType>>;

export const DEFAULT_STRUCTURED_FIELDS: StructuredFieldTypes = {
  // RFC 9421 §4.1, §4.2, §5.1
  'signature-input': 'dictionary',
  signature: 'dictionary',
  'accept-signature': 'dictionary',
  // RFC 9530 §2, §3, §4
  'content-digest': 'dictionary',
  'repr-digest': 'dictionary',
  'want-content-digest': 'dictionary',
  'want-repr-digest': 'dictionary',
  // RFC 9440 §2.2, §2.3
  'client-cert': 'item',
  'client-cert-chain': 'list',
  // RFC 9218 §5
  priority: 'dictionary',
  // RFC 9209 §2, RFC 9211 §2
  'proxy-status': 'list',
  'cache-status': 'list',
};

export function structuredFieldType(name: string, extra: StructuredFieldTypes | undefined): StructuredFieldType | undefined {
  if (extra !== undefined && Object.hasOwn(extra, name)) return extra[name];
  return Object.hasOwn(DEFAULT_STRUCTURED_FIELDS, name) ? DEFAULT_STRUCTURED_FIELDS[name] : undefined;
}
