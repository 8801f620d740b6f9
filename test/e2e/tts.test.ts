/**
 * The dev stack's Transaction Token Service (examples/dev/portcullis.json `transactionTokens.service`, served at
 * /txn-token): a workload of the dev trust domain, authenticated with a WIT + WPT for that URL (withWorkloadIdentity),
 * exchanges an access token of the dev authorization server (client demo-agent, resource = the gateway's origin, the
 * service's default subjectAudience) for a Txn-Token, which a downstream verifies with txnTokenVerifier against the
 * gateway's JWK Set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkloadIdentity } from '../../src/client/fetch.ts';
import { txnTokenVerifier } from '../../src/downstream/index.ts';
import { startStack, type Stack } from './stack.ts';
import { TXN_TOKEN_TYPE } from '../../src/oauth-uris.ts';

const AGENT = 'spiffe://dev.portcullis.local/agents/e2e-tts';

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.close(); });

/** An access token from the dev authorization server (client_credentials, RFC 8707 resource). */
async function accessToken(resource: string, scope: string): Promise<string> {
  const response = await fetch(`${stack.upstream}/as/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa('demo-agent:demo-agent-secret')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('Transaction Token Service on the dev stack', () => {
  it('exchanges a dev AS access token for a Txn-Token that verifies with the gateway JWKS', async () => {
    const credentials = await stack.mint(AGENT);
    const send = withWorkloadIdentity(fetch, { credentials: () => credentials });
    const subject = await accessToken(stack.gateway, 'mcp:tools mcp:admin');
    const trustDomain = stack.config.transactionTokens!.trustDomain;
    const response = await send(`${stack.gateway}/txn-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        requested_token_type: TXN_TOKEN_TYPE,
        audience: trustDomain,
        scope: 'mcp:tools',
        subject_token: subject,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = JSON.parse(text) as { access_token: string; issued_token_type: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ issued_token_type: TXN_TOKEN_TYPE, token_type: 'N_A' });

    const verify = txnTokenVerifier({ jwksUrl: `${stack.gateway}/.well-known/jwks.json`, audience: trustDomain, warn: () => {} });
    const result = await verify(new Request('http://downstream.test/', { headers: { 'txn-token': body.access_token } }));
    expect(result.ok, result.ok ? '' : `${result.code}: ${result.detail}`).toBe(true);
    if (result.ok) expect(result.value).toMatchObject({ sub: 'demo-agent', reqWl: AGENT, scope: ['mcp:tools'], aud: [trustDomain] });

    const event = stack.audit.find((e) => e.reason === 'TXN_TOKEN_ISSUED');
    expect(event).toMatchObject({ decision: 'allow', status: 200, principal: { workloadId: AGENT } });
    expect(JSON.stringify(stack.audit)).not.toContain(body.access_token.split('.')[1]!);
    expect(JSON.stringify(stack.audit)).not.toContain(subject.split('.')[1]!);
  });
});
