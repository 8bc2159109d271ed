import { errorCodeOf } from '../../../test/helpers/error-code.ts';
import { describe, expect, it } from 'vitest';
import { parseRelease, strongestHash } from './release.ts';
import { parseReleaseDate } from './release-date.ts';
import { buildReleaseText, digest, type FixtureFile } from '../../../test/fixtures/release-fixture.ts';

const XZ: FixtureFile = { path: 'main/binary-amd64/Packages.xz', content: 'xz bytes stand-in' };
const FILES: FixtureFile[] = [
  { path: 'main/binary-amd64/Packages', content: 'Package: a\nSize: 1\n\n'.repeat(50) },
  XZ,
  { path: 'main/binary-amd64/Release', content: 'Archive: stable\n' },
  { path: 'main/debian-installer/binary-amd64/Packages', content: '' },
  { path: 'contrib/binary-amd64/Packages', content: '' },
  { path: 'main/i18n/Translation-en.bz2', content: 'translations' },
];


describe('parseRelease', () => {
  const release = parseRelease(buildReleaseText(FILES));

  it('reads the scalar fields', () => {
    expect(release.origin).toBe('Example');
    expect(release.label).toBe('Example');
    expect(release.suite).toBe('stable');
    expect(release.codename).toBe('bookworm');
    expect(release.version).toBe('12.1');
    expect(release.date?.toISOString()).toBe('2023-06-10T08:52:18.000Z');
    expect(release.validUntil?.toISOString()).toBe('2023-06-17T08:52:18.000Z');
    expect(release.acquireByHash).toBe(true);
    expect(release.architectures).toEqual(['all', 'amd64', 'arm64']);
    expect(release.components).toEqual(['main', 'contrib']);
    expect(release.fields.map((f) => f.name).slice(0, 3)).toEqual(['Origin', 'Label', 'Suite']);
    expect(release.fields.map((f) => f.name).slice(-2)).toEqual(['MD5Sum', 'SHA256']);
  });

  it('merges the hash fields into one entry per path, in file order', () => {
    expect([...release.files.keys()]).toEqual(FILES.map((f) => f.path));
    for (const f of FILES) {
      expect(release.files.get(f.path)).toEqual({
        path: f.path,
        size: Buffer.byteLength(f.content),
        hashes: { md5: digest('md5', f.content), sha256: digest('sha256', f.content) },
      });
    }
  });

  it('finds entries by hash, optionally within a directory', () => {
    const xz = XZ;
    expect(release.findByHash('sha256', digest('sha256', xz.content))?.path).toBe(xz.path);
    expect(release.findByHash('sha256', digest('sha256', xz.content).toUpperCase())?.path).toBe(xz.path);
    expect(release.findByHash('md5', digest('md5', xz.content))?.path).toBe(xz.path);
    expect(release.findByHash('sha512', digest('sha512', xz.content))).toBeUndefined();
    expect(release.findByHash('sha256', digest('sha256', 'not listed'))).toBeUndefined();
    // Three empty indexes share a digest: the directory picks the right one.
    const empty = digest('sha256', '');
    expect(release.findByHash('sha256', empty, 'contrib/binary-amd64')?.path).toBe('contrib/binary-amd64/Packages');
    expect(release.findByHash('sha256', empty, 'main/debian-installer/binary-amd64')?.path).toBe(
      'main/debian-installer/binary-amd64/Packages',
    );
    expect(release.findByHash('sha256', empty, 'main/binary-amd64')).toBeUndefined();
  });

  it('accepts case-insensitive field names and missing optional fields', () => {
    const r = parseRelease('origin: X\nACQUIRE-BY-HASH: Yes\nsha512:\n ' + 'A'.repeat(128) + ' 5 main/f\n');
    expect(r.origin).toBe('X');
    expect(r.acquireByHash).toBe(true);
    expect(r.date).toBeUndefined();
    expect(r.validUntil).toBeUndefined();
    expect(r.architectures).toEqual([]);
    expect(r.files.get('main/f')?.hashes).toEqual({ sha512: 'a'.repeat(128) });
  });

  it('rejects bad metadata with METADATA_INVALID', () => {
    const base = 'Origin: X\n';
    expect(errorCodeOf(() => parseRelease(''))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(base + '\nOrigin: Y\n'))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(base + 'Date: yesterday\n'))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(base + 'Valid-Until: 2023\n'))).toBe('METADATA_INVALID');
    const md5 = digest('md5', 'x');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5} 1\n`))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5.slice(1)} 1 a\n`))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5} -1 a\n`))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5} 1 ../etc/passwd\n`))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5} 1 /abs\n`))).toBe('METADATA_INVALID');
    const sha1 = digest('sha1', 'x');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5} 1 a\nSHA1:\n ${sha1} 2 a\n`))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseRelease(`${base}MD5Sum:\n ${md5} 1 a\nSHA1:\n ${sha1} 1 a\n`))).toBeUndefined();
  });
});

describe('parseReleaseDate', () => {
  it('reads apt formats and zones', () => {
    const utc = Date.UTC(2023, 5, 10, 8, 52, 18);
    expect(parseReleaseDate('Sat, 10 Jun 2023 08:52:18 UTC').getTime()).toBe(utc);
    expect(parseReleaseDate('Sat, 10 Jun 2023 08:52:18 +0000').getTime()).toBe(utc);
    expect(parseReleaseDate('Sat, 10 Jun 2023 08:52:18 GMT').getTime()).toBe(utc);
    expect(parseReleaseDate('10 Jun 2023 10:52:18 +0200').getTime()).toBe(utc);
    expect(parseReleaseDate('Sat,  10 jun 2023 03:22:18 -0530').getTime()).toBe(utc);
    expect(parseReleaseDate('Sat, 1 Jul 2023 00:00 UTC').getTime()).toBe(Date.UTC(2023, 6, 1));
  });

  it('rejects what Date.parse would wrongly accept', () => {
    for (const bad of ['2023', '2023-06-10T08:52:18Z', 'Sat, 31 Feb 2023 08:52:18 UTC', 'Sat, 10 Foo 2023 08:52:18 UTC',
      'Sat, 10 Jun 2023 24:00:00 UTC', 'Sat, 10 Jun 2023 08:52:18', 'Sat, 10 Jun 2023 08:52:18 +0099', 'Sat, 10 Jun 0050 08:52:18 UTC']) {
      expect(errorCodeOf(() => parseReleaseDate(bad)), bad).toBe('METADATA_INVALID');
    }
  });
});

describe('strongestHash', () => {
  it('prefers SHA512 > SHA256 > SHA1 > MD5', () => {
    expect(strongestHash({ md5: 'm', sha1: 's1', sha256: 's2', sha512: 's5' })).toEqual({ algo: 'sha512', hex: 's5' });
    expect(strongestHash({ md5: 'm', sha256: 's2' })).toEqual({ algo: 'sha256', hex: 's2' });
    expect(strongestHash({ md5: 'm', sha1: 's1' })).toEqual({ algo: 'sha1', hex: 's1' });
    expect(strongestHash({ md5: 'm' })).toEqual({ algo: 'md5', hex: 'm' });
    expect(strongestHash({})).toBeUndefined();
  });
});
