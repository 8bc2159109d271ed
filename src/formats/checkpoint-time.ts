import { RepointError } from '../errors.ts';

/**
 * Checkpoint ids are UTC timestamps `YYYYMMDDTHHMMSSZ` (Pulp / snapshot.debian.org
 * style). The fixed width makes string order equal time order.
 */

const PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export type CheckpointResolution =
  | { kind: 'exact'; ts: string }
  | { kind: 'earlier'; ts: string }
  | { kind: 'malformed' }
  | { kind: 'before-first' }
  | { kind: 'future' }
  | { kind: 'none' };

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Formats at second precision (milliseconds are dropped, not rounded). */
export function formatCheckpointTime(d: Date): string {
  const year = d.getUTCFullYear();
  if (!Number.isFinite(d.getTime()) || year < 0 || year > 9999) {
    throw new RepointError('INTERNAL', `cannot format ${String(d)} as a checkpoint time`);
  }
  return (
    pad(year, 4) + pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2) +
    'T' + pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2) + 'Z'
  );
}

/** Strict: the exact pattern and a real calendar time (no 30 Feb, no hour 24, no leap second). */
export function parseCheckpointTime(s: string): Date | undefined {
  const m = PATTERN.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year);
  // Date.UTC rolls day overflow into the next month; a real date comes back unchanged.
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return d;
}

/**
 * Maps a requested timestamp onto the catalogue, whose entries must be canonical
 * and sorted ascending. Exact → exact (even if ahead of `now`: it exists); later
 * than `now` → future; before the first → before-first; otherwise the nearest
 * earlier checkpoint, which the HTTP layer answers with a redirect.
 */
export function resolveCheckpoint(sortedTimes: readonly string[], requested: string, now: Date): CheckpointResolution {
  const req = parseCheckpointTime(requested);
  if (req === undefined) return { kind: 'malformed' };
  if (sortedTimes.length === 0) return { kind: 'none' };
  const i = lastAtOrBefore(sortedTimes, requested);
  const found = i < 0 ? undefined : sortedTimes[i];
  if (found === requested) return { kind: 'exact', ts: found };
  if (req.getTime() > now.getTime()) return { kind: 'future' };
  if (found === undefined) return { kind: 'before-first' };
  return { kind: 'earlier', ts: found };
}

/** Index of the last entry <= key, or -1. */
function lastAtOrBefore(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? '') <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The id for a new checkpoint: `now` to the second, unless that is taken or not
 * after the newest existing one (clock step back, two runs in one second), in
 * which case newest + 1 s. Ids therefore stay unique and increasing.
 */
export function nextUniqueCheckpointTime(existingSorted: readonly string[], now: Date): string {
  const candidate = formatCheckpointTime(now);
  const last = existingSorted.at(-1);
  if (last === undefined || candidate > last) return candidate;
  const lastDate = parseCheckpointTime(last);
  if (lastDate === undefined) throw new RepointError('INTERNAL', `malformed checkpoint time in catalogue: ${last}`);
  return formatCheckpointTime(new Date(lastDate.getTime() + 1000));
}
