import { describe, expect, it } from 'vitest';
import { APT_INDEX_KINDS } from '../../config/remote-schema.ts';
import { CHECKPOINT_INDEX_KINDS, archOfPath, checkpointIndexKind, isCoreIndex, selectCheckpointGroups } from './checkpoint-select.ts';
import { parseRelease } from './release.ts';

const sha = (n: number) => n.toString(16).padStart(64, '0');
const paths = [
  'main/binary-amd64/Packages', 'main/binary-amd64/Packages.gz', 'main/binary-amd64/Packages.xz', 'main/binary-amd64/Release',
  'main/binary-arm64/Packages.xz', 'main/binary-all/Packages.xz', 'main/binary-all/by-hash/SHA256/' + sha(99),
  'main/Contents-amd64.gz', 'main/Contents-udeb-amd64.gz', 'main/Contents-arm64.gz', 'main/Contents-source.gz',
  'main/source/Sources.xz', 'main/i18n/Translation-en.bz2', 'main/dep11/Components-amd64.yml.gz', 'main/dep11/icons-48x48.tar.gz',
  'main/cnf/Commands-amd64.xz', 'main/debian-installer/binary-amd64/Packages.xz', 'contrib/binary-amd64/Packages.xz',
  'Contents-amd64.gz', 'Contents-i386.gz',
];
const release = parseRelease(`Origin: Test\nSuite: stable\nDate: Sat, 10 Jun 2023 08:52:18 UTC\nSHA256:\n${paths.map((p, i) => ` ${sha(i)} ${100 + i} ${p}`).join('\n')}\n`);

describe('selectCheckpointGroups', () => {
  it('keeps the configured components and architectures (plus all), one group per index, best compression first', () => {
    const groups = selectCheckpointGroups(release, ['main'], ['amd64']);
    const byBase = new Map(groups.map((g) => [g[g.length - 1]!.replace(/\.(xz|gz|bz2)$/, ''), g]));
    expect(byBase.get('main/binary-amd64/Packages')).toEqual(['main/binary-amd64/Packages.xz', 'main/binary-amd64/Packages.gz', 'main/binary-amd64/Packages']);
    const flat = groups.flat();
    expect(flat).toEqual(expect.arrayContaining([
      'main/binary-amd64/Release', 'main/binary-all/Packages.xz', 'main/Contents-amd64.gz', 'main/Contents-udeb-amd64.gz',
      'main/i18n/Translation-en.bz2', 'main/dep11/Components-amd64.yml.gz', 'main/dep11/icons-48x48.tar.gz',
      'main/cnf/Commands-amd64.xz', 'main/debian-installer/binary-amd64/Packages.xz', 'Contents-amd64.gz',
    ]));
    for (const dropped of ['main/binary-arm64/Packages.xz', 'main/Contents-arm64.gz', 'main/source/Sources.xz', 'main/Contents-source.gz', 'contrib/binary-amd64/Packages.xz', 'Contents-i386.gz']) {
      expect(flat).not.toContain(dropped);
    }
    expect(flat.some((p) => p.includes('by-hash'))).toBe(false);
  });

  it('keeps sources when "source" is a configured architecture', () => {
    expect(selectCheckpointGroups(release, ['main'], ['source']).flat()).toEqual(expect.arrayContaining(['main/source/Sources.xz', 'main/Contents-source.gz']));
  });

  it('reads the architecture from path tokens', () => {
    expect(archOfPath('main/binary-amd64/Packages.xz')).toBe('amd64');
    expect(archOfPath('main/Contents-udeb-arm64.gz')).toBe('arm64');
    expect(archOfPath('main/dep11/Components-ppc64el.yml.gz')).toBe('ppc64el');
    expect(archOfPath('main/i18n/Translation-en.bz2')).toBeUndefined();
    expect(archOfPath('main/debian-installer/binary-amd64/Packages')).toBe('amd64');
  });
});

describe('checkpoint index kinds (issue 9)', () => {
  it('classifies Debian and Ubuntu Release paths', () => {
    const kinds = Object.fromEntries(paths.map((p) => [p, checkpointIndexKind(p)]));
    expect(kinds).toMatchObject({
      'main/binary-amd64/Packages.xz': 'packages', 'main/debian-installer/binary-amd64/Packages.xz': 'packages',
      'main/source/Sources.xz': 'sources', 'main/Contents-amd64.gz': 'contents', 'main/Contents-udeb-amd64.gz': 'contents',
      'Contents-amd64.gz': 'contents', 'main/i18n/Translation-en.bz2': 'translations', 'main/dep11/Components-amd64.yml.gz': 'dep11',
      'main/dep11/icons-48x48.tar.gz': 'dep11', 'main/cnf/Commands-amd64.xz': 'commands', 'main/binary-amd64/Release': 'other',
    });
    expect(checkpointIndexKind('main/i18n/Index')).toBe('translations');
    expect(checkpointIndexKind('main/binary-amd64/Packages.diff/Index')).toBe('other');
    expect(isCoreIndex('main/binary-amd64/Packages')).toBe(true);
    expect(isCoreIndex('main/Contents-amd64.gz')).toBe(false);
  });

  it('keeps only the configured kinds', () => {
    const flat = selectCheckpointGroups(release, ['main'], ['amd64', 'source'], ['packages', 'sources']).flat();
    expect(flat.every((p) => /\/(Packages|Sources)(\.\w+)?$/.test(p))).toBe(true);
    expect(flat).toEqual(expect.arrayContaining(['main/binary-amd64/Packages.xz', 'main/source/Sources.xz', 'main/debian-installer/binary-amd64/Packages.xz']));
  });

  it('offers the same kinds as the config key checkpoints.indexes', () => {
    expect([...CHECKPOINT_INDEX_KINDS]).toEqual([...APT_INDEX_KINDS]);
  });
});
