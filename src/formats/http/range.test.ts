import { describe, expect, it } from 'vitest';
import { MAX_RANGES, coalesceRanges, contentRange, ifRangeMatches, parseRange, unsatisfiedRange } from './range.ts';

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

  it('keeps disjoint ranges in request order (zchunk multi-range), with list whitespace and empty elements', () => {
    expect(parseRange('bytes=50-59, 0-9 ,,\t-5', 100)).toEqual({
      kind: 'ranges',
      ranges: [
        { start: 50, end: 59 },
        { start: 0, end: 9 },
        { start: 95, end: 99 },
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
    const specs = (n: number): string => 'bytes=' + Array.from({ length: n }, (_, i) => `${2 * i}-${2 * i}`).join(',');
    const ok = parseRange(specs(MAX_RANGES), 1000);
    expect(ok.kind === 'ranges' && ok.ranges.length).toBe(MAX_RANGES);
    expect(parseRange(specs(MAX_RANGES + 1), 1000)).toEqual({ kind: 'invalid' });
  });
});

describe('range amplification (issue 8, finding 9)', () => {
  it('answers 100 overlapping "0-" ranges with the whole file, not 100 copies', () => {
    const header = 'bytes=' + Array.from({ length: 100 }, () => '0-').join(',');
    expect(parseRange(header, 19_000_000)).toEqual({ kind: 'whole' });
  });

  it('answers ranges adding up to more than the file with the whole file, as nginx does (counted before coalescing)', () => {
    expect(parseRange('bytes=0-59,40-99', 100)).toEqual({ kind: 'whole' }); // 60 + 60 > 100
    expect(parseRange('bytes=-60,0-59', 100)).toEqual({ kind: 'whole' });
    expect(parseRange('bytes=0-,0-', 100)).toEqual({ kind: 'whole' });
  });

  it('coalesces overlapping ranges into one, sorted', () => {
    expect(parseRange('bytes=50-59,0-9,55-57', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 0, end: 9 }, { start: 50, end: 59 }] });
    expect(parseRange('bytes=10-19,15-24', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 10, end: 24 }] });
  });

  it('coalesces adjacent ranges', () => {
    expect(parseRange('bytes=20-29,10-19', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 10, end: 29 }] });
    const perByte = 'bytes=' + Array.from({ length: 50 }, (_, i) => `${i}-${i}`).join(',');
    expect(parseRange(perByte, 100)).toEqual({ kind: 'ranges', ranges: [{ start: 0, end: 49 }] });
  });

  it('keeps a single range of exactly the whole file as a range (apt resumes with bytes=0-)', () => {
    expect(parseRange('bytes=0-', 100)).toEqual({ kind: 'ranges', ranges: [{ start: 0, end: 99 }] });
  });

  it('coalesceRanges leaves disjoint ranges and their order alone', () => {
    const disjoint = [{ start: 50, end: 59 }, { start: 0, end: 9 }, { start: 30, end: 31 }];
    expect(coalesceRanges(disjoint)).toEqual(disjoint);
    expect(coalesceRanges([{ start: 0, end: 99 }, { start: 3, end: 4 }, { start: 200, end: 210 }])).toEqual([{ start: 0, end: 99 }, { start: 200, end: 210 }]);
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
