// Test helper: a small signed apt repository built in memory (no apt-ftparchive, no gpg), for fast tests.
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { formatReleaseDate } from '../../src/apt/formats/release-date.ts';
import type { ArchiveKey } from './pgp-keys.ts';

export interface AptRepoOptions {
  key: ArchiveKey;
  /** Suite directory name below dists/ (default "stable"). */
  suite?: string;
  /** Release Date (default an hour ago). */
  date?: Date;
  /** Valid-Until (default in a week); null leaves it out. */
  validUntil?: Date | null;
  acquireByHash?: boolean;
  /** Package names; each gets a random .deb under pool/main/. */
  packages?: readonly string[];
  /** Reuse these pool files (same bytes) instead of new random ones. */
  debs?: ReadonlyMap<string, Buffer>;
}

export interface AptRepo {
  /** "dists/<suite>" */
  dir: string;
  /** Every path upstream publishes, by-hash names included. */
  files: Map<string, Buffer>;
  releaseText: string;
  inRelease: Buffer;
  releaseGpg: Buffer;
  packages: Buffer;
  packagesGz: Buffer;
  /** Pool files by path (relative to the archive root). */
  debs: Map<string, Buffer>;
}

export const sha256Of = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const md5Of = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

export const PACKAGES_PATH = 'main/binary-amd64/Packages';

/** A Packages index listing `debs` (Filename relative to the archive root). */
export function packagesText(debs: ReadonlyMap<string, Buffer>): string {
  return [...debs].map(([path, data]) => {
    const name = path.slice(path.lastIndexOf('/') + 1).split('_')[0] ?? path;
    return [`Package: ${name}`, 'Version: 1.0-1', 'Architecture: amd64', `Filename: ${path}`, `Size: ${data.length}`, `SHA256: ${sha256Of(data)}`, ''].join('\n');
  }).join('\n');
}

/** Release text listing `files` (paths relative to the suite directory) with MD5Sum and SHA256. */
export function releaseText(files: ReadonlyMap<string, Buffer>, o: { suite: string; date: Date; validUntil: Date | null; acquireByHash: boolean }): string {
  const block = (name: string, digest: (b: Buffer) => string): string[] =>
    [`${name}:`, ...[...files].map(([path, data]) => ` ${digest(data)} ${String(data.length).padStart(16)} ${path}`)];
  return [
    'Origin: Test', 'Label: Test', `Suite: ${o.suite}`, `Codename: ${o.suite}`,
    `Date: ${formatReleaseDate(o.date)}`,
    ...(o.validUntil ? [`Valid-Until: ${formatReleaseDate(o.validUntil)}`] : []),
    ...(o.acquireByHash ? ['Acquire-By-Hash: yes'] : []),
    'Architectures: amd64', 'Components: main', 'Description: in-memory test repository',
    ...block('MD5Sum', md5Of), ...block('SHA256', sha256Of), '',
  ].join('\n');
}

export async function buildAptRepo(o: AptRepoOptions): Promise<AptRepo> {
  const suite = o.suite ?? 'stable';
  const dir = `dists/${suite}`;
  const debs = new Map(o.debs ?? (o.packages ?? ['hello', 'world']).map((name) => [`pool/main/${name[0]}/${name}/${name}_1.0-1_amd64.deb`, randomBytes(3000 + name.length)] as const));
  const packages = Buffer.from(packagesText(debs));
  const packagesGz = gzipSync(packages);
  const indexes = new Map([[PACKAGES_PATH, packages], [`${PACKAGES_PATH}.gz`, packagesGz]]);
  const acquireByHash = o.acquireByHash ?? true;
  const text = releaseText(indexes, {
    suite, acquireByHash,
    date: o.date ?? new Date(Date.now() - 3600_000),
    validUntil: o.validUntil === undefined ? new Date(Date.now() + 7 * 86400_000) : o.validUntil,
  });
  const inRelease = Buffer.from(await o.key.clearsign(text));
  const releaseGpg = Buffer.from(await o.key.detachSign(Buffer.from(text)));
  const files = new Map<string, Buffer>([
    [`${dir}/InRelease`, inRelease], [`${dir}/Release`, Buffer.from(text)], [`${dir}/Release.gpg`, releaseGpg], ...debs,
  ]);
  for (const [path, data] of indexes) {
    files.set(`${dir}/${path}`, data);
    if (acquireByHash) files.set(`${dir}/main/binary-amd64/by-hash/SHA256/${sha256Of(data)}`, data);
  }
  return { dir, files, releaseText: text, inRelease, releaseGpg, packages, packagesGz, debs };
}
