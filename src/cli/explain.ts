/**
 * `portcullis explain <token|-> [--jwks FILE]`: decodes a WIT or WPT and says whether (and why not) it is valid.
 *
 * Prints the JOSE header and the claims, never the signature, and never private key members (a `cnf.jwk`
 * carrying `d` is shown without it; verification then fails with ERR_WIT_CNF_PRIVATE_KEY). Times are shown
 * against the real clock.
 * - WIT (`typ` wit+jwt): runs verifyWit with the default policy (ES256; the gateway's default) and the real
 *   clock, against the dev issuer's JWKS for `spiffe://dev.portcullis.local` (never creating it), or against
 *   `--jwks FILE` (a JWKS or one JWK) for whatever trust domain the WIT names. Prints the first failing check's
 *   code, its meaning and detail, or what the WIT establishes.
 * - WPT (`typ` wpt+jwt): prints its claims and whether it has expired. Its signature, `wth`/`tth`/`oth` and
 *   replay can only be checked by the recipient, with the WIT and the request; this command does not.
 * Exit status: 0 for a valid WIT or an unexpired WPT, 1 otherwise. `-` reads the token from stdin (keeps it
 * out of shell history and process lists).
 */
import type { JWK } from 'jose';
import { PRIVATE_JWK_MEMBERS } from '../crypto/algorithms.ts';
import { parseCompactJwt, typMatches } from '../crypto/jws.ts';
import { DEV_TRUST_DOMAIN } from '../mint/dev-issuer.ts';
import { WIT_ERRORS } from '../verify/errors.ts';
import { verifyWit, type WitKeySource } from '../verify/wit.ts';
import { parseCommandArgs, readJsonInput, readStdin } from './args.ts';
import { loadDevIssuer } from './dev-issuer.ts';

/** Far above any WIT or WPT limit; only stops a pasted file from being decoded. */
const MAX_INPUT_CHARS = 64 * 1024;

export async function explainCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('explain', args, { jwks: { type: 'string' } }, { min: 1, max: 1 });
  const token = (positionals[0] === '-' ? await readStdin() : (positionals[0] as string)).trim();
  if (token.length > MAX_INPUT_CHARS) throw new Error(`explain: the input is ${token.length} characters; not a WIT or WPT`);
  const parsed = parseCompactJwt(token);
  if (!parsed.ok) throw new Error(`explain: not a compact JWT (${parsed.detail})`);
  const { header, claims } = parsed.value;
  const kind = typMatches(header.typ, 'wit+jwt') ? 'wit' : typMatches(header.typ, 'wpt+jwt') ? 'wpt' : undefined;

  const out: string[] = [];
  out.push(kind === 'wit' ? 'Workload Identity Token (WIT)' : kind === 'wpt' ? 'Workload Proof Token (WPT)' : `Not a WIT or WPT: typ is ${JSON.stringify(header.typ ?? null)}`);
  const removed = new Set<string>();
  out.push(`header: ${JSON.stringify(withoutPrivateMembers(header, removed), null, 2)}`);
  out.push(`claims: ${JSON.stringify(withoutPrivateMembers(claims, removed), null, 2)}`);
  if (removed.size > 0) out.push(`(private key members not shown: ${[...removed].join(', ')})`);
  const now = Date.now() / 1000;
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    const value = claims[name];
    if (typeof value === 'number' && Number.isFinite(value)) out.push(`${name}: ${timeLine(value, now)}`);
  }

  let status = 1;
  if (kind === 'wit') {
    const keys = await keySource(values.jwks);
    const result = await verifyWit(token, { keys: keys.source, now: Date.now });
    out.push(`verification (${keys.description}; default policy, real clock):`);
    if (result.ok) {
      const v = result.value;
      out.push(`  valid: ${v.subject.uri}, confirmation key ${v.confirmationAlgorithm} ${v.confirmationThumbprint}`);
      out.push('  (a WIT alone authenticates nothing: each request also needs a WPT made with its key)');
      status = 0;
    } else {
      out.push(`  FAILED ${result.code}: ${WIT_ERRORS[result.code]}`);
      out.push(`  detail: ${result.detail}`);
    }
  } else if (kind === 'wpt') {
    const exp = claims.exp;
    const valid = typeof exp === 'number' && Number.isFinite(exp) && exp > now;
    out.push(valid ? 'not expired' : typeof exp === 'number' ? 'EXPIRED' : 'no numeric exp: invalid');
    out.push('(signature, wth/tth/oth and replay are checked by the recipient against the WIT and the request)');
    status = valid ? 0 : 1;
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return status;
}

/** The trust anchors to check a WIT against: `--jwks FILE`, or the dev issuer (only for the dev trust domain). */
async function keySource(jwksFile: string | undefined): Promise<{ source: WitKeySource; description: string }> {
  if (jwksFile !== undefined) {
    const keys = jwkList(await readJsonInput(jwksFile, '--jwks'));
    return { source: async (_td, kid) => pick(keys, kid), description: `keys from ${jwksFile}, for any trust domain` };
  }
  const issuer = await loadDevIssuer({ create: false });
  if (!issuer) return { source: async () => undefined, description: 'no dev issuer key yet: run portcullis dev-jwks to create one' };
  return {
    source: async (trustDomain, kid) => (trustDomain === DEV_TRUST_DOMAIN ? pick(issuer.jwks.keys, kid) : undefined),
    description: `dev issuer ${issuer.path}, trust domain ${DEV_TRUST_DOMAIN} only`,
  };
}

function jwkList(value: unknown): JWK[] {
  const object = value as { keys?: unknown; kty?: unknown } | null;
  if (object !== null && typeof object === 'object' && Array.isArray(object.keys)) return object.keys as JWK[];
  if (object !== null && typeof object === 'object' && typeof object.kty === 'string') return [object as JWK];
  throw new Error('--jwks: expected a JWKS ({ "keys": [...] }) or one JWK');
}

/** By `kid`; without one, the only key (workload-creds-02 §3: selection must be unambiguous). */
function pick(keys: readonly JWK[], kid: string | undefined): JWK | undefined {
  if (kid !== undefined) return keys.find((key) => key.kid === kid);
  return keys.length === 1 ? keys[0] : undefined;
}

function withoutPrivateMembers(value: unknown, removed: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutPrivateMembers(item, removed));
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  const isJwk = typeof (value as { kty?: unknown }).kty === 'string';
  for (const [name, member] of Object.entries(value)) {
    if (isJwk && (PRIVATE_JWK_MEMBERS as readonly string[]).includes(name)) removed.add(name);
    else copy[name] = withoutPrivateMembers(member, removed);
  }
  return copy;
}

function timeLine(seconds: number, now: number): string {
  const date = Math.abs(seconds) < 1e11 ? new Date(seconds * 1000).toISOString() : 'out of range';
  const delta = Math.round(seconds - now);
  return `${seconds} ${date} (${delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`})`;
}

function duration(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
