/** The strict credential extraction rules (src/gateway/credentials.ts), without any verification. */
import { describe, expect, it } from 'vitest';
import { extractCredentials, parseAuthorization, type Accepts } from '../../src/gateway/credentials.ts';

const WIT = 'aaaa.bbbb.cccc';
const WPT = 'dddd.eeee.ffff';
const SVID = 'gggg.hhhh.iiii';

const v02: Accepts = { wit: { carriage: 'authorization', wpt: true, httpSig: false } };
const v01: Accepts = { wit: { carriage: 'header', wpt: true, httpSig: false } };
const svid: Accepts = { jwtSvid: true };
const both: Accepts = { wit: { carriage: 'authorization', wpt: true, httpSig: false }, jwtSvid: true };

function headers(fields: Array<[string, string]>): Headers {
  const h = new Headers();
  for (const [name, value] of fields) h.append(name, value);
  return h;
}

function code(fields: Array<[string, string]>, accepts: Accepts) {
  const result = extractCredentials(headers(fields), accepts);
  return result.ok ? 'ok' : result.code;
}

describe('parseAuthorization', () => {
  it('lowercases the scheme, skips the spaces after it, and flags a comma as a repeated field', () => {
    expect(parseAuthorization('WPT  abc')).toEqual({ scheme: 'wpt', credentials: 'abc', repeated: false });
    expect(parseAuthorization('Bearer a, Bearer b')).toMatchObject({ scheme: 'bearer', repeated: true });
    expect(parseAuthorization('WPT')).toEqual({ scheme: 'wpt', credentials: '', repeated: false });
    expect(parseAuthorization('"quoted" x').scheme).toBeUndefined();
  });
});

describe('extractCredentials: WIT + WPT, -02 carriage (Authorization: WPT)', () => {
  it('takes exactly one Workload-Identity-Token and one Authorization: WPT, any case of the scheme', () => {
    for (const scheme of ['WPT', 'wpt', 'Wpt']) {
      const result = extractCredentials(headers([['workload-identity-token', WIT], ['authorization', `${scheme} ${WPT}`]]), v02);
      expect(result).toEqual({ ok: true, value: { kind: 'wit+wpt', wit: WIT, proof: WPT, carriage: 'authorization' } });
    }
  });

  it('passes a Txn-Token on for tth', () => {
    const result = extractCredentials(headers([['workload-identity-token', WIT], ['authorization', `WPT ${WPT}`], ['txn-token', 'txn.tok.en']]), v02);
    expect(result.ok && result.value).toMatchObject({ txnToken: 'txn.tok.en' });
  });

  it('refuses a repeated or comma-joined Workload-Identity-Token, an empty one, and one with spaces (ERR_WIT_MALFORMED)', () => {
    const proof: [string, string] = ['authorization', `WPT ${WPT}`];
    expect(code([['workload-identity-token', WIT], ['workload-identity-token', WIT], proof], v02)).toBe('ERR_WIT_MALFORMED');
    expect(code([['workload-identity-token', `${WIT},${WIT}`], proof], v02)).toBe('ERR_WIT_MALFORMED');
    expect(code([['workload-identity-token', ''], proof], v02)).toBe('ERR_WIT_MALFORMED');
    expect(code([['workload-identity-token', `${WIT} ${WIT}`], proof], v02)).toBe('ERR_WIT_MALFORMED');
  });

  it('refuses a repeated Authorization field, empty WPT credentials, and credentials that are not one token68 (ERR_WPT_MALFORMED)', () => {
    const wit: [string, string] = ['workload-identity-token', WIT];
    expect(code([wit, ['authorization', `WPT ${WPT}`], ['authorization', `WPT ${WPT}`]], v02)).toBe('ERR_WPT_MALFORMED');
    expect(code([wit, ['authorization', `WPT ${WPT}`], ['authorization', 'Bearer x']], v02)).toBe('ERR_WPT_MALFORMED');
    expect(code([wit, ['authorization', 'WPT']], v02)).toBe('ERR_WPT_MALFORMED');
    expect(code([wit, ['authorization', `WPT ${WPT} extra`]], v02)).toBe('ERR_WPT_MALFORMED');
  });

  it('answers ERR_WIT_MISSING for a proof without a WIT and ERR_WPT_MISSING for a WIT without a proof', () => {
    expect(code([['authorization', `WPT ${WPT}`]], v02)).toBe('ERR_WIT_MISSING');
    expect(code([['workload-identity-token', WIT]], v02)).toBe('ERR_WPT_MISSING');
    // The -01 field on a -02 route is no proof here; the detail says which carriage was used.
    const result = extractCredentials(headers([['workload-identity-token', WIT], ['workload-proof-token', WPT]]), v02);
    expect(result).toMatchObject({ ok: false, code: 'ERR_WPT_MISSING', detail: expect.stringContaining('-01 carriage') });
  });

  it('answers ERR_CREDENTIALS_MISSING with nothing, or another scheme, naming the scheme but never the credentials', () => {
    expect(code([], v02)).toBe('ERR_CREDENTIALS_MISSING');
    const basic = extractCredentials(headers([['authorization', 'Basic dXNlcjpzZWNyZXQ=']]), v02);
    expect(basic).toMatchObject({ ok: false, code: 'ERR_CREDENTIALS_MISSING', detail: expect.stringContaining('"basic"') });
    expect(JSON.stringify(basic)).not.toContain('dXNlcjpzZWNyZXQ');
    const long = extractCredentials(headers([['authorization', `${'X'.repeat(40)} y`]]), v02);
    expect(JSON.stringify(long)).not.toContain('XXXXXXXXXX');
    // A bearer token on a route that does not take JWT-SVIDs is not a credential of this route.
    expect(code([['authorization', `Bearer ${SVID}`]], v02)).toBe('ERR_CREDENTIALS_MISSING');
  });
});

describe('extractCredentials: WIT + WPT, -01 carriage (Workload-Proof-Token)', () => {
  it('takes the Workload-Proof-Token field, and an Authorization: Bearer token as the access token bound by ath', () => {
    expect(extractCredentials(headers([['workload-identity-token', WIT], ['workload-proof-token', WPT]]), v01)).toEqual({
      ok: true,
      value: { kind: 'wit+wpt', wit: WIT, proof: WPT, carriage: 'header' },
    });
    const withToken = extractCredentials(headers([['workload-identity-token', WIT], ['workload-proof-token', WPT], ['authorization', 'Bearer at-123']]), v01);
    expect(withToken.ok && withToken.value).toMatchObject({ accessToken: 'at-123' });
  });

  it('refuses a repeated Workload-Proof-Token and a repeated Authorization (ERR_WPT_MALFORMED)', () => {
    const wit: [string, string] = ['workload-identity-token', WIT];
    expect(code([wit, ['workload-proof-token', WPT], ['workload-proof-token', WPT]], v01)).toBe('ERR_WPT_MALFORMED');
    expect(code([wit, ['workload-proof-token', ''], ], v01)).toBe('ERR_WPT_MALFORMED');
    expect(code([wit, ['workload-proof-token', WPT], ['authorization', 'Bearer a'], ['authorization', 'Bearer b']], v01)).toBe('ERR_WPT_MALFORMED');
  });

  it('does not take Authorization: WPT as the proof', () => {
    expect(code([['workload-identity-token', WIT], ['authorization', `WPT ${WPT}`]], v01)).toBe('ERR_WPT_MISSING');
  });
});

describe('extractCredentials: JWT-SVID (Authorization: Bearer)', () => {
  it('takes one bearer token', () => {
    expect(extractCredentials(headers([['authorization', `Bearer ${SVID}`]]), svid)).toEqual({ ok: true, value: { kind: 'jwt-svid', token: SVID } });
    expect(extractCredentials(headers([['authorization', `bearer ${SVID}`]]), svid).ok).toBe(true);
  });

  it('refuses a repeated field, empty credentials, and more than one token (ERR_JWT_SVID_MALFORMED)', () => {
    expect(code([['authorization', `Bearer ${SVID}`], ['authorization', `Bearer ${SVID}`]], svid)).toBe('ERR_JWT_SVID_MALFORMED');
    expect(code([['authorization', 'Bearer']], svid)).toBe('ERR_JWT_SVID_MALFORMED');
    expect(code([['authorization', `Bearer ${SVID} ${SVID}`]], svid)).toBe('ERR_JWT_SVID_MALFORMED');
  });
});

describe('extractCredentials: a route accepting both', () => {
  it('chooses WIT+WPT when a proof is presented, JWT-SVID for a bearer token (a WIT beside it is ignored)', () => {
    expect(extractCredentials(headers([['workload-identity-token', WIT], ['authorization', `WPT ${WPT}`]]), both)).toMatchObject({ ok: true, value: { kind: 'wit+wpt' } });
    expect(extractCredentials(headers([['workload-identity-token', WIT], ['authorization', `Bearer ${SVID}`]]), both)).toMatchObject({ ok: true, value: { kind: 'jwt-svid' } });
    expect(code([['workload-identity-token', WIT]], both)).toBe('ERR_WPT_MISSING');
    expect(code([], both)).toBe('ERR_CREDENTIALS_MISSING');
  });
});

describe('extractCredentials: WIT with an HTTP signature', () => {
  const sigOnly: Accepts = { wit: { carriage: 'authorization', wpt: false, httpSig: true } };
  const either: Accepts = { wit: { carriage: 'authorization', wpt: true, httpSig: true } };

  it('selects the signature when Signature-Input or Signature is present, an Authorization: Bearer beside it included', () => {
    expect(extractCredentials(headers([['workload-identity-token', WIT], ['signature-input', 'sig1=()'], ['signature', 'sig1=:AA==:']]), sigOnly)).toEqual({ ok: true, value: { kind: 'wit+http-sig', wit: WIT } });
    expect(extractCredentials(headers([['workload-identity-token', WIT], ['signature-input', 'x'], ['authorization', 'Bearer user-token']]), either)).toEqual({ ok: true, value: { kind: 'wit+http-sig', wit: WIT } });
  });

  it('prefers a WPT when the route takes both and the request carries one', () => {
    const result = extractCredentials(headers([['workload-identity-token', WIT], ['authorization', `WPT ${WPT}`], ['signature-input', 'x']]), either);
    expect(result).toMatchObject({ ok: true, value: { kind: 'wit+wpt' } });
  });

  it('refuses a signature without a WIT, a repeated WIT, and a WIT alone on a signature-only route', () => {
    expect(extractCredentials(headers([['signature-input', 'x']]), sigOnly)).toMatchObject({ ok: false, code: 'ERR_WIT_MISSING' });
    expect(extractCredentials(headers([['workload-identity-token', `${WIT}, ${WIT}`], ['signature-input', 'x']]), sigOnly)).toMatchObject({ ok: false, code: 'ERR_WIT_MALFORMED' });
    expect(extractCredentials(headers([['workload-identity-token', WIT]]), sigOnly)).toMatchObject({ ok: false, code: 'ERR_HTTPSIG_MISSING' });
    // A WPT sent to a signature-only route is not taken as a proof.
    expect(extractCredentials(headers([['workload-identity-token', WIT], ['authorization', `WPT ${WPT}`]]), sigOnly)).toMatchObject({ ok: false, code: 'ERR_HTTPSIG_MISSING' });
  });
});
