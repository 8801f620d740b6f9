/**
 * RFC 9440 `Client-Cert` and `Client-Cert-Chain` field values to DER certificates, with the subset of RFC 8941 that
 * they use: a Byte Sequence Item, and a List of Byte Sequence Items.
 *
 * Specs: RFC 9440 §2.1 (each certificate is a Byte Sequence holding the DER certificate), §2.2 (`Client-Cert` is one
 * Byte Sequence; a singleton field that MUST NOT have a list of values or occur several times), §2.3
 * (`Client-Cert-Chain` is a List of Byte Sequences in TLS order, without the end-entity certificate; the root MAY be
 * omitted); RFC 8941 §3.3.5 (`sf-binary = ":" *(base64) ":"`), §4.2 (parsing a field: leading and trailing SP
 * discarded, nothing may remain), §4.2.1 (lists: members separated by OWS "," OWS, no trailing comma), §4.2.7 (Byte
 * Sequence: padding and pad bits are tolerated, see base64.ts).
 *
 * Strict where RFC 8941 leaves a choice, failing closed: parameters on an item (`:…:;a=1`) and inner lists are refused
 * (RFC 9440 defines none, and a certificate carrier has no use for them); an empty Byte Sequence is refused (no DER
 * certificate is empty); non-ASCII, controls and HTAB outside list separators are refused. Several `Client-Cert` lines,
 * which a Headers object joins with ", ", therefore fail as a whole (§2.2 singleton). Sizes are bounded before any
 * decoding (MAX_CLIENT_CERT_FIELD_CHARS, MAX_CLIENT_CERT_CHAIN_FIELD_CHARS, MAX_X509_CERTIFICATE_BYTES) and the chain to
 * MAX_X509_CHAIN_LENGTH − 1 entries (the leaf travels in `Client-Cert`).
 *
 * Does NOT decide whether the fields may be believed. RFC 9440 §3 and §5: a backend "MUST only accept" them from a
 * trusted TLS-terminating reverse proxy that strips them from incoming requests; any client can otherwise send them.
 * The gateway decides that later, from a configured terminator; this module only parses. Nor does it parse the
 * certificates (verify-svid.ts does) or check that `Client-Cert-Chain` comes with a `Client-Cert` (RFC 9440 §2.3: it
 * MUST NOT appear without one; the caller sees both fields).
 */
import { MAX_CLIENT_CERT_CHAIN_FIELD_CHARS, MAX_CLIENT_CERT_FIELD_CHARS, MAX_X509_CERTIFICATE_BYTES, MAX_X509_CHAIN_LENGTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { decodeBase64 } from './base64.ts';
import type { ClientCertHeaderErrorCode } from './errors.ts';

type Parsed<T> = Result<T, ClientCertHeaderErrorCode>;

/** `Client-Cert`: one Byte Sequence Item holding the end-entity certificate (DER). */
export function parseClientCertHeader(value: string): Parsed<Uint8Array> {
  const checked = checkField(value, MAX_CLIENT_CERT_FIELD_CHARS);
  if (!checked.ok) return checked;
  const text = checked.value;
  if (text === '') return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', 'the field is empty');
  const item = byteSequence(text, 0);
  if (!item.ok) return item;
  if (item.value.end !== text.length) {
    return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', text[item.value.end] === ',' ? 'a list where one certificate is expected (several Client-Cert lines?)' : `unexpected character at offset ${item.value.end}`);
  }
  return ok(item.value.bytes);
}

/** `Client-Cert-Chain`: a List of Byte Sequence Items (DER), in TLS order; an empty field is an empty list. */
export function parseClientCertChainHeader(value: string): Parsed<Uint8Array[]> {
  const checked = checkField(value, MAX_CLIENT_CERT_CHAIN_FIELD_CHARS);
  if (!checked.ok) return checked;
  const text = checked.value;
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < text.length) {
    if (out.length >= MAX_X509_CHAIN_LENGTH - 1) return fail('ERR_CLIENT_CERT_CHAIN_TOO_LONG', `more than ${MAX_X509_CHAIN_LENGTH - 1} certificates`);
    if (text[at] === '(') return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `an inner list at offset ${at}`);
    const item = byteSequence(text, at);
    if (!item.ok) return item;
    out.push(item.value.bytes);
    at = skipOws(text, item.value.end);
    if (at === text.length) break;
    if (text[at] !== ',') return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `expected "," at offset ${at}`);
    at = skipOws(text, at + 1);
    if (at === text.length) return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', 'a trailing comma');
  }
  return ok(out);
}

/** Size first, then printable ASCII (HTAB allowed, as OWS), then leading and trailing SP removed (RFC 8941 §4.2). */
function checkField(value: string, maxChars: number): Parsed<string> {
  if (typeof value !== 'string') return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', 'the field value is not a string');
  if (value.length > maxChars) return fail('ERR_CLIENT_CERT_HEADER_TOO_LARGE', `field value of ${value.length} characters, limit ${maxChars}`);
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if ((unit < 0x20 && unit !== 0x09) || unit > 0x7e) return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `a control or non-ASCII character at offset ${i}`);
  }
  return ok(value.replace(/^ +| +$/g, ''));
}

function skipOws(text: string, at: number): number {
  while (text[at] === ' ' || text[at] === '\t') at++;
  return at;
}

/** RFC 8941 §4.2.7 at `start`, then refuses parameters. */
function byteSequence(text: string, start: number): Parsed<{ bytes: Uint8Array; end: number }> {
  if (text[start] !== ':') return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `not a Byte Sequence at offset ${start} (expected ":")`);
  const close = text.indexOf(':', start + 1);
  if (close < 0) return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `the Byte Sequence at offset ${start} has no closing ":"`);
  const bytes = decodeBase64(text.slice(start + 1, close), 'optional');
  if (!bytes) return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `the Byte Sequence at offset ${start} is not base64`);
  if (bytes.length === 0) return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `the Byte Sequence at offset ${start} is empty`);
  if (bytes.length > MAX_X509_CERTIFICATE_BYTES) return fail('ERR_CLIENT_CERT_HEADER_TOO_LARGE', `a certificate of ${bytes.length} bytes, limit ${MAX_X509_CERTIFICATE_BYTES}`);
  if (text[close + 1] === ';') return fail('ERR_CLIENT_CERT_HEADER_MALFORMED', `parameters after the Byte Sequence at offset ${start}`);
  return ok({ bytes, end: close + 1 });
}
