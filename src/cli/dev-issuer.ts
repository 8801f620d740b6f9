/**
 * Where the dev trust domain's issuer key lives (Node): `<dev dir>/dev-issuer.json`, created on first use.
 * The dev dir is `$PORTCULLIS_DEV_DIR`, else `.dev/` in the current directory (gitignored in this repo; npm
 * scripts run at the package root, so `npm start` and `npx portcullis` share it). Tests point the variable at
 * a temporary folder.
 *
 * The file holds the private issuer JWK(s): the folder is created 0700 and the file 0600 (POSIX; on Windows
 * the modes are advisory). Creation is atomic and race-free: the key is written to a private temporary file
 * and hard-linked into place, so two processes starting at once agree on one key and no reader sees a
 * partial file. A file readable by group or others is used, with a warning on stderr.
 *
 * For the dev launcher (scripts/dev.ts) the switch to WIT+WPT needs only `devTrustDomain()`: it returns the
 * trust domain id and its public JWKS to inline into the gateway config.
 *
 * Does NOT rotate keys: delete the file to get a new key, then restart the gateway so it trusts the new one.
 */
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JWK } from 'jose';
import { describe } from '../crypto/algorithms.ts';
import { DEV_ISSUER, DEV_TRUST_DOMAIN_ID, devJwks, generateDevIssuerKey, mintDevWit } from '../mint/dev-issuer.ts';
import { importSigningKey, type PublishedJwk } from '../mint/keys.ts';
import type { MintedWit, MintWitOptions } from '../mint/wit.ts';

export const DEV_DIR_ENV = 'PORTCULLIS_DEV_DIR';
export const DEV_ISSUER_FILE = 'dev-issuer.json';

interface DevIssuerFile {
  trustDomain: string;
  issuer: string;
  /** Private JWKs; the first signs, all are published (room for a later rotation). */
  keys: JWK[];
  createdAt: string;
}

export interface DevIssuer {
  path: string;
  /** The signing key (private). */
  key: JWK;
  /** The public JWKS of every key in the file. */
  jwks: { keys: PublishedJwk[] };
  /** True when this call generated the key. */
  created: boolean;
}

/** The dev dir: `$PORTCULLIS_DEV_DIR`, else `./.dev`. */
export function devDir(env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): string {
  const configured = env[DEV_DIR_ENV];
  return resolve(cwd, configured !== undefined && configured !== '' ? configured : '.dev');
}

/** Loads the dev issuer, generating it first when `create` (default) and the file does not exist yet. */
export async function loadDevIssuer(options: { dir?: string; create?: boolean } = {}): Promise<DevIssuer | undefined> {
  const dir = options.dir ?? devDir();
  const path = join(dir, DEV_ISSUER_FILE);
  let created = false;
  let text = await readIfPresent(path);
  if (text === undefined) {
    if (options.create === false) return undefined;
    created = await createIssuerFile(dir, path);
    text = await readFile(path, 'utf8');
  } else {
    await refuseIfShared(path);
  }
  const file = await parseIssuerFile(text, path);
  return { path, key: file.keys[0] as JWK, jwks: devJwks(file.keys), created };
}

/** The dev trust domain and its public JWKS, for a gateway config (`trustDomains`). Creates the issuer if needed. */
export async function devTrustDomain(dir?: string): Promise<{ trustDomain: string; issuer: string; jwks: { keys: PublishedJwk[] } }> {
  const issuer = (await loadDevIssuer(dir === undefined ? {} : { dir })) as DevIssuer;
  return { trustDomain: DEV_TRUST_DOMAIN_ID, issuer: DEV_ISSUER, jwks: issuer.jwks };
}

/** Mints a WIT for `subject` (in the dev trust domain) with the dev issuer, creating the issuer if needed. */
export async function mintDevWitFromDir(subject: string, options: Pick<MintWitOptions, 'ttlSeconds' | 'confirmationAlgorithm' | 'now'> & { dir?: string } = {}): Promise<MintedWit & { issuerCreated: boolean; issuerPath: string }> {
  const { dir, ...mintOptions } = options;
  const issuer = (await loadDevIssuer(dir === undefined ? {} : { dir })) as DevIssuer;
  return { ...(await mintDevWit(issuer.key, subject, mintOptions)), issuerCreated: issuer.created, issuerPath: issuer.path };
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes a new key to a private temporary file, then links it into place. False when another process won. */
async function createIssuerFile(dir: string, path: string): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file: DevIssuerFile = { trustDomain: DEV_TRUST_DOMAIN_ID, issuer: DEV_ISSUER, keys: [await generateDevIssuerKey()], createdAt: new Date().toISOString() };
  const temporary = `${path}.${process.pid}.${crypto.randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** Whoever can read or replace the issuer key can mint WITs the dev gateway accepts: refuse a shared file. */
async function refuseIfShared(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode, uid } = await stat(path);
  if (typeof process.getuid === 'function' && uid !== process.getuid()) throw new Error(`${path} belongs to another user; refusing to use it as the dev issuer key`);
  if ((mode & 0o077) !== 0) throw new Error(`${path} is accessible to other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
}

async function parseIssuerFile(text: string, path: string): Promise<DevIssuerFile> {
  const bad = (why: string) => new Error(`${path}: not a dev issuer file (${why}); delete it to generate a new key`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const file = value as Partial<DevIssuerFile>;
  if (typeof file !== 'object' || file === null) throw bad('not an object');
  if (file.trustDomain !== DEV_TRUST_DOMAIN_ID) throw bad(`trustDomain is ${describe(file.trustDomain)}`);
  if (!Array.isArray(file.keys) || file.keys.length === 0) throw bad('no keys');
  for (const [i, key] of file.keys.entries()) {
    try {
      await importSigningKey(key, `keys[${i}]`, true);
    } catch (error) {
      throw bad((error as Error).message);
    }
  }
  return file as DevIssuerFile;
}
