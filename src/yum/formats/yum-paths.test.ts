import { describe, expect, it } from 'vitest';
import { ancestors } from '../../formats/rel-path.ts';
import { compressionOfHref, isHashNamed, resolveHref, splitRepodataPath } from './yum-paths.ts';

const BASES = ['http://127.0.0.1:8080/fedora', 'http://127.0.0.2/mirror/'];

describe('resolveHref', () => {
  it('joins a plain location below the repository directory', () => {
    expect(resolveHref('', 'Packages/b/bigpkg-1.0-1.noarch.rpm', undefined, BASES)).toBe('Packages/b/bigpkg-1.0-1.noarch.rpm');
    expect(resolveHref('releases/40/os', 'Packages/a/a.rpm', undefined, BASES)).toBe('releases/40/os/Packages/a/a.rpm');
    expect(resolveHref('os', './Packages/a.rpm', '', BASES)).toBe('os/Packages/a.rpm');
  });

  it('treats a relative xml:base as a directory below the repository', () => {
    expect(resolveHref('os', 'a.rpm', 'extra', BASES)).toBe('os/extra/a.rpm');
    expect(resolveHref('os', 'a.rpm', 'extra/', BASES)).toBe('os/extra/a.rpm');
    expect(resolveHref('', 'a.rpm', './pool/', BASES)).toBe('pool/a.rpm');
  });

  it('maps an absolute xml:base under an upstream base to a remote path', () => {
    expect(resolveHref('os', 'Packages/a.rpm', 'http://127.0.0.1:8080/fedora/updates/40', BASES)).toBe('updates/40/Packages/a.rpm');
    expect(resolveHref('os', 'a.rpm', 'http://127.0.0.2/mirror/x%2By/', BASES)).toBe('x+y/a.rpm');
    expect(resolveHref('os', 'a.rpm', 'http://127.0.0.1:8080/fedora', BASES)).toBe('a.rpm');
  });

  it('refuses what cannot be served as verified', () => {
    expect(resolveHref('os', 'a.rpm', 'http://127.0.0.3/fedora/', BASES)).toBeUndefined();
    expect(resolveHref('os', 'a.rpm', 'http://127.0.0.1:8080/fedoraX/', BASES)).toBeUndefined();
    expect(resolveHref('os', 'a.rpm', '/abs/dir', BASES)).toBeUndefined();
    expect(resolveHref('os', '/etc/passwd', undefined, BASES)).toBeUndefined();
    expect(resolveHref('os', 'http://127.0.0.1:8080/fedora/a.rpm', undefined, BASES)).toBeUndefined();
    expect(resolveHref('os', '../../etc/passwd', undefined, BASES)).toBeUndefined();
    expect(resolveHref('os', 'a.rpm', '../other', BASES)).toBeUndefined();
    expect(resolveHref('os', 'a//b.rpm', undefined, BASES)).toBeUndefined();
    expect(resolveHref('os', 'a.rpm', 'http://127.0.0.1:8080/fedora/%E0%A4%A/', BASES)).toBeUndefined();
  });
});

describe('path helpers', () => {
  it('lists ancestors deepest first, ending at the root', () => {
    expect(ancestors('a/b/c.rpm')).toEqual(['a/b', 'a', '']);
    expect(ancestors('c.rpm')).toEqual(['']);
  });

  it('splits repodata paths', () => {
    expect(splitRepodataPath('repodata/repomd.xml')).toEqual({ dir: '', name: 'repomd.xml' });
    expect(splitRepodataPath('40/os/repodata/x-primary.xml.gz')).toEqual({ dir: '40/os', name: 'x-primary.xml.gz' });
    expect(splitRepodataPath('repodata/sub/x')).toBeUndefined();
    expect(splitRepodataPath('Packages/a.rpm')).toBeUndefined();
  });

  it('names compressions, with zchunk unreadable', () => {
    expect(compressionOfHref('repodata/x-primary.xml.gz')).toBe('gz');
    expect(compressionOfHref('repodata/x-primary.xml.xz')).toBe('xz');
    expect(compressionOfHref('repodata/x-primary.xml.zst')).toBe('zst');
    expect(compressionOfHref('repodata/x-primary.sqlite.bz2')).toBe('bz2');
    expect(compressionOfHref('repodata/primary.xml')).toBe('none');
    expect(compressionOfHref('repodata/x-primary.xml.zck')).toBeUndefined();
  });

  it('recognises hash-named metadata files', () => {
    const hex = 'ab'.repeat(32);
    expect(isHashNamed(`repodata/${hex}-primary.xml.gz`, hex.toUpperCase())).toBe(true);
    expect(isHashNamed('repodata/primary.xml.gz', hex)).toBe(false);
    expect(isHashNamed(`${hex}/primary.xml.gz`, hex)).toBe(false);
  });
});
