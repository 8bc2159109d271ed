import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from './units.ts';

describe('parseDuration', () => {
  it.each([
    ['5m', 300_000], ['30s', 30_000], ['1h30m', 5_400_000], ['250ms', 250], ['2d', 172_800_000], ['1500', 1500], [42, 42],
  ])('%s -> %d', (input, ms) => expect(parseDuration(input)).toBe(ms));
  it.each(['', '5x', 'm5', '5 m', '-1s', 'abc', null, {}])('rejects %s', (input) => expect(parseDuration(input)).toBeUndefined());
});

describe('parseSize', () => {
  it.each([
    ['50GiB', 50 * 2 ** 30], ['500MB', 500e6], ['1.5KiB', 1536], ['10', 10], [4096, 4096], ['2 tib', 2 * 2 ** 40],
  ])('%s -> %d', (input, bytes) => expect(parseSize(input)).toBe(bytes));
  it.each(['', 'GiB', '5 parsecs', '-3MB', true])('rejects %s', (input) => expect(parseSize(input)).toBeUndefined());
});
