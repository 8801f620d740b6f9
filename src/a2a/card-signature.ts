/**
 * Signed Agent Cards: A2A v1.0 §8.4 (Agent Card signing), AgentCardSignature (§4.4 / proto `AgentCardSignature`).
 *
 * Wire shape (what @a2a-js/sdk 1.3.0 `generateAgentCardSignature` writes and `verifyAgentCardSignature` reads):
 *   card.signatures = [ ...previous, { protected: b64url(JSON header), signature: b64url(sig), header?: {…} } ]
 * i.e. a JWS in flattened JSON serialisation (RFC 7515 §7.2.2) with the payload omitted (detached, RFC 7515
 * Appendix F; NOT `b64:false`): signing input = ASCII(protected || '.' || BASE64URL(canonical card)).
 *
 * Canonical card (the payload) = RFC 8785 JCS of the card without its `signatures` member, after removing
 * empty values recursively (`""`, `null`, `[]`, `{}`, and array elements that are empty), which is what the
 * a2a-js canonicaliser does after its proto round trip. The protected header carries `alg`, `typ: "JOSE"`,
 * `kid` (all required by §8.4) and optionally `jku`.
 *
 * Verification checks, per signature entry, until one verifies (§8.4: at least one valid signature):
 * shape (strings, canonical base64url, header an object, protected/unprotected names disjoint, no `crit`);
 * `alg`, `kid`, `typ` present in the protected header; `typ` is JOSE (RFC 7515 §4.1.9 comparison); `alg` is in
 * the caller's allowlist and asymmetric; the key from the caller's `keys(kid, jku)` (this module never fetches
 * `jku`: whether and from where to fetch is the caller's decision, after its own allowlist / SSRF checks) fits
 * `alg`; the signature verifies over the canonical card.
 *
 * NOT checked / NOT done: that `jku` is HTTPS or allowlisted (the caller's `keys` decides); the card's own
 * schema (required fields, enum values); ProtoJSON normalisation. a2a-js first runs the card through
 * `AgentCard.fromJSON/toJSON`, which drops members outside the v1.0 schema and non-optional members holding
 * their default (e.g. an extension's `required: false`). This module covers every member as given, so a card
 * must already be in that normal form (which is what a gateway should serve anyway: sign exactly what you
 * serve) for the SDK to reach the same bytes. Members outside the schema are thus covered here but not by
 * the SDK. Also not checked: `exp`/`iat`-style freshness (the spec defines none).
 */
import { FlattenedSign, type JWK } from 'jose';
import { allowedAlgorithms, describe, isAsymmetricJwsAlgorithm, keyFits, verifyParams } from '../crypto/algorithms.ts';
import { base64urlDecode, base64urlEncode } from '../crypto/base64url.ts';
import { isCryptoKey, typMatches, verificationKey } from '../crypto/jws.ts';
import { KeyImportCache, sharedKeyImportCache } from '../crypto/key-cache.ts';
import { fail, ok, type Result } from '../result.ts';
import { canonicalize } from './jcs.ts';

export interface AgentCardSignature {
  /** base64url of the UTF-8 JSON protected header. */
  protected: string;
  /** base64url of the signature. */
  signature: string;
  /** Unprotected header parameters. */
  header?: Record<string, unknown>;
}

/** An Agent Card as JSON (ProtoJSON camelCase); only `signatures` is interpreted here. */
export type AgentCardJson = { [member: string]: unknown; signatures?: AgentCardSignature[] };

export const CARD_SIGNATURE_ERRORS = [
  'ERR_CARD_SIGNATURE_MISSING',
  'ERR_CARD_SIGNATURE_MALFORMED',
  'ERR_CARD_SIGNATURE_TYP_INVALID',
  'ERR_CARD_SIGNATURE_ALG_NOT_ALLOWED',
  'ERR_CARD_SIGNATURE_KEY_NOT_FOUND',
  'ERR_CARD_SIGNATURE_INVALID',
] as const;
export type CardSignatureErrorCode = (typeof CARD_SIGNATURE_ERRORS)[number];

/** More signature entries than this are refused unread (each may cost a key lookup and a verify). */
export const MAX_CARD_SIGNATURES = 8;

/** The `typ` §8.4 asks for. */
export const CARD_SIGNATURE_TYP = 'JOSE';

/** The JCS bytes a card signature covers: the card without `signatures`, empty values removed. */
export function canonicalAgentCard(card: AgentCardJson): string {
  const { signatures: _ignored, ...rest } = card;
  return canonicalize(withoutEmpty(rest) ?? {});
}

/** a2a-js `cleanEmpty`: `""`, null, undefined, and arrays / objects left empty after cleaning are dropped. */
function withoutEmpty(value: unknown): unknown {
  if (value === '' || value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const kept = value.map(withoutEmpty).filter((v) => v !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  if (typeof value === 'object') {
    const kept: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      const cleaned = withoutEmpty(member);
      if (cleaned !== undefined) kept[name] = cleaned;
    }
    return Object.keys(kept).length > 0 ? kept : undefined;
  }
  return value;
}

export interface SignAgentCardOptions {
  /** Private signing key (Web Crypto). */
  key: CryptoKey;
  alg: string;
  kid: string;
  /** Where verifiers can find the public key (a JWKS URL); goes into the protected header. */
  jku?: string;
  /** Unprotected header parameters, if any (must not repeat protected ones). */
  header?: Record<string, unknown>;
}

/**
 * Returns a copy of `card` with one more entry in `signatures` (existing entries are kept, so a card can be
 * signed with the old and the new key during a rotation). Throws on an unusable key or a card that is not JSON.
 */
export async function signAgentCard<C extends AgentCardJson>(card: C, options: SignAgentCardOptions): Promise<C & { signatures: AgentCardSignature[] }> {
  if (!isAsymmetricJwsAlgorithm(options.alg)) throw new TypeError(`${describe(options.alg)} is not an asymmetric JWS algorithm`);
  if (typeof options.kid !== 'string' || options.kid === '') throw new TypeError('kid is required (A2A §8.4)');
  const protectedHeader = { alg: options.alg, typ: CARD_SIGNATURE_TYP, kid: options.kid, ...(options.jku !== undefined ? { jku: options.jku } : {}) };
  const signer = new FlattenedSign(new TextEncoder().encode(canonicalAgentCard(card))).setProtectedHeader(protectedHeader);
  if (options.header && Object.keys(options.header).length > 0) signer.setUnprotectedHeader(options.header);
  const jws = await signer.sign(options.key);
  const entry: AgentCardSignature = { protected: jws.protected!, signature: jws.signature, ...(jws.header ? { header: jws.header as Record<string, unknown> } : {}) };
  return { ...card, signatures: [...(card.signatures ?? []), entry] };
}

export interface VerifyAgentCardOptions {
  /**
   * The public key for `kid` (and the card's `jku`, passed only as a hint). `undefined` when unknown. This is
   * the only place a `jku` could be fetched: do so only from an allowlist.
   */
  keys: (kid: string, jku: string | undefined) => Promise<JWK | CryptoKey | undefined>;
  /** Accepted `alg` values; symmetric algorithms and `none` are never accepted. */
  algorithms: readonly string[];
  cache?: KeyImportCache;
}

export interface VerifiedCardSignature {
  /** Index of the entry that verified in `signatures`. */
  index: number;
  alg: string;
  kid: string;
  jku?: string;
}

type EntryFailure = { ok: false; code: CardSignatureErrorCode; detail: string };

/**
 * Verifies that at least one entry of `card.signatures` is valid. On failure, the code is that of the first
 * entry (the detail lists every entry's reason).
 */
export async function verifyAgentCard(card: AgentCardJson, options: VerifyAgentCardOptions): Promise<Result<VerifiedCardSignature, CardSignatureErrorCode>> {
  if (typeof card !== 'object' || card === null || Array.isArray(card)) return fail('ERR_CARD_SIGNATURE_MALFORMED', 'card is not a JSON object');
  const signatures: unknown = card.signatures;
  if (signatures === undefined || (Array.isArray(signatures) && signatures.length === 0)) return fail('ERR_CARD_SIGNATURE_MISSING', 'card has no signatures');
  if (!Array.isArray(signatures)) return fail('ERR_CARD_SIGNATURE_MALFORMED', 'signatures is not an array');
  if (signatures.length > MAX_CARD_SIGNATURES) return fail('ERR_CARD_SIGNATURE_MALFORMED', `more than ${MAX_CARD_SIGNATURES} signatures`);
  let payload: string;
  try {
    payload = base64urlEncode(canonicalAgentCard(card));
  } catch (error) {
    return fail('ERR_CARD_SIGNATURE_MALFORMED', `card cannot be canonicalised: ${error instanceof Error ? error.message : 'not JSON'}`);
  }
  const allowed = allowedAlgorithms(options.algorithms);
  const cache = options.cache ?? sharedKeyImportCache();
  const failures: EntryFailure[] = [];
  for (let index = 0; index < signatures.length; index++) {
    const outcome = await verifyEntry(signatures[index], payload, allowed, options.keys, cache);
    if (outcome.ok) return ok({ index, ...outcome.value });
    failures.push(outcome);
  }
  const first = failures[0]!;
  return fail(first.code, failures.map((f, i) => `signatures[${i}]: ${f.detail}`).join('; '));
}

async function verifyEntry(
  entry: unknown,
  payload: string,
  allowed: Set<string>,
  keys: VerifyAgentCardOptions['keys'],
  cache: KeyImportCache,
): Promise<{ ok: true; value: Omit<VerifiedCardSignature, 'index'> } | EntryFailure> {
  const malformed = (detail: string): EntryFailure => ({ ok: false, code: 'ERR_CARD_SIGNATURE_MALFORMED', detail });
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return malformed('entry is not an object');
  const { protected: encodedHeader, signature, header } = entry as Record<string, unknown>;
  if (typeof encodedHeader !== 'string' || typeof signature !== 'string') return malformed('protected and signature must be strings');
  if (header !== undefined && (typeof header !== 'object' || header === null || Array.isArray(header))) return malformed('header is not an object');
  const headerBytes = base64urlDecode(encodedHeader);
  const signatureBytes = base64urlDecode(signature);
  if (!headerBytes || headerBytes.length === 0) return malformed('protected is not base64url');
  if (!signatureBytes || signatureBytes.length === 0) return malformed('signature is not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(headerBytes));
  } catch {
    return malformed('protected header is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return malformed('protected header is not a JSON object');
  const h = parsed as Record<string, unknown>;
  const unprotected = (header ?? {}) as Record<string, unknown>;
  const repeated = Object.keys(unprotected).filter((name) => name in h);
  if (repeated.length > 0) return malformed(`header repeats protected parameter(s) ${repeated.map(describe).join(', ')} (RFC 7515 §7.2.1)`);
  if ('crit' in h || 'crit' in unprotected) return malformed('crit is not supported');
  if ('b64' in h) return malformed('b64 is not used by A2A card signatures');
  if (typeof h.alg !== 'string') return malformed('protected header has no alg');
  if (typeof h.kid !== 'string' || h.kid === '') return malformed('protected header has no kid (A2A §8.4)');
  if (h.jku !== undefined && typeof h.jku !== 'string') return malformed('jku is not a string');
  if (!typMatches(h.typ, CARD_SIGNATURE_TYP)) return { ok: false, code: 'ERR_CARD_SIGNATURE_TYP_INVALID', detail: `typ ${describe(h.typ)} is not JOSE` };
  const alg = h.alg;
  if (!allowed.has(alg) || !isAsymmetricJwsAlgorithm(alg)) return { ok: false, code: 'ERR_CARD_SIGNATURE_ALG_NOT_ALLOWED', detail: `alg ${describe(alg)} is not allowed` };
  const kid = h.kid;
  const jku = h.jku as string | undefined;
  let source: JWK | CryptoKey | undefined;
  try {
    source = await keys(kid, jku);
  } catch (error) {
    return { ok: false, code: 'ERR_CARD_SIGNATURE_KEY_NOT_FOUND', detail: `key source failed for kid ${describe(kid)} (${error instanceof Error ? error.name : typeof error})` };
  }
  if (source === undefined || source === null) return { ok: false, code: 'ERR_CARD_SIGNATURE_KEY_NOT_FOUND', detail: `no key for kid ${describe(kid)}` };
  const key = await verificationKey(source, alg, cache);
  if (!key.ok) return { ok: false, code: 'ERR_CARD_SIGNATURE_INVALID', detail: key.detail };
  if (!isCryptoKey(key.value) || !keyFits(key.value, alg)) return { ok: false, code: 'ERR_CARD_SIGNATURE_INVALID', detail: `key for kid ${describe(kid)} does not fit ${alg}` };
  let valid = false;
  try {
    const signingInput = new TextEncoder().encode(`${encodedHeader}.${payload}`);
    valid = await crypto.subtle.verify(verifyParams(alg), key.value, signatureBytes as Uint8Array<ArrayBuffer>, signingInput);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, code: 'ERR_CARD_SIGNATURE_INVALID', detail: `signature by kid ${describe(kid)} does not verify` };
  return { ok: true, value: { alg, kid, ...(jku !== undefined ? { jku } : {}) } };
}
