/**
 * The v0.3 card (src/a2a/legacy-card.ts) against @a2a-js/sdk 1.3.0's own `toCompatAgentCard`, reached through the
 * SDK's `legacyAgentCardRouter` (the SDK does not export the function itself) served by Express on loopback; and back
 * through the SDK's v0.3 client parser (`parseLegacyAgentCard`) and our own v0.3 reader.
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { AgentCard } from '@a2a-js/sdk';
import { parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import { legacyAgentCardRouter } from '@a2a-js/sdk/compat/v0_3/server/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentCard } from '../../../src/a2a/agent-card.ts';
import type { AgentCardJson } from '../../../src/a2a/card-signature.ts';
import { legacyCard } from '../../../src/a2a/legacy-card.ts';
import sample from '../../vectors/a2a/spec-sample-card.json' with { type: 'json' };

// express is an optional peer of the SDK and ships no types here.
type Server = { close(done: () => void): void; address(): AddressInfo };
type App = { use(path: string, handler: unknown): void; listen(port: number, host: string, ready: () => void): Server };
const express = createRequire(import.meta.url)('express') as () => App;

const read = (input: unknown): AgentCardJson => {
  const result = readAgentCard(input);
  if (!result.ok) throw new Error(`${result.code}: ${result.detail}`);
  return result.value;
};

// A normal-form gateway card with 1.0 and 0.3 interfaces, every scheme kind the gateway emits and more.
const CARD = read({
  name: 'Echo Agent (via gateway)',
  description: 'Upstream echo agent fronted by the edge gateway.',
  supportedInterfaces: [
    { url: 'https://gw.example/a2a/echo/jsonrpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
    { url: 'https://gw.example/a2a/echo/v03', protocolBinding: 'JSONRPC', protocolVersion: '0.3' },
    { url: 'https://gw.example/a2a/echo/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
    { url: 'https://gw.example/a2a/echo/v03/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '0.3' },
  ],
  provider: { organization: 'Example Corp', url: 'https://example.com' },
  iconUrl: 'https://gw.example/icon.png',
  version: '1.0.0',
  documentationUrl: 'https://docs.example/echo',
  capabilities: { streaming: true, pushNotifications: false, extendedAgentCard: true, extensions: [{ uri: 'https://ext.example/a', params: { k: 'v' } }, { uri: 'https://ext.example/b', description: 'B', required: true }] },
  securitySchemes: {
    wit: { apiKeySecurityScheme: { description: 'WIMSE WIT', location: 'header', name: 'Workload-Identity-Token' } },
    wpt: { httpAuthSecurityScheme: { description: 'WPT', scheme: 'WPT' } },
    svid: { httpAuthSecurityScheme: { scheme: 'Bearer', bearerFormat: 'JWT' } },
    'oauth2-1': { oauth2SecurityScheme: { description: 'Tokens', flows: { clientCredentials: { tokenUrl: 'https://as.example/token', scopes: { 'a2a:call': 'Call', blank: '' } } }, oauth2MetadataUrl: 'https://as.example/.well-known/oauth-authorization-server' } },
    code: { oauth2SecurityScheme: { flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', refreshUrl: 'https://as.example/refresh', scopes: {}, pkceRequired: true } } } },
    oidc: { openIdConnectSecurityScheme: { openIdConnectUrl: 'https://accounts.example/.well-known/openid-configuration' } },
    mtls: { mtlsSecurityScheme: { description: 'X.509-SVID' } },
    bareMtls: { mtlsSecurityScheme: {} },
    cookie: { apiKeySecurityScheme: { location: 'cookie', name: 'session' } },
    odd: { apiKeySecurityScheme: { location: 'trailer', name: 'X-Odd' } },
  },
  securityRequirements: [{ schemes: { wit: { list: [] }, wpt: { list: [] } } }, { schemes: { 'oauth2-1': { list: ['a2a:call'] } } }, { schemes: { mtls: { list: [] } } }],
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['text/plain', 'application/json'],
  skills: [
    { id: 'echo', name: 'Echo', description: 'Echoes input.', tags: ['test'], examples: ['hi'], inputModes: ['text/plain'], outputModes: ['text/plain'], securityRequirements: [{ schemes: { 'oauth2-1': { list: ['a2a:call', 'echo'] } } }] },
    { id: 'bare', name: 'Bare', description: 'Nothing optional.', tags: ['b'] },
  ],
  signatures: [{ protected: 'eyJ9', signature: 'c2ln' }],
});

/** The SDK's own v0.3 card for `card`, as its legacy card router serves it. */
let sdkCompat: (card: AgentCardJson) => Promise<Record<string, unknown>>;
let server: Server;
let current: AgentCardJson = CARD;
beforeAll(async () => {
  const app = express();
  app.use('/card', legacyAgentCardRouter({ agentCardProvider: async () => AgentCard.fromJSON(current) }));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  sdkCompat = async (card) => {
    current = card;
    const response = await fetch(`http://127.0.0.1:${server.address().port}/card`, { headers: { 'A2A-Version': '0.3' } });
    return (await response.json()) as Record<string, unknown>;
  };
});
afterAll(() => new Promise<void>((resolve) => server.close(resolve)));

describe('legacyCard', () => {
  it('is the documented 0.3 shape', () => {
    expect(legacyCard(CARD)).toEqual({
      protocolVersion: '0.3.0',
      name: 'Echo Agent (via gateway)',
      description: 'Upstream echo agent fronted by the edge gateway.',
      url: 'https://gw.example/a2a/echo/v03',
      preferredTransport: 'JSONRPC',
      additionalInterfaces: [{ url: 'https://gw.example/a2a/echo/v03/rest', transport: 'HTTP+JSON' }],
      provider: { organization: 'Example Corp', url: 'https://example.com' },
      iconUrl: 'https://gw.example/icon.png',
      version: '1.0.0',
      documentationUrl: 'https://docs.example/echo',
      capabilities: { streaming: true, pushNotifications: false, extensions: [{ uri: 'https://ext.example/a', required: false, params: { k: 'v' } }, { uri: 'https://ext.example/b', description: 'B', required: true }] },
      securitySchemes: {
        wit: { type: 'apiKey', in: 'header', name: 'Workload-Identity-Token', description: 'WIMSE WIT' },
        wpt: { type: 'http', scheme: 'WPT', description: 'WPT' },
        svid: { type: 'http', scheme: 'Bearer', bearerFormat: 'JWT' },
        'oauth2-1': { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://as.example/token', scopes: { 'a2a:call': 'Call', blank: '' } } }, oauth2MetadataUrl: 'https://as.example/.well-known/oauth-authorization-server', description: 'Tokens' },
        code: { type: 'oauth2', flows: { authorizationCode: { authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', refreshUrl: 'https://as.example/refresh', scopes: {} } } },
        oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://accounts.example/.well-known/openid-configuration' },
        mtls: { type: 'mutualTLS', description: 'X.509-SVID' },
        bareMtls: { type: 'mutualTLS' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'session' },
        odd: { type: 'apiKey', in: 'header', name: 'X-Odd' },
      },
      security: [{ wit: [], wpt: [] }, { 'oauth2-1': ['a2a:call'] }, { mtls: [] }],
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['text/plain', 'application/json'],
      skills: [
        { id: 'echo', name: 'Echo', description: 'Echoes input.', tags: ['test'], examples: ['hi'], inputModes: ['text/plain'], outputModes: ['text/plain'], security: [{ 'oauth2-1': ['a2a:call', 'echo'] }] },
        { id: 'bare', name: 'Bare', description: 'Nothing optional.', tags: ['b'] },
      ],
      supportsAuthenticatedExtendedCard: true,
    });
  });

  it('equals the SDK\'s toCompatAgentCard, but for protocolVersion "0.3.0" (0.3 schema) and the embedded 1.0 interfaces', async () => {
    const sdk = await sdkCompat(CARD);
    expect(sdk.protocolVersion).toBe('0.3');
    expect(read({ ...CARD, supportedInterfaces: sdk.supportedInterfaces }).supportedInterfaces).toEqual(CARD.supportedInterfaces);
    expect(sdk.signatures).toEqual(CARD.signatures);
    const { supportedInterfaces: _i, signatures: _s, ...rest } = sdk;
    expect(legacyCard(CARD)).toEqual({ ...rest, protocolVersion: '0.3.0' });
  });

  it('a card whose first 0.3 interface comes first, without extras: equal to the SDK too', async () => {
    const card = read({ ...(sample as object), supportedInterfaces: [{ url: 'https://gw.example/v03', protocolBinding: 'JSONRPC', protocolVersion: '0.3' }] });
    const { supportedInterfaces: _i, signatures: _s, ...rest } = await sdkCompat(card);
    expect(legacyCard(card)).toEqual({ ...rest, protocolVersion: '0.3.0' });
  });

  it('round-trips: the SDK\'s v0.3 client parser and our v0.3 reader read it back to the card\'s 0.3 part', () => {
    const legacy = legacyCard(CARD)!;
    const ours = read(legacy);
    const sdk = read(AgentCard.toJSON(parseLegacyAgentCard(legacy as never)));
    expect(sdk).toEqual({ ...ours, supportedInterfaces: [{ ...(ours.supportedInterfaces as object[])[0], protocolVersion: '0.3.0' }, ...(ours.supportedInterfaces as object[]).slice(1)] });
    // What 0.3 cannot say is lost: the 1.0 interfaces, pkceRequired, an API key location other than header, query
    // or cookie (OpenAPI 3.0), signatures.
    const pkceless = structuredClone(CARD.securitySchemes) as Record<string, any>;
    delete pkceless.code.oauth2SecurityScheme.flows.authorizationCode.pkceRequired;
    pkceless.odd.apiKeySecurityScheme.location = 'header';
    const { signatures: _s, ...unsigned } = CARD;
    expect(ours).toEqual({ ...unsigned, supportedInterfaces: (CARD.supportedInterfaces as { protocolVersion: string }[]).filter((i) => i.protocolVersion === '0.3'), securitySchemes: pkceless });
  });

  it('undefined without a 0.x interface in [0.3, 1.0) (the spec sample is 1.0 only)', () => {
    expect(legacyCard(read(sample))).toBeUndefined();
    const only = (protocolVersion: string) => legacyCard(read({ ...(sample as object), supportedInterfaces: [{ url: 'https://gw.example/a', protocolBinding: 'JSONRPC', protocolVersion }] }));
    expect(only('0.2')).toBeUndefined();
    expect(only('1.1')).toBeUndefined();
    expect(only('0.3.0')?.url).toBe('https://gw.example/a');
    expect(only('0.4')?.url).toBe('https://gw.example/a');
  });

  it('has no signatures, keeps REQUIRED 0.3 members when empty, and maps a deviceCode flow (unknown to 0.3) to empty flows', async () => {
    const card = read({
      name: 'n',
      description: '',
      supportedInterfaces: [{ url: 'https://gw.example/a', protocolBinding: 'HTTP+JSON', protocolVersion: '0.3', tenant: 't' }],
      version: '1',
      capabilities: {},
      securitySchemes: { device: { oauth2SecurityScheme: { flows: { deviceCode: { deviceAuthorizationUrl: 'https://as/device', tokenUrl: 'https://as/token', scopes: { a: 'A' } } } } } },
      defaultInputModes: [],
      defaultOutputModes: [],
      skills: [{ id: 'e', name: 'Empty', description: '', tags: [] }],
      signatures: [{ protected: 'eyJ9', signature: 'c2ln' }],
    });
    const legacy = legacyCard(card);
    expect(legacy).toEqual({
      protocolVersion: '0.3.0',
      name: 'n',
      description: '',
      url: 'https://gw.example/a',
      preferredTransport: 'HTTP+JSON',
      version: '1',
      capabilities: {},
      securitySchemes: { device: { type: 'oauth2', flows: {} } },
      defaultInputModes: [],
      defaultOutputModes: [],
      skills: [{ id: 'e', name: 'Empty', description: '', tags: [] }],
    });
    const { supportedInterfaces: _i, signatures: _s, ...rest } = await sdkCompat(card);
    expect(legacy).toEqual({ ...rest, protocolVersion: '0.3.0' });
  });
});
