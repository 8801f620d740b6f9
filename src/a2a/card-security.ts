/**
 * What the gateway enforces on an A2A route, stated as A2A 1.0 securitySchemes + securityRequirements (OpenAPI
 * 3.2-style: OR across requirements, AND within one). The upstream's own schemes never reach callers: they
 * say how to reach the upstream, which only the gateway does.
 *
 * Mapping (a product decision; scheme names are stable, clients may key on them):
 *  - public route: no scheme, no requirement.
 *  - auth.wit → "wit": A2A has no WIMSE scheme, so the WIT is declared with what A2A has for a header credential,
 *    an apiKeySecurityScheme {location "header", name "Workload-Identity-Token"} (draft-ietf-wimse-workload-creds),
 *    ANDed with its proof of possession, one alternative per configured proof (config order):
 *      "wpt"   carriage "authorization": httpAuthSecurityScheme {scheme "WPT"} (draft-ietf-wimse-wpt-02);
 *              carriage "header": apiKeySecurityScheme {header "Workload-Proof-Token"} (wpt-01);
 *      "httpSig" apiKeySecurityScheme {header "Signature"} (RFC 9421 as profiled by draft-ietf-wimse-http-signature;
 *              the description names Signature-Input and the draft revision).
 *    The descriptions carry the specifications: a client that knows WIMSE recognises them, one that does not at
 *    least learns which headers to send.
 *  - auth.mtls → "mtls": mtlsSecurityScheme (X.509-SVID client certificate).
 *  - auth.jwtSvid → "jwtSvid": httpAuthSecurityScheme {scheme "Bearer", bearerFormat "JWT"}.
 *  - auth.oauth → one oauth2SecurityScheme per authorization server ("oauth2" when one, else "oauth2-1", "oauth2-2",
 *    … in config order): oauth2MetadataUrl = the issuer's RFC 8414 §3.1 well-known URL (path inserted),
 *    flows.clientCredentials {tokenUrl = the server's tokenEndpoint, scopes = every scope the route may ask for:
 *    oauth.scopes, oauth.methods[*].scopes, a2a.skills[*].scopes}; the requirement lists oauth.scopes. With
 *    dpop "required", "dpop": httpAuthSecurityScheme {scheme "DPoP"} (RFC 9449) is ANDed into each requirement.
 *  - Several credential kinds are alternatives (the route accepts any one: src/gateway/authenticate.ts), in the
 *    auth block's order wit, mtls, jwtSvid, oauth. With oauth.withWorkload the WIT and its proof are ANDed with each
 *    OAuth requirement instead, and nothing else is offered (a request without a WIT is refused, whatever else it
 *    carries). With dpop "required" a WPT proof cannot go with the token (a WPT binds Bearer tokens only), so such
 *    routes offer only the HTTP signature proof.
 *  - skillRequirements(id), for skills in a2a.skills on an OAuth route: the route's OAuth requirements with the
 *    skill's scopes added to the route's. Each is complete (route scopes, DPoP, workload), so a client reading the
 *    skill's requirements alone, as OpenAPI operation-level security overrides the top level, is told all it needs.
 *    Other skills: undefined (the card-level requirements apply).
 * Only schemes some requirement names are declared, in the order the requirements first name them.
 */
import type { AuthorizationServerConfig, OAuthRouteConfig, RouteConfig } from '../config/schema.ts';
import { metadataUrls } from '../trust/authorization-server-keys.ts';
import type { SecurityRequirement } from './agent-card.ts';

export interface CardSecurity {
  securitySchemes: Record<string, unknown>;
  securityRequirements: SecurityRequirement[];
  skillRequirements(skillId: string): SecurityRequirement[] | undefined;
}

type Schemes = SecurityRequirement['schemes'];
type WitConfig = NonNullable<NonNullable<RouteConfig['auth']>['wit']>;

const WIT_SCHEME = 'wit';
const WPT_SCHEME = 'wpt';
const HTTP_SIG_SCHEME = 'httpSig';
const DPOP_SCHEME = 'dpop';

/** What the gateway enforces on `route`. Throws if an authorization server of an OAuth route has no tokenEndpoint
 * (config validation requires one on A2A routes). */
export function cardSecurity(route: RouteConfig, servers: Record<string, AuthorizationServerConfig>): CardSecurity {
  const auth = route.auth;
  if (route.public === true || auth === undefined) return { securitySchemes: {}, securityRequirements: [], skillRequirements: () => undefined };
  const declared: Record<string, unknown> = {};
  const oauth = auth.oauth;
  const wit = auth.wit ? witDeclaration(auth.wit, declared) : undefined;
  const tokens = oauth ? oauthDeclaration(route, oauth, servers, declared) : undefined;
  // With withWorkload, each OAuth requirement also needs the WIT and one proof it can travel with.
  const workloadProofs = wit?.filter((proof) => !(oauth?.dpop === 'required' && WPT_SCHEME in proof)) ?? [];
  const withToken = (scopes: readonly string[]): Schemes[] => {
    const each = tokens?.(scopes) ?? [];
    return oauth?.withWorkload ? each.flatMap((token) => workloadProofs.map((proof) => ({ ...token, ...proof }))) : each;
  };

  const alternatives: Schemes[] = [];
  if (oauth?.withWorkload) alternatives.push(...withToken(oauth.scopes ?? []));
  else {
    alternatives.push(...(wit ?? []));
    if (auth.mtls) {
      declared.mtls = { mtlsSecurityScheme: { description: 'Mutual TLS with an X.509-SVID client certificate (SPIFFE) of a trust domain this route accepts.' } };
      alternatives.push(noScopes('mtls'));
    }
    if (auth.jwtSvid) {
      declared.jwtSvid = { httpAuthSecurityScheme: { description: 'A SPIFFE JWT-SVID, sent as Authorization: Bearer.', scheme: 'Bearer', bearerFormat: 'JWT' } };
      alternatives.push(noScopes('jwtSvid'));
    }
    if (oauth) alternatives.push(...withToken(oauth.scopes ?? []));
  }

  const skills = route.a2a?.skills;
  const securityRequirements = alternatives.map((schemes) => ({ schemes }));
  // Declared in the order requirements first name them; a scheme no requirement names is left out.
  const named = [...new Set(alternatives.flatMap((schemes) => Object.keys(schemes)))];
  return {
    securitySchemes: Object.fromEntries(named.map((name) => [name, declared[name]])),
    securityRequirements,
    skillRequirements(skillId) {
      if (!oauth || skills === undefined || !Object.hasOwn(skills, skillId)) return undefined;
      return withToken(skills[skillId]!.scopes).map((schemes) => ({ schemes }));
    },
  };
}

/** Declares the WIT and its proof schemes; returns one alternative per configured proof. */
function witDeclaration(wit: WitConfig, declared: Record<string, unknown>): Schemes[] {
  declared[WIT_SCHEME] = {
    apiKeySecurityScheme: {
      description: 'WIMSE Workload Identity Token (draft-ietf-wimse-workload-creds), with the proof of possession the same requirement names (wpt or httpSig).',
      location: 'header',
      name: 'Workload-Identity-Token',
    },
  };
  const alternatives: Schemes[] = [];
  for (const proof of wit.proofs) {
    if (proof === 'wpt') {
      declared[WPT_SCHEME] =
        wit.carriage === 'authorization'
          ? { httpAuthSecurityScheme: { description: 'WIMSE Workload Proof Token (draft-ietf-wimse-wpt-02), sent as Authorization: WPT, with the Workload-Identity-Token.', scheme: 'WPT' } }
          : { apiKeySecurityScheme: { description: 'WIMSE Workload Proof Token (draft-ietf-wimse-wpt-01), with the Workload-Identity-Token.', location: 'header', name: 'Workload-Proof-Token' } };
      alternatives.push(noScopes(WIT_SCHEME, WPT_SCHEME));
    } else {
      const revision = wit.httpSignature?.version ?? '07';
      declared[HTTP_SIG_SCHEME] = {
        apiKeySecurityScheme: {
          description: `WIMSE HTTP Message Signature (RFC 9421 as profiled by draft-ietf-wimse-http-signature-${revision}): Signature with Signature-Input, by the key of the Workload-Identity-Token.`,
          location: 'header',
          name: 'Signature',
        },
      };
      alternatives.push(noScopes(WIT_SCHEME, HTTP_SIG_SCHEME));
    }
  }
  return alternatives;
}

/**
 * Declares one oauth2 scheme per authorization server (and DPoP when required); returns the requirements a token
 * satisfies, given the scopes it must carry (the route's, plus any passed).
 */
function oauthDeclaration(route: RouteConfig, oauth: OAuthRouteConfig, servers: Record<string, AuthorizationServerConfig>, declared: Record<string, unknown>): (scopes: readonly string[]) => Schemes[] {
  const issuers = oauth.authorizationServers;
  const names = issuers.length === 1 ? ['oauth2'] : issuers.map((_, i) => `oauth2-${i + 1}`);
  const scopes = scopeCatalogue(route, oauth);
  const presentation = oauth.dpop === 'required' ? 'DPoP-bound (RFC 9449): Authorization: DPoP with a DPoP proof' : oauth.dpop === 'allowed' ? 'as Authorization: Bearer (RFC 6750) or DPoP-bound (RFC 9449)' : 'as Authorization: Bearer (RFC 6750)';
  issuers.forEach((issuer, i) => {
    const tokenUrl = Object.hasOwn(servers, issuer) ? servers[issuer]!.tokenEndpoint : undefined;
    if (tokenUrl === undefined) throw new TypeError(`authorization server #${i + 1} of the route has no tokenEndpoint (config validation requires one on A2A routes)`);
    declared[names[i]!] = {
      oauth2SecurityScheme: {
        description: `An access token issued by ${issuer} for this agent, ${presentation}.`,
        flows: { clientCredentials: { tokenUrl, scopes } },
        oauth2MetadataUrl: metadataUrls(issuer).oauth,
      },
    };
  });
  const dpop = oauth.dpop === 'required';
  if (dpop) declared[DPOP_SCHEME] = { httpAuthSecurityScheme: { description: 'DPoP (RFC 9449): the access token is sent as Authorization: DPoP, with a DPoP proof signed by the key it is bound to.', scheme: 'DPoP' } };
  return (extra) => {
    const list = [...new Set([...(oauth.scopes ?? []), ...extra])];
    return names.map((name) => ({ [name]: { list: [...list] }, ...(dpop ? noScopes(DPOP_SCHEME) : {}) }));
  };
}

/** Every scope the route may ask a token for, each with a short description (the first use found names it). */
function scopeCatalogue(route: RouteConfig, oauth: OAuthRouteConfig): Record<string, string> {
  const described = new Map<string, string>();
  const add = (scopes: readonly string[] | undefined, description: string) => {
    for (const scope of scopes ?? []) if (!described.has(scope)) described.set(scope, description);
  };
  add(oauth.scopes, 'Needed for every call to this agent.');
  for (const [method, requirement] of Object.entries(oauth.methods ?? {})) add(requirement.scopes, `Needed for ${method}.`);
  // Generic on purpose: the public card must not name skills only the extended card shows.
  for (const requirement of Object.values(route.a2a?.skills ?? {})) add(requirement.scopes, 'Needed to use some of the agent\'s skills.');
  return Object.fromEntries(described);
}

function noScopes(...names: string[]): Schemes {
  return Object.fromEntries(names.map((name) => [name, { list: [] }]));
}
