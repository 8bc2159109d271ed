import type { Compression } from '../../formats/compression.ts';
import { stripCompression, compressionOf } from './paths.ts';
import type { ReleaseFile } from './release.ts';

/** Tokens in Release paths that name an architecture. */
const ARCH_TOKEN = /(?:^|\/)(?:binary-|installer-|Contents-(?:udeb-)?|Components-|Commands-)([a-z0-9]+(?:-[a-z0-9]+)*?)(?:\.[a-z0-9]+)*(?:\/|$)/;

/** apt prefers these in this order; one variant per index is enough for a checkpoint. */
const PREFERENCE: Compression[] = ['xz', 'gz', 'zst', 'bz2', 'lzma', 'none'];

export function archOfPath(rel: string): string | undefined {
  if (/(?:^|\/)source\//.test(rel) || /Contents-source/.test(rel)) return 'source';
  return ARCH_TOKEN.exec(rel)?.[1];
}

/**
 * The Release entries a checkpoint keeps for the given components and architectures, grouped by
 * index: each group lists its compression variants, best first. "all" is kept whenever listed.
 */
export function selectCheckpointGroups(release: ReleaseFile, components: readonly string[], architectures: readonly string[]): string[][] {
  const archs = new Set([...architectures, 'all']);
  const groups = new Map<string, string[]>();
  for (const path of release.files.keys()) {
    if (path.includes('/by-hash/')) continue;
    const slash = path.indexOf('/');
    const component = slash < 0 ? undefined : path.slice(0, slash);
    const arch = archOfPath(path);
    if (component === undefined || !components.includes(component)) {
      // top-level files (Ubuntu's Contents-<arch>) only when they name a wanted architecture
      if (slash >= 0 || arch === undefined || !archs.has(arch)) continue;
    } else if (arch !== undefined && !archs.has(arch)) continue;
    const base = stripCompression(path);
    const list = groups.get(base) ?? [];
    list.push(path);
    groups.set(base, list);
  }
  for (const list of groups.values()) {
    list.sort((a, b) => PREFERENCE.indexOf(compressionOf(a)) - PREFERENCE.indexOf(compressionOf(b)));
  }
  return [...groups.values()];
}
