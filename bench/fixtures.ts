import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { buildAptRepo, type AptPackage } from '../test/fixtures/apt-repo.ts';
import type { GpgKey } from '../test/fixtures/gpg.ts';
import { buildYumRepo, type YumPackage } from '../test/fixtures/yum-repo.ts';

/** One measured file: its path relative to the repository root and its size. */
export interface BenchFile {
  path: string;
  size: number;
}

export interface AptFixture {
  root: string;
  inRelease: BenchFile;
  /** the ~10 KB uncompressed Packages index (listed in Release) */
  index: BenchFile;
  small: BenchFile;
  big10: BenchFile;
  /** a second ~10 MB package, fetched only by the cold fan-in (so it is not a hot hit) */
  cold10: BenchFile;
  big60: BenchFile;
}

export interface YumFixture {
  root: string;
  small: BenchFile;
  big: BenchFile;
}

export interface Fixtures {
  key: GpgKey;
  /** the directory nginx serves: `apt/` and `yum/` below it */
  www: string;
  apt: AptFixture;
  yum: YumFixture;
}

const KiB = 1024;
const MiB = 1024 * KiB;
// ~430 bytes per Packages stanza: 20 tiny packages plus the 4 measured ones make ~10 KB
const TINY_PACKAGES = 20;

function pick(pkgs: AptPackage[], name: string): BenchFile {
  const p = pkgs.find((x) => x.name === name);
  if (!p) throw new Error(`fixture package ${name} missing`);
  return { path: p.filename, size: p.size };
}

function pickRpm(pkgs: YumPackage[], name: string): BenchFile {
  const p = pkgs.find((x) => x.name === name);
  if (!p) throw new Error(`fixture rpm ${name} missing`);
  return { path: p.location, size: p.size };
}

async function sizeOf(root: string, path: string): Promise<BenchFile> {
  return { path, size: (await stat(join(root, path))).size };
}

export async function buildFixtures(www: string, key: GpgKey): Promise<Fixtures> {
  const tiny = Array.from({ length: TINY_PACKAGES }, (_, i) => ({ name: `tiny${String(i).padStart(2, '0')}`, version: '1.0-1' }));
  const aptBuild = buildAptRepo({
    dir: join(www, 'apt'),
    key,
    packages: [
      ...tiny,
      { name: 'small', version: '1.0-1', sizeBytes: 50 * KiB },
      { name: 'big10', version: '1.0-1', sizeBytes: 10 * MiB },
      { name: 'cold10', version: '1.0-1', sizeBytes: 10 * MiB },
      { name: 'big60', version: '1.0-1', sizeBytes: 60 * MiB },
    ],
  });
  const yumBuild = buildYumRepo({
    dir: join(www, 'yum'),
    key,
    zchunk: false,
    packages: [
      { name: 'smallrpm', version: '1.0', sizeBytes: 50 * KiB },
      { name: 'bigrpm', version: '1.0', sizeBytes: 10 * MiB },
    ],
  });
  const [apt, yum] = await Promise.all([aptBuild, yumBuild]);
  const dist = `dists/${apt.suite}`;
  return {
    key,
    www,
    apt: {
      root: apt.root,
      inRelease: await sizeOf(apt.root, `${dist}/InRelease`),
      index: await sizeOf(apt.root, `${dist}/${apt.component}/binary-${apt.arch}/Packages`),
      small: pick(apt.packages, 'small'),
      big10: pick(apt.packages, 'big10'),
      cold10: pick(apt.packages, 'cold10'),
      big60: pick(apt.packages, 'big60'),
    },
    yum: { root: yum.root, small: pickRpm(yum.packages, 'smallrpm'), big: pickRpm(yum.packages, 'bigrpm') },
  };
}
