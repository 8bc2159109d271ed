import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate } from './http-date.ts';

const REF = Date.UTC(1994, 10, 6, 8, 49, 37);

describe('HTTP-date', () => {
  it('formats IMF-fixdate and parses it back', () => {
    const d = new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(formatHttpDate(d)).toBe('Thu, 29 Feb 2024 23:59:59 GMT');
    expect(parseHttpDate(formatHttpDate(d))?.getTime()).toBe(Date.UTC(2024, 1, 29, 23, 59, 59));
  });

  it('accepts the three forms of RFC 9110 §5.6.7', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')?.getTime()).toBe(REF);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', new Date(Date.UTC(2024, 0, 1)))?.getTime()).toBe(REF);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')?.getTime()).toBe(REF);
    expect(parseHttpDate('Sun Nov 16 08:49:37 1994')?.getTime()).toBe(Date.UTC(1994, 10, 16, 8, 49, 37));
  });

  it('puts two-digit years no more than 50 years ahead of now', () => {
    const now = new Date(Date.UTC(2024, 0, 1));
    expect(parseHttpDate('Friday, 01-Jan-74 00:00:00 GMT', now)?.getUTCFullYear()).toBe(2074);
    expect(parseHttpDate('Friday, 01-Jan-75 00:00:00 GMT', now)?.getUTCFullYear()).toBe(1975);
  });

  it('rejects impossible dates and other shapes', () => {
    for (const s of [
      'Fri, 30 Feb 2024 00:00:00 GMT',
      'Mon, 29 Feb 2023 00:00:00 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 1994 08:60:00 GMT',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 06 Foo 1994 08:49:37 GMT',
      '1994-11-06T08:49:37Z',
      '',
    ]) {
      expect(parseHttpDate(s), s).toBeUndefined();
    }
  });
});
