import { parseHttpDate } from './http-date.ts';

/** Inclusive byte offsets, as in Content-Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export type RangeResult =
  | { kind: 'none' }
  /** Serve the whole representation with 200: the ranges ask for more bytes than it has. */
  | { kind: 'whole' }
  | { kind: 'ranges'; ranges: ByteRange[] }
  | { kind: 'unsatisfiable' }
  | { kind: 'invalid' };

/** More ranges than this in one request is treated as invalid (a cheap DoS guard). */
export const MAX_RANGES = 100;

const UNIT_AND_SET = /^[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)$/s;
const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;

/**
 * Parses a Range header (RFC 9110 §14.1.2) against a representation of `size` bytes.
 * - absent, or a unit other than bytes → none (serve the whole representation);
 * - bad syntax, first-pos > last-pos, or more than MAX_RANGES specs → invalid;
 * - no satisfiable spec → unsatisfiable (416);
 * - satisfiable ranges adding up to more than `size` bytes → whole (200), as nginx does, so a
 *   request cannot make the answer larger than the file (100 × `0-` would be 100 copies);
 * - else the satisfiable ranges, ends clamped to size - 1: in request order when they are disjoint
 *   (dnf's zchunk multi-range), sorted and merged when any overlap or touch (RFC 9110 §14.2 allows it).
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  const m = UNIT_AND_SET.exec(header);
  if (!m) return { kind: 'invalid' };
  const [, unit = '', set = ''] = m;
  if (unit.toLowerCase() !== 'bytes') return { kind: 'none' };

  // List syntax (RFC 9110 §5.6.1): empty elements are allowed and ignored.
  const specs = set.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: 'invalid' };

  const total = BigInt(size);
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const int = INT_RANGE.exec(spec);
    if (int) {
      // BigInt keeps the first > last check exact for absurdly long digit strings.
      const first = BigInt(int[1] ?? '');
      const lastText = int[2] ?? '';
      const last = lastText === '' ? undefined : BigInt(lastText);
      if (last !== undefined && first > last) return { kind: 'invalid' };
      if (first >= total) continue;
      const end = last === undefined || last >= total ? total - 1n : last;
      ranges.push({ start: Number(first), end: Number(end) });
      continue;
    }
    const suffix = SUFFIX_RANGE.exec(spec);
    if (!suffix) return { kind: 'invalid' };
    const length = BigInt(suffix[1] ?? '');
    if (length === 0n || total === 0n) continue;
    ranges.push({ start: Number(length >= total ? 0n : total - length), end: size - 1 });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  const requested = ranges.reduce((sum, r) => sum + (r.end - r.start + 1), 0);
  if (requested > size) return { kind: 'whole' };
  return { kind: 'ranges', ranges: coalesceRanges(ranges) };
}

/**
 * Ranges that overlap or are adjacent merged into one, sorted by start; ranges that are all
 * disjoint come back unchanged, in their order.
 */
export function coalesceRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: ByteRange[] = [];
  for (const r of sorted) {
    const last = merged.at(-1);
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged.length === ranges.length ? [...ranges] : merged;
}

/**
 * If-Range (RFC 9110 §13.1.5): true when the Range may be honoured. An entity-tag
 * must match `etag` (the full ETag header value, e.g. `"abc"`) by strong comparison;
 * a date must equal Last-Modified to the second. Absent → true; anything else → false.
 */
export function ifRangeMatches(ifRange: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifRange === undefined) return true;
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith('W/')) {
    return !v.startsWith('W/') && !etag.startsWith('W/') && v.length >= 2 && v.endsWith('"') && v === etag;
  }
  const date = parseHttpDate(v);
  if (date === undefined) return false;
  return date.getTime() === Math.floor(lastModified.getTime() / 1000) * 1000;
}

/** Content-Range value for a 206 part: `bytes start-end/size`. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

/** Content-Range value for a 416: `bytes *\/size`. */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}
