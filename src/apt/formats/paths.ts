import type { Compression } from '../../formats/compression.ts';
import { joinRelPath } from '../../formats/rel-path.ts';
import { algoOfHashDir, isHexDigest, RELEASE_HASH_FIELD, type HashAlgo } from './hashes.ts';

/** Helpers on POSIX-style relative paths ('a/b/c', no leading slash). */

export type IndexKind = 'packages' | 'sources' | 'other';

const COMPRESSION_EXT: ReadonlyArray<readonly [string, Compression]> = [
  ['.xz', 'xz'],
  ['.gz', 'gz'],
  ['.bz2', 'bz2'],
  ['.lzma', 'lzma'],
  ['.zst', 'zst'],
];

function splitDir(relPath: string): { dir: string; base: string } {
  const slash = relPath.lastIndexOf('/');
  return slash < 0 ? { dir: '', base: relPath } : { dir: relPath.slice(0, slash), base: relPath.slice(slash + 1) };
}

/** `main/binary-amd64/by-hash/SHA256/<hex>` → its directory, algo and lower-case hex. */
export function parseByHashPath(relPath: string): { dir: string; algo: HashAlgo; hex: string } | undefined {
  const parts = relPath.split('/');
  const n = parts.length;
  if (n < 3 || parts[n - 3] !== 'by-hash') return undefined;
  const algo = algoOfHashDir(parts[n - 2] ?? '');
  const hex = parts[n - 1] ?? '';
  if (algo === undefined || !isHexDigest(algo, hex)) return undefined;
  return { dir: parts.slice(0, n - 3).join('/'), algo, hex: hex.toLowerCase() };
}

/** The by-hash sibling of an index: `main/binary-amd64/Packages.xz` → `main/binary-amd64/by-hash/SHA256/<hex>`. */
export function byHashPath(relPath: string, algo: HashAlgo, hex: string): string {
  return joinRelPath(splitDir(relPath).dir, 'by-hash', RELEASE_HASH_FIELD[algo], hex);
}

export function compressionOf(path: string): Compression {
  for (const [ext, kind] of COMPRESSION_EXT) if (path.endsWith(ext)) return kind;
  return 'none';
}

/** Strips a known compression extension: `Packages.xz` → `Packages`. */
export function stripCompression(path: string): string {
  for (const [ext] of COMPRESSION_EXT) if (path.endsWith(ext)) return path.slice(0, -ext.length);
  return path;
}

/** What an index path holds: Packages (also debian-installer's), Sources, or anything else. */
export function indexKindOf(relPath: string): IndexKind {
  const base = stripCompression(splitDir(relPath).base);
  if (base === 'Packages') return 'packages';
  if (base === 'Sources') return 'sources';
  return 'other';
}

/** InRelease, Release or Release.gpg (a bare name or the last segment of a path). */
export function isReleaseFile(name: string): boolean {
  const base = splitDir(name).base;
  return base === 'InRelease' || base === 'Release' || base === 'Release.gpg';
}

/**
 * The directory that `Filename:`/`Directory:` fields are relative to: the part before the
 * last `dists` segment (`debian/dists/bookworm` → `debian`, `dists/stable/updates` → ''),
 * or, for a flat repository without `dists`, the Release directory itself.
 */
export function archiveRootOf(releaseDir: string): string {
  const parts = releaseDir.split('/').filter((p) => p.length > 0);
  const at = parts.lastIndexOf('dists');
  return at < 0 ? parts.join('/') : parts.slice(0, at).join('/');
}
