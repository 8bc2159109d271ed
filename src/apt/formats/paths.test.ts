import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { isSafeRelPath, joinRelPath } from '../../formats/rel-path.ts';
import { archiveRootOf, byHashPath, compressionOf, indexKindOf, isReleaseFile, parseByHashPath, stripCompression } from './paths.ts';

const sha256 = createHash('sha256').update('x').digest('hex');
const sha512 = createHash('sha512').update('x').digest('hex');
const md5 = createHash('md5').update('x').digest('hex');

describe('by-hash paths', () => {
  it('parses apt by-hash paths', () => {
    expect(parseByHashPath(`main/binary-amd64/by-hash/SHA256/${sha256}`)).toEqual({ dir: 'main/binary-amd64', algo: 'sha256', hex: sha256 });
    expect(parseByHashPath(`main/i18n/by-hash/SHA512/${sha512.toUpperCase()}`)).toEqual({ dir: 'main/i18n', algo: 'sha512', hex: sha512 });
    expect(parseByHashPath(`by-hash/MD5Sum/${md5}`)).toEqual({ dir: '', algo: 'md5', hex: md5 });
  });

  it('rejects other paths and wrong digests', () => {
    expect(parseByHashPath('main/binary-amd64/Packages.xz')).toBeUndefined();
    expect(parseByHashPath(`main/by-hash/sha256/${sha256}`)).toBeUndefined(); // apt spells it SHA256
    expect(parseByHashPath(`main/by-hash/SHA256/${md5}`)).toBeUndefined();
    expect(parseByHashPath(`main/by-hash/SHA512/${sha256}`)).toBeUndefined();
    expect(parseByHashPath(`main/by-hash/SHA256/${sha256.slice(1)}g`)).toBeUndefined();
    expect(parseByHashPath(`main/by-hash/SHA384/${sha256}`)).toBeUndefined();
    expect(parseByHashPath(`main/by-hash/SHA256/${sha256}/x`)).toBeUndefined();
  });

  it('round-trips through byHashPath', () => {
    for (const path of ['main/binary-amd64/Packages.xz', 'main/i18n/Translation-en.bz2', 'Contents-amd64.gz']) {
      const made = byHashPath(path, 'sha256', sha256);
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
      expect(parseByHashPath(made)).toEqual({ dir, algo: 'sha256', hex: sha256 });
    }
    expect(byHashPath('main/binary-amd64/Packages.xz', 'sha512', sha512)).toBe(`main/binary-amd64/by-hash/SHA512/${sha512}`);
  });
});

describe('classification', () => {
  it('knows compression extensions', () => {
    const cases = { 'P.xz': 'xz', 'P.gz': 'gz', 'P.bz2': 'bz2', 'P.lzma': 'lzma', 'P.zst': 'zst', Packages: 'none', 'x.deb': 'none' };
    for (const [path, kind] of Object.entries(cases)) expect(compressionOf(path), path).toBe(kind);
    expect(stripCompression('main/binary-amd64/Packages.xz')).toBe('main/binary-amd64/Packages');
  });

  it('classifies index kinds', () => {
    expect(indexKindOf('main/binary-amd64/Packages')).toBe('packages');
    expect(indexKindOf('main/binary-amd64/Packages.xz')).toBe('packages');
    expect(indexKindOf('main/debian-installer/binary-amd64/Packages.gz')).toBe('packages');
    expect(indexKindOf('Packages.zst')).toBe('packages');
    expect(indexKindOf('main/source/Sources.xz')).toBe('sources');
    for (const other of ['main/i18n/Translation-en.bz2', 'main/Contents-amd64.gz', 'main/dep11/Components-amd64.yml.xz',
      'main/i18n/Index', 'main/binary-amd64/Packages.diff/Index', 'main/binary-amd64/Release', 'main/binary-amd64/PackagesX']) {
      expect(indexKindOf(other), other).toBe('other');
    }
  });

  it('recognises Release files', () => {
    for (const yes of ['InRelease', 'Release', 'Release.gpg', 'dists/bookworm/InRelease']) expect(isReleaseFile(yes), yes).toBe(true);
    for (const no of ['Release.xz', 'release', 'InRelease.gpg', 'dists/bookworm/Release/x']) expect(isReleaseFile(no), no).toBe(false);
  });
});

describe('archiveRootOf', () => {
  it('finds the archive root', () => {
    expect(archiveRootOf('dists/bookworm')).toBe('');
    expect(archiveRootOf('debian/dists/bookworm-updates')).toBe('debian');
    expect(archiveRootOf('dists/stable/updates')).toBe('');
    expect(archiveRootOf('a/dists/b/dists/c')).toBe('a/dists/b');
    expect(archiveRootOf('repo/flat')).toBe('repo/flat');
    expect(archiveRootOf('repo/flat/')).toBe('repo/flat');
    expect(archiveRootOf('')).toBe('');
  });
});

describe('path helpers', () => {
  it('joins and validates relative paths', () => {
    expect(joinRelPath('', 'pool/a.deb')).toBe('pool/a.deb');
    expect(joinRelPath('debian', 'pool/a.deb')).toBe('debian/pool/a.deb');
    for (const ok of ['a', 'a/b.c', 'pool/main/z/zlib/zlib1g_1.2_amd64.deb']) expect(isSafeRelPath(ok), ok).toBe(true);
    for (const bad of ['', '/a', 'a/', 'a//b', './a', 'a/../b', '..', 'a\\b', 'a\0b']) expect(isSafeRelPath(bad), bad).toBe(false);
  });
});
