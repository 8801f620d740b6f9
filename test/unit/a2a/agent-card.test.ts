/**
 * Agent Card normal form (src/a2a/agent-card.ts): readAgentCard on the spec's sample card (test/vectors/a2a), on each
 * REQUIRED member missing, wrong types, over-limit counts, the ts-proto `$case` form a2a-js serves, v0.3 cards (against
 * the SDK's own v0.3 parser) and unknown members; the canonical bytes of the normal form against @a2a-js/sdk 1.3.0's
 * `canonicalizeAgentCard`, and signatures both ways. gatewayCard: URL mapping, GRPC, schemes and skill requirements
 * replaced, signatures removed, and the signed result accepted by the SDK verifier for every scheme kind the gateway
 * emits (src/a2a/card-security.ts). withSkills.
 */
import {
  AgentCard,
  canonicalizeAgentCard,
  generateAgentCardSignature,
  verifyAgentCardSignature,
  type AgentCard as SdkAgentCard,
} from '@a2a-js/sdk';
import { parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { gatewayCard, readAgentCard, withSkills, type GatewayCardOptions } from '../../../src/a2a/agent-card.ts';
import { cardSecurity } from '../../../src/a2a/card-security.ts';
import { canonicalAgentCard, signAgentCard, verifyAgentCard, type AgentCardJson } from '../../../src/a2a/card-signature.ts';
import { assertConfig } from '../../../src/config/index.ts';
import type { RouteConfig } from '../../../src/config/schema.ts';
import { MAX_A2A_CARD_INTERFACES, MAX_A2A_CARD_LIST_ENTRIES, MAX_A2A_CARD_SKILLS, MAX_A2A_CARD_VALUE_DEPTH } from '../../../src/limits.ts';
import sample from '../../vectors/a2a/spec-sample-card.json' with { type: 'json' };

vi.spyOn(console, 'debug').mockImplementation(() => {}); // the SDK verifier logs every failed entry

const SAMPLE = sample as AgentCardJson;
const clone = <T>(value: T): T => structuredClone(value);
const read = (input: unknown): AgentCardJson => {
  const result = readAgentCard(input);
  if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
  return result.value;
};
/** The sample card changed by `edit` (on a copy). */
const edited = (edit: (card: Record<string, any>) => void): Record<string, any> => {
  const card = clone(SAMPLE) as Record<string, any>;
  edit(card);
  return card;
};
/** What the a2a-js client works with: its ProtoJSON round trip of the card. */
const sdkRoundTrip = (card: unknown) => AgentCard.toJSON(AgentCard.fromJSON(card)) as Record<string, unknown>;
/** The ts-proto form a2a-js serves when its card was written as an SDK object (JSON.stringify of that object). */
const tsProtoJson = (card: unknown) => JSON.parse(JSON.stringify(AgentCard.fromJSON(card))) as Record<string, unknown>;

async function es256(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } as JWK };
}
type Key = Awaited<ReturnType<typeof es256>>;
let key: Key;
beforeAll(async () => {
  key = await es256('gw-1');
});
const sdkAccepts = async (card: unknown) => {
  try {
    await verifyAgentCardSignature(async (kid) => {
      if (kid !== key.kid) throw new Error('unknown kid');
      return key.jwk;
    })(card as SdkAgentCard);
    return true;
  } catch {
    return false;
  }
};
const sign = (card: AgentCardJson) => signAgentCard(card, { key: key.privateKey, alg: 'ES256', kid: key.kid, jku: 'https://gw.example/.well-known/jwks.json' });
const ourVerify = (card: AgentCardJson) => verifyAgentCard(card, { keys: async (kid) => (kid === key.kid ? key.jwk : undefined), algorithms: ['ES256'] });

// A card with every scheme and flow kind, extensions, and members at their defaults.
const EVERYTHING = {
  name: 'Everything Agent',
  description: 'Every member the 1.0 schema has.',
  supportedInterfaces: [
    { url: 'https://agent.example/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: 't1' },
    { url: 'https://agent.example/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0', tenant: '' },
    { url: 'https://agent.example/v03', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
  ],
  provider: { organization: 'Example', url: 'https://example.com' },
  iconUrl: '',
  version: '2.0.0',
  documentationUrl: 'https://docs.example',
  capabilities: {
    streaming: false,
    pushNotifications: true,
    extendedAgentCard: false,
    extensions: [
      { uri: 'https://ext.example/a', description: '', required: false, params: { mode: 'x', nested: { n: 1, list: [1, 'two', null, true] } } },
      { uri: 'https://ext.example/b', required: true },
      { uri: '', description: '', required: false },
    ],
  },
  securitySchemes: {
    key: { apiKeySecurityScheme: { description: 'API key', location: 'header', name: 'X-API-Key' } },
    bearer: { httpAuthSecurityScheme: { description: '', scheme: 'Bearer', bearerFormat: 'JWT' } },
    code: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', refreshUrl: '', scopes: { read: 'Read', write: 'Write' }, pkceRequired: false } }, oauth2MetadataUrl: 'https://as.example/.well-known/oauth-authorization-server' } },
    cc: { oauth2SecurityScheme: { description: 'Machines', flows: { clientCredentials: { tokenUrl: 'https://as.example/token', scopes: { read: 'Read' } } } } },
    device: { oauth2SecurityScheme: { flows: { deviceCode: { deviceAuthorizationUrl: 'https://as.example/device', tokenUrl: 'https://as.example/token', refreshUrl: 'https://as.example/refresh', scopes: { read: 'Read' } } } } },
    pkce: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', scopes: { read: 'Read' }, pkceRequired: true } } } },
    oidc: { openIdConnectSecurityScheme: { openIdConnectUrl: 'https://accounts.example/.well-known/openid-configuration' } },
    mtls: { mtlsSecurityScheme: { description: 'Client certificate' } },
  },
  securityRequirements: [{ schemes: { code: { list: ['read'] }, mtls: { list: [] } } }, { schemes: { key: { list: [] } } }],
  defaultInputModes: ['text/plain', ''],
  defaultOutputModes: ['text/plain'],
  skills: [
    { id: 'a', name: 'A', description: 'Skill A', tags: ['x'], examples: [], inputModes: ['application/json'], securityRequirements: [{ schemes: { cc: { list: ['read'] } } }] },
    { id: 'b', name: 'B', description: 'Skill B', tags: ['y', ''], examples: ['do b'], outputModes: [] },
  ],
  signatures: [],
};

describe('readAgentCard: the spec sample card (test/vectors/a2a/spec-sample-card.json, A2A 1.0 §8.5)', () => {
  it('is already in normal form: read back member for member and in the same order', () => {
    const result = readAgentCard(SAMPLE);
    expect(result).toEqual({ ok: true, value: SAMPLE });
    expect(JSON.stringify(read(SAMPLE))).toBe(JSON.stringify(SAMPLE));
  });

  it('canonicalises to the bytes of the SDK canonicaliser, and survives the SDK ProtoJSON round trip unchanged', () => {
    const card = read(SAMPLE);
    expect(canonicalAgentCard(card)).toBe(canonicalizeAgentCard(SAMPLE as unknown as SdkAgentCard));
    expect(sdkRoundTrip(card)).toEqual(card);
  });

  it('is a fixed point: reading a normal-form card returns it unchanged (the sample and a card with every member)', () => {
    for (const input of [SAMPLE, EVERYTHING]) {
      const once = read(input);
      expect(read(once)).toEqual(once);
      expect(JSON.stringify(read(once))).toBe(JSON.stringify(once));
    }
  });
});

describe('readAgentCard: REQUIRED members', () => {
  const missing: [string, (card: Record<string, any>) => void][] = [
    ['name', (c) => delete c.name],
    ['supportedInterfaces', (c) => delete c.supportedInterfaces],
    ['supportedInterfaces[0].url', (c) => delete c.supportedInterfaces[0].url],
    ['supportedInterfaces[1].protocolBinding', (c) => delete c.supportedInterfaces[1].protocolBinding],
    ['supportedInterfaces[2].protocolVersion', (c) => delete c.supportedInterfaces[2].protocolVersion],
    ['version', (c) => delete c.version],
    ['capabilities', (c) => delete c.capabilities],
    ['skills[0].id', (c) => delete c.skills[0].id],
    ['skills[0].name', (c) => delete c.skills[0].name],
    ['provider.url', (c) => delete c.provider.url],
    ['securitySchemes[entry 0].openIdConnectSecurityScheme.openIdConnectUrl', (c) => delete c.securitySchemes.google.openIdConnectSecurityScheme.openIdConnectUrl],
    ['signatures[0].signature', (c) => delete c.signatures[0].signature],
  ];
  it.each(missing)('%s missing: ERR_A2A_CARD_INVALID naming it', (path, edit) => {
    expect(readAgentCard(edited(edit))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: `${path} is missing` });
  });

  it('free text and lists that ProtoJSON writers omit when empty read as empty (description, modes, skills, tags)', () => {
    const card = read(edited((c) => {
      delete c.description;
      delete c.defaultInputModes;
      delete c.defaultOutputModes;
      delete c.skills[0].description;
      delete c.skills[0].tags;
    }));
    expect(card).toMatchObject({ description: '', defaultInputModes: [], defaultOutputModes: [], skills: [expect.objectContaining({ description: '', tags: [] })] });
    expect(read(edited((c) => delete c.skills))).toMatchObject({ skills: [] });
  });

  it('null reads as absent (ProtoJSON), so a null REQUIRED member is missing', () => {
    expect(readAgentCard(edited((c) => (c.version = null)))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'version is missing' });
    expect(read(edited((c) => (c.iconUrl = null)))).not.toHaveProperty('iconUrl');
  });

  it('identifiers and URLs must be non-empty; free text may be empty and is then kept (§8.4: REQUIRED fields are always kept)', () => {
    expect(readAgentCard(edited((c) => (c.supportedInterfaces[0].url = '')))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'supportedInterfaces[0].url is empty' });
    expect(readAgentCard(edited((c) => (c.skills[0].id = '')))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'skills[0].id is empty' });
    expect(readAgentCard(edited((c) => (c.supportedInterfaces = [])))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'supportedInterfaces is empty' });
    const card = read(edited((c) => Object.assign(c, { description: '', capabilities: {}, skills: [], defaultInputModes: [] })));
    expect(card).toMatchObject({ description: '', capabilities: {}, skills: [], defaultInputModes: [] });
    // ...and the canonical bytes still equal the SDK's, which strips them.
    expect(canonicalAgentCard(card)).toBe(canonicalizeAgentCard(card as unknown as SdkAgentCard));
  });
});

describe('readAgentCard: types', () => {
  const wrong: [string, string, (card: Record<string, any>) => void][] = [
    ['the card', 'card is not an object', () => {}],
    ['name', 'name is not a string', (c) => (c.name = 42)],
    ['supportedInterfaces', 'supportedInterfaces is not an array', (c) => (c.supportedInterfaces = { url: 'x' })],
    ['an interface', 'supportedInterfaces[1] is not an object', (c) => (c.supportedInterfaces[1] = 'https://x')],
    ['capabilities', 'capabilities is not an object', (c) => (c.capabilities = [])],
    ['capabilities.streaming', 'capabilities.streaming is not a boolean', (c) => (c.capabilities.streaming = 'yes')],
    ['defaultInputModes', 'defaultInputModes is not an array', (c) => (c.defaultInputModes = 'text/plain')],
    ['a tag', 'skills[0].tags[1] is not a string', (c) => (c.skills[0].tags[1] = 7)],
    ['a scheme', 'securitySchemes[entry 0] is not an object', (c) => (c.securitySchemes.google = 'oidc')],
    ['a requirement scope', 'securityRequirements[0].schemes[entry 0].list[2] is not a string', (c) => (c.securityRequirements[0].schemes.google.list[2] = false)],
    ['an extension', 'capabilities.extensions[0].required is not a boolean', (c) => (c.capabilities.extensions = [{ uri: 'u', required: 'true' }])],
    ['extension params', 'capabilities.extensions[0].params is not an object', (c) => (c.capabilities.extensions = [{ uri: 'u', params: [1] }])],
    ['a $case scheme', 'securitySchemes[entry 0].scheme is not a {$case, value} object', (c) => (c.securitySchemes.google = { scheme: 'openIdConnectSecurityScheme' })],
    ['a signature header', 'signatures[0].header is not an object', (c) => (c.signatures[0].header = 'h')],
  ];
  it.each(wrong)('%s: ERR_A2A_CARD_INVALID, "%s"', (_what, detail, edit) => {
    const input = detail === 'card is not an object' ? [SAMPLE] : edited(edit);
    expect(readAgentCard(input)).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail });
  });

  it('never echoes a value or a map key in the detail', () => {
    const secret = 'SECRET-d1c3a7';
    const outcomes = [
      readAgentCard(edited((c) => (c.securitySchemes = { [secret]: { apiKeySecurityScheme: { location: 'header', name: 7 } } }))),
      readAgentCard(edited((c) => (c.skills[0].id = { value: secret }))),
      readAgentCard(edited((c) => (c.securityRequirements = [{ schemes: { [secret]: secret } }]))),
    ];
    expect(outcomes.map((o) => o.ok || o.detail)).toEqual([
      'securitySchemes[entry 0].apiKeySecurityScheme.name is not a string',
      'skills[0].id is not a string',
      'securityRequirements[0].schemes[entry 0] is not an object',
    ]);
    for (const o of outcomes) expect(JSON.stringify(o)).not.toContain(secret);
  });
});

describe('readAgentCard: bounds (src/limits.ts)', () => {
  const many = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));
  const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { d: nested(depth - 1) });
  it.each([
    ['interfaces', `supportedInterfaces has more than ${MAX_A2A_CARD_INTERFACES} entries`, (c: Record<string, any>) => (c.supportedInterfaces = many(MAX_A2A_CARD_INTERFACES + 1, (i) => ({ url: `https://a.example/${i}`, protocolBinding: 'JSONRPC', protocolVersion: '1.0' })))],
    ['skills', `skills has more than ${MAX_A2A_CARD_SKILLS} entries`, (c: Record<string, any>) => (c.skills = many(MAX_A2A_CARD_SKILLS + 1, (i) => ({ id: `s${i}`, name: 'n', description: 'd', tags: [] })))],
    ['tags', `skills[0].tags has more than ${MAX_A2A_CARD_LIST_ENTRIES} entries`, (c: Record<string, any>) => (c.skills[0].tags = many(MAX_A2A_CARD_LIST_ENTRIES + 1, (i) => `t${i}`))],
    ['schemes', `securitySchemes has more than ${MAX_A2A_CARD_LIST_ENTRIES} entries`, (c: Record<string, any>) => (c.securitySchemes = Object.fromEntries(many(MAX_A2A_CARD_LIST_ENTRIES + 1, (i) => [`s${i}`, { mtlsSecurityScheme: {} }])))],
    ['scopes', `securitySchemes[entry 0].oauth2SecurityScheme.flows.clientCredentials.scopes has more than ${MAX_A2A_CARD_LIST_ENTRIES} entries`, (c: Record<string, any>) => (c.securitySchemes = { o: { oauth2SecurityScheme: { flows: { clientCredentials: { tokenUrl: 'https://t', scopes: Object.fromEntries(many(MAX_A2A_CARD_LIST_ENTRIES + 1, (i) => [`s${i}`, ''])) } } } } })],
    ['params depth', `capabilities.extensions[0].params is nested more than ${MAX_A2A_CARD_VALUE_DEPTH} deep`, (c: Record<string, any>) => (c.capabilities.extensions = [{ uri: 'u', params: nested(MAX_A2A_CARD_VALUE_DEPTH + 1) }])],
  ])('too many %s: ERR_A2A_CARD_INVALID', (_what, detail, edit) => {
    expect(readAgentCard(edited(edit))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail });
  });

  it('accepts the limits themselves', () => {
    const nested = (depth: number): unknown => (depth === 1 ? { leaf: true } : { d: nested(depth - 1) });
    expect(readAgentCard(edited((c) => (c.skills[0].tags = many(MAX_A2A_CARD_LIST_ENTRIES, (i) => `t${i}`)))).ok).toBe(true);
    expect(readAgentCard(edited((c) => (c.capabilities.extensions = [{ uri: 'u', params: nested(MAX_A2A_CARD_VALUE_DEPTH) }]))).ok).toBe(true);
  });
});

describe('readAgentCard: normal form', () => {
  it('drops unknown members everywhere, and schemes and flows of kinds 1.0 does not have', () => {
    const card = read(
      edited((c) => {
        c.url = 'https://v03-leftover.example'; // with supportedInterfaces present the card is 1.0: this is just unknown
        c.extra = { a: 1 };
        c.supportedInterfaces[0].weight = 3;
        c.capabilities.stateTransitionHistory = true;
        c.skills[0].rating = 5;
        c.securitySchemes.google.openIdConnectSecurityScheme.scopes = ['x'];
        c.securitySchemes.future = { quantumSecurityScheme: { qubits: 3 } };
        c.securitySchemes.device = { oauth2SecurityScheme: { flows: { carrierPigeon: { coop: 'x' } } } };
        c.securityRequirements[0].priority = 1;
      }),
    );
    expect(card).toEqual({
      ...SAMPLE,
      securitySchemes: { ...(SAMPLE.securitySchemes as object), device: { oauth2SecurityScheme: { flows: {} } } },
    });
  });

  it('drops non-optional members at their proto default ("" / false / [] / {}), keeps presence-tracked false and REQUIRED empties', () => {
    const card = read(EVERYTHING);
    expect(card).toEqual({
      name: 'Everything Agent',
      description: 'Every member the 1.0 schema has.',
      supportedInterfaces: [
        { url: 'https://agent.example/jsonrpc', protocolBinding: 'JSONRPC', tenant: 't1', protocolVersion: '1.0' },
        { url: 'https://agent.example/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
        { url: 'https://agent.example/v03', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      ],
      provider: { organization: 'Example', url: 'https://example.com' },
      version: '2.0.0',
      documentationUrl: 'https://docs.example',
      capabilities: {
        streaming: false,
        pushNotifications: true,
        extensions: [{ uri: 'https://ext.example/a', params: { mode: 'x', nested: { n: 1, list: [1, 'two', null, true] } } }, { uri: 'https://ext.example/b', required: true }],
        extendedAgentCard: false,
      },
      securitySchemes: {
        key: { apiKeySecurityScheme: { description: 'API key', location: 'header', name: 'X-API-Key' } },
        bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', bearerFormat: 'JWT' } },
        code: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', scopes: { read: 'Read', write: 'Write' } } }, oauth2MetadataUrl: 'https://as.example/.well-known/oauth-authorization-server' } },
        cc: { oauth2SecurityScheme: { description: 'Machines', flows: { clientCredentials: { tokenUrl: 'https://as.example/token', scopes: { read: 'Read' } } } } },
        device: { oauth2SecurityScheme: { flows: { deviceCode: { deviceAuthorizationUrl: 'https://as.example/device', tokenUrl: 'https://as.example/token', refreshUrl: 'https://as.example/refresh', scopes: { read: 'Read' } } } } },
        pkce: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', scopes: { read: 'Read' }, pkceRequired: true } } } },
        oidc: { openIdConnectSecurityScheme: { openIdConnectUrl: 'https://accounts.example/.well-known/openid-configuration' } },
        mtls: { mtlsSecurityScheme: { description: 'Client certificate' } },
      },
      securityRequirements: [{ schemes: { code: { list: ['read'] }, mtls: { list: [] } } }, { schemes: { key: { list: [] } } }],
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['text/plain'],
      skills: [
        { id: 'a', name: 'A', description: 'Skill A', tags: ['x'], inputModes: ['application/json'], securityRequirements: [{ schemes: { cc: { list: ['read'] } } }] },
        { id: 'b', name: 'B', description: 'Skill B', tags: ['y'], examples: ['do b'] },
      ],
    });
  });

  it('reads proto field names (ProtoJSON parsers accept both), the JSON name winning', () => {
    const card = read({
      ...clone(SAMPLE),
      supportedInterfaces: [{ url: 'https://a.example', protocol_binding: 'JSONRPC', protocol_version: '1.0' }],
      default_input_modes: ['x'],
      defaultInputModes: ['text/plain'],
      capabilities: { push_notifications: true, extended_agent_card: false },
      securitySchemes: { k: { api_key_security_scheme: { location: 'query', name: 'k' } }, o: { oauth2_security_scheme: { flows: { client_credentials: { token_url: 'https://t', scopes: {} } }, oauth2_metadata_url: 'https://m' } } },
    });
    expect(card.supportedInterfaces).toEqual([{ url: 'https://a.example', protocolBinding: 'JSONRPC', protocolVersion: '1.0' }]);
    expect(card.defaultInputModes).toEqual(['text/plain']);
    expect(card.capabilities).toEqual({ pushNotifications: true, extendedAgentCard: false });
    expect(card.securitySchemes).toEqual({
      k: { apiKeySecurityScheme: { location: 'query', name: 'k' } },
      o: { oauth2SecurityScheme: { flows: { clientCredentials: { tokenUrl: 'https://t', scopes: {} } }, oauth2MetadataUrl: 'https://m' } },
    });
  });

  it('a oneof with two members set takes the first in proto field order, as a2a-js does', () => {
    const input = edited((c) => {
      c.securitySchemes = { both: { oauth2SecurityScheme: { flows: { clientCredentials: { tokenUrl: 'https://t', scopes: { a: 'A' } }, authorizationCode: { authorizationUrl: 'https://a', tokenUrl: 'https://t', scopes: {} } } }, httpAuthSecurityScheme: { scheme: 'Bearer' } } };
    });
    expect(read(input).securitySchemes).toEqual({ both: { httpAuthSecurityScheme: { scheme: 'Bearer' } } });
    const flows = edited((c) => (c.securitySchemes = { o: { oauth2SecurityScheme: { flows: { clientCredentials: { tokenUrl: 'https://t', scopes: {} }, authorizationCode: { authorizationUrl: 'https://a', tokenUrl: 'https://t', scopes: {} } } } } }));
    expect(read(flows).securitySchemes).toEqual({ o: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://a', tokenUrl: 'https://t', scopes: {} } } } } });
    expect(canonicalAgentCard(read(flows))).toBe(canonicalizeAgentCard(flows as unknown as SdkAgentCard));
  });

  it('keeps signatures as given (the upstream signature is verified on the normal form)', () => {
    const signatures = [{ protected: 'eyJ9', signature: 'c2ln', header: { kid: 'k', extra: { '': '' } } }];
    expect(read(edited((c) => (c.signatures = signatures))).signatures).toEqual(signatures);
    expect(read(edited((c) => (c.signatures = [])))).not.toHaveProperty('signatures');
  });

  it('a map key "__proto__" stays an ordinary member (never the prototype)', () => {
    const input = JSON.parse('{"schemes":{"__proto__":{"list":["s"]}}}');
    const card = read(edited((c) => (c.securityRequirements = [input])));
    const schemes = (card.securityRequirements as { schemes: object }[])[0]!.schemes;
    expect(Object.getPrototypeOf(schemes)).toBe(Object.prototype);
    expect(Object.keys(schemes)).toEqual(['__proto__']);
  });
});

describe('readAgentCard: the ts-proto `$case` form (what a2a-js serves for a card written as an SDK object)', () => {
  it('normalises schemes and flows of every kind to the ProtoJSON oneof form', () => {
    const served = tsProtoJson(EVERYTHING);
    expect((served.securitySchemes as Record<string, any>).cc).toEqual({
      scheme: { $case: 'oauth2SecurityScheme', value: { description: 'Machines', flows: { flow: { $case: 'clientCredentials', value: { tokenUrl: 'https://as.example/token', refreshUrl: '', scopes: { read: 'Read' } } } }, oauth2MetadataUrl: '' } },
    });
    expect(read(served)).toEqual(read(EVERYTHING));
  });

  it('the SDK canonicaliser drops such schemes (a2a-js#663); the normal form keeps them, and matches its bytes once in ProtoJSON', () => {
    const served = tsProtoJson(EVERYTHING);
    const card = read(served);
    expect(canonicalizeAgentCard(served as unknown as SdkAgentCard)).not.toContain('securitySchemes');
    expect(canonicalAgentCard(card)).toContain('"securitySchemes"');
    expect(canonicalAgentCard(card)).toBe(canonicalizeAgentCard(EVERYTHING as unknown as SdkAgentCard));
  });

  it('so an a2a-js upstream that signs its ts-proto card signs no schemes: after normalisation that signature fails', async () => {
    const upstream = await es256('upstream');
    const signed = await generateAgentCardSignature(upstream.privateKey, { alg: 'ES256', kid: upstream.kid, typ: 'JOSE' })(AgentCard.fromJSON(EVERYTHING));
    const result = await verifyAgentCard(read(JSON.parse(JSON.stringify(signed))), { keys: async () => upstream.jwk, algorithms: ['ES256'] });
    expect(result.ok || result.code).toBe('ERR_CARD_SIGNATURE_INVALID');
  });
});

// A v0.3 card (a2a types.ts 0.3.0), with what 1.0 renamed or moved.
const LEGACY = {
  protocolVersion: '0.3.0',
  name: 'Legacy Agent',
  description: 'Speaks 0.3.',
  url: 'https://legacy.example/a2a',
  preferredTransport: 'JSONRPC',
  additionalInterfaces: [{ url: 'https://legacy.example/rest', transport: 'HTTP+JSON' }],
  provider: { organization: 'Old Co', url: 'https://old.example' },
  version: '0.9.1',
  capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: true, extensions: [{ uri: 'https://ext.example/a', required: false }] },
  securitySchemes: {
    key: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A key' },
    bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    oauth: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://as.example/token', scopes: { read: 'Read' } }, authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', scopes: { read: 'Read' } } }, oauth2MetadataUrl: 'https://as.example/.well-known/oauth-authorization-server' },
    oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://accounts.example/.well-known/openid-configuration' },
    cert: { type: 'mutualTLS' },
  },
  security: [{ oauth: ['read'] }, { cert: [], key: [] }],
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['text/plain'],
  skills: [{ id: 's', name: 'S', description: 'A skill', tags: ['t'], security: [{ bearer: [] }] }],
  supportsAuthenticatedExtendedCard: true,
  signatures: [{ protected: 'eyJ9', signature: 'c2ln' }],
};

describe('readAgentCard: v0.3 cards', () => {
  it('converts to 1.0: interfaces with protocolVersion "0.3", type-discriminated schemes, security, extended card flag', () => {
    expect(read(LEGACY)).toEqual({
      name: 'Legacy Agent',
      description: 'Speaks 0.3.',
      supportedInterfaces: [
        { url: 'https://legacy.example/a2a', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
        { url: 'https://legacy.example/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '0.3' },
      ],
      provider: { organization: 'Old Co', url: 'https://old.example' },
      version: '0.9.1',
      capabilities: { streaming: true, pushNotifications: false, extensions: [{ uri: 'https://ext.example/a' }], extendedAgentCard: true },
      securitySchemes: {
        key: { apiKeySecurityScheme: { description: 'A key', location: 'header', name: 'X-API-Key' } },
        bearer: { httpAuthSecurityScheme: { scheme: 'bearer', bearerFormat: 'JWT' } },
        // 1.0 holds one flow: the first in a2a-js's order (authorizationCode before clientCredentials).
        oauth: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', scopes: { read: 'Read' } } }, oauth2MetadataUrl: 'https://as.example/.well-known/oauth-authorization-server' } },
        oidc: { openIdConnectSecurityScheme: { openIdConnectUrl: 'https://accounts.example/.well-known/openid-configuration' } },
        cert: { mtlsSecurityScheme: {} },
      },
      securityRequirements: [{ schemes: { oauth: { list: ['read'] } } }, { schemes: { cert: { list: [] }, key: { list: [] } } }],
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['text/plain'],
      skills: [{ id: 's', name: 'S', description: 'A skill', tags: ['t'], securityRequirements: [{ schemes: { bearer: { list: [] } } }] }],
      signatures: [{ protected: 'eyJ9', signature: 'c2ln' }],
    });
  });

  it('agrees with the SDK\'s own v0.3 parser (parseLegacyAgentCard), which keeps the top-level "0.3.0" on the first interface', () => {
    const sdk = read(AgentCard.toJSON(parseLegacyAgentCard(LEGACY as never)));
    const ours = read(LEGACY);
    expect((sdk.supportedInterfaces as { protocolVersion: string }[])[0]!.protocolVersion).toBe('0.3.0');
    (sdk.supportedInterfaces as { protocolVersion: string }[])[0]!.protocolVersion = '0.3';
    expect(ours).toEqual(sdk);
  });

  it('defaults preferredTransport to JSONRPC and merges an additional interface repeating the primary', () => {
    const { preferredTransport: _p, ...rest } = LEGACY;
    const card = read({ ...rest, additionalInterfaces: [{ url: LEGACY.url, transport: 'JSONRPC' }, ...LEGACY.additionalInterfaces] });
    expect(card.supportedInterfaces).toEqual([
      { url: 'https://legacy.example/a2a', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
      { url: 'https://legacy.example/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '0.3' },
    ]);
  });

  it('is recognised by any of its top-level members, and refused with 0.3 member names', () => {
    const { url: _u, ...noUrl } = LEGACY;
    expect(readAgentCard(noUrl)).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'url is missing' });
    expect(readAgentCard({ ...LEGACY, additionalInterfaces: [{ url: 'https://x' }] })).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'additionalInterfaces[0].transport is missing' });
    expect(readAgentCard({ ...LEGACY, securitySchemes: { k: { type: 'magic' } } })).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'securitySchemes[entry 0].type is not a v0.3 security scheme type' });
    expect(readAgentCard({ ...LEGACY, security: [{ oauth: 'read' }] })).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'security[0][entry 0] is not an array' });
    expect(readAgentCard({ ...LEGACY, skills: [{ ...LEGACY.skills[0], security: {} }] })).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'skills[0].security is not an array' });
    expect(readAgentCard({ ...LEGACY, supportsAuthenticatedExtendedCard: 'yes' })).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'supportsAuthenticatedExtendedCard is not a boolean' });
  });
});

describe('canonical bytes of the normal form equal the SDK canonicaliser, and signatures verify both ways', () => {
  const cards: [string, unknown][] = [
    ['the spec sample', SAMPLE],
    ['every member, with defaults, empty strings and empty arrays', EVERYTHING],
    ['extensions with required:false and empty params', edited((c) => (c.capabilities.extensions = [{ uri: 'https://e', required: false, params: {} }, { uri: 'https://f', description: 'F', required: true, params: { a: [] } }]))],
    ['empty strings', edited((c) => Object.assign(c, { iconUrl: '', documentationUrl: '', description: '' }, { skills: [{ ...c.skills[0], examples: ['', 'x'], description: '' }] }))],
    ['empty arrays and maps', edited((c) => Object.assign(c, { securitySchemes: {}, securityRequirements: [], signatures: [], skills: [], defaultOutputModes: [] }))],
    ['proto field names and nulls', { ...clone(SAMPLE), documentationUrl: null, supportedInterfaces: [{ url: 'https://a', protocol_binding: 'JSONRPC', protocol_version: '1.0', tenant: null }] }],
    ['non-ASCII text', edited((c) => (c.description = 'Ünïcödé € 😀 \u2028 "quoted" \\ back'))],
  ];

  it.each(cards)('%s', async (_what, input) => {
    const card = read(input);
    expect(canonicalAgentCard(card)).toBe(canonicalizeAgentCard(input as SdkAgentCard));
    // Ours signs the normal form; the SDK verifier accepts it (as served, i.e. after a JSON round trip).
    const ours = await sign(card);
    expect(await sdkAccepts(JSON.parse(JSON.stringify(ours)))).toBe(true);
    // The SDK signs the card as the upstream wrote it; we verify after reading it into normal form.
    const theirs = await generateAgentCardSignature(key.privateKey, { alg: 'ES256', kid: key.kid, typ: 'JOSE' })(input as SdkAgentCard);
    expect(await ourVerify(read(JSON.parse(JSON.stringify(theirs))))).toEqual({ ok: true, value: { index: (card.signatures?.length ?? 0), alg: 'ES256', kid: key.kid } });
  });
});

// --- gatewayCard ---------------------------------------------------------------------------------------------------

const JWK_PUBLIC = { kty: 'EC' as const, crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'a1' };
const TD = 'spiffe://dev.test';
const AS1 = 'https://as.example';
const AS2 = 'https://as2.example/tenant';
const CONFIG = assertConfig({
  publicUrl: 'https://gw.example',
  trustDomains: { [TD]: { jwks: { keys: [JWK_PUBLIC] } } },
  authorizationServers: { [AS1]: { jwks: { keys: [JWK_PUBLIC] }, tokenEndpoint: `${AS1}/token` }, [AS2]: { jwks: { keys: [JWK_PUBLIC] }, tokenEndpoint: `${AS2}/token` } },
  routes: [
    // wit (both proofs, -01 carriage), oauth with two servers and DPoP required: apiKey, oauth2 (flows), http schemes.
    { path: '/a2a/all', protocol: 'a2a', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD], carriage: 'header', proofs: ['wpt', 'http-sig'] }, oauth: { authorizationServers: [AS1, AS2], scopes: ['a2a:call'], dpop: 'required' } }, a2a: { skills: { 'route-optimizer-traffic': { scopes: ['geo:plan'] } } } },
    { path: '/a2a/svid', protocol: 'a2a', upstream: 'http://up.internal/', auth: { wit: { trustDomains: [TD] }, jwtSvid: { trustDomains: [TD] } } },
    { path: '/a2a/open', protocol: 'a2a', upstream: 'http://up.internal/', public: true },
  ],
});
const routeAt = (path: string): RouteConfig => CONFIG.routes.find((r) => r.path === path)!;
/** mtls needs x509Authorities to validate; the card only reads the block's presence. */
const withMtls = (route: RouteConfig): RouteConfig => ({ ...route, auth: { ...route.auth!, mtls: { trustDomains: [TD], certificate: 'cloudflare' } } });
const securityOf = (route: RouteConfig) => cardSecurity(route, CONFIG.authorizationServers ?? {});

const UPSTREAM = 'https://georoute-agent.example.com/a2a/';
const GATEWAY = 'https://gw.example/a2a/geo/';
const mapUrl = (url: string) => (url.startsWith(UPSTREAM) ? GATEWAY + url.slice(UPSTREAM.length) : undefined);
const options = (overrides: Partial<GatewayCardOptions> = {}): GatewayCardOptions => ({ mapUrl, securitySchemes: {}, securityRequirements: [], skillRequirements: () => undefined, ...overrides });

describe('gatewayCard', () => {
  it('maps interface URLs onto the gateway, drops GRPC (not mapped at all) and interfaces mapUrl refuses', () => {
    const seen: string[] = [];
    const card = read(edited((c) => c.supportedInterfaces.push({ url: 'https://elsewhere.example/a2a', protocolBinding: 'JSONRPC', protocolVersion: '0.3' })));
    const result = gatewayCard(card, options({ mapUrl: (url) => (seen.push(url), mapUrl(url)) }));
    expect(result.ok && result.value.supportedInterfaces).toEqual([
      { url: 'https://gw.example/a2a/geo/v1', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
      { url: 'https://gw.example/a2a/geo/json', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
    ]);
    expect(seen).toEqual(['https://georoute-agent.example.com/a2a/v1', 'https://georoute-agent.example.com/a2a/json', 'https://elsewhere.example/a2a']);
  });

  it('keeps tenants and merges interfaces that map to the same one', () => {
    const card = read(edited((c) => (c.supportedInterfaces = [
      { url: `${UPSTREAM}v1`, protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: 't' },
      { url: 'https://mirror.example/v1', protocolBinding: 'JSONRPC', protocolVersion: '1.0', tenant: 't' },
      { url: `${UPSTREAM}v1`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ])));
    const result = gatewayCard(card, options({ mapUrl: () => `${GATEWAY}v1` }));
    expect(result.ok && result.value.supportedInterfaces).toEqual([
      { url: `${GATEWAY}v1`, protocolBinding: 'JSONRPC', tenant: 't', protocolVersion: '1.0' },
      { url: `${GATEWAY}v1`, protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    ]);
  });

  it('no interface left: ERR_A2A_CARD_INVALID', () => {
    expect(gatewayCard(read(SAMPLE), options({ mapUrl: () => undefined }))).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'supportedInterfaces: no interface the gateway can front (only GRPC, or none mapped)' });
    const grpcOnly = read(edited((c) => (c.supportedInterfaces = [c.supportedInterfaces[1]])));
    expect(gatewayCard(grpcOnly, options()).ok || 'refused').toBe('refused');
  });

  it('replaces the schemes, the requirements and every skill\'s requirements; removes signatures', () => {
    const card = read(edited((c) => (c.skills = [{ ...c.skills[0], securityRequirements: [{ schemes: { google: { list: ['openid'] } } }] }, { id: 'other', name: 'O', description: 'D', tags: [], securityRequirements: [{ schemes: { google: { list: [] } } }] }])));
    const schemes = { gw: { httpAuthSecurityScheme: { scheme: 'Bearer' } } };
    const requirements = [{ schemes: { gw: { list: [] } } }];
    const result = gatewayCard(card, options({ securitySchemes: schemes, securityRequirements: requirements, skillRequirements: (id) => (id === 'route-optimizer-traffic' ? [{ schemes: { gw: { list: ['plan'] } } }] : undefined) }));
    if (!result.ok) throw new Error(result.detail);
    expect(result.value.securitySchemes).toEqual(schemes);
    expect(result.value.securityRequirements).toEqual(requirements);
    expect((result.value.skills as { securityRequirements?: unknown }[]).map((s) => s.securityRequirements)).toEqual([[{ schemes: { gw: { list: ['plan'] } } }], undefined]);
    expect(result.value).not.toHaveProperty('signatures');
    // Everything else is the upstream's, untouched.
    const { supportedInterfaces: _i, securitySchemes: _s, securityRequirements: _r, skills: _k, signatures: _g, ...rest } = card;
    expect(result.value).toMatchObject(rest);
  });

  it('no gateway schemes (a public route): none in the card', () => {
    const result = gatewayCard(read(SAMPLE), options(securityOf(routeAt('/a2a/open'))));
    expect(result.ok && [result.value.securitySchemes, result.value.securityRequirements]).toEqual([undefined, undefined]);
  });

  it('refuses a card that is not in normal form rather than repairing it', () => {
    expect(gatewayCard({ ...read(SAMPLE), skills: 'none' }, options())).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'skills is not an array' });
  });

  it('refuses schemes that are not valid 1.0 schemes (the result is re-read)', () => {
    const result = gatewayCard(read(SAMPLE), options({ securitySchemes: { bad: { apiKeySecurityScheme: { location: 'header' } } } }));
    expect(result).toEqual({ ok: false, code: 'ERR_A2A_CARD_INVALID', detail: 'securitySchemes[entry 0].apiKeySecurityScheme.name is missing' });
  });

  const routes: [string, RouteConfig][] = [
    ['wit (wpt-01 + http-sig) | mtls | 2 x oauth2 client credentials AND DPoP', withMtls(routeAt('/a2a/all'))],
    ['wit (wpt-02 in Authorization) | JWT-SVID', routeAt('/a2a/svid')],
    ['public', routeAt('/a2a/open')],
  ];

  it.each(routes)('%s: the served card is normal form, survives the SDK round trip, and its signature verifies for the SDK', async (_what, route) => {
    const security = securityOf(route);
    const result = gatewayCard(read(SAMPLE), options(security));
    if (!result.ok) throw new Error(result.detail);
    const card = result.value;
    expect(read(card)).toEqual(card);
    // The SDK's ProtoJSON round trip keeps every scheme, member for member (nothing dropped, nothing defaulted)...
    const round = sdkRoundTrip(card);
    expect(round.securitySchemes).toEqual(card.securitySchemes);
    // ...and every requirement, each scheme with its scopes (a scope-less {"list": []} comes back as {}).
    const requirements = (r: unknown) => ((r as { schemes: Record<string, { list?: string[] }> }[] | undefined) ?? []).map((x) => Object.entries(x.schemes).map(([n, s]) => [n, s.list ?? []]));
    expect(requirements(round.securityRequirements)).toEqual(requirements(card.securityRequirements));
    const signed = JSON.parse(JSON.stringify(await sign(card))) as AgentCardJson;
    expect(canonicalAgentCard(card)).toBe(canonicalizeAgentCard(card as unknown as SdkAgentCard));
    expect(await sdkAccepts(signed)).toBe(true);
    expect(await sdkAccepts(AgentCard.toJSON(AgentCard.fromJSON(signed)))).toBe(true);
    expect((await ourVerify(signed)).ok).toBe(true);
    // What the SDK client resolver holds after AgentCard.fromJSON: a ts-proto object whose schemes the SDK verifier
    // cannot read back (a2a-js#663), so it verifies only a card without schemes.
    const parsed = AgentCard.fromJSON(signed);
    expect(await sdkAccepts(parsed)).toBe(Object.keys(security.securitySchemes).length === 0);
  });

  it('states each configured skill\'s requirements (route scopes + the skill\'s, with DPoP), other skills none', () => {
    const card = read(edited((c) => c.skills.push({ id: 'free', name: 'Free', description: 'D', tags: [] })));
    const result = gatewayCard(card, options(securityOf(routeAt('/a2a/all'))));
    if (!result.ok) throw new Error(result.detail);
    expect((result.value.skills as { securityRequirements?: unknown }[]).map((s) => s.securityRequirements)).toEqual([
      [{ schemes: { 'oauth2-1': { list: ['a2a:call', 'geo:plan'] }, dpop: { list: [] } } }, { schemes: { 'oauth2-2': { list: ['a2a:call', 'geo:plan'] }, dpop: { list: [] } } }],
      undefined,
    ]);
  });
});

describe('withSkills', () => {
  it('keeps the skills keep accepts, in order, and removes signatures (they covered the full list)', () => {
    const card = read(edited((c) => c.skills.push({ id: 'b', name: 'B', description: 'D', tags: [] }, { id: 'c', name: 'C', description: 'D', tags: [] })));
    const kept = withSkills(card, (id) => id !== 'b');
    expect((kept.skills as { id: string }[]).map((s) => s.id)).toEqual(['route-optimizer-traffic', 'c']);
    expect(kept).not.toHaveProperty('signatures');
    expect(read(kept)).toEqual(kept);
    const none = withSkills(card, () => false);
    expect(none.skills).toEqual([]);
    expect(readAgentCard(none).ok).toBe(true);
  });
});
