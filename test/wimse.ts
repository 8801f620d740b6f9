/**
 * Test-only WIT, WPT and JWT-SVID minting for the gateway tests (in-process unit tests and the conformance suite).
 * Valid by default against the real clock; `header` and `claims` overrides break exactly one rule (a value of
 * `undefined` removes the member). Built on test/unit/verify/mint.ts, which signs whatever it is given.
 */
import { sha256b64url } from '../src/crypto/digest.ts';
import { sign, type TestKey } from './unit/verify/mint.ts';

export type Overrides = Record<string, unknown>;

function apply(base: Overrides, overrides: Overrides = {}): Overrides {
  const out: Overrides = { ...base, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete out[name];
  return out;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

export interface WitOptions {
  sub: string;
  /** The workload's key, whose public part goes into cnf.jwk with `alg` = its algorithm. */
  workload: TestKey;
  issuer: TestKey;
  kid?: string;
  iss?: string;
  header?: Overrides;
  claims?: Overrides;
  /** Sign with this key instead of `issuer` (a forged signature). */
  signWith?: TestKey;
}

export function mintWit(o: WitOptions): Promise<string> {
  const now = nowSeconds();
  const header = apply({ alg: o.issuer.alg, typ: 'wit+jwt', kid: o.kid ?? 'k1' }, o.header);
  const claims = apply({
    sub: o.sub,
    ...(o.iss ? { iss: o.iss } : {}),
    iat: now - 5,
    exp: now + 600,
    jti: crypto.randomUUID(),
    cnf: { jwk: { ...o.workload.publicJwk, alg: o.workload.alg } },
  }, o.claims);
  return sign(header, claims, o.signWith ?? o.issuer);
}

export interface WptOptions {
  wit: string;
  workload: TestKey;
  aud: string;
  header?: Overrides;
  claims?: Overrides;
  signWith?: TestKey;
}

export async function mintWpt(o: WptOptions): Promise<string> {
  const header = apply({ alg: o.workload.alg, typ: 'wpt+jwt' }, o.header);
  const claims = apply({ aud: o.aud, exp: nowSeconds() + 60, jti: crypto.randomUUID(), wth: await sha256b64url(o.wit) }, o.claims);
  return sign(header, claims, o.signWith ?? o.workload);
}

export interface SvidOptions {
  sub: string;
  aud: string | string[];
  issuer: TestKey;
  kid?: string;
  header?: Overrides;
  claims?: Overrides;
}

export function mintJwtSvid(o: SvidOptions): Promise<string> {
  const now = nowSeconds();
  return sign(apply({ alg: o.issuer.alg, typ: 'JWT', kid: o.kid ?? 'k1' }, o.header), apply({ sub: o.sub, aud: o.aud, iat: now - 5, exp: now + 300 }, o.claims), o.issuer);
}

/** Pieces (segments of 16+ characters) of `tokens` found in `text`: must be empty wherever tokens must not go. */
export function leakedPieces(text: string, tokens: readonly string[]): string[] {
  return tokens.flatMap((t) => t.split('.')).filter((piece) => piece.length >= 16 && text.includes(piece));
}
