/**
 * The v0.3 shape of a normal-form A2A 1.0 card (src/a2a/agent-card.ts), for clients that ask with
 * `A2A-Version: 0.3` or with none (A2A 1.0: "Agents MUST interpret empty value as 0.3 version"), per a2a types.ts
 * 0.3.0 and the renames of whats-new-v1.md, read backwards:
 *  - top-level `protocolVersion` "0.3.0"; `url` + `preferredTransport` from the first interface whose
 *    protocolVersion is in [0.3, 1.0) (a2a-js's `isLegacyVersion`), `additionalInterfaces` {url, transport} from the
 *    others; 1.0 interfaces are left out (a 0.3 client would speak 0.3 to them);
 *  - capabilities.extendedAgentCard → top-level `supportsAuthenticatedExtendedCard`;
 *  - security schemes with OpenAPI 3.0 `type` discriminators (apiKey `in`, http, oauth2 with its one flow,
 *    openIdConnect, mutualTLS); securityRequirements → `security: [{"<scheme>": ["scope", …]}]`, for skills too;
 *  - REQUIRED 0.3 members always (capabilities, modes, skills, tags, an oauth2 flow's scopes, an extension's
 *    `required`, as a2a-js writes them), other empty members left out; no `signatures` (they cover the 1.0 form).
 *
 * Undefined when the card has no 0.3 interface: the caller answers VersionNotSupportedError (-32009).
 * Differences from a2a-js's `toCompatAgentCard`: protocolVersion is "0.3.0" (the 0.3 schema's value, not the
 * interface's "0.3"), and the 1.0 interfaces are not embedded as `supportedInterfaces`.
 * Lost in 0.3 (no member for them): interface tenants, a flow's pkceRequired, a deviceCode flow (its oauth2 scheme
 * keeps empty `flows`, as in a2a-js).
 */
import type { AgentCardJson } from './card-signature.ts';

type Json = Record<string, unknown>;

/** The v0.3 card of `card`, or undefined without a 0.3 interface. */
export function legacyCard(card: AgentCardJson): AgentCardJson | undefined {
  const interfaces = objects(card.supportedInterfaces).filter((i) => typeof i.protocolVersion === 'string' && isLegacyVersion(i.protocolVersion));
  const [primary, ...others] = interfaces;
  if (primary === undefined) return undefined;
  const capabilities = isObject(card.capabilities) ? card.capabilities : {};
  const out: Json = { protocolVersion: '0.3.0', name: card.name, description: card.description, url: primary.url, preferredTransport: primary.protocolBinding };
  if (others.length > 0) out.additionalInterfaces = others.map((i) => ({ url: i.url, transport: i.protocolBinding }));
  set(out, 'provider', card.provider);
  set(out, 'iconUrl', card.iconUrl);
  out.version = card.version;
  set(out, 'documentationUrl', card.documentationUrl);
  out.capabilities = legacyCapabilities(capabilities);
  if (isObject(card.securitySchemes)) {
    const schemes = Object.entries(card.securitySchemes).flatMap(([name, scheme]) => {
      const legacy = legacyScheme(scheme);
      return legacy === undefined ? [] : [[name, legacy] as const];
    });
    if (schemes.length > 0) out.securitySchemes = Object.fromEntries(schemes);
  }
  set(out, 'security', legacySecurity(card.securityRequirements));
  out.defaultInputModes = strings(card.defaultInputModes);
  out.defaultOutputModes = strings(card.defaultOutputModes);
  out.skills = objects(card.skills).map(legacySkill);
  if (typeof capabilities.extendedAgentCard === 'boolean') out.supportsAuthenticatedExtendedCard = capabilities.extendedAgentCard;
  return out as AgentCardJson;
}

/** a2a-js `isLegacyVersion`: Major.Minor[.Patch] in [0.3, 1.0). */
export function isLegacyVersion(version: string): boolean {
  const parsed = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(version.trim());
  return parsed !== null && Number(parsed[1]) === 0 && Number(parsed[2]) >= 3;
}

function legacyCapabilities(capabilities: Json): Json {
  const out: Json = {};
  set(out, 'streaming', capabilities.streaming);
  set(out, 'pushNotifications', capabilities.pushNotifications);
  const extensions = objects(capabilities.extensions).map((e) => {
    const extension: Json = {};
    set(extension, 'uri', e.uri);
    set(extension, 'description', e.description);
    extension.required = e.required === true; // the 1.0 normal form drops the default false
    set(extension, 'params', e.params);
    return extension;
  });
  if (extensions.length > 0) out.extensions = extensions;
  return out;
}

function legacySkill(skill: Json): Json {
  const out: Json = { id: skill.id, name: skill.name, description: skill.description, tags: strings(skill.tags) };
  for (const name of ['examples', 'inputModes', 'outputModes'] as const) {
    const values = strings(skill[name]);
    if (values.length > 0) out[name] = values;
  }
  set(out, 'security', legacySecurity(skill.securityRequirements));
  return out;
}

/** 1.0 `[{"schemes": {"s": {"list": [...]}}}]` → 0.3 `[{"s": [...]}]`; undefined when there is none. */
function legacySecurity(requirements: unknown): Json[] | undefined {
  const out = objects(requirements).map((r) => Object.fromEntries(Object.entries(isObject(r.schemes) ? r.schemes : {}).map(([name, scopes]) => [name, strings(isObject(scopes) ? scopes.list : undefined)])));
  return out.length > 0 ? out : undefined;
}

/** One 1.0 scheme (oneof key) as its 0.3 OpenAPI object; undefined for a kind 0.3 lacks (normal form has none). */
function legacyScheme(scheme: unknown): Json | undefined {
  if (!isObject(scheme)) return undefined;
  const [kind, body] = Object.entries(scheme)[0] ?? [];
  if (!isObject(body)) return undefined;
  const described = (out: Json): Json => (body.description === undefined ? out : { ...out, description: body.description });
  switch (kind) {
    case 'apiKeySecurityScheme':
      // 1.0 widened `location` to a string; 0.3 (OpenAPI 3.0) has header, query, cookie: anything else is a header.
      return described({ type: 'apiKey', in: body.location === 'query' || body.location === 'cookie' ? body.location : 'header', name: body.name });
    case 'httpAuthSecurityScheme': {
      const out: Json = { type: 'http', scheme: body.scheme };
      set(out, 'bearerFormat', body.bearerFormat);
      return described(out);
    }
    case 'oauth2SecurityScheme': {
      const out: Json = { type: 'oauth2', flows: legacyFlows(body.flows) };
      set(out, 'oauth2MetadataUrl', body.oauth2MetadataUrl);
      return described(out);
    }
    case 'openIdConnectSecurityScheme':
      return described({ type: 'openIdConnect', openIdConnectUrl: body.openIdConnectUrl });
    case 'mtlsSecurityScheme':
      return described({ type: 'mutualTLS' });
    default:
      return undefined;
  }
}

/** The four flows 0.3 knows, with the URL members each has there; `scopes` is REQUIRED in all of them. */
const LEGACY_FLOWS: Record<string, readonly string[]> = {
  authorizationCode: ['authorizationUrl', 'tokenUrl', 'refreshUrl'],
  clientCredentials: ['tokenUrl', 'refreshUrl'],
  implicit: ['authorizationUrl', 'refreshUrl'],
  password: ['tokenUrl', 'refreshUrl'],
};

function legacyFlows(flows: unknown): Json {
  if (!isObject(flows)) return {};
  const [kind, flow] = Object.entries(flows)[0] ?? [];
  const members = kind === undefined ? undefined : LEGACY_FLOWS[kind];
  if (kind === undefined || members === undefined || !isObject(flow)) return {};
  const out: Json = {};
  for (const name of members) set(out, name, flow[name]);
  out.scopes = isObject(flow.scopes) ? { ...flow.scopes } : {};
  return { [kind]: out };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function set(o: Json, name: string, value: unknown): void {
  if (value !== undefined) o[name] = value;
}
