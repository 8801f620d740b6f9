/**
 * Introspection answers (src/verify/introspection.ts): RFC 7662 JSON and RFC 9701 JWT. One negative test per
 * validation step, each asserting its exact code and that the detail leaks neither the token nor key material.
 */
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { KeyImportCache } from '../../../src/crypto/key-cache.ts';
import { MAX_INTROSPECTION_RESPONSE_BYTES } from '../../../src/limits.ts';
import { ACCESS_TOKEN_ERRORS, INTROSPECTION_ERRORS, INTROSPECTION_ERROR_STATUS } from '../../../src/verify/errors.ts';
import {
  verifyIntrospectionJson,
  verifyIntrospectionJwt,
  type IntrospectionCode,
  type IntrospectionContext,
  type IntrospectionJwtContext,
} from '../../../src/verify/introspection.ts';
import type { Result } from '../../../src/result.ts';
import { encodeSegment, expectFailure, expectOk, generateKey, sign, type TestKey } from './mint.ts';

const NOW = 1_800_000_000;
const ISS = 'https://as.example/tenant';
const RESOURCE = 'https://gw.example/mcp';
const CLIENT = 'gateway-client';
const TOKEN = 'opaque-2YotnFZFEjr1zCsicMWpAA-secret-token-value';
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

let asKey: TestKey;
let attacker: TestKey;
const keyCache = new KeyImportCache(16);

beforeAll(async () => {
  [asKey, attacker] = await Promise.all([generateKey('ES256'), generateKey('ES256')]);
});

const answer = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  active: true,
  iss: ISS,
  aud: [RESOURCE, 'https://other.example'],
  exp: NOW + 300,
  iat: NOW - 10,
  nbf: NOW - 10,
  sub: 'user-42',
  client_id: 'agent-client',
  jti: 'jti-1',
  scope: 'tools:read tools:call',
  token_type: 'Bearer',
  acr: 'urn:mace:incommon:iap:silver',
  auth_time: NOW - 600,
  ...overrides,
});

const ctx = (overrides: Partial<IntrospectionContext> = {}): IntrospectionContext => ({ issuer: ISS, audience: RESOURCE, token: TOKEN, now: () => NOW * 1000, ...overrides });

function expectCode(result: Result<unknown, IntrospectionCode>, code: IntrospectionCode) {
  expectFailure(result, code, [TOKEN, String(asKey.publicJwk.x), String(asKey.publicJwk.y)]);
  if (!result.ok) expect(result.detail).not.toContain(TOKEN);
}

describe('verifyIntrospectionJson: valid answers', () => {
  it('returns the VerifiedAccessToken shape with the token only as its hash', async () => {
    const v = expectOk(await verifyIntrospectionJson(answer(), ctx()));
    expect(v).toEqual({
      issuer: ISS,
      subject: 'user-42',
      clientId: 'agent-client',
      scopes: ['tools:read', 'tools:call'],
      audience: [RESOURCE, 'https://other.example'],
      expiresAt: (NOW + 300) * 1000,
      issuedAt: (NOW - 10) * 1000,
      jti: 'jti-1',
      tokenHash: await sha256b64url(TOKEN),
      acr: 'urn:mace:incommon:iap:silver',
      authTime: (NOW - 600) * 1000,
      expKnown: true,
    });
    expect(JSON.stringify(v)).not.toContain(TOKEN);
  });

  it('accepts a minimal answer: subject falls back to client_id, then to empty; expiresAt is now without exp', async () => {
    const minimal = expectOk(await verifyIntrospectionJson({ active: true, aud: RESOURCE, client_id: 'svc' }, ctx()));
    expect(minimal).toMatchObject({ issuer: ISS, subject: 'svc', clientId: 'svc', scopes: [], jti: '', expiresAt: NOW * 1000, issuedAt: NOW * 1000, expKnown: false });
    const anonymous = expectOk(await verifyIntrospectionJson({ active: true, aud: RESOURCE }, ctx()));
    expect(anonymous).toMatchObject({ subject: '', clientId: '' });
  });

  it('accepts a DPoP-bound answer presented with DPoP, token_type in any case, and returns cnfJkt', async () => {
    const v = expectOk(await verifyIntrospectionJson(answer({ token_type: 'dpop', cnf: { jkt: JKT } }), ctx({ dpop: true })));
    expect(v.cnfJkt).toBe(JKT);
    expectOk(await verifyIntrospectionJson(answer({ token_type: undefined, cnf: { jkt: JKT } }), ctx({ dpop: true })));
    expectOk(await verifyIntrospectionJson(answer({ token_type: undefined }), ctx()));
  });

  it('tolerates clock skew on exp and nbf', async () => {
    expectOk(await verifyIntrospectionJson(answer({ exp: NOW - 30 }), ctx()));
    expectOk(await verifyIntrospectionJson(answer({ nbf: NOW + 30 }), ctx()));
  });
});

describe('verifyIntrospectionJson: one failure per step', () => {
  const cases: Array<[string, unknown, IntrospectionCode, Partial<IntrospectionContext>?]> = [
    ['1. not an object', [answer()], 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['1. null', null, 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['2. active false', { active: false }, 'ERR_ACCESS_TOKEN_INACTIVE'],
    ['2. active absent', answer({ active: undefined }), 'ERR_ACCESS_TOKEN_INACTIVE'],
    ['2. active not a boolean', answer({ active: 'true' }), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['3. iss another issuer', answer({ iss: 'https://evil.example' }), 'ERR_ACCESS_TOKEN_ISSUER_NOT_ALLOWED'],
    ['4. aud absent (fail closed)', answer({ aud: undefined }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH'],
    ['4. aud not this resource', answer({ aud: 'https://other.example' }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH'],
    ['4. aud not strings', answer({ aud: [RESOURCE, 7] }), 'ERR_ACCESS_TOKEN_AUD_MISMATCH'],
    ['5. exp not a NumericDate', answer({ exp: '1800000300' }), 'ERR_ACCESS_TOKEN_EXP_INVALID'],
    ['6. exp passed beyond skew', answer({ exp: NOW - 61 }), 'ERR_ACCESS_TOKEN_EXPIRED'],
    ['7. iat not a NumericDate', answer({ iat: 'yesterday' }), 'ERR_ACCESS_TOKEN_IAT_INVALID'],
    ['7. iat in the future', answer({ iat: NOW + 120 }), 'ERR_ACCESS_TOKEN_NOT_YET_VALID'],
    ['8. nbf not a NumericDate', answer({ nbf: null }), 'ERR_ACCESS_TOKEN_NBF_INVALID'],
    ['8. nbf in the future', answer({ nbf: NOW + 120 }), 'ERR_ACCESS_TOKEN_NOT_YET_VALID'],
    ['9. sub not a string', answer({ sub: 42 }), 'ERR_ACCESS_TOKEN_SUB_INVALID'],
    ['9. sub empty', answer({ sub: '' }), 'ERR_ACCESS_TOKEN_SUB_INVALID'],
    ['10. client_id not a string', answer({ client_id: ['a'] }), 'ERR_ACCESS_TOKEN_CLIENT_ID_INVALID'],
    ['11. jti too long', answer({ jti: 'x'.repeat(257) }), 'ERR_ACCESS_TOKEN_JTI_INVALID'],
    ['12. scope with a double space', answer({ scope: 'a  b' }), 'ERR_ACCESS_TOKEN_SCOPE_INVALID'],
    ['12. scope not a string', answer({ scope: ['a'] }), 'ERR_ACCESS_TOKEN_SCOPE_INVALID'],
    ['13. auth_time not a NumericDate', answer({ auth_time: 'now' }), 'ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID'],
    ['13. acr not a string', answer({ acr: 2 }), 'ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID'],
    ['13. amr not strings', answer({ amr: [1] }), 'ERR_ACCESS_TOKEN_AUTH_CLAIM_INVALID'],
    ['14. cnf not an object', answer({ cnf: 'jkt' }), 'ERR_ACCESS_TOKEN_CNF_INVALID'],
    ['14. cnf.jkt not a thumbprint', answer({ cnf: { jkt: 'short' } }), 'ERR_ACCESS_TOKEN_CNF_INVALID'],
    ['15. token_type not a string', answer({ token_type: 1 }), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['15. DPoP token presented as Bearer', answer({ token_type: 'DPoP', cnf: { jkt: JKT } }), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH'],
    ['15. key-bound token presented as Bearer', answer({ token_type: undefined, cnf: { jkt: JKT } }), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH'],
    ['15. Bearer token presented with DPoP', answer({ token_type: 'Bearer', cnf: { jkt: JKT } }), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', { dpop: true }],
    ['15. DPoP presentation of an unbound token', answer({ token_type: 'DPoP' }), 'ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH', { dpop: true }],
  ];
  for (const [name, body, code, overrides] of cases) {
    it(`${name}: ${code}`, async () => {
      expectCode(await verifyIntrospectionJson(body, ctx(overrides)), code);
    });
  }

  it('every code used is documented, with a status for the introspection ones', () => {
    for (const [, , code] of cases) expect(code in ACCESS_TOKEN_ERRORS || code in INTROSPECTION_ERRORS).toBe(true);
    expect(INTROSPECTION_ERROR_STATUS).toEqual({ ERR_ACCESS_TOKEN_INACTIVE: 401, ERR_INTROSPECTION_FAILED: 503, ERR_INTROSPECTION_RESPONSE_INVALID: 503, ERR_INTROSPECTION_TOKEN_TYPE_MISMATCH: 401 });
  });
});

describe('verifyIntrospectionJwt (RFC 9701)', () => {
  const header = (overrides: Record<string, unknown> = {}) => ({ typ: 'token-introspection+jwt', alg: 'ES256', kid: 'as1', ...overrides });
  const envelope = (overrides: Record<string, unknown> = {}) => ({ iss: ISS, aud: CLIENT, iat: NOW - 1, token_introspection: answer(), ...overrides });
  const lookups: Array<string | undefined> = [];
  const jwtCtx = (overrides: Partial<IntrospectionJwtContext> = {}): IntrospectionJwtContext => ({
    ...ctx(),
    keys: async (kid) => {
      lookups.push(kid);
      return kid === 'as1' ? (asKey.publicJwk as JWK) : undefined;
    },
    algorithms: ['ES256', 'RS256'],
    clientId: CLIENT,
    keyCache,
    ...overrides,
  });

  it('accepts a signed answer and applies the member checks to token_introspection', async () => {
    const jwt = await sign(header(), envelope(), asKey);
    const v = expectOk(await verifyIntrospectionJwt(jwt, jwtCtx()));
    expect(v).toMatchObject({ issuer: ISS, subject: 'user-42', scopes: ['tools:read', 'tools:call'], expKnown: true });
    expectOk(await verifyIntrospectionJwt(await sign(header({ typ: 'application/Token-Introspection+JWT' }), envelope({ aud: ['x', CLIENT] }), asKey), jwtCtx()));
    expect(lookups.at(-1)).toBe('as1');
  });

  it('applies the member checks inside: an inactive or foreign-audience answer fails with the JSON codes', async () => {
    expectCode(await verifyIntrospectionJwt(await sign(header(), envelope({ token_introspection: { active: false } }), asKey), jwtCtx()), 'ERR_ACCESS_TOKEN_INACTIVE');
    expectCode(await verifyIntrospectionJwt(await sign(header(), envelope({ token_introspection: answer({ aud: 'https://x.example' }) }), asKey), jwtCtx()), 'ERR_ACCESS_TOKEN_AUD_MISMATCH');
  });

  const envelopeCases: Array<[string, () => Promise<string>, IntrospectionCode, Partial<IntrospectionJwtContext>?]> = [
    ['too large', async () => 'a'.repeat(MAX_INTROSPECTION_RESPONSE_BYTES + 1), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['not a compact JWS (JWE)', async () => 'a.b.c.d.e', 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['typ at+jwt', () => sign(header({ typ: 'at+jwt' }), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['typ absent', () => sign(header({ typ: undefined }), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['alg not allowed', () => sign(header(), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID', { algorithms: ['RS256'] }],
    ['alg none', () => sign(header({ alg: 'none' }), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['crit present', () => sign(header({ crit: ['exp'] }), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['kid not a string', () => sign(header({ kid: 7 }), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['no key for kid', () => sign(header({ kid: 'other' }), envelope(), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['key source throws', () => sign(header(), envelope(), asKey), 'ERR_ACCESS_TOKEN_KEY_SOURCE_FAILED', { keys: async () => { throw new Error(`unavailable ${TOKEN}`); } }],
    ['bad signature (another key)', () => sign(header(), envelope(), attacker), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['iss another issuer', () => sign(header(), envelope({ iss: 'https://evil.example' }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['iss absent', () => sign(header(), envelope({ iss: undefined }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['aud not our client_id', () => sign(header(), envelope({ aud: 'someone-else' }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['aud absent', () => sign(header(), envelope({ aud: undefined }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['iat absent', () => sign(header(), envelope({ iat: undefined }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['iat in the future', () => sign(header(), envelope({ iat: NOW + 600 }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['exp passed', () => sign(header(), envelope({ exp: NOW - 600 }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['token_introspection absent', () => sign(header(), envelope({ token_introspection: undefined }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
    ['token_introspection not an object', () => sign(header(), envelope({ token_introspection: 'active' }), asKey), 'ERR_INTROSPECTION_RESPONSE_INVALID'],
  ];
  for (const [name, make, code, overrides] of envelopeCases) {
    it(`${name}: ${code}`, async () => {
      expectCode(await verifyIntrospectionJwt(await make(), jwtCtx(overrides)), code);
    });
  }

  it('a tampered payload fails the signature', async () => {
    const jwt = await sign(header(), envelope(), asKey);
    const [h, , s] = jwt.split('.');
    const forged = `${h}.${encodeSegment(envelope({ token_introspection: answer({ scope: 'admin' }) }))}.${s}`;
    expectCode(await verifyIntrospectionJwt(forged, jwtCtx()), 'ERR_INTROSPECTION_RESPONSE_INVALID');
  });
});
