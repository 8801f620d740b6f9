/**
 * The Txn-Token Request validator (src/txn/exchange.ts): the draft's verbatim example request parses; one negative
 * per check, asserting the stable code and the RFC 6749 §5.2 / RFC 8693 §2.2.2 error it maps to; the scope rule and
 * the rctx / tctx mapping.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TYPE, exchangeClaims, JWT_TOKEN_TYPE, parseTxnTokenRequest, relyingPartyScope, scopeProblem, TOKEN_EXCHANGE_GRANT, TTS_ERRORS, TXN_TOKEN_TYPE, type TtsErrorCode } from '../../../src/txn/exchange.ts';

const TD = 'trust-domain.example';
const FORM = 'application/x-www-form-urlencoded';
const vector = JSON.parse(readFileSync(new URL('../../vectors/txn-token/draft-request.json', import.meta.url), 'utf8')) as {
  contentType: string;
  bodyLines: string[];
  expected: Record<string, unknown> & { trustDomain: string };
};

const enc = (text: string) => new TextEncoder().encode(text);
const base: Record<string, string> = {
  grant_type: TOKEN_EXCHANGE_GRANT,
  requested_token_type: TXN_TOKEN_TYPE,
  audience: TD,
  scope: 'trade.stocks',
  subject_token: 'eyJ.a.b',
  subject_token_type: ACCESS_TOKEN_TYPE,
};
const form = (params: Record<string, string | undefined>) =>
  enc(new URLSearchParams(Object.entries({ ...base, ...params }).filter((e): e is [string, string] => e[1] !== undefined)).toString());

function refused(result: ReturnType<typeof parseTxnTokenRequest>, code: TtsErrorCode, error: string) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(TTS_ERRORS[code].error).toBe(error);
  expect(TTS_ERRORS[code].status).toBe(400);
}

describe('parseTxnTokenRequest', () => {
  it('parses the draft\'s verbatim example request', () => {
    const result = parseTxnTokenRequest(vector.contentType, enc(vector.bodyLines.join('')), vector.expected.trustDomain);
    expect(result.ok, result.ok ? '' : result.detail).toBe(true);
    if (!result.ok) return;
    const { trustDomain: _, ...expected } = vector.expected;
    expect(result.value).toEqual(expected);
  });

  it('accepts a charset=UTF-8 parameter and keeps the requested scope order without duplicates', () => {
    const result = parseTxnTokenRequest(`${FORM}; charset=UTF-8`, form({ scope: 'b a b' }), TD);
    expect(result.ok && result.value.scope).toEqual(['b', 'a']);
  });

  const cases: Array<[string, string | null, Uint8Array, TtsErrorCode, string]> = [
    ['a JSON body', 'application/json', enc('{}'), 'ERR_TTS_CONTENT_TYPE', 'invalid_request'],
    ['no Content-Type', null, form({}), 'ERR_TTS_CONTENT_TYPE', 'invalid_request'],
    ['a Latin-1 charset', `${FORM}; charset=iso-8859-1`, form({}), 'ERR_TTS_CONTENT_TYPE', 'invalid_request'],
    ['a body that is not UTF-8', FORM, new Uint8Array([0x61, 0x3d, 0xff]), 'ERR_TTS_BODY_MALFORMED', 'invalid_request'],
    ['a repeated parameter', FORM, enc(`${new TextDecoder().decode(form({}))}&audience=${TD}`), 'ERR_TTS_PARAMETER_REPEATED', 'invalid_request'],
    ['no grant_type', FORM, form({ grant_type: undefined }), 'ERR_TTS_GRANT_TYPE_MISSING', 'invalid_request'],
    ['another grant', FORM, form({ grant_type: 'client_credentials' }), 'ERR_TTS_GRANT_TYPE_UNSUPPORTED', 'unsupported_grant_type'],
    ['no requested_token_type', FORM, form({ requested_token_type: undefined }), 'ERR_TTS_REQUESTED_TOKEN_TYPE', 'invalid_request'],
    ['requested_token_type access_token', FORM, form({ requested_token_type: ACCESS_TOKEN_TYPE }), 'ERR_TTS_REQUESTED_TOKEN_TYPE', 'invalid_request'],
    ['no audience', FORM, form({ audience: undefined }), 'ERR_TTS_AUDIENCE_INVALID', 'invalid_target'],
    ['another audience', FORM, form({ audience: 'other.example' }), 'ERR_TTS_AUDIENCE_INVALID', 'invalid_target'],
    ['a resource parameter', FORM, form({ resource: 'https://api.example' }), 'ERR_TTS_AUDIENCE_INVALID', 'invalid_target'],
    ['no scope', FORM, form({ scope: undefined }), 'ERR_TTS_SCOPE_INVALID', 'invalid_scope'],
    ['a malformed scope', FORM, form({ scope: 'a  "b"' }), 'ERR_TTS_SCOPE_INVALID', 'invalid_scope'],
    ['no subject_token', FORM, form({ subject_token: undefined }), 'ERR_TTS_SUBJECT_TOKEN_MISSING', 'invalid_request'],
    ['no subject_token_type', FORM, form({ subject_token_type: undefined }), 'ERR_TTS_SUBJECT_TOKEN_MISSING', 'invalid_request'],
    ['a refresh token', FORM, form({ subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'ERR_TTS_REFRESH_TOKEN_REFUSED', 'invalid_request'],
    ['a self_signed subject', FORM, form({ subject_token_type: 'urn:ietf:params:oauth:token-type:self_signed' }), 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'invalid_request'],
    ['an unsigned_json subject', FORM, form({ subject_token_type: 'urn:ietf:params:oauth:token-type:unsigned_json' }), 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'invalid_request'],
    ['an id_token subject', FORM, form({ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }), 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'invalid_request'],
    ['an actor token', FORM, form({ actor_token: 'x', actor_token_type: ACCESS_TOKEN_TYPE }), 'ERR_TTS_ACTOR_TOKEN_UNSUPPORTED', 'invalid_request'],
    ['request_context not JSON', FORM, form({ request_context: 'eyJyZXFfaXAiOiIxIn0' }), 'ERR_TTS_CONTEXT_INVALID', 'invalid_request'],
    ['request_details an array', FORM, form({ request_details: '[1]' }), 'ERR_TTS_CONTEXT_INVALID', 'invalid_request'],
    ['request_details too large', FORM, form({ request_details: JSON.stringify({ a: 'x'.repeat(5000) }) }), 'ERR_TTS_CONTEXT_INVALID', 'invalid_request'],
    ['request_context too deep', FORM, form({ request_context: '{"a":'.repeat(10) + '1' + '}'.repeat(10) }), 'ERR_TTS_CONTEXT_INVALID', 'invalid_request'],
    ['request_details on a replacement', FORM, form({ subject_token_type: TXN_TOKEN_TYPE, request_details: '{"a":1}' }), 'ERR_TTS_DETAILS_ON_REPLACEMENT', 'invalid_request'],
  ];
  it.each(cases)('refuses %s', (_, contentType, body, code, error) => {
    refused(parseTxnTokenRequest(contentType, body, TD), code, error);
  });
});

describe('parseTxnTokenRequest: secondary credentials (requested_token_type jwt)', () => {
  const RP = 'https://legacy.example/api';
  const parties = new Set([RP]);
  const secondary = (params: Record<string, string | undefined>) =>
    form({ requested_token_type: JWT_TOKEN_TYPE, audience: RP, scope: undefined, subject_token: 'eyJ.wit.sig', subject_token_type: JWT_TOKEN_TYPE, ...params });

  it('parses a request for a configured relying party, scope optional', () => {
    const none = parseTxnTokenRequest(FORM, secondary({}), TD, { relyingParties: parties });
    expect(none.ok && none.value).toEqual({ scope: [], subjectToken: 'eyJ.wit.sig', subjectTokenType: JWT_TOKEN_TYPE, relyingParty: RP });
    const some = parseTxnTokenRequest(FORM, secondary({ scope: 'b a b' }), TD, { relyingParties: parties, federation: true });
    expect(some.ok && some.value.scope).toEqual(['b', 'a']);
  });

  it('keeps jwt subjects with requested_token_type txn_token for federation', () => {
    const grant = parseTxnTokenRequest(FORM, form({ subject_token_type: JWT_TOKEN_TYPE }), TD, { relyingParties: parties, federation: true });
    expect(grant.ok && grant.value.relyingParty).toBeUndefined();
  });

  it('refuses requested_token_type jwt without relying parties', () => {
    refused(parseTxnTokenRequest(FORM, secondary({}), TD), 'ERR_TTS_REQUESTED_TOKEN_TYPE', 'invalid_request');
  });

  const cases: Array<[string, Uint8Array, TtsErrorCode, string]> = [
    ['no audience', secondary({ audience: undefined }), 'ERR_TTS_AUDIENCE_INVALID', 'invalid_target'],
    ['an unknown relying party', secondary({ audience: 'https://other.example' }), 'ERR_TTS_RELYING_PARTY_UNKNOWN', 'invalid_target'],
    ['the trust domain as audience', secondary({ audience: TD }), 'ERR_TTS_RELYING_PARTY_UNKNOWN', 'invalid_target'],
    ['a resource parameter', secondary({ resource: RP }), 'ERR_TTS_AUDIENCE_INVALID', 'invalid_target'],
    ['a repeated audience', enc(`${new TextDecoder().decode(secondary({}))}&audience=${encodeURIComponent(RP)}`), 'ERR_TTS_PARAMETER_REPEATED', 'invalid_request'],
    ['a malformed scope', secondary({ scope: 'a  b' }), 'ERR_TTS_SCOPE_INVALID', 'invalid_scope'],
    ['no subject_token', secondary({ subject_token: undefined }), 'ERR_TTS_SUBJECT_TOKEN_MISSING', 'invalid_request'],
    ['no subject_token_type', secondary({ subject_token_type: undefined }), 'ERR_TTS_SUBJECT_TOKEN_MISSING', 'invalid_request'],
    ['a refresh token', secondary({ subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'ERR_TTS_REFRESH_TOKEN_REFUSED', 'invalid_request'],
    ['an access token subject', secondary({ subject_token_type: ACCESS_TOKEN_TYPE }), 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'invalid_request'],
    ['a txn_token subject', secondary({ subject_token_type: TXN_TOKEN_TYPE }), 'ERR_TTS_SUBJECT_TOKEN_TYPE_UNSUPPORTED', 'invalid_request'],
    ['an actor token', secondary({ actor_token: 'x', actor_token_type: JWT_TOKEN_TYPE }), 'ERR_TTS_ACTOR_TOKEN_UNSUPPORTED', 'invalid_request'],
    ['request_context', secondary({ request_context: '{"a":1}' }), 'ERR_TTS_CONTEXT_NOT_APPLICABLE', 'invalid_request'],
    ['request_details', secondary({ request_details: '{"a":1}' }), 'ERR_TTS_CONTEXT_NOT_APPLICABLE', 'invalid_request'],
  ];
  it.each(cases)('refuses %s', (_, body, code, error) => {
    refused(parseTxnTokenRequest(FORM, body, TD, { relyingParties: parties }), code, error);
  });
});

describe('relyingPartyScope', () => {
  it('accepts a subset of the allowed scopes, and nothing asked', () => {
    expect(relyingPartyScope(['b'], ['a', 'b'])).toEqual({ ok: true, value: ['b'] });
    expect(relyingPartyScope([], undefined)).toEqual({ ok: true, value: [] });
  });
  it('refuses a scope beyond the allowed ones, or any where none is configured, as invalid_scope', () => {
    expect(!relyingPartyScope(['a', 'c'], ['a', 'b']).ok && relyingPartyScope(['a', 'c'], ['a', 'b'])).toMatchObject({ code: 'ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY' });
    expect(relyingPartyScope(['a'], undefined).ok).toBe(false);
    expect(TTS_ERRORS.ERR_TTS_SCOPE_EXCEEDS_RELYING_PARTY.error).toBe('invalid_scope');
    expect(TTS_ERRORS.ERR_TTS_RELYING_PARTY_REQUESTER_NOT_ALLOWED.error).toBe('unauthorized_client');
    expect(TTS_ERRORS.ERR_TTS_SUBJECT_NOT_REQUESTER.error).toBe('invalid_grant');
  });
});

describe('scopeProblem (draft rule 10)', () => {
  it('accepts an equal or narrower scope', () => {
    expect(scopeProblem(['a'], ['a', 'b'])).toBeUndefined();
    expect(scopeProblem(['a', 'b'], ['b', 'a'])).toBeUndefined();
  });
  it('refuses a wider scope as invalid_scope', () => {
    expect(scopeProblem(['a', 'c'], ['a', 'b'])?.code).toBe('ERR_TTS_SCOPE_EXCEEDS_SUBJECT');
    expect(TTS_ERRORS.ERR_TTS_SCOPE_EXCEEDS_SUBJECT.error).toBe('invalid_scope');
  });
  it('refuses a subject without scope (never unconstrained)', () => {
    expect(scopeProblem(['a'], [])?.code).toBe('ERR_TTS_SUBJECT_SCOPE_UNKNOWN');
    expect(TTS_ERRORS.ERR_TTS_SUBJECT_SCOPE_UNKNOWN.error).toBe('invalid_scope');
  });
});

describe('exchangeClaims', () => {
  const requester = { workloadId: 'spiffe://td/gw', authn: 'wit+wpt', clientAddress: '10.0.0.1' };
  it('maps request_details to tctx and asserts req_ip / authn itself', () => {
    const claims = exchangeClaims(
      { scope: ['trade.stocks'], subjectToken: 't', subjectTokenType: ACCESS_TOKEN_TYPE, requestContext: { req_ip: '69.151.72.123', authn: 'face', transport: 'https', req_wl_chain: ['forged'] }, requestDetails: { action: 'BUY' } },
      { sub: 'user-1' },
      requester,
      TD,
    );
    expect(claims.ok && claims.value).toEqual({
      aud: TD, sub: 'user-1', req_wl: 'spiffe://td/gw', scope: 'trade.stocks',
      rctx: { transport: 'https', reported_req_ip: '69.151.72.123', reported_authn: 'face', authn: 'wit+wpt', req_ip: '10.0.0.1' },
      tctx: { action: 'BUY' },
    });
    expect(JSON.stringify(claims)).not.toContain('"t"');
  });
  it('keeps txn, sub and tctx on replacement and extends the call chain, up to a limit', () => {
    const subject = { sub: 'user-1', txn: 'txn-1', tctx: { a: 1 }, rctx: { authn: 'x509-svid', req_wl_chain: ['spiffe://td/a'] }, reqWl: 'spiffe://td/b' };
    const claims = exchangeClaims({ scope: ['s'], subjectToken: 't', subjectTokenType: TXN_TOKEN_TYPE }, subject, { workloadId: 'spiffe://td/c', authn: 'wit+wpt' }, TD);
    expect(claims.ok && claims.value).toEqual({ aud: TD, sub: 'user-1', req_wl: 'spiffe://td/c', scope: 's', txn: 'txn-1', tctx: { a: 1 }, rctx: { authn: 'wit+wpt', req_wl_chain: ['spiffe://td/a', 'spiffe://td/b'] } });
    const long = exchangeClaims({ scope: ['s'], subjectToken: 't', subjectTokenType: TXN_TOKEN_TYPE }, { ...subject, rctx: { req_wl_chain: Array(8).fill('spiffe://td/a') } }, requester, TD);
    expect(!long.ok && long.code).toBe('ERR_TTS_REPLACEMENT_CHAIN_TOO_LONG');
  });
});
