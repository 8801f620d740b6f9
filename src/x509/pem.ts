/**
 * PEM text (one or more `CERTIFICATE` blocks) to DER byte strings, in order.
 *
 * Spec: RFC 7468 §2 (encapsulation boundaries, base64 body), §5.1 (label `CERTIFICATE`). Accepts what RFC 7468 §3
 * calls the lax form only in line handling: LF or CRLF line ends, blank lines, trailing spaces or tabs on a line, any
 * line length. Strict otherwise:
 *  - only `CERTIFICATE` blocks; every BEGIN has its END with the same label, blocks never nest;
 *  - nothing but whitespace outside blocks (no explanatory text, which RFC 7468 §2 tolerates: a configured bundle is
 *    certificates and nothing else, and text between blocks hides mistakes such as a pasted private key);
 *  - the base64 body is standard and padded (base64.ts); no headers (RFC 1421 `Proc-Type:` and the like);
 *  - at most `maxBlocks` blocks and `maxBlocks × MAX_X509_PEM_BLOCK_CHARS` characters, checked before any decoding.
 *
 * Does NOT parse the certificates (certificate.ts does) or check their size (the caller does, on the bytes).
 * Errors are short texts naming a line number, never content.
 */
import { MAX_X509_PEM_BLOCK_CHARS } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import { decodeBase64 } from './base64.ts';

const BEGIN = /^-----BEGIN ([A-Z0-9 ]*)-----$/;
const END = /^-----END ([A-Z0-9 ]*)-----$/;

/** `too-many`: more than `maxBlocks` blocks; `malformed`: anything else. */
export function decodePemCertificates(text: string, maxBlocks: number): Result<Uint8Array[], 'too-many' | 'malformed'> {
  if (typeof text !== 'string') return fail('malformed', 'PEM input is not a string');
  const limit = maxBlocks * MAX_X509_PEM_BLOCK_CHARS;
  if (text.length > limit) return fail('malformed', `PEM text longer than ${limit} characters`);
  const lines = text.split('\n');
  const out: Uint8Array[] = [];
  let body: string[] | undefined;
  for (const [i, line] of lines.entries()) {
    const trimmed = line.replace(/[ \t\r]+$/, '');
    const n = i + 1;
    if (body === undefined) {
      if (trimmed.trim() === '') continue;
      const begin = BEGIN.exec(trimmed);
      if (!begin) return fail('malformed', `line ${n}: text outside a PEM block`);
      if (begin[1] !== 'CERTIFICATE') return fail('malformed', `line ${n}: a PEM block that is not a CERTIFICATE`);
      if (out.length >= maxBlocks) return fail('too-many', `more than ${maxBlocks} certificates`);
      body = [];
      continue;
    }
    const end = END.exec(trimmed);
    if (end) {
      if (end[1] !== 'CERTIFICATE') return fail('malformed', `line ${n}: END label does not match BEGIN`);
      const der = decodeBase64(body.join(''), 'required');
      if (!der || der.length === 0) return fail('malformed', `line ${n}: the block is not valid base64`);
      out.push(der);
      body = undefined;
      continue;
    }
    if (BEGIN.test(trimmed)) return fail('malformed', `line ${n}: BEGIN inside a PEM block`);
    body.push(trimmed.replace(/^[ \t]+/, ''));
  }
  if (body !== undefined) return fail('malformed', 'a PEM block has no END line');
  if (out.length === 0) return fail('malformed', 'no CERTIFICATE block');
  return ok(out);
}
