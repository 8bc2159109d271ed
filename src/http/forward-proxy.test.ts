import { describe, expect, it } from 'vitest';
import { forwardToRemote } from './forward-proxy.ts';

const remotes = new Map([
  ['debian', ['https://ftp.example.org/debian']],
  ['security', ['http://security.example.org/debian-security', 'http://mirror.example.net/security']],
  ['root', ['http://127.0.0.1:8000']],
  ['nested', ['http://ftp.example.org/debian/extra']],
]);

describe('forwardToRemote', () => {
  it('maps an absolute URI onto the remote whose upstream prefixes it, keeping the encoded path', () => {
    expect(forwardToRemote('http://ftp.example.org/debian/pool/main/f/foo/foo_1.0%2bdfsg_amd64.deb', remotes)).toBe('/debian/pool/main/f/foo/foo_1.0%2bdfsg_amd64.deb');
    expect(forwardToRemote('http://FTP.example.org:80/debian/dists/bookworm/InRelease', remotes)).toBe('/debian/dists/bookworm/InRelease');
    expect(forwardToRemote('http://mirror.example.net/security/dists/x/InRelease?q=1', remotes)).toBe('/security/dists/x/InRelease');
    expect(forwardToRemote('http://127.0.0.1:8000/dists/stable/InRelease', remotes)).toBe('/root/dists/stable/InRelease');
  });
  it('prefers the longest matching base', () => {
    expect(forwardToRemote('http://ftp.example.org/debian/extra/dists/x/Release', remotes)).toBe('/nested/dists/x/Release');
  });
  it('does not match a base that is only a string prefix of a path segment', () => {
    expect(forwardToRemote('http://ftp.example.org/debian-ports/dists/x/Release', remotes)).toBeUndefined();
  });
  it('leaves unknown hosts and non-http URIs alone', () => {
    expect(forwardToRemote('http://other.example.com/debian/dists/x/Release', remotes)).toBeUndefined();
    expect(forwardToRemote('ftp://ftp.example.org/debian/x', remotes)).toBeUndefined();
    expect(forwardToRemote('http://127.0.0.1:8001/dists/stable/InRelease', remotes)).toBeUndefined();
  });
});
