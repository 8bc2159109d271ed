/** Helpers on POSIX-style relative paths ('a/b/c', no leading slash), shared by every repository type. */

/** Joins relative path parts, skipping empty ones ('' is the root). */
export function joinRelPath(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join('/');
}

/**
 * True for a clean relative path: non-empty, no leading '/', no '\\' or NUL, and no
 * empty, '.' or '..' segment. Paths from metadata must pass this before use as keys.
 */
export function isSafeRelPath(relPath: string): boolean {
  if (relPath.length === 0 || relPath.includes('\\') || relPath.includes('\0')) return false;
  for (const seg of relPath.split('/')) if (seg === '' || seg === '.' || seg === '..') return false;
  return true;
}

/** The parent directory ('' for a top-level name). */
export function dirnameOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** Every ancestor directory, deepest first ('' is the remote root). */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirnameOf(path); ; d = dirnameOf(d)) {
    out.push(d);
    if (d === '') return out;
  }
}
