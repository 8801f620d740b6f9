/**
 * Agent Cards in normal form (A2A 1.0, proto `lf.a2a.v1.AgentCard`): reading an upstream's or a config's
 * card, shaping the card the gateway serves, and the extended card's skill filter.
 *
 * Why a normal form: a card is signed over its JCS bytes (§8.4, src/a2a/card-signature.ts), and the a2a-js
 * verifier first runs the card through its ProtoJSON round trip (`AgentCard.toJSON(AgentCard.fromJSON(card))`),
 * which drops members outside the schema and non-optional members holding their default, then strips empty values.
 * A card that round trip leaves unchanged (up to empties) canonicalises to the same bytes for both of us. It holds:
 *  - only members of the 1.0 schema, in camelCase (the proto field names, `protocol_binding`…, are read too, as
 *    ProtoJSON parsers must); security schemes and OAuth flows in the ProtoJSON oneof form
 *    (`{"httpAuthSecurityScheme": {…}}`), never ts-proto's `{scheme: {$case, value}}`;
 *  - REQUIRED members always, even empty (§8.4: "REQUIRED fields are always kept"): `"skills": []`,
 *    `"capabilities": {}`, a skill's `"tags": []`, a flow's `"scopes": {}`; so the card stays re-readable and
 *    clients can index into them;
 *  - other members only when set, and never at their proto default (`""`, `false`, `[]`, `{}`): e.g. an
 *    extension's `required: false`, a flow's `pkceRequired: false`. Presence-tracked booleans (`streaming`…) are
 *    kept when false.
 * Three empties are kept because they carry meaning: a requirement's scheme without scopes (`{"list": []}`), an
 * mTLS scheme without description (`{"mtlsSecurityScheme": {}}`) and a scope without description (`"s": ""`).
 * Both canonicalisers strip them, so no a2a-js-compatible signature covers them.
 *
 * Also read: the ts-proto form of schemes and flows (a2a-js serves it when its card was written as an SDK object),
 * and v0.3 cards (`url`, `preferredTransport`, `additionalInterfaces`, `type`-discriminated schemes, `security`,
 * `supportsAuthenticatedExtendedCard`), converted as whats-new-v1.md describes, with protocolVersion "0.3" on every
 * interface (and duplicate interfaces merged).
 *
 * Checked: types (never coerced), REQUIRED identifiers and URLs present and non-empty (REQUIRED free text and lists
 * that ProtoJSON writers omit when empty read as empty), counts (src/limits.ts), nesting of free-form JSON. A oneof with several members set takes the first in
 * proto field order, as a2a-js does, so an upstream signature made with a2a-js still verifies; a scheme or flow of
 * a kind this version does not know is dropped (a2a-js drops it too). Details name the member's path, never a value
 * or a map key (map entries are numbered). NOT checked: that URLs parse (the gateway's mapUrl decides what it
 * fronts), that requirements name declared schemes, that skill ids are unique.
 */
import { MAX_A2A_CARD_INTERFACES, MAX_A2A_CARD_LIST_ENTRIES, MAX_A2A_CARD_SKILLS, MAX_A2A_CARD_VALUE_DEPTH } from '../limits.ts';
import { fail, ok, type Result } from '../result.ts';
import type { AgentCardJson } from './card-signature.ts';

export type AgentCardErrorCode = 'ERR_A2A_CARD_INVALID';

/** An A2A 1.0 SecurityRequirement: scheme name → scopes. OR across a list of them, AND within one. */
export interface SecurityRequirement {
  schemes: Record<string, { list: string[] }>;
}

type Json = Record<string, unknown>;

/** Raised inside the reader with the member's path; readAgentCard turns it into a Result. */
class Refusal {
  detail: string;
  constructor(detail: string) {
    this.detail = detail;
  }
}

/** Reads a card (upstream or config) into normal form. */
export function readAgentCard(input: unknown): Result<AgentCardJson, AgentCardErrorCode> {
  try {
    const o = object(input, 'card');
    // A lone surrogate has no UTF-8 form: RFC 8785 cannot canonicalise it, so no signature could cover the card.
    if (!wellFormed(o, 0)) return fail('ERR_A2A_CARD_INVALID', 'card holds a string that is not well-formed Unicode (a lone surrogate)');
    return ok(readCard(isLegacyShape(o) ? fromLegacy(o) : o));
  } catch (error) {
    if (error instanceof Refusal) return fail('ERR_A2A_CARD_INVALID', error.detail);
    throw error;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every string (member names included) well-formed UTF-16; depth-bounded like the reader (deeper is refused there). */
function wellFormed(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (typeof value !== 'object' || value === null || depth > MAX_A2A_CARD_VALUE_DEPTH) return true;
  if (Array.isArray(value)) return value.every((v) => wellFormed(v, depth + 1));
  return Object.entries(value).every(([name, v]) => !LONE_SURROGATE.test(name) && wellFormed(v, depth + 1));
}

export interface GatewayCardOptions {
  /** New URL for an interface URL, or undefined to drop the interface (the gateway cannot front it). */
  mapUrl(url: string): string | undefined;
  /** A2A 1.0 ProtoJSON schemes (oneof keys); may be {}. */
  securitySchemes: Record<string, unknown>;
  /** May be []. */
  securityRequirements: SecurityRequirement[];
  /** A skill's security requirements as the gateway states them (undefined: none). */
  skillRequirements(skillId: string): SecurityRequirement[] | undefined;
}

/**
 * The card the gateway serves (unsigned), in normal form: GRPC interfaces dropped (a fetch proxy cannot carry gRPC
 * trailers), other interface URLs through mapUrl (duplicates merged); the upstream's schemes and requirements, and
 * every skill's requirements, replaced by the gateway's (the upstream's say how to reach the upstream, which callers
 * never do); `signatures` removed (rewritten URLs invalidate them: the gateway signs its own).
 */
export function gatewayCard(card: AgentCardJson, options: GatewayCardOptions): Result<AgentCardJson, AgentCardErrorCode> {
  const interfaces: Json[] = [];
  for (const entry of arrayOf(card.supportedInterfaces)) {
    if (!isObject(entry) || typeof entry.url !== 'string') continue; // not normal form: the re-read below refuses it
    if (typeof entry.protocolBinding === 'string' && entry.protocolBinding.toUpperCase() === 'GRPC') continue;
    const url = options.mapUrl(entry.url);
    if (url === undefined) continue;
    const mapped = { ...entry, url };
    if (!interfaces.some((seen) => sameInterface(seen, mapped))) interfaces.push(mapped);
  }
  if (interfaces.length === 0) return fail('ERR_A2A_CARD_INVALID', 'supportedInterfaces: no interface the gateway can front (only GRPC, or none mapped)');
  const skills = !Array.isArray(card.skills) ? card.skills : card.skills.map((skill: unknown) => {
    if (!isObject(skill)) return skill; // the re-read below refuses it
    const { securityRequirements: _upstream, ...rest } = skill;
    const stated = typeof skill.id === 'string' ? options.skillRequirements(skill.id) : undefined;
    return stated === undefined ? rest : { ...rest, securityRequirements: stated };
  });
  const { signatures: _signatures, securitySchemes: _schemes, securityRequirements: _requirements, ...rest } = card;
  return readAgentCard({ ...rest, supportedInterfaces: interfaces, securitySchemes: options.securitySchemes, securityRequirements: options.securityRequirements, skills });
}

/**
 * The card with only the skills `keep` accepts (the authenticated extended card, GetExtendedAgentCard). Its
 * `signatures` are removed: they covered the full skill list; sign the result.
 */
export function withSkills(card: AgentCardJson, keep: (skillId: string) => boolean): AgentCardJson {
  const { signatures: _signatures, ...rest } = card;
  return { ...rest, skills: arrayOf(card.skills).filter((skill) => isObject(skill) && typeof skill.id === 'string' && keep(skill.id)) };
}

// ---------------------------------------------------------------------------------------------------------------
// The 1.0 reader. Member order follows the spec's sample card (§8.5), so a card already in normal form keeps its
// order.

function readCard(o: Json): AgentCardJson {
  const card: Json = {};
  card.name = requiredText(o, 'name', 'name');
  // ProtoJSON writers (a2a-python, the SDK's own toJSON) omit REQUIRED members holding their default ("" or []):
  // absent reads as empty for free text and lists; identifiers (name, version, urls, ids) must be present.
  card.description = text(o, 'description', 'description') ?? '';
  const interfaces = required(list(get(o, 'supportedInterfaces', 'supported_interfaces'), 'supportedInterfaces', MAX_A2A_CARD_INTERFACES, readInterface), 'supportedInterfaces');
  if (interfaces.length === 0) throw new Refusal('supportedInterfaces is empty');
  card.supportedInterfaces = interfaces;
  set(card, 'provider', optional(get(o, 'provider'), 'provider', readProvider));
  set(card, 'iconUrl', optionalText(o, 'iconUrl', 'iconUrl', 'icon_url'));
  card.version = requiredText(o, 'version', 'version');
  set(card, 'documentationUrl', optionalText(o, 'documentationUrl', 'documentationUrl', 'documentation_url'));
  card.capabilities = readCapabilities(required(get(o, 'capabilities'), 'capabilities'), 'capabilities');
  set(card, 'securitySchemes', nonEmptyMap(map(get(o, 'securitySchemes', 'security_schemes'), 'securitySchemes', readScheme)));
  set(card, 'securityRequirements', nonEmptyList(list(get(o, 'securityRequirements', 'security_requirements'), 'securityRequirements', MAX_A2A_CARD_LIST_ENTRIES, readRequirement)));
  card.defaultInputModes = list(get(o, 'defaultInputModes', 'default_input_modes'), 'defaultInputModes', MAX_A2A_CARD_LIST_ENTRIES, readText) ?? [];
  card.defaultOutputModes = list(get(o, 'defaultOutputModes', 'default_output_modes'), 'defaultOutputModes', MAX_A2A_CARD_LIST_ENTRIES, readText) ?? [];
  card.skills = list(get(o, 'skills'), 'skills', MAX_A2A_CARD_SKILLS, readSkill) ?? [];
  set(card, 'signatures', nonEmptyList(list(get(o, 'signatures'), 'signatures', MAX_A2A_CARD_LIST_ENTRIES, readSignature)));
  return card as AgentCardJson;
}

function readInterface(value: unknown, path: string): Json {
  const o = object(value, path);
  const out: Json = { url: identifier(o, 'url', `${path}.url`), protocolBinding: identifier(o, 'protocolBinding', `${path}.protocolBinding`, 'protocol_binding') };
  set(out, 'tenant', optionalText(o, 'tenant', `${path}.tenant`));
  out.protocolVersion = identifier(o, 'protocolVersion', `${path}.protocolVersion`, 'protocol_version');
  return out;
}

function readProvider(value: unknown, path: string): Json {
  const o = object(value, path);
  return { organization: identifier(o, 'organization', `${path}.organization`), url: identifier(o, 'url', `${path}.url`) };
}

function readCapabilities(value: unknown, path: string): Json {
  const o = object(value, path);
  const out: Json = {};
  set(out, 'streaming', flag(o, 'streaming', `${path}.streaming`));
  set(out, 'pushNotifications', flag(o, 'pushNotifications', `${path}.pushNotifications`, 'push_notifications'));
  set(out, 'extensions', nonEmptyList(list(get(o, 'extensions'), `${path}.extensions`, MAX_A2A_CARD_LIST_ENTRIES, readExtension)));
  set(out, 'extendedAgentCard', flag(o, 'extendedAgentCard', `${path}.extendedAgentCard`, 'extended_agent_card'));
  return out;
}

/** AgentExtension has no REQUIRED member: one holding only defaults is empty, and dropped. */
function readExtension(value: unknown, path: string): Json | undefined {
  const o = object(value, path);
  const out: Json = {};
  set(out, 'uri', optionalText(o, 'uri', `${path}.uri`));
  set(out, 'description', optionalText(o, 'description', `${path}.description`));
  if (flag(o, 'required', `${path}.required`) === true) out.required = true; // non-optional bool: false is the default
  set(out, 'params', nonEmptyMap(optional(get(o, 'params'), `${path}.params`, struct)));
  return Object.keys(out).length > 0 ? out : undefined;
}

function readSkill(value: unknown, path: string): Json {
  const o = object(value, path);
  const out: Json = {
    id: identifier(o, 'id', `${path}.id`),
    name: requiredText(o, 'name', `${path}.name`),
    description: text(o, 'description', `${path}.description`) ?? '',
    tags: list(get(o, 'tags'), `${path}.tags`, MAX_A2A_CARD_LIST_ENTRIES, readText) ?? [],
  };
  set(out, 'examples', nonEmptyList(list(get(o, 'examples'), `${path}.examples`, MAX_A2A_CARD_LIST_ENTRIES, readText)));
  set(out, 'inputModes', nonEmptyList(list(get(o, 'inputModes', 'input_modes'), `${path}.inputModes`, MAX_A2A_CARD_LIST_ENTRIES, readText)));
  set(out, 'outputModes', nonEmptyList(list(get(o, 'outputModes', 'output_modes'), `${path}.outputModes`, MAX_A2A_CARD_LIST_ENTRIES, readText)));
  set(out, 'securityRequirements', nonEmptyList(list(get(o, 'securityRequirements', 'security_requirements'), `${path}.securityRequirements`, MAX_A2A_CARD_LIST_ENTRIES, readRequirement)));
  return out;
}

/** Kept as given (the verifier reads them); only their shape is checked. */
function readSignature(value: unknown, path: string): Json {
  const o = object(value, path);
  const out: Json = { protected: identifier(o, 'protected', `${path}.protected`), signature: identifier(o, 'signature', `${path}.signature`) };
  set(out, 'header', optional(get(o, 'header'), `${path}.header`, struct));
  return out;
}

/** A requirement naming no scheme is empty, and dropped. Each scheme keeps its (possibly empty) scope list. */
function readRequirement(value: unknown, path: string): SecurityRequirement | undefined {
  const o = object(value, path);
  const schemes = map(get(o, 'schemes'), `${path}.schemes`, (entry, at) => ({ list: list(get(object(entry, at), 'list'), `${at}.list`, MAX_A2A_CARD_LIST_ENTRIES, readText) ?? [] }));
  return schemes !== undefined && Object.keys(schemes).length > 0 ? { schemes } : undefined;
}

// Security schemes (SecurityScheme oneof `scheme`) and OAuth flows (OAuthFlows oneof `flow`), in proto field order.

interface OneofMember {
  key: string;
  proto: string;
  read: (value: unknown, path: string) => Json;
}

const SCHEMES: readonly OneofMember[] = [
  { key: 'apiKeySecurityScheme', proto: 'api_key_security_scheme', read: readApiKeyScheme },
  { key: 'httpAuthSecurityScheme', proto: 'http_auth_security_scheme', read: readHttpAuthScheme },
  { key: 'oauth2SecurityScheme', proto: 'oauth2_security_scheme', read: readOAuth2Scheme },
  { key: 'openIdConnectSecurityScheme', proto: 'open_id_connect_security_scheme', read: readOpenIdConnectScheme },
  { key: 'mtlsSecurityScheme', proto: 'mtls_security_scheme', read: readMtlsScheme },
];

const FLOWS: readonly OneofMember[] = [
  { key: 'authorizationCode', proto: 'authorization_code', read: (v, p) => readFlow(v, p, { authorizationUrl: true, tokenUrl: true, scopes: true, pkce: true }) },
  { key: 'clientCredentials', proto: 'client_credentials', read: (v, p) => readFlow(v, p, { tokenUrl: true, scopes: true }) },
  { key: 'implicit', proto: 'implicit', read: (v, p) => readFlow(v, p, { authorizationUrl: false }) },
  { key: 'password', proto: 'password', read: (v, p) => readFlow(v, p, { tokenUrl: false }) },
  { key: 'deviceCode', proto: 'device_code', read: (v, p) => readFlow(v, p, { deviceAuthorizationUrl: true, tokenUrl: true, scopes: true }) },
];

/** A scheme of a kind unknown here reads as undefined (dropped). */
function readScheme(value: unknown, path: string): Json | undefined {
  return readOneof(object(value, path), path, 'scheme', SCHEMES);
}

/** An OAuthFlows without a known flow stays `{}`: `flows` is REQUIRED. */
function readFlows(value: unknown, path: string): Json {
  return readOneof(object(value, path), path, 'flow', FLOWS) ?? {};
}

/**
 * The set member of a oneof: ProtoJSON (the member's own key, first in field order wins, as in a2a-js) or ts-proto
 * (`{<oneof>: {$case, value}}`).
 */
function readOneof(o: Json, path: string, oneof: string, members: readonly OneofMember[]): Json | undefined {
  for (const member of members) {
    const value = get(o, member.key, member.proto);
    if (value !== undefined) return { [member.key]: member.read(value, `${path}.${member.key}`) };
  }
  const tagged = get(o, oneof);
  if (tagged === undefined) return undefined;
  if (!isObject(tagged) || typeof tagged.$case !== 'string') throw new Refusal(`${path}.${oneof} is not a {$case, value} object`);
  const member = members.find((m) => m.key === tagged.$case);
  return member ? { [member.key]: member.read(tagged.value, `${path}.${oneof}.value`) } : undefined;
}

function readApiKeyScheme(value: unknown, path: string): Json {
  const o = object(value, path);
  const out = described(o, path);
  out.location = identifier(o, 'location', `${path}.location`);
  out.name = identifier(o, 'name', `${path}.name`);
  return out;
}

function readHttpAuthScheme(value: unknown, path: string): Json {
  const o = object(value, path);
  const out = described(o, path);
  out.scheme = identifier(o, 'scheme', `${path}.scheme`);
  set(out, 'bearerFormat', optionalText(o, 'bearerFormat', `${path}.bearerFormat`, 'bearer_format'));
  return out;
}

function readOAuth2Scheme(value: unknown, path: string): Json {
  const o = object(value, path);
  const out = described(o, path);
  out.flows = readFlows(required(get(o, 'flows'), `${path}.flows`), `${path}.flows`);
  set(out, 'oauth2MetadataUrl', optionalText(o, 'oauth2MetadataUrl', `${path}.oauth2MetadataUrl`, 'oauth2_metadata_url'));
  return out;
}

function readOpenIdConnectScheme(value: unknown, path: string): Json {
  const o = object(value, path);
  const out = described(o, path);
  out.openIdConnectUrl = identifier(o, 'openIdConnectUrl', `${path}.openIdConnectUrl`, 'open_id_connect_url');
  return out;
}

function readMtlsScheme(value: unknown, path: string): Json {
  return described(object(value, path), path);
}

function described(o: Json, path: string): Json {
  const out: Json = {};
  set(out, 'description', optionalText(o, 'description', `${path}.description`));
  return out;
}

/** Which URL members a flow has (true: REQUIRED), whether its scopes are REQUIRED, and whether it has pkceRequired. */
interface FlowShape {
  authorizationUrl?: boolean;
  deviceAuthorizationUrl?: boolean;
  tokenUrl?: boolean;
  scopes?: boolean;
  pkce?: boolean;
}

function readFlow(value: unknown, path: string, shape: FlowShape): Json {
  const o = object(value, path);
  const out: Json = {};
  const url = (name: 'authorizationUrl' | 'deviceAuthorizationUrl' | 'tokenUrl', proto: string) => {
    if (shape[name] === undefined) return;
    set(out, name, shape[name] ? identifier(o, name, `${path}.${name}`, proto) : optionalText(o, name, `${path}.${name}`, proto));
  };
  url('authorizationUrl', 'authorization_url');
  url('deviceAuthorizationUrl', 'device_authorization_url');
  url('tokenUrl', 'token_url');
  set(out, 'refreshUrl', optionalText(o, 'refreshUrl', `${path}.refreshUrl`, 'refresh_url'));
  // ProtoJSON writers omit an empty map, so a missing scopes reads as {} even where REQUIRED.
  const scopes = map(get(o, 'scopes'), `${path}.scopes`, readScopeDescription) ?? {};
  set(out, 'scopes', shape.scopes || Object.keys(scopes).length > 0 ? scopes : undefined);
  if (shape.pkce && flag(o, 'pkceRequired', `${path}.pkceRequired`, 'pkce_required') === true) out.pkceRequired = true;
  return out;
}

function readScopeDescription(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new Refusal(`${path} is not a string`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// v0.3 (a2a types.ts AgentCard) to the 1.0 shape; readCard then validates and normalises the result.

const LEGACY_MEMBERS = ['url', 'preferredTransport', 'additionalInterfaces', 'protocolVersion', 'supportsAuthenticatedExtendedCard'];

/** v0.3 has no supportedInterfaces, and has its primary interface and protocolVersion at the top level. */
function isLegacyShape(o: Json): boolean {
  if (get(o, 'supportedInterfaces', 'supported_interfaces') !== undefined) return false;
  return LEGACY_MEMBERS.some((name) => get(o, name) !== undefined);
}

function fromLegacy(o: Json): Json {
  // whats-new-v1: url + preferredTransport (default JSONRPC) + additionalInterfaces became supportedInterfaces[].
  const primary = { url: identifier(o, 'url', 'url'), protocolBinding: optionalText(o, 'preferredTransport', 'preferredTransport') ?? 'JSONRPC', protocolVersion: '0.3' };
  const interfaces: Json[] = [primary];
  const additional = list(get(o, 'additionalInterfaces'), 'additionalInterfaces', MAX_A2A_CARD_INTERFACES, (value, path) => {
    const entry = object(value, path);
    return { url: identifier(entry, 'url', `${path}.url`), protocolBinding: identifier(entry, 'transport', `${path}.transport`), protocolVersion: '0.3' };
  });
  for (const entry of additional ?? []) if (!interfaces.some((seen) => sameInterface(seen, entry))) interfaces.push(entry);
  // supportsAuthenticatedExtendedCard moved to capabilities.extendedAgentCard.
  const capabilities = get(o, 'capabilities');
  const extended = flag(o, 'supportsAuthenticatedExtendedCard', 'supportsAuthenticatedExtendedCard');
  const skills = get(o, 'skills');
  return {
    name: get(o, 'name'),
    description: get(o, 'description'),
    supportedInterfaces: interfaces,
    provider: get(o, 'provider'),
    iconUrl: get(o, 'iconUrl'),
    version: get(o, 'version'),
    documentationUrl: get(o, 'documentationUrl'),
    capabilities: isObject(capabilities) && extended !== undefined ? { ...capabilities, extendedAgentCard: extended } : capabilities,
    securitySchemes: map(get(o, 'securitySchemes'), 'securitySchemes', legacyScheme),
    securityRequirements: legacyRequirements(o, 'security'),
    defaultInputModes: get(o, 'defaultInputModes'),
    defaultOutputModes: get(o, 'defaultOutputModes'),
    skills: Array.isArray(skills) && skills.length <= MAX_A2A_CARD_SKILLS ? skills.map((skill, i) => (isObject(skill) ? legacySkill(skill, `skills[${i}]`) : skill)) : skills,
    signatures: get(o, 'signatures'),
  };
}

function legacySkill(skill: Json, path: string): Json {
  const { security: _security, ...rest } = skill;
  return { ...rest, securityRequirements: legacyRequirements(skill, 'security', `${path}.security`) };
}

/** v0.3 `security: [{"<scheme>": ["scope", …]}]` → 1.0 `[{"schemes": {"<scheme>": {"list": […]}}}]`. */
function legacyRequirements(o: Json, name: string, path = name): SecurityRequirement[] | undefined {
  return list(get(o, name), path, MAX_A2A_CARD_LIST_ENTRIES, (value, at) => ({
    schemes: map(value, at, (scopes, scheme) => ({ list: list(scopes, scheme, MAX_A2A_CARD_LIST_ENTRIES, readText) ?? [] })) ?? {},
  }));
}

/** v0.3 schemes are OpenAPI 3.0 objects with a `type` discriminator; 1.0 names the kind by its oneof key. */
function legacyScheme(value: unknown, path: string): Json {
  const o = object(value, path);
  const description = get(o, 'description');
  switch (get(o, 'type')) {
    case 'apiKey':
      return { apiKeySecurityScheme: { description, location: get(o, 'in'), name: get(o, 'name') } };
    case 'http':
      return { httpAuthSecurityScheme: { description, scheme: get(o, 'scheme'), bearerFormat: get(o, 'bearerFormat') } };
    case 'oauth2':
      return { oauth2SecurityScheme: { description, flows: legacyFlows(get(o, 'flows')), oauth2MetadataUrl: get(o, 'oauth2MetadataUrl') } };
    case 'openIdConnect':
      return { openIdConnectSecurityScheme: { description, openIdConnectUrl: get(o, 'openIdConnectUrl') } };
    case 'mutualTLS':
      return { mtlsSecurityScheme: { description } };
    default:
      throw new Refusal(`${path}.type is not a v0.3 security scheme type`);
  }
}

/** v0.3 OAuthFlows may list several flows; the 1.0 oneof holds one: the first in a2a-js's order. */
function legacyFlows(flows: unknown): unknown {
  if (!isObject(flows)) return flows;
  const name = ['authorizationCode', 'clientCredentials', 'implicit', 'password'].find((flow) => get(flows, flow) !== undefined);
  return name === undefined ? {} : { [name]: get(flows, name) };
}

// ---------------------------------------------------------------------------------------------------------------
// Readers of JSON values. `path` names the member in details; values and map keys never appear there.

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, path: string): Json {
  if (!isObject(value)) throw new Refusal(`${path} is not an object`);
  return value;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A member by its JSON name, else by its proto field name (ProtoJSON parsers accept both); null reads as absent. */
function get(o: Json, name: string, protoName?: string): unknown {
  const value = Object.hasOwn(o, name) ? o[name] : undefined;
  if (value !== undefined && value !== null) return value;
  if (protoName === undefined || !Object.hasOwn(o, protoName)) return undefined;
  return o[protoName] ?? undefined;
}

function required<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new Refusal(`${path} is missing`);
  return value;
}

function optional<T>(value: unknown, path: string, read: (value: unknown, path: string) => T): T | undefined {
  return value === undefined ? undefined : read(value, path);
}

function text(o: Json, name: string, path: string, protoName?: string): string | undefined {
  const value = get(o, name, protoName);
  if (value !== undefined && typeof value !== 'string') throw new Refusal(`${path} is not a string`);
  return value;
}

/** A REQUIRED free-text member: present, possibly empty. */
function requiredText(o: Json, name: string, path: string, protoName?: string): string {
  return required(text(o, name, path, protoName), path);
}

/** A REQUIRED identifier or URL: present and non-empty. */
function identifier(o: Json, name: string, path: string, protoName?: string): string {
  const value = requiredText(o, name, path, protoName);
  if (value === '') throw new Refusal(`${path} is empty`);
  return value;
}

/** An optional string; "" is the proto default, so absent. */
function optionalText(o: Json, name: string, path: string, protoName?: string): string | undefined {
  const value = text(o, name, path, protoName);
  return value === '' ? undefined : value;
}

function flag(o: Json, name: string, path: string, protoName?: string): boolean | undefined {
  const value = get(o, name, protoName);
  if (value !== undefined && typeof value !== 'boolean') throw new Refusal(`${path} is not a boolean`);
  return value;
}

/** A list element that is a string; "" elements are dropped (empty, as a2a-js strips them). */
function readText(value: unknown, path: string): string | undefined {
  if (typeof value !== 'string') throw new Refusal(`${path} is not a string`);
  return value === '' ? undefined : value;
}

/** A repeated member: bounded, each element read (undefined elements dropped). */
function list<T>(value: unknown, path: string, max: number, read: (value: unknown, path: string) => T | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new Refusal(`${path} is not an array`);
  if (value.length > max) throw new Refusal(`${path} has more than ${max} entries`);
  const out: T[] = [];
  value.forEach((element: unknown, i) => {
    const item = read(element, `${path}[${i}]`);
    if (item !== undefined) out.push(item);
  });
  return out;
}

/** A map member: bounded, entries numbered in details (keys are data), built without ever invoking `__proto__`. */
function map<T>(value: unknown, path: string, read: (value: unknown, path: string) => T | undefined): Record<string, T> | undefined {
  if (value === undefined) return undefined;
  const entries = Object.entries(object(value, path));
  if (entries.length > MAX_A2A_CARD_LIST_ENTRIES) throw new Refusal(`${path} has more than ${MAX_A2A_CARD_LIST_ENTRIES} entries`);
  const out: [string, T][] = [];
  entries.forEach(([key, entry], i) => {
    const item = read(entry, `${path}[entry ${i}]`);
    if (item !== undefined) out.push([key, item]);
  });
  return Object.fromEntries(out) as Record<string, T>;
}

/** google.protobuf.Struct: a JSON object, copied, nested at most MAX_A2A_CARD_VALUE_DEPTH deep. */
function struct(value: unknown, path: string): Json {
  return object(jsonCopy(object(value, path), path, 1), path);
}

function jsonCopy(value: unknown, path: string, depth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Refusal(`${path} holds a number JSON cannot carry`);
    return value;
  }
  if (typeof value !== 'object') throw new Refusal(`${path} holds a value that is not JSON`);
  if (depth > MAX_A2A_CARD_VALUE_DEPTH) throw new Refusal(`${path} is nested more than ${MAX_A2A_CARD_VALUE_DEPTH} deep`);
  if (Array.isArray(value)) return value.map((element: unknown) => jsonCopy(element, path, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, jsonCopy(member, path, depth + 1)]));
}

function set(o: Json, name: string, value: unknown): void {
  if (value !== undefined) o[name] = value;
}

function nonEmptyList<T>(value: T[] | undefined): T[] | undefined {
  return value !== undefined && value.length > 0 ? value : undefined;
}

function nonEmptyMap<T extends object>(value: T | undefined): T | undefined {
  return value !== undefined && Object.keys(value).length > 0 ? value : undefined;
}

function sameInterface(a: Json, b: Json): boolean {
  return a.url === b.url && a.protocolBinding === b.protocolBinding && a.protocolVersion === b.protocolVersion && a.tenant === b.tenant;
}
