import type { Compression } from '../../formats/compression.ts';
import { stripCompression, compressionOf, indexKindOf } from './paths.ts';
import type { ReleaseFile } from './release.ts';

/**
 * The kinds of index a checkpoint can keep (`checkpoints.indexes`). Packages and Sources are the core:
 * all or nothing. The others are auxiliary: one that cannot be fetched or verified is left out.
 */
export const CHECKPOINT_INDEX_KINDS = ['packages', 'sources', 'contents', 'translations', 'dep11', 'commands', 'other'] as const;
export type CheckpointIndexKind = (typeof CHECKPOINT_INDEX_KINDS)[number];

/** Tokens in Release paths that name an architecture. */
const ARCH_TOKEN = /(?:^|\/)(?:binary-|installer-|Contents-(?:udeb-)?|Components-|Commands-)([a-z0-9]+(?:-[a-z0-9]+)*?)(?:\.[a-z0-9]+)*(?:\/|$)/;

/** apt prefers these in this order; one variant per index is enough for a checkpoint. */
const PREFERENCE: Compression[] = ['xz', 'gz', 'zst', 'bz2', 'lzma', 'none'];

/** Which kind of index a Release path holds (Debian's and Ubuntu's layouts). */
export function checkpointIndexKind(rel: string): CheckpointIndexKind {
  const core = indexKindOf(rel);
  if (core !== 'other') return core;
  const base = stripCompression(rel.slice(rel.lastIndexOf('/') + 1));
  if (base.startsWith('Contents-')) return 'contents';
  if (/(?:^|\/)i18n\//.test(rel) || base.startsWith('Translation-')) return 'translations';
  if (/(?:^|\/)dep11\//.test(rel) || base.startsWith('Components-') || base.startsWith('icons-')) return 'dep11';
  if (/(?:^|\/)cnf\//.test(rel) || base.startsWith('Commands-')) return 'commands';
  return 'other';
}

/** True for Packages and Sources, which a checkpoint cannot do without. */
export function isCoreIndex(rel: string): boolean {
  return indexKindOf(rel) !== 'other';
}

export function archOfPath(rel: string): string | undefined {
  if (/(?:^|\/)source\//.test(rel) || /Contents-source/.test(rel)) return 'source';
  return ARCH_TOKEN.exec(rel)?.[1];
}

/**
 * The Release entries a checkpoint keeps for the given components, architectures and kinds of index,
 * grouped by index: each group lists its compression variants, best first. "all" is kept whenever listed.
 */
export function selectCheckpointGroups(release: ReleaseFile, components: readonly string[], architectures: readonly string[], kinds: readonly CheckpointIndexKind[] = CHECKPOINT_INDEX_KINDS): string[][] {
  const archs = new Set([...architectures, 'all']);
  const wanted = new Set(kinds);
  const groups = new Map<string, string[]>();
  for (const path of release.files.keys()) {
    if (path.includes('/by-hash/') || !wanted.has(checkpointIndexKind(path))) continue;
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
