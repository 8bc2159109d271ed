import { describe, expect, it } from 'vitest';
import { PeerAuth } from './peer-auth.ts';

describe('PeerAuth', () => {
  const key = Buffer.from('-----BEGIN PGP PRIVATE KEY BLOCK-----\nshared\n');
  const a = PeerAuth.fromSigningKey(key);
  const b = PeerAuth.fromSigningKey(Buffer.from(key));

  it('accepts a header made by any node with the same key file, for the same method and path', () => {
    const h = a.header('GET', '/-/internal/fills/abc');
    expect(b.check(h, 'GET', '/-/internal/fills/abc')).toBe(true);
  });

  it('refuses another key, another path or method, a stale timestamp and garbage', () => {
    const other = PeerAuth.fromSigningKey(Buffer.from('another key'));
    const now = Date.now();
    expect(b.check(other.header('GET', '/p', now), 'GET', '/p', now)).toBe(false);
    expect(b.check(a.header('GET', '/p', now), 'GET', '/q', now)).toBe(false);
    expect(b.check(a.header('GET', '/p', now), 'HEAD', '/p', now)).toBe(false);
    expect(b.check(a.header('GET', '/p', now - 10 * 60_000), 'GET', '/p', now)).toBe(false);
    expect(b.check(undefined, 'GET', '/p')).toBe(false);
    expect(b.check('Repoint-HMAC 1:zz', 'GET', '/p')).toBe(false);
  });
});
