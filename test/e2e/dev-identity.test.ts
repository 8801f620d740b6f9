/**
 * The dev stack's own gateway identity (scripts/dev-config.ts): minted at start by the dev issuer for
 * spiffe://dev.portcullis.local/gateway and handed over in the variable examples/dev/portcullis.json names
 * (`identity.env`), as `npm start` passes it on every runtime. The dev issuer lives in a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownIdentity } from '../../src/gateway/own-identity.ts';
import { verifyWit } from '../../src/verify/wit.ts';
import { DEV_GATEWAY_ID, DEV_IDENTITY_TTL_SECONDS, devGatewayConfig } from '../../scripts/dev-config.ts';

const devDir = mkdtempSync(join(tmpdir(), 'portcullis-e2e-dev-identity-'));
afterAll(() => rmSync(devDir, { recursive: true, force: true }));

describe('dev stack gateway identity', () => {
  it('is a WIT for the gateway from the dev issuer, a day long, in PORTCULLIS_IDENTITY, and loads as the gateway loads it', async () => {
    const dev = await devGatewayConfig({ port: 8787, upstreamPort: 8788, devDir });
    expect(dev.config.identity).toEqual({ workloadId: DEV_GATEWAY_ID, env: 'PORTCULLIS_IDENTITY' });
    expect(Object.keys(dev.env).sort()).toEqual(['PORTCULLIS_DEV_AS_SECRET', 'PORTCULLIS_IDENTITY']);
    expect(dev.json).not.toContain(dev.env.PORTCULLIS_IDENTITY!); // never written with the config
    const { wit } = JSON.parse(dev.env.PORTCULLIS_IDENTITY!) as { wit: string };

    const keys = dev.config.trustDomains!['spiffe://dev.portcullis.local']!.jwks!.keys;
    const verified = await verifyWit(wit, { keys: async (_td, kid) => keys.find((k) => k.kid === kid), now: Date.now });
    if (!verified.ok) throw new Error(`${verified.code}: ${verified.detail}`);
    expect(verified.value.subject.uri).toBe(DEV_GATEWAY_ID);
    expect(verified.value.issuer).toBe('spiffe://dev.portcullis.local');
    expect((verified.value.expiresAt - verified.value.issuedAt!) / 1000).toBe(DEV_IDENTITY_TTL_SECONDS);
    expect(dev.identity).toEqual({ subject: DEV_GATEWAY_ID, variable: 'PORTCULLIS_IDENTITY', expiresAt: verified.value.expiresAt });

    const loaded = await ownIdentity(async () => dev.env.PORTCULLIS_IDENTITY, { workloadId: DEV_GATEWAY_ID, now: Date.now }).current();
    expect(loaded.subject).toBe(DEV_GATEWAY_ID);
  });
});
