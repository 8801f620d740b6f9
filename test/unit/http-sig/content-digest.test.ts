/**
 * RFC 9530 `Content-Digest` / `Repr-Digest` (src/http-sig/content-digest.ts) against the RFC's own examples in
 * test/vectors/rfc9530/examples.json: every example whose bytes are known must verify with `checkDigestField`, and
 * `digestField` must reproduce its sha-256 / sha-512 value byte for byte. The examples whose printed value does not
 * match the printed bytes (Brotli examples, the §2/§3 two-member pair, the over-padded `…Dg==` values) are kept in
 * the file's `inconsistent` list and only asserted to fail with the code their defect implies. Then one negative
 * test per error code: malformed dictionary, non-Byte-Sequence member, only unsupported algorithms, one mismatching
 * member of two; and an unknown algorithm beside a correct sha-256 is ignored.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkDigestField, digestField, type DigestAlgorithm, type DigestErrorCode } from '../../../src/http-sig/content-digest.ts';
import type { Result } from '../../../src/result.ts';

interface Example {
  id: string;
  section: string;
  title: string;
  field: 'Content-Digest' | 'Repr-Digest';
  value: string;
  bodySource: 'message' | 'prose' | 'inferred';
  bodyText?: string;
  bodyBase64?: string;
  note?: string;
  expectedCode?: DigestErrorCode;
}

interface Vectors {
  examples: Example[];
  inconsistent: Example[];
  sampleDigestValues: { section: string; inputText: string; values: Record<string, string> };
}

const vectors = JSON.parse(readFileSync(new URL('../../vectors/rfc9530/examples.json', import.meta.url), 'utf8')) as Vectors;

const utf8 = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
const fromBase64 = (b64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));

function bodyOf(e: Example): Uint8Array<ArrayBuffer> {
  if (e.bodyText !== undefined) return utf8(e.bodyText);
  if (e.bodyBase64 !== undefined) return fromBase64(e.bodyBase64);
  throw new Error(`${e.id} has no body`);
}

/** `key=:b64:` members of a field value as written by the RFC (no parameters, no spaces inside members). */
function members(value: string): { key: string; member: string }[] {
  return value.split(',').map((m) => {
    const member = m.trim();
    return { key: member.slice(0, member.indexOf('=')), member };
  });
}

function expectCode(result: Result<unknown, DigestErrorCode>, code: DigestErrorCode): void {
  expect(result.ok ? 'ok' : result.code, result.ok ? 'succeeded' : result.detail).toBe(code);
}

function expectAlgorithms(result: Result<DigestAlgorithm[], DigestErrorCode>, algorithms: DigestAlgorithm[]): void {
  if (!result.ok) expect.fail(`expected success, got ${result.code}: ${result.detail}`);
  expect(result.value).toEqual(algorithms);
}

const HELLO = utf8('{"hello": "world"}');
const HELLO_LF = utf8('{"hello": "world"}\n');
const SHA256_HELLO_LF = 'sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:';
const SHA512_HELLO_LF = 'sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:';
/** sha-512 of `{"hello": "world"}` WITHOUT the LF (Appendix D): a well-formed, wrong digest for HELLO_LF. */
const SHA512_HELLO = 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:';
const SHA256_HELLO = 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:';

describe('RFC 9530 examples (test/vectors/rfc9530/examples.json)', () => {
  it('holds the extracted examples', () => {
    expect(vectors.examples).toHaveLength(16);
    expect(vectors.inconsistent).toHaveLength(8);
    for (const e of [...vectors.examples, ...vectors.inconsistent]) expect(['Content-Digest', 'Repr-Digest']).toContain(e.field);
  });

  it.each(vectors.examples.map((e) => [`${e.section} ${e.id}`, e] as const))('%s verifies with checkDigestField', async (_, e) => {
    const expected = members(e.value).map((m) => m.key) as DigestAlgorithm[];
    expectAlgorithms(await checkDigestField(e.value, bodyOf(e)), expected);
  });

  it.each(vectors.examples.map((e) => [`${e.section} ${e.id}`, e] as const))('%s: digestField reproduces each member', async (_, e) => {
    for (const { key, member } of members(e.value)) {
      expect(await digestField(bodyOf(e), key as DigestAlgorithm)).toBe(member);
    }
  });

  it('digestField defaults to sha-256 (Appendix B.1 value)', async () => {
    expect(await digestField(HELLO_LF)).toBe(SHA256_HELLO_LF);
  });

  it('Appendix B.3: the Repr-Digest value does not verify over the partial content (it covers the whole representation)', async () => {
    const b3 = vectors.examples.find((e) => e.id === 'b3-repr-digest');
    expect(b3?.value).toBe(SHA256_HELLO_LF);
    expectCode(await checkDigestField(SHA256_HELLO_LF, utf8('"world"}\n')), 'ERR_DIGEST_MISMATCH');
  });
});

describe('RFC 9530 examples whose printed value does not match the printed bytes', () => {
  it.each(vectors.inconsistent.map((e) => [`${e.section} ${e.id} -> ${e.expectedCode}`, e] as const))('%s', async (_, e) => {
    expect(e.expectedCode).toBeDefined();
    expectCode(await checkDigestField(e.value, bodyOf(e)), e.expectedCode!);
  });

  it('the Brotli bytes shown in Appendix B.4/B.6 do not produce the published sha-256 / sha-512 values', async () => {
    const b6 = vectors.inconsistent.find((e) => e.id === 'b6-response-repr-digest')!;
    const body = bodyOf(b6);
    expect(body.byteLength).toBe(23);
    const published = members(b6.value);
    expect(await digestField(body, 'sha-256')).not.toBe(published[0]?.member);
    expect(await digestField(body, 'sha-512')).not.toBe(published[1]?.member);
  });
});

describe('RFC 9530 Appendix D sample digest values (input without LF)', () => {
  const { inputText, values } = vectors.sampleDigestValues;
  const input = utf8(inputText);

  it('sha-256 and sha-512 verify and are reproduced by digestField', async () => {
    for (const alg of ['sha-256', 'sha-512'] as const) {
      const field = `${alg}=${values[alg]}`;
      expectAlgorithms(await checkDigestField(field, input), [alg]);
      expect(await digestField(input, alg)).toBe(field);
    }
  });

  it('the sha (SHA-1) sample value is correct, and still unsupported', async () => {
    const sha1 = new Uint8Array(await crypto.subtle.digest('SHA-1', input));
    expect(`:${toBase64(sha1)}:`).toBe(values['sha']);
    expectCode(await checkDigestField(`sha=${values['sha']}`, input), 'ERR_DIGEST_UNSUPPORTED');
  });

  it('all eight samples in one dictionary: the deprecated ones are ignored, sha-512 and sha-256 checked in order', async () => {
    const field = Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    expectAlgorithms(await checkDigestField(field, input), ['sha-512', 'sha-256']);
  });

  it('only deprecated algorithms (md5, sha, unixsum, unixcksum, adler, crc32c) -> ERR_DIGEST_UNSUPPORTED', async () => {
    const deprecated = Object.entries(values).filter(([k]) => k !== 'sha-256' && k !== 'sha-512');
    expect(deprecated.map(([k]) => k)).toEqual(['md5', 'sha', 'unixsum', 'unixcksum', 'adler', 'crc32c']);
    for (const [k, v] of deprecated) expectCode(await checkDigestField(`${k}=${v}`, input), 'ERR_DIGEST_UNSUPPORTED');
    expectCode(await checkDigestField(deprecated.map(([k, v]) => `${k}=${v}`).join(', '), input), 'ERR_DIGEST_UNSUPPORTED');
  });
});

describe('checkDigestField error codes', () => {
  it.each([
    ['unterminated Byte Sequence', 'sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg='],
    ['base64 without the colons', 'sha-256=RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg='],
    ['not base64 inside the colons', 'sha-256=:RK/0qy18 MlBSVnWg!:'],
    ['over-padded base64 (45 characters)', 'sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg==:'],
    ['uppercase key (not an sf-key)', 'SHA-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:'],
    ['trailing comma', `${SHA256_HELLO_LF},`],
    ['members separated by a space, no comma', `${SHA256_HELLO_LF} ${SHA512_HELLO_LF}`],
    ['duplicate key', `${SHA256_HELLO_LF}, ${SHA256_HELLO_LF}`],
  ])('malformed dictionary (%s) -> ERR_DIGEST_MALFORMED', async (_, value) => {
    expectCode(await checkDigestField(value, HELLO_LF), 'ERR_DIGEST_MALFORMED');
  });

  it.each([
    ['String', 'sha-256="RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg="'],
    ['Token', 'sha-256=RK/0qy18MlBSVnWgjwz6lZEWjP'],
    ['Integer', 'sha-256=1'],
    ['Boolean (bare key)', 'sha-256'],
    ['Inner List of the right Byte Sequence', 'sha-256=(:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:)'],
    ['String sha-512 after a correct sha-256', `${SHA256_HELLO_LF}, sha-512="YMAam51Jz"`],
  ])('non-Byte-Sequence member (%s) -> ERR_DIGEST_MALFORMED', async (_, value) => {
    expectCode(await checkDigestField(value, HELLO_LF), 'ERR_DIGEST_MALFORMED');
  });

  it.each([
    ['md5 only', 'md5=:UFIauregE76D7gDe0/n0JA==:'],
    ['sha only', 'sha=:yyTATouGJ50S3R4iWotz3qq6P9Y=:'],
    ['md5 and sha', 'md5=:UFIauregE76D7gDe0/n0JA==:, sha=:yyTATouGJ50S3R4iWotz3qq6P9Y=:'],
    ['unregistered sha-384', 'sha-384=:AAAA:'],
    ['empty dictionary', ''],
  ])('no supported algorithm (%s) -> ERR_DIGEST_UNSUPPORTED', async (_, value) => {
    expectCode(await checkDigestField(value, HELLO_LF), 'ERR_DIGEST_UNSUPPORTED');
  });

  it.each([
    ['correct sha-256, wrong sha-512', `${SHA256_HELLO_LF}, ${SHA512_HELLO}`],
    ['wrong sha-512 first, correct sha-256', `${SHA512_HELLO}, ${SHA256_HELLO_LF}`],
    ['wrong sha-256, correct sha-512', `${SHA256_HELLO}, ${SHA512_HELLO_LF}`],
    ['correct sha-512, wrong sha-256', `${SHA512_HELLO_LF}, ${SHA256_HELLO}`],
  ])('one of two members mismatches (%s) -> ERR_DIGEST_MISMATCH', async (_, value) => {
    expectCode(await checkDigestField(value, HELLO_LF), 'ERR_DIGEST_MISMATCH');
  });

  it('a single member over different bytes (the LF dropped) -> ERR_DIGEST_MISMATCH', async () => {
    expectCode(await checkDigestField(SHA256_HELLO_LF, HELLO), 'ERR_DIGEST_MISMATCH');
    expectCode(await checkDigestField(SHA256_HELLO, HELLO_LF), 'ERR_DIGEST_MISMATCH');
  });

  it('a digest of the wrong length -> ERR_DIGEST_MISMATCH', async () => {
    expectCode(await checkDigestField('sha-256=:UFIauregE76D7gDe0/n0JA==:', HELLO_LF), 'ERR_DIGEST_MISMATCH');
  });
});

describe('unknown algorithms beside a supported one', () => {
  it.each([
    ['md5 (Appendix D value) before sha-256', 'md5=:Sd/dVLAcvNLSq16eXua5uQ==:, ' + SHA256_HELLO],
    ['unregistered key after sha-256', `${SHA256_HELLO}, blake3=:AAAA:`],
    ['wrong unixsum value (ignored, not checked)', `unixsum=:AAA=:, ${SHA256_HELLO}`],
  ])('%s: passes on the sha-256 member', async (_, value) => {
    expectAlgorithms(await checkDigestField(value, HELLO), ['sha-256']);
  });
});
