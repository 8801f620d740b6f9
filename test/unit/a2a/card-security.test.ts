/**
 * What an A2A route's card says the gateway enforces (src/a2a/card-security.ts): one test per credential kind and
 * combination (public, oauth with one or two authorization servers and each DPoP mode, wit per carriage and proof,
 * mtls, jwtSvid, alternatives, oauth.withWorkload), skill requirements, and that every emitted scheme set is already
 * A2A 1.0 normal form (src/a2a/agent-card.ts).
 */
import { describe, expect, it } from 'vitest';
import { readAgentCard } from '../../../src/a2a/agent-card.ts';
import { cardSecurity } from '../../../src/a2a/card-security.ts';
import { assertConfig } from '../../../src/config/index.ts';
import type { GatewayConfigInput, RouteConfig } from '../../../src/config/schema.ts';

const JWK = { kty: 'EC' as const, crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'a1' };
const TD = 'spiffe://dev.test';
const AS = 'https://as.example';
const AS2 = 'https://as2.example/tenant';
const up = { protocol: 'a2a' as const, upstream: 'http://up.internal/' };

const CONFIG = assertConfig({
  publicUrl: 'https://gw.example',
  trustDomains: { [TD]: { jwks: { keys: [JWK] } } },
  authorizationServers: { [AS]: { jwks: { keys: [JWK] }, tokenEndpoint: `${AS}/oauth/token` }, [AS2]: { jwks: { keys: [JWK] }, tokenEndpoint: `${AS2}/token` } },
  routes: [
    { ...up, path: '/open', public: true },
    { ...up, path: '/oauth', auth: { oauth: { authorizationServers: [AS], scopes: ['a2a:call'], methods: { SendMessage: { scopes: ['a2a:send', 'a2a:call'] } } } }, a2a: { skills: { plan: { scopes: ['geo:plan'] }, send: { scopes: ['a2a:send'] } } } },
    { ...up, path: '/oauth2', auth: { oauth: { authorizationServers: [AS, AS2], scopes: ['a2a:call'], dpop: 'required' } } },
    { ...up, path: '/oauth-bare', auth: { oauth: { authorizationServers: [AS], dpop: 'disabled' } } },
    { ...up, path: '/wit', auth: { wit: { trustDomains: [TD] } } },
    { ...up, path: '/wit-both', auth: { wit: { trustDomains: [TD], carriage: 'header', proofs: ['http-sig', 'wpt'], httpSignature: { version: '06' } } } },
    { ...up, path: '/svid', auth: { wit: { trustDomains: [TD] }, jwtSvid: { trustDomains: [TD] } } },
    { ...up, path: '/any', auth: { wit: { trustDomains: [TD], carriage: 'header' }, oauth: { authorizationServers: [AS], scopes: ['a2a:call'] } }, a2a: { skills: { plan: { scopes: ['geo:plan'] } } } },
    { ...up, path: '/both', auth: { wit: { trustDomains: [TD], carriage: 'header', proofs: ['wpt', 'http-sig'] }, oauth: { authorizationServers: [AS], scopes: ['a2a:call'], withWorkload: true } }, a2a: { skills: { plan: { scopes: ['geo:plan'] } } } },
    { ...up, path: '/both-dpop', auth: { wit: { trustDomains: [TD], carriage: 'header', proofs: ['wpt', 'http-sig'] }, oauth: { authorizationServers: [AS], withWorkload: true, dpop: 'required' } } },
  ],
} satisfies GatewayConfigInput);
const SERVERS = CONFIG.authorizationServers ?? {};
const route = (path: string): RouteConfig => CONFIG.routes.find((r) => r.path === path)!;
/** mtls needs a trust domain with x509Authorities to validate; the card only reads that the block is there. */
const withMtls = (r: RouteConfig): RouteConfig => ({ ...r, auth: { ...r.auth!, mtls: { trustDomains: [TD], certificate: 'cloudflare' } } });
const security = (r: RouteConfig) => cardSecurity(r, SERVERS);
const req = (schemes: Record<string, string[]>) => ({ schemes: Object.fromEntries(Object.entries(schemes).map(([name, list]) => [name, { list }])) });

const WIT = { apiKeySecurityScheme: { description: 'WIMSE Workload Identity Token (draft-ietf-wimse-workload-creds), with the proof of possession the same requirement names (wpt or httpSig).', location: 'header', name: 'Workload-Identity-Token' } };
const WPT_02 = { httpAuthSecurityScheme: { description: 'WIMSE Workload Proof Token (draft-ietf-wimse-wpt-02), sent as Authorization: WPT, with the Workload-Identity-Token.', scheme: 'WPT' } };
const WPT_01 = { apiKeySecurityScheme: { description: 'WIMSE Workload Proof Token (draft-ietf-wimse-wpt-01), with the Workload-Identity-Token.', location: 'header', name: 'Workload-Proof-Token' } };
const HTTP_SIG = (revision: string) => ({
  apiKeySecurityScheme: {
    description: `WIMSE HTTP Message Signature (RFC 9421 as profiled by draft-ietf-wimse-http-signature-${revision}): Signature with Signature-Input, by the key of the Workload-Identity-Token.`,
    location: 'header',
    name: 'Signature',
  },
});
const MTLS = { mtlsSecurityScheme: { description: 'Mutual TLS with an X.509-SVID client certificate (SPIFFE) of a trust domain this route accepts.' } };
const DPOP = { httpAuthSecurityScheme: { description: 'DPoP (RFC 9449): the access token is sent as Authorization: DPoP, with a DPoP proof signed by the key it is bound to.', scheme: 'DPoP' } };
const oauth2 = (issuer: string, tokenUrl: string, metadata: string, presentation: string, scopes: Record<string, string>) => ({
  oauth2SecurityScheme: { description: `An access token issued by ${issuer} for this agent, ${presentation}.`, flows: { clientCredentials: { tokenUrl, scopes } }, oauth2MetadataUrl: metadata },
});
const BEARER_OR_DPOP = 'as Authorization: Bearer (RFC 6750) or DPoP-bound (RFC 9449)';

describe('cardSecurity', () => {
  it('public route: no scheme, no requirement, no skill requirement', () => {
    const s = security(route('/open'));
    expect([s.securitySchemes, s.securityRequirements, s.skillRequirements('plan')]).toEqual([{}, [], undefined]);
  });

  it('oauth, one server: "oauth2" with client credentials at its token endpoint, RFC 8414 metadata, every scope the route may ask for', () => {
    const s = security(route('/oauth'));
    expect(s.securitySchemes).toEqual({
      oauth2: oauth2(AS, `${AS}/oauth/token`, `${AS}/.well-known/oauth-authorization-server`, BEARER_OR_DPOP, {
        'a2a:call': 'Needed for every call to this agent.',
        'a2a:send': 'Needed for SendMessage.',
        'geo:plan': 'Needed to use some of the agent\'s skills.',
      }),
    });
    expect(s.securityRequirements).toEqual([req({ oauth2: ['a2a:call'] })]);
  });

  it('oauth skill requirements: route scopes plus the skill\'s, de-duplicated; undefined for other skills and prototype names', () => {
    const s = security(route('/oauth'));
    expect(s.skillRequirements('plan')).toEqual([req({ oauth2: ['a2a:call', 'geo:plan'] })]);
    expect(s.skillRequirements('send')).toEqual([req({ oauth2: ['a2a:call', 'a2a:send'] })]);
    for (const id of ['unlisted', 'constructor', '__proto__', 'toString']) expect(s.skillRequirements(id)).toBeUndefined();
  });

  it('oauth, two servers, DPoP required: "oauth2-1", "oauth2-2" in config order (path-inserted well-known URL), each ANDed with "dpop"', () => {
    const s = security(route('/oauth2'));
    const presentation = 'DPoP-bound (RFC 9449): Authorization: DPoP with a DPoP proof';
    expect(s.securitySchemes).toEqual({
      'oauth2-1': oauth2(AS, `${AS}/oauth/token`, `${AS}/.well-known/oauth-authorization-server`, presentation, { 'a2a:call': 'Needed for every call to this agent.' }),
      'oauth2-2': oauth2(AS2, `${AS2}/token`, 'https://as2.example/.well-known/oauth-authorization-server/tenant', presentation, { 'a2a:call': 'Needed for every call to this agent.' }),
      dpop: DPOP,
    });
    expect(s.securityRequirements).toEqual([req({ 'oauth2-1': ['a2a:call'], dpop: [] }), req({ 'oauth2-2': ['a2a:call'], dpop: [] })]);
    expect(s.skillRequirements('plan')).toBeUndefined(); // no a2a.skills on this route
  });

  it('oauth without scopes, DPoP disabled: an empty scope map and list, Bearer only', () => {
    const s = security(route('/oauth-bare'));
    expect(s.securitySchemes).toEqual({ oauth2: oauth2(AS, `${AS}/oauth/token`, `${AS}/.well-known/oauth-authorization-server`, 'as Authorization: Bearer (RFC 6750)', {}) });
    expect(s.securityRequirements).toEqual([req({ oauth2: [] })]);
  });

  it('wit (default: wpt in Authorization, wpt-02): the WIT as an API key header ANDed with httpAuth "WPT"', () => {
    const s = security(route('/wit'));
    expect(s.securitySchemes).toEqual({ wit: WIT, wpt: WPT_02 });
    expect(s.securityRequirements).toEqual([req({ wit: [], wpt: [] })]);
    expect(s.skillRequirements('plan')).toBeUndefined();
  });

  it('wit with carriage "header" and both proofs: one alternative per proof, in config order; the draft revision of http-sig', () => {
    const s = security(route('/wit-both'));
    expect(s.securitySchemes).toEqual({ wit: WIT, httpSig: HTTP_SIG('06'), wpt: WPT_01 });
    expect(s.securityRequirements).toEqual([req({ wit: [], httpSig: [] }), req({ wit: [], wpt: [] })]);
  });

  it('mtls: "mtls" (X.509-SVID)', () => {
    const mtlsOnly: RouteConfig = { ...route('/wit'), auth: { mtls: { trustDomains: [TD], certificate: 'cloudflare' } } };
    const s = security(mtlsOnly);
    expect(s.securitySchemes).toEqual({ mtls: MTLS });
    expect(s.securityRequirements).toEqual([req({ mtls: [] })]);
  });

  it('wit | jwtSvid: alternatives; the JWT-SVID as httpAuth Bearer JWT', () => {
    const s = security(route('/svid'));
    expect(s.securitySchemes).toEqual({ wit: WIT, wpt: WPT_02, jwtSvid: { httpAuthSecurityScheme: { description: 'A SPIFFE JWT-SVID, sent as Authorization: Bearer.', scheme: 'Bearer', bearerFormat: 'JWT' } } });
    expect(s.securityRequirements).toEqual([req({ wit: [], wpt: [] }), req({ jwtSvid: [] })]);
  });

  it('wit | mtls | oauth: three alternatives in the auth block\'s order; skill requirements name only the token', () => {
    const s = security(withMtls(route('/any')));
    expect(Object.keys(s.securitySchemes)).toEqual(['wit', 'wpt', 'mtls', 'oauth2']);
    expect(s.securitySchemes.wpt).toEqual(WPT_01);
    expect(s.securityRequirements).toEqual([req({ wit: [], wpt: [] }), req({ mtls: [] }), req({ oauth2: ['a2a:call'] })]);
    expect(s.skillRequirements('plan')).toEqual([req({ oauth2: ['a2a:call', 'geo:plan'] })]);
  });

  it('oauth.withWorkload: the token AND the WIT AND one proof, per proof; nothing else offered (not even mtls)', () => {
    const s = security(withMtls(route('/both')));
    expect(Object.keys(s.securitySchemes)).toEqual(['oauth2', 'wit', 'wpt', 'httpSig']);
    expect(s.securityRequirements).toEqual([req({ oauth2: ['a2a:call'], wit: [], wpt: [] }), req({ oauth2: ['a2a:call'], wit: [], httpSig: [] })]);
    expect(s.skillRequirements('plan')).toEqual([req({ oauth2: ['a2a:call', 'geo:plan'], wit: [], wpt: [] }), req({ oauth2: ['a2a:call', 'geo:plan'], wit: [], httpSig: [] })]);
  });

  it('oauth.withWorkload with DPoP required: a WPT binds Bearer tokens only, so only the HTTP signature proof is offered', () => {
    const s = security(route('/both-dpop'));
    expect(Object.keys(s.securitySchemes)).toEqual(['oauth2', 'dpop', 'wit', 'httpSig']);
    expect(s.securityRequirements).toEqual([req({ oauth2: [], dpop: [], wit: [], httpSig: [] })]);
  });

  it('an OAuth authorization server without tokenEndpoint (config validation requires one on A2A routes) throws', () => {
    expect(() => cardSecurity(route('/oauth'), {})).toThrow(new TypeError('authorization server #1 of the route has no tokenEndpoint (config validation requires one on A2A routes)'));
  });

  it('every route\'s schemes and requirements are valid A2A 1.0 and already in normal form', () => {
    const base = { name: 'n', description: 'd', supportedInterfaces: [{ url: 'https://gw.example/a', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }], version: '1', capabilities: {}, defaultInputModes: [], defaultOutputModes: [], skills: [] };
    for (const r of [...CONFIG.routes, withMtls(route('/any'))]) {
      const s = security(r);
      const card = { ...base, securitySchemes: s.securitySchemes, securityRequirements: s.securityRequirements };
      const expected = {
        ...base,
        ...(Object.keys(s.securitySchemes).length > 0 ? { securitySchemes: s.securitySchemes } : {}),
        ...(s.securityRequirements.length > 0 ? { securityRequirements: s.securityRequirements } : {}),
      };
      const read = readAgentCard(card);
      expect([r.path, read.ok && read.value]).toEqual([r.path, expected]);
    }
  });
});
