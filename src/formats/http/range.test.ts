import { describe, expect, it } from 'vitest';
import { MAX_RANGES, contentRange, ifRangeMatches, parseRange, unsatisfiedRange } from './range.ts';

describe('parseRange', () => {
  it('returns none without a header or for other units', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'none' });
    expect(parseRange('items=0-5', 100)).toEqual({ kind: 'none' });
    expect(parseRange('none=0-5', 100)).toEqual({ kind: 'none' });
  });

  it('parses open, closed and suffix ranges, clamping the end', () => {
    expect(parseRange('bytes=10-', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 10, end: 99 }] });
    expect(parseRange('bytes=0-0', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 0, end: 0 }] });
    expect(parseRange('bytes=5-500', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 5, end: 99 }] });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 90, end: 99 }] });
    expect(parseRange('bytes=-1000', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 0, end: 99 }] });
    expect(parseRange('BYTES=1-2', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 1, end: 2 }] });
  });

  it('keeps multiple ranges in request order, uncoalesced, with list whitespace and empty elements', () => {
    expect(parseRange('bytes=50-59, 0-9 ,,\t-5, 55-57', 100)).toEqual({
      kind: 'ranges',
      ranges: [
        { start: 50, end: 59 },
        { start: 0, end: 9 },
        { start: 95, end: 99 },
        { start: 55, end: 57 },
      ],
    });
  });

  it('drops unsatisfiable specs when another one is satisfiable', () => {
    expect(parseRange('bytes=200-300,0-1,-0', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 0, end: 1 }] });
  });

  it('reports unsatisfiable when no spec overlaps the representation', () => {
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=100-200,150-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=99999999999999999999999-', 100)).toEqual({ kind: 'unsatisfiable' });
  });

  it('flags bad syntax and reversed ranges as invalid', () => {
    for (const h of ['', 'bytes', 'bytes=', 'bytes=,', 'bytes=a-b', 'bytes=1-2-3', 'bytes=--5', 'bytes=5', 'bytes=-', 'bytes=1.5-2', 'bytes = 1-2', 'bytes=+1-2']) {
      expect(parseRange(h, 100), h).toEqual({ kind: 'invalid' });
    }
    expect(parseRange('bytes=10-5', 100)).toEqual({ kind: 'invalid' });
    expect(parseRange('bytes=0-1,10-5', 100)).toEqual({ kind: 'invalid' });
    // Exact even past 2^53, where Numbers would round both ends to the same value.
    expect(parseRange('bytes=100000000000000000001-100000000000000000000', 100)).toEqual({ kind: 'invalid' });
  });

  it(`allows ${MAX_RANGES} ranges and rejects more`, () => {
    const specs = (n: number): string => 'bytes=' + Array.from({ length: n }, (_, i) => `${i}-${i}`).join(',');
    const ok = parseRange(specs(MAX_RANGES), 1000);
    expect(ok.kind === 'ranges' && ok.ranges.length).toBe(MAX_RANGES);
    expect(parseRange(specs(MAX_RANGES + 1), 1000)).toEqual({ kind: 'invalid' });
  });
});

describe('ifRangeMatches', () => {
  const etag = '"sha256-abc"';
  const lastModified = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));

  it('is true without If-Range', () => {
    expect(ifRangeMatches(undefined, etag, lastModified)).toBe(true);
  });

  it('compares entity-tags strongly', () => {
    expect(ifRangeMatches('"sha256-abc"', etag, lastModified)).toBe(true);
    expect(ifRangeMatches(' "sha256-abc" ', etag, lastModified)).toBe(true);
    expect(ifRangeMatches('"sha256-abd"', etag, lastModified)).toBe(false);
    expect(ifRangeMatches('W/"sha256-abc"', etag, lastModified)).toBe(false);
    expect(ifRangeMatches('W/"x"', 'W/"x"', lastModified)).toBe(false);
    expect(ifRangeMatches('"sha256-abc', '"sha256-abc', lastModified)).toBe(false);
  });

  it('matches a date equal to Last-Modified at second precision, in any HTTP-date form', () => {
    expect(ifRangeMatches('Tue, 02 Jan 2024 03:04:05 GMT', etag, lastModified)).toBe(true);
    expect(ifRangeMatches('Tue Jan  2 03:04:05 2024', etag, lastModified)).toBe(true);
    expect(ifRangeMatches('Tue, 02 Jan 2024 03:04:06 GMT', etag, lastModified)).toBe(false);
    expect(ifRangeMatches('Tue, 02 Jan 2024 03:04:04 GMT', etag, lastModified)).toBe(false);
    expect(ifRangeMatches('yesterday', etag, lastModified)).toBe(false);
  });
});

describe('Content-Range formatting', () => {
  it('formats satisfied and unsatisfied ranges', () => {
    expect(contentRange(0, 499, 1234)).toBe('bytes 0-499/1234');
    expect(unsatisfiedRange(1234)).toBe('bytes */1234');
  });
});
