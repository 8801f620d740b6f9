/**
 * The published WIMSE examples (test/vectors/wimse/*.json, verbatim from the drafts; see each file's `source`)
 * verified with a fixed clock, plus the negatives they imply directly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { base64urlEncode } from '../../../src/crypto/base64url.ts';
import { sha256b64url } from '../../../src/crypto/digest.ts';
import { memoryReplayStore } from '../../../src/state/memory.ts';
import { verifyWit, type WitContext, type WitPolicy } from '../../../src/verify/wit.ts';
import { verifyWpt, type WptContext } from '../../../src/verify/wpt.ts';
import { expectFailure, expectOk } from './mint.ts';

interface Vector {
  id: string;
  source: string;
  verifyAt: number;
  wit: string;
  wpt?: string;
  issuerKey: JWK;
  workloadKey: JWK;
  policy: WitPolicy;
  request?: { headers: Record<string, string> };
  context?: { carriage: 'authorization' | 'header'; audience: string; accessToken?: string; otherTokens?: Record<string, string> };
  expect: Record<string, unknown>;
}

const dir = new URL('../../vectors/wimse/', import.meta.url);
// The WIT / WPT examples; the HTTP-signature examples (v*-http-sig.json) are tested in wimse-signature.test.ts.
const vectors: Vector[] = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('-http-sig.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
const byId = (id: string) => vectors.find((v) => v.id === id)!;

function witContext(v: Vector, at = v.verifyAt): WitContext {
  return {
    keys: async (trustDomain, kid) => (trustDomain === 'example.com' && kid === v.issuerKey.kid ? v.issuerKey : undefined),
    policy: v.policy,
    now: () => at * 1000,
  };
}

function wptContext(v: Vector, wit: WptContext['wit'], at = v.verifyAt): WptContext {
  const c = v.context!;
  return { wit, witToken: v.wit, audience: c.audience, carriage: c.carriage, accessToken: c.accessToken, otherTokens: c.otherTokens, replay: memoryReplayStore(), now: () => at * 1000 };
}

describe('WIMSE vectors', () => {
  it('has V1–V4, each naming its source', () => {
    expect(vectors.map((v) => v.id)).toEqual(['V1', 'V2', 'V3', 'V4']);
    for (const v of vectors) expect(v.source).toMatch(/draft-ietf-wimse|ietf-wg-wimse/);
  });

  for (const v of vectors) {
    it(`${v.id}: the WIT verifies with the Identity Server key at the fixed time`, async () => {
      const wit = expectOk(await verifyWit(v.wit, witContext(v)));
      expect(wit.subject.uri).toBe('wimse://example.com/specific-workload');
      expect(wit.confirmationAlgorithm).toBe('EdDSA');
      expect(wit.confirmationKey.x).toBe(v.workloadKey.x);
      expect(wit.tokenHash).toBe(await sha256b64url(v.wit));
      if (v.id === 'V1') {
        expect(wit.jti).toBe(v.expect.jti);
        expect(wit.expiresAt).toBe((v.expect.expiresAt as number) * 1000);
        expect(wit.tokenHash).toBe(v.expect.tokenHash);
        expect(wit.issuer).toBeUndefined(); // "The example omits the RECOMMENDED iss claim"
      }
    });

    if (!v.wpt) continue;

    it(`${v.id}: the WPT verifies in its carriage, once`, async () => {
      const wit = expectOk(await verifyWit(v.wit, witContext(v)));
      const ctx = wptContext(v, wit);
      const proof = expectOk(await verifyWpt(v.wpt!, ctx));
      expect(proof.subject.uri).toBe(v.expect.subject);
      expect(proof.jti).toBe(v.expect.jti);
      expect(proof.witHash).toBe(v.expect.wth);
      expect(proof.carriage).toBe(v.context!.carriage);
      expect(proof.bound.accessToken).toBe(v.context!.accessToken !== undefined);
      expectFailure(await verifyWpt(v.wpt!, ctx), 'ERR_WPT_REPLAYED');
    });

    it(`${v.id}: the request carries exactly these tokens`, () => {
      const headers = v.request!.headers;
      expect(headers['Workload-Identity-Token']).toBe(v.wit);
      expect(v.context!.carriage === 'header' ? headers['Workload-Proof-Token'] : headers.Authorization).toBe(v.context!.carriage === 'header' ? v.wpt : `WPT ${v.wpt}`);
    });

    it(`${v.id}: the WPT is refused once expired, and for another audience`, async () => {
      const wit = expectOk(await verifyWit(v.wit, witContext(v)));
      expectFailure(await verifyWpt(v.wpt!, wptContext(v, wit, 1745510016 + 61)), 'ERR_WPT_EXPIRED');
      expectFailure(await verifyWpt(v.wpt!, { ...wptContext(v, wit), audience: 'https://workload.example.com/other' }), 'ERR_WPT_AUD_MISMATCH');
    });
  }

  it('V1: the WIT is refused after exp, with an unknown kid, and under the WIT-SVID profile', async () => {
    const v = byId('V1');
    expectFailure(await verifyWit(v.wit, witContext(v, 1745512510 + 61)), 'ERR_WIT_EXPIRED');
    expectFailure(await verifyWit(v.wit, { ...witContext(v), keys: async () => undefined }), 'ERR_WIT_KEY_NOT_FOUND');
    expectFailure(await verifyWit(v.wit, { ...witContext(v), policy: { ...v.policy, profile: 'wit-svid' } }), 'ERR_WIT_SUB_INVALID');
    expectFailure(await verifyWit(v.wit, { ...witContext(v), policy: { algorithms: ['ES256'] } }), 'ERR_WIT_CNF_ALG_INVALID');
  });

  it('V3 WPT with the V1 WIT: both WITs are valid, only wth tells them apart', async () => {
    const v1 = byId('V1');
    const v3 = byId('V3');
    const wit1 = expectOk(await verifyWit(v1.wit, witContext(v1, v3.verifyAt)));
    expectFailure(await verifyWpt(v3.wpt!, { ...wptContext(v3, wit1), witToken: v1.wit }), 'ERR_WPT_WTH_MISMATCH');
  });

  it('V2 under -01 needs its access token: without it ath is refused, with another it mismatches', async () => {
    const v = byId('V2');
    const wit = expectOk(await verifyWit(v.wit, witContext(v)));
    expectFailure(await verifyWpt(v.wpt!, { ...wptContext(v, wit), accessToken: undefined }), 'ERR_WPT_ATH_MISMATCH');
    expectFailure(await verifyWpt(v.wpt!, { ...wptContext(v, wit), accessToken: 'another-token' }), 'ERR_WPT_ATH_MISMATCH');
  });

  it('V4: oth must match the presented X-Custom-Token and cover it', async () => {
    const v = byId('V4');
    const wit = expectOk(await verifyWit(v.wit, witContext(v)));
    expectFailure(await verifyWpt(v.wpt!, { ...wptContext(v, wit), otherTokens: { 'x-custom-token': 'changed' } }), 'ERR_WPT_OTH_MISMATCH');
    expectFailure(await verifyWpt(v.wpt!, { ...wptContext(v, wit), otherTokens: {} }), 'ERR_WPT_OTH_UNKNOWN_ENTRY');
    expect(await sha256b64url('some-example-other-token')).toBe((v.expect.oth as Record<string, string>)['x-custom-token']);
  });

  it('V3: Ed25519 is deterministic, so the workload key reproduces the WPT signature byte for byte', async () => {
    const v = byId('V3');
    const key = await crypto.subtle.importKey('jwk', { ...v.workloadKey }, { name: 'Ed25519' }, false, ['sign']);
    const input = v.wpt!.slice(0, v.wpt!.lastIndexOf('.'));
    const signature = base64urlEncode(new Uint8Array(await crypto.subtle.sign('Ed25519', key, new TextEncoder().encode(input))));
    expect(`${input}.${signature}`).toBe(v.wpt);
  });
});
