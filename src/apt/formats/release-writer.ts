import { RepointError } from '../../errors.ts';
import type { DebField } from './deb822.ts';
import { HASH_ALGOS, RELEASE_HASH_FIELD, type HashAlgo } from './hashes.ts';
import { parseHashLines, type ReleaseFile } from './release.ts';
import { formatReleaseDate } from './release-date.ts';

export { formatReleaseDate } from './release-date.ts';

export interface WriteReleaseOptions {
  /** Release-relative paths the proxy can serve; every other hash line is dropped. Undefined keeps every line. */
  keepPaths?: ReadonlySet<string>;
  /** Written as `Snapshots:` (APT >= 2.7), e.g. `http://host/debian/@SNAPSHOTID@/`. */
  snapshotsUrl?: string;
  /** A Date writes our own Valid-Until; 'upstream' keeps upstream's where it was; undefined or null drops it. */
  validUntil?: Date | null | 'upstream';
}

const HASH_FIELD_ALGO: ReadonlyMap<string, HashAlgo> = new Map(
  HASH_ALGOS.map((algo) => [RELEASE_HASH_FIELD[algo].toLowerCase(), algo] as const),
);

function formatField(name: string, value: string): string {
  const [first = '', ...rest] = value.split('\n');
  const head = first.length === 0 ? `${name}:` : `${name}: ${first}`;
  // An empty continuation line would end the paragraph; deb822 spells it ' .'.
  return [head, ...rest.map((line) => (line.length === 0 ? ' .' : ` ${line}`))].join('\n');
}

// apt-ftparchive right-aligns sizes in 16 columns (" %s %16llu %s").
const SIZE_WIDTH = 16;

function formatHashField(name: string, algo: HashAlgo, value: string, keep: ReadonlySet<string> | undefined): string {
  const lines = parseHashLines(algo, value).filter((l) => keep === undefined || keep.has(l.path));
  const width = Math.max(SIZE_WIDTH, ...lines.map((l) => String(l.size).length));
  return [`${name}:`, ...lines.map((l) => ` ${l.hex} ${String(l.size).padStart(width)} ${l.path}`)].join('\n');
}

function checkSingleLine(what: string, value: string): void {
  if (value.length === 0 || /\s/.test(value)) {
    throw new RepointError('INTERNAL', `writeRelease: ${what} must be one non-empty word: ${JSON.stringify(value)}`);
  }
}

/**
 * Release text for re-signing (a checkpoint, or a live `resign` remote): upstream's fields in
 * upstream's order, minus Signed-By and upstream's Snapshots (and Valid-Until unless kept), plus our
 * own, and hash fields cut down to the files we can serve (apt aborts the update if a listed index is
 * missing).
 */
export function writeRelease(release: ReleaseFile, opts: WriteReleaseOptions): string {
  const validUntil = opts.validUntil instanceof Date ? formatReleaseDate(opts.validUntil) : undefined;
  if (opts.snapshotsUrl !== undefined) checkSingleLine('snapshotsUrl', opts.snapshotsUrl);
  const fields: readonly DebField[] = release.fields;
  const out: string[] = [];
  let pendingValidUntil = validUntil;
  let pendingSnapshots = opts.snapshotsUrl;
  const flushPending = (): void => {
    if (pendingValidUntil !== undefined) out.push(`Valid-Until: ${pendingValidUntil}`);
    if (pendingSnapshots !== undefined) out.push(`Snapshots: ${pendingSnapshots}`);
    pendingValidUntil = undefined;
    pendingSnapshots = undefined;
  };

  for (const { name, value } of fields) {
    const lower = name.toLowerCase();
    if (lower === 'signed-by' || lower === 'snapshots') continue;
    if (lower === 'valid-until') {
      if (opts.validUntil === 'upstream') {
        out.push(formatField(name, value));
        continue;
      }
      // Ours goes right after Date, or here if upstream put Valid-Until first.
      if (pendingValidUntil !== undefined) out.push(`${name}: ${pendingValidUntil}`);
      pendingValidUntil = undefined;
      continue;
    }
    const algo = HASH_FIELD_ALGO.get(lower);
    if (algo !== undefined) {
      flushPending(); // new fields go after the plain fields, before the file lists
      out.push(formatHashField(name, algo, value, opts.keepPaths));
      continue;
    }
    out.push(formatField(name, value));
    if (lower === 'date' && pendingValidUntil !== undefined) {
      out.push(`Valid-Until: ${pendingValidUntil}`);
      pendingValidUntil = undefined;
    }
  }
  flushPending();
  return out.join('\n') + '\n';
}
