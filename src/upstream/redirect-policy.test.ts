import { describe, expect, it } from 'vitest';
import { MAX_REDIRECTS, decideRedirect, hostAllowed, isRedirect, type RedirectRules } from './redirect-policy.ts';

const rules = (over: Partial<RedirectRules> = {}): RedirectRules => ({
  remote: 'deb', origin: 'http://mirror.test:8080', allowedHosts: ['cdn.test', '*.edge.test'], verified: true, ...over,
});
const from = 'http://mirror.test:8080/debian/pool/f/foo.deb';

describe('decideRedirect (issue 8, finding 1)', () => {
  it('follows same-origin redirects, relative or absolute, for verified and pass-through content', () => {
    for (const verified of [true, false]) {
      expect(decideRedirect(from, '/debian/pool/f/foo_1.deb', 0, rules({ verified }))).toEqual({ follow: 'http://mirror.test:8080/debian/pool/f/foo_1.deb', sameOrigin: true });
      expect(decideRedirect(from, 'bar.deb#x', 0, rules({ verified }))).toEqual({ follow: 'http://mirror.test:8080/debian/pool/f/bar.deb', sameOrigin: true });
    }
  });

  it('follows verified content to an allowed host, exact or by subdomain wildcard', () => {
    expect(decideRedirect(from, 'https://CDN.test/x.deb?sig=1', 0, rules())).toEqual({ follow: 'https://cdn.test/x.deb?sig=1', sameOrigin: false });
    expect(decideRedirect(from, 'http://a.b.edge.test:81/x', 0, rules())).toEqual({ follow: 'http://a.b.edge.test:81/x', sameOrigin: false });
  });

  it('refuses pass-through content leaving the origin, even for an allowed host', () => {
    const d = decideRedirect(from, 'http://cdn.test/x', 0, rules({ verified: false }));
    expect(d).toEqual({ refuse: expect.stringContaining('same-origin redirects only') });
  });

  it('refuses hosts not in redirectHosts, naming the key to set and not the path or query', () => {
    const d = decideRedirect(from, 'http://127.0.0.1:9/secret?token=abc', 0, rules());
    expect('refuse' in d && d.refuse).toBe('upstream of remote deb redirected to http://127.0.0.1:9, which is not its origin; if that host belongs to the mirror network, add "127.0.0.1" to remotes.deb.redirectHosts');
    expect(decideRedirect(from, 'http://edge.test/x', 0, rules())).toHaveProperty('refuse'); // the wildcard needs a subdomain
    expect(decideRedirect(from, 'http://evilcdn.test/x', 0, rules())).toHaveProperty('refuse');
    expect(decideRedirect(from, 'https://mirror.test:8080/x', 0, rules())).toHaveProperty('refuse'); // another scheme is another origin
  });

  it('refuses other schemes', () => {
    for (const loc of ['file:///etc/passwd', 'ftp://mirror.test/x', 'gopher://cdn.test/', 'data:text/plain,hi', 'javascript:alert(1)']) {
      const d = decideRedirect(from, loc, 0, rules());
      expect('refuse' in d && d.refuse, loc).toMatch(/only http\(s\) redirects are followed$/);
    }
  });

  it(`refuses the hop after ${MAX_REDIRECTS}, a missing Location and an unparsable one`, () => {
    expect(decideRedirect(from, '/x', MAX_REDIRECTS - 1, rules())).toHaveProperty('follow');
    expect(decideRedirect(from, '/x', MAX_REDIRECTS, rules())).toEqual({ refuse: `upstream of remote deb redirected more than ${MAX_REDIRECTS} times` });
    expect(decideRedirect(from, undefined, 0, rules())).toHaveProperty('refuse');
    expect(decideRedirect(from, 'http://[::1', 0, rules())).toHaveProperty('refuse');
  });

  it('drops userinfo from the Location: credentials only ever come from the config', () => {
    expect(decideRedirect(from, 'http://u:p@cdn.test/x', 0, rules())).toEqual({ follow: 'http://cdn.test/x', sameOrigin: false });
    const d = decideRedirect(from, 'http://u:p@evil.test/x', 0, rules());
    expect('refuse' in d && d.refuse).not.toContain('u:p');
  });
});

describe('hostAllowed and isRedirect', () => {
  it('matches names case-insensitively, with a trailing dot, and bracketed IPv6 literally', () => {
    expect(hostAllowed('CDN.test.', ['cdn.test'])).toBe(true);
    expect(hostAllowed('[::1]', ['[::1]'])).toBe(true);
    expect(hostAllowed('x.cdn.test', ['cdn.test'])).toBe(false);
  });

  it('knows the redirect statuses', () => {
    expect([301, 302, 303, 307, 308].every(isRedirect)).toBe(true);
    expect([300, 304, 305, 200, 404].some(isRedirect)).toBe(false);
  });
});
