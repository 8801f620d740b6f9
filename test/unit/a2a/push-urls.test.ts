/**
 * The push notification URL allow-list (src/a2a/push-urls.ts): prefixes as config normalises them, segment
 * boundaries, and one test per trick a URL could use to reach another host or path than the one the gateway checked
 * (dot segments, percent-encoded dots and separators, IDN and upper-case hosts, default ports, backslashes, `@` and
 * userinfo, numeric hosts, whitespace); reasons never carry the URL's path, query, userinfo or fragment.
 */
import { describe, expect, it } from 'vitest';
import { A2A_PUSH_URL_ERRORS, pushUrlProblem } from '../../../src/a2a/push-urls.ts';
import { a2aRouteSchema } from '../../../src/config/a2a.ts';
import { MAX_A2A_PUSH_URL_LENGTH } from '../../../src/limits.ts';

// As config accepts them (src/config/a2a.ts: https, normal form, no query or fragment).
const PREFIXES = a2aRouteSchema.parse({
  pushNotifications: {
    allowedUrls: ['https://hooks.example/a2a', 'https://slash.example/in/', 'https://root.example/', 'https://ports.example:8443/p', 'https://xn--bcher-kva.example/in', 'https://127.0.0.1/ip', 'https://[::1]/v6'],
  },
}).pushNotifications!.allowedUrls;

const allowed = (url: string) => pushUrlProblem(url, PREFIXES) === undefined;

describe('pushUrlProblem', () => {
  it('the code is stable', () => {
    expect(Object.keys(A2A_PUSH_URL_ERRORS)).toEqual(['ERR_A2A_PUSH_URL_NOT_ALLOWED']);
  });

  it('refuses every URL when the route has no allow-list (fail closed)', () => {
    expect(pushUrlProblem('https://hooks.example/a2a', undefined)).toBe('push notification URLs are not allowed on this route (no a2a.pushNotifications.allowedUrls)');
    expect(pushUrlProblem('https://hooks.example/a2a', [])).toBe('push notification URLs are not allowed on this route (no a2a.pushNotifications.allowedUrls)');
  });

  it('allows the prefix itself and paths below it at a segment boundary, with any query or fragment', () => {
    for (const url of [
      'https://hooks.example/a2a',
      'https://hooks.example/a2a/',
      'https://hooks.example/a2a/cb',
      'https://hooks.example/a2a/cb/deeper?token=abc&x=1',
      'https://hooks.example/a2a#frag',
      'https://slash.example/in/',
      'https://slash.example/in/x',
      'https://root.example/',
      'https://root.example',
      'https://root.example/any/path',
      'https://ports.example:8443/p/q',
      'https://127.0.0.1/ip/x',
      'https://[::1]/v6/x',
    ]) {
      expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: undefined });
    }
  });

  it('refuses siblings that merely share the prefix\'s characters, and parents', () => {
    for (const url of ['https://hooks.example/a2a2', 'https://hooks.example/a2a-x', 'https://hooks.example/a2', 'https://hooks.example/', 'https://slash.example/in', 'https://slash.example/inx', 'https://ports.example:8443/pq']) {
      expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: `the push notification URL for ${new URL(url).origin} is not under an allowed prefix` });
    }
  });

  it('compares origins exactly: scheme, host and port', () => {
    expect(pushUrlProblem('https://evil.example/a2a', PREFIXES)).toBe('the push notification URL for https://evil.example is not under an allowed prefix');
    expect(pushUrlProblem('https://hooks.example.evil.example/a2a', PREFIXES)).toBe('the push notification URL for https://hooks.example.evil.example is not under an allowed prefix');
    expect(pushUrlProblem('https://ports.example/p', PREFIXES)).toBe('the push notification URL for https://ports.example is not under an allowed prefix');
    expect(pushUrlProblem('https://ports.example:8444/p', PREFIXES)).toBe('the push notification URL for https://ports.example:8444 is not under an allowed prefix');
    expect(pushUrlProblem('https://hooks.example:8443/a2a', PREFIXES)).toBe('the push notification URL for https://hooks.example:8443 is not under an allowed prefix');
    // A trailing dot names the same DNS host, but not the same origin: refused rather than guessed.
    expect(allowed('https://hooks.example./a2a')).toBe(false);
  });

  it('https only', () => {
    for (const url of ['http://hooks.example/a2a', 'wss://hooks.example/a2a', 'ftp://hooks.example/a2a', 'javascript:alert(1)', 'data:text/plain,hi']) {
      expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL is not an https:// URL' });
    }
  });

  it('an absolute URL only, written with "https://" (no relative, scheme-relative or slash-less forms)', () => {
    for (const url of ['', '/a2a/cb', 'hooks.example/a2a', '//hooks.example/a2a', 'https:hooks.example/a2a', 'https:/hooks.example/a2a']) {
      expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL is not an https:// URL' });
    }
    expect(pushUrlProblem('https://', PREFIXES)).toBe('the push notification URL is not an absolute https URL');
    expect(pushUrlProblem('https://hooks example/a2a'.replace(' ', '%20'), PREFIXES)).toBe('the push notification URL is not an absolute https URL');
    // WHATWG reads a third slash as nothing; other parsers read an empty host.
    expect(pushUrlProblem('https:///hooks.example/a2a', PREFIXES)).toBe('the push notification URL\'s host is not written in normal form (percent-encoded, numeric shorthand, or empty)');
  });

  describe('tricks', () => {
    it('dot segments are resolved before comparing (a path climbing out of the prefix is refused)', () => {
      expect(allowed('https://hooks.example/a2a/../admin')).toBe(false);
      expect(allowed('https://hooks.example/a2a/x/../../admin')).toBe(false);
      expect(allowed('https://hooks.example/a2a/./cb')).toBe(true); // resolves to /a2a/cb
      expect(allowed('https://hooks.example/a2a/x/../cb')).toBe(true); // resolves to /a2a/cb
      expect(allowed('https://hooks.example/other/../a2a/cb')).toBe(true); // resolves to /a2a/cb
    });

    it('percent-encoded dots are dots (WHATWG and most servers)', () => {
      for (const url of ['https://hooks.example/a2a/%2e%2e/admin', 'https://hooks.example/a2a/%2E%2E/admin', 'https://hooks.example/a2a/.%2e/admin', 'https://hooks.example/a2a/%2e./admin']) {
        expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL for https://hooks.example is not under an allowed prefix' });
      }
    });

    it('encoded separators, a double encoding, and dot segments with parameters are refused (servers that decode before routing)', () => {
      for (const url of ['https://hooks.example/a2a/..%2fadmin', 'https://hooks.example/a2a/..%2Fadmin', 'https://hooks.example/a2a/..%5cadmin', 'https://hooks.example/a2a/%252e%252e/admin', 'https://hooks.example/a2a/%00x']) {
        expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL for https://hooks.example has an encoded "/", "\\", "%" or control character in its path' });
      }
      for (const url of ['https://hooks.example/a2a/..;/admin', 'https://hooks.example/a2a/%2e%2e;/admin', 'https://hooks.example/a2a/.;x/cb']) {
        expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL for https://hooks.example has a dot segment left in its path' });
      }
    });

    it('hosts are compared as parsed: upper case is fine; Unicode (IDN) must be sent in its xn-- form', () => {
      expect(allowed('https://HOOKS.Example/a2a/cb')).toBe(true);
      expect(allowed('HTTPS://hooks.example/a2a/cb')).toBe(true);
      expect(allowed('https://xn--bcher-kva.example/in/x')).toBe(true);
      expect(allowed('https://XN--BCHER-KVA.example/in/x')).toBe(true);
      // The same host in Unicode: IDNA mappings differ between URL libraries (UTS 46 vs IDNA 2003), so refused.
      expect(pushUrlProblem('https://bücher.example/in/x', PREFIXES)).toBe('the push notification URL is not printable ASCII (spaces, controls, or an unencoded IDN)');
      // Fullwidth letters that WHATWG folds to ASCII: refused for the same reason.
      expect(pushUrlProblem('https://ｈｏｏｋｓ.example/a2a', PREFIXES)).toBe('the push notification URL is not printable ASCII (spaces, controls, or an unencoded IDN)');
      // Percent-encoded hosts: WHATWG decodes them, other parsers send them to DNS as they are.
      expect(pushUrlProblem('https://b%C3%BCcher.example/in/x', PREFIXES)).toBe('the push notification URL\'s host is not written in normal form (percent-encoded, numeric shorthand, or empty)');
      expect(pushUrlProblem('https://hooks%2eexample/a2a', PREFIXES)).toBe('the push notification URL\'s host is not written in normal form (percent-encoded, numeric shorthand, or empty)');
    });

    it('an explicit default port is the origin without one; numeric host shorthands are refused', () => {
      expect(allowed('https://hooks.example:443/a2a/cb')).toBe(true);
      expect(allowed('https://127.0.0.1:443/ip/x')).toBe(true);
      for (const url of ['https://2130706433/ip/x', 'https://0x7f.1/ip/x', 'https://127.1/ip/x', 'https://0177.0.0.1/ip/x', 'https://[0:0::1]/v6/x']) {
        expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL\'s host is not written in normal form (percent-encoded, numeric shorthand, or empty)' });
      }
    });

    it('backslashes are refused wherever they are (WHATWG reads them as "/", others as part of the authority)', () => {
      for (const url of ['https://hooks.example\\a2a\\cb', 'https://evil.example\\@hooks.example/a2a', 'https://hooks.example/a2a\\..\\admin', 'https:\\\\hooks.example/a2a']) {
        expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL contains a backslash (WHATWG parsers read it as "/", others do not)' });
      }
    });

    it('"@" in the authority and userinfo are refused; the reason names the real host only', () => {
      expect(pushUrlProblem('https://hooks.example@evil.example/a2a', PREFIXES)).toBe('the push notification URL for https://evil.example carries userinfo');
      expect(pushUrlProblem('https://hooks.example:443@evil.example/a2a', PREFIXES)).toBe('the push notification URL for https://evil.example carries userinfo');
      expect(pushUrlProblem('https://user:sekret@hooks.example/a2a/cb', PREFIXES)).toBe('the push notification URL for https://hooks.example carries userinfo');
      expect(pushUrlProblem('https://:@hooks.example/a2a/cb', PREFIXES)).toBe('the push notification URL\'s host is not written in normal form (percent-encoded, numeric shorthand, or empty)');
      // "@" after a "#" or "?" is no authority: the host is evil.example.
      expect(pushUrlProblem('https://evil.example#@hooks.example/a2a', PREFIXES)).toBe('the push notification URL for https://evil.example is not under an allowed prefix');
      expect(pushUrlProblem('https://evil.example?@hooks.example/a2a', PREFIXES)).toBe('the push notification URL for https://evil.example is not under an allowed prefix');
    });

    it('whitespace and control characters (which WHATWG strips or removes) are refused', () => {
      for (const url of [' https://hooks.example/a2a', 'https://hooks.example/a2a ', 'https://hooks.example/a2a\n', 'https://hoo\tks.example/a2a', 'https://hooks.example/a2a\u0000', 'https://hooks.example/a\u007f2a']) {
        expect({ url, problem: pushUrlProblem(url, PREFIXES) }).toEqual({ url, problem: 'the push notification URL is not printable ASCII (spaces, controls, or an unencoded IDN)' });
      }
    });

    it('bounds the length', () => {
      const long = `https://hooks.example/a2a/${'x'.repeat(MAX_A2A_PUSH_URL_LENGTH)}`;
      expect(pushUrlProblem(long, PREFIXES)).toBe(`the push notification URL is longer than MAX_A2A_PUSH_URL_LENGTH (${MAX_A2A_PUSH_URL_LENGTH})`);
      expect(allowed(`https://hooks.example/a2a/${'x'.repeat(MAX_A2A_PUSH_URL_LENGTH - 'https://hooks.example/a2a/'.length)}`)).toBe(true);
    });
  });

  it('reasons never carry the path, query, userinfo or fragment', () => {
    const secrets = ['S3CR3T', 'sekret', 'pathtoken'];
    for (const url of [
      'https://user:sekret@hooks.example/a2a/cb',
      'https://evil.example/pathtoken?sig=S3CR3T#S3CR3T',
      'https://hooks.example/a2a/..%2fpathtoken?sig=S3CR3T',
      'https://hooks.example/a2a/..;/pathtoken?sig=S3CR3T',
      'http://user:sekret@hooks.example/pathtoken?sig=S3CR3T',
      'https://b%C3%BCcher.example/pathtoken?sig=S3CR3T',
      'https://hooks.example:99999/pathtoken?sig=S3CR3T',
    ]) {
      const problem = pushUrlProblem(url, PREFIXES);
      expect(problem).toBeTypeOf('string');
      for (const secret of secrets) expect({ url, leaks: problem!.includes(secret) }).toEqual({ url, leaks: false });
    }
  });

  it('ignores prefixes that are not https URLs (config refuses them; a caller passing one gets nothing from it)', () => {
    expect(pushUrlProblem('https://hooks.example/a2a', ['http://hooks.example/a2a', 'not a url'])).toBe('the push notification URL for https://hooks.example is not under an allowed prefix');
  });
});
