import type { Compression } from '../../formats/compression.ts';
import { isSafeRelPath, joinRelPath } from '../../formats/rel-path.ts';

/** Pure path helpers for yum repositories (remote-relative POSIX paths, no leading slash). */

/** `<dir>/repodata/<name>` → { dir, name }; anything else → undefined. */
export function splitRepodataPath(path: string): { dir: string; name: string } | undefined {
  const m = /^(?:(.*)\/)?repodata\/([^/]+)$/.exec(path);
  return m ? { dir: m[1] ?? '', name: m[2] ?? '' } : undefined;
}

const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * The remote-relative path of a `<location href>` in repository `dir`, honouring `xml:base`
 * as a directory prefix (as librepo does). A relative base is joined below `dir`; an absolute
 * URL only counts when it lies under one of the remote's upstream bases. Anything else (another
 * host, a host-absolute path, `..`) cannot be served as verified and yields undefined.
 */
export function resolveHref(dir: string, location: string, xmlBase: string | undefined, bases: readonly string[]): string | undefined {
  if (ABSOLUTE_URL.test(location) || location.startsWith('/')) return undefined;
  let prefix = dir;
  if (xmlBase !== undefined && xmlBase !== '') {
    if (ABSOLUTE_URL.test(xmlBase)) {
      const under = underBase(xmlBase, bases);
      if (under === undefined) return undefined;
      prefix = under;
    } else if (xmlBase.startsWith('/')) {
      return undefined;
    } else {
      prefix = joinRelPath(dir, trimSlashes(xmlBase));
    }
  }
  const path = joinRelPath(prefix, stripDotSegments(location));
  return isSafeRelPath(path) ? path : undefined;
}

function underBase(url: string, bases: readonly string[]): string | undefined {
  const withSlash = url.endsWith('/') ? url : `${url}/`;
  for (const base of bases) {
    const b = `${base.replace(/\/+$/, '')}/`;
    if (!withSlash.startsWith(b)) continue;
    try {
      return trimSlashes(decodeURIComponent(withSlash.slice(b.length)));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function trimSlashes(s: string): string {
  return stripDotSegments(s.replace(/^\/+|\/+$/g, ''));
}

/** Drops `./` segments only; `..` stays, so isSafeRelPath refuses it. */
function stripDotSegments(s: string): string {
  return s.split('/').filter((seg) => seg !== '.').join('/');
}

/** The compression of a metadata file, by extension; undefined for formats we cannot read (zchunk). */
export function compressionOfHref(location: string): Compression | undefined {
  if (location.endsWith('.zck')) return undefined;
  if (location.endsWith('.gz')) return 'gz';
  if (location.endsWith('.xz')) return 'xz';
  if (location.endsWith('.zst')) return 'zst';
  if (location.endsWith('.bz2')) return 'bz2';
  return 'none';
}

/** True when the file name carries its checksum (createrepo's default): its bytes can never change. */
export function isHashNamed(location: string, hex: string): boolean {
  return location.slice(location.lastIndexOf('/') + 1).toLowerCase().includes(hex.toLowerCase());
}
