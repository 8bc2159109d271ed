import { describe, expect, it } from 'vitest';
import { parseRelease } from './release.ts';
import { buildReleaseText, digest, type FixtureFile } from '../../../test/fixtures/release-fixture.ts';
import { formatReleaseDate, writeRelease } from './release-writer.ts';
import { parseReleaseDate } from './release-date.ts';

const FILES: FixtureFile[] = [
  { path: 'main/binary-amd64/Packages', content: 'Package: a\n'.repeat(20_000) },
  { path: 'main/binary-amd64/Packages.xz', content: 'compressed' },
  { path: 'main/i18n/Translation-en.bz2', content: 'translations' },
  { path: 'main/source/Sources.xz', content: 'sources' },
  { path: 'contrib/binary-amd64/Packages', content: '' },
];
const SNAP = 'http://127.0.0.1:8080/debian/@SNAPSHOTID@/';

describe('writeRelease', () => {
  const original = parseRelease(buildReleaseText(FILES, ['Snapshots: http://127.0.0.1:9/upstream/@SNAPSHOTID@/']));
  const keep = new Set(['main/binary-amd64/Packages', 'main/binary-amd64/Packages.xz', 'contrib/binary-amd64/Packages']);

  it('round-trips: keeps fields and kept entries, drops the rest, adds Snapshots', () => {
    const text = writeRelease(original, { keepPaths: keep, snapshotsUrl: SNAP });
    const again = parseRelease(text);
    expect(again.origin).toBe(original.origin);
    expect(again.label).toBe(original.label);
    expect(again.suite).toBe(original.suite);
    expect(again.codename).toBe(original.codename);
    expect(again.version).toBe(original.version);
    expect(again.date).toEqual(original.date);
    expect(again.acquireByHash).toBe(true);
    expect(again.architectures).toEqual(original.architectures);
    expect(again.components).toEqual(original.components);
    expect(again.validUntil).toBeUndefined();
    expect([...again.files.keys()]).toEqual([...original.files.keys()].filter((p) => keep.has(p)));
    for (const p of keep) expect(again.files.get(p)).toEqual(original.files.get(p));
    const names = again.fields.map((f) => f.name);
    expect(names).not.toContain('Signed-By');
    expect(names).not.toContain('Valid-Until');
    expect(again.fields.filter((f) => f.name === 'Snapshots')).toEqual([{ name: 'Snapshots', value: SNAP }]);
    // Original order, Snapshots just before the file lists.
    const expected = original.fields.map((f) => f.name).filter((n) => !['Signed-By', 'Valid-Until', 'Snapshots'].includes(n));
    expected.splice(expected.indexOf('MD5Sum'), 0, 'Snapshots');
    expect(names).toEqual(expected);
  });

  it('writes apt-ftparchive-style hash lines (sizes right-aligned in 16 columns)', () => {
    const text = writeRelease(original, { keepPaths: keep });
    const big = FILES[0];
    expect(big).toBeDefined();
    const size = String(big?.content.length);
    expect(text).toContain(`SHA256:\n ${digest('sha256', big?.content ?? '')} ${size.padStart(16)} ${big?.path}\n`);
    expect(text).toContain(` ${digest('md5', '')} ${'0'.padStart(16)} contrib/binary-amd64/Packages\n`);
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('Snapshots:');
  });

  it('reproduces an unsigned Release byte for byte when keeping everything', () => {
    const plain = buildReleaseText(FILES)
      .replace(/^Valid-Until: .*\n/m, '')
      .replace(/^Signed-By: .*\n/m, '');
    const r = parseRelease(plain);
    expect(writeRelease(r, { keepPaths: new Set(r.files.keys()) })).toBe(plain);
  });

  it('writes our Valid-Until right after Date when asked', () => {
    const until = new Date(Date.UTC(2030, 0, 2, 3, 4, 5));
    const text = writeRelease(original, { keepPaths: keep, validUntil: until });
    expect(text).toContain(`Date: Sat, 10 Jun 2023 08:52:18 UTC\nValid-Until: Wed, 02 Jan 2030 03:04:05 UTC\n`);
    expect(parseRelease(text).validUntil).toEqual(until);
    const noValid = parseRelease(buildReleaseText(FILES).replace(/^Valid-Until: .*\n/m, ''));
    expect(parseRelease(writeRelease(noValid, { keepPaths: keep, validUntil: until })).validUntil).toEqual(until);
    expect(parseRelease(writeRelease(original, { keepPaths: keep, validUntil: null })).validUntil).toBeUndefined();
  });

  it('keeps multi-line free-text fields intact and writes only hash fields present originally', () => {
    const r = parseRelease('Origin: X\nDescription: first\n second\n  indented\nSHA256:\n ' + digest('sha256', 'a') + ' 1 main/a\n');
    const text = writeRelease(r, { keepPaths: new Set(['main/a']) });
    expect(text).toBe(`Origin: X\nDescription: first\n second\n  indented\nSHA256:\n ${digest('sha256', 'a')} ${'1'.padStart(16)} main/a\n`);
    expect(writeRelease(r, { keepPaths: new Set() })).toBe('Origin: X\nDescription: first\n second\n  indented\nSHA256:\n');
  });

  it('live re-signing (issue 9): every file and field kept, Valid-Until included; Snapshots replaced, Signed-By dropped', () => {
    const text = writeRelease(original, { snapshotsUrl: SNAP, validUntil: 'upstream' });
    const expected = buildReleaseText(FILES, [`Snapshots: ${SNAP}`])
      .replace(/^Signed-By: .*\n/m, '');
    expect(text).toBe(expected);
    const again = parseRelease(text);
    expect([...again.files.values()]).toEqual([...original.files.values()]);
    expect(again.validUntil).toEqual(original.validUntil);
  });

  it('refuses a snapshots URL that would break the field', () => {
    expect(() => writeRelease(original, { keepPaths: keep, snapshotsUrl: 'http://x/\nSHA256: y' })).toThrow(/snapshotsUrl/);
  });
});

describe('formatReleaseDate', () => {
  it('uses apt format and round-trips', () => {
    const d = new Date(Date.UTC(2023, 5, 10, 8, 52, 18));
    expect(formatReleaseDate(d)).toBe('Sat, 10 Jun 2023 08:52:18 UTC');
    expect(formatReleaseDate(new Date(Date.UTC(2024, 1, 29, 0, 0, 0)))).toBe('Thu, 29 Feb 2024 00:00:00 UTC');
    for (const ms of [0, 1_700_000_000_000, 1_893_456_000_999]) {
      const back = parseReleaseDate(formatReleaseDate(new Date(ms)));
      expect(back.getTime()).toBe(Math.floor(ms / 1000) * 1000);
    }
  });
});
