// Test helper: a small yum repository built in memory (no createrepo, no rpmbuild, no gpg), for fast tests.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { sha256Of } from './apt-memory-repo.ts';
import type { ArchiveKey } from './pgp-keys.ts';

export interface YumRepoOptions {
  /** Signs repodata/repomd.xml.asc; without one no .asc is published. */
  key?: ArchiveKey;
  /** Repository directory below the remote root (default "os"). */
  dir?: string;
  /** <revision> (default 1000). */
  revision?: number;
  /** Every data <timestamp> (default 1000). */
  timestamp?: number;
  packages?: readonly string[];
  /** Reuse these RPMs (paths relative to the remote root). */
  rpms?: ReadonlyMap<string, Buffer>;
}

export interface YumRepo {
  dir: string;
  /** Every path upstream publishes, relative to the remote root. */
  files: Map<string, Buffer>;
  repomd: Buffer;
  asc: Buffer | undefined;
  /** Remote-relative paths of the data files. */
  primaryPath: string;
  filelistsPath: string;
  primaryGz: Buffer;
  rpms: Map<string, Buffer>;
}

function primaryXml(dir: string, rpms: ReadonlyMap<string, Buffer>): string {
  const pkgs = [...rpms].map(([path, data]) => {
    const href = path.slice(dir.length + 1);
    const name = href.slice(href.lastIndexOf('/') + 1).split('-')[0] ?? href;
    return `<package type="rpm"><name>${name}</name><arch>noarch</arch><version epoch="0" ver="1.0" rel="1"/>`
      + `<checksum type="sha256" pkgid="YES">${sha256Of(data)}</checksum><size package="${data.length}" installed="1" archive="1"/>`
      + `<location href="${href}"/></package>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${pkgs.length}">\n${pkgs.join('\n')}\n</metadata>\n`;
}

function dataXml(type: string, href: string, gz: Buffer, xml: string, timestamp: number): string {
  return `  <data type="${type}">\n    <checksum type="sha256">${sha256Of(gz)}</checksum>\n    <open-checksum type="sha256">${sha256Of(xml)}</open-checksum>\n`
    + `    <location href="${href}"/>\n    <timestamp>${timestamp}</timestamp>\n    <size>${gz.length}</size>\n    <open-size>${Buffer.byteLength(xml)}</open-size>\n  </data>\n`;
}

export async function buildYumRepo(o: YumRepoOptions = {}): Promise<YumRepo> {
  const dir = o.dir ?? 'os';
  const ts = o.timestamp ?? 1000;
  const rpms = new Map(o.rpms ?? (o.packages ?? ['hello', 'world']).map((n) => [`${dir}/Packages/${n[0]}/${n}-1.0-1.noarch.rpm`, randomBytes(2000 + n.length)] as const));
  const primary = primaryXml(dir, rpms);
  const primaryGz = gzipSync(primary);
  const filelists = `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="0">\n</filelists>\n<!-- ${ts} -->\n`;
  const filelistsGz = gzipSync(filelists);
  const primaryHref = `repodata/${sha256Of(primaryGz)}-primary.xml.gz`;
  const filelistsHref = `repodata/${sha256Of(filelistsGz)}-filelists.xml.gz`;
  const repomd = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n'
    + '<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n'
    + `  <revision>${o.revision ?? 1000}</revision>\n`
    + dataXml('primary', primaryHref, primaryGz, primary, ts) + dataXml('filelists', filelistsHref, filelistsGz, filelists, ts)
    + '</repomd>\n');
  const asc = o.key ? Buffer.from(await o.key.detachSignArmored(repomd)) : undefined;
  const files = new Map<string, Buffer>([
    [`${dir}/repodata/repomd.xml`, repomd], [`${dir}/${primaryHref}`, primaryGz], [`${dir}/${filelistsHref}`, filelistsGz], ...rpms,
  ]);
  if (asc) files.set(`${dir}/repodata/repomd.xml.asc`, asc);
  return { dir, files, repomd, asc, primaryPath: `${dir}/${primaryHref}`, filelistsPath: `${dir}/${filelistsHref}`, primaryGz, rpms };
}
