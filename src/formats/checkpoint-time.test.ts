import { describe, expect, it } from 'vitest';
import { formatCheckpointTime, nextUniqueCheckpointTime, parseCheckpointTime, resolveCheckpoint } from './checkpoint-time.ts';

const at = (iso: string): Date => new Date(iso);

describe('checkpoint time format', () => {
  it('formats in UTC at second precision', () => {
    expect(formatCheckpointTime(at('2024-03-05T07:08:09.999Z'))).toBe('20240305T070809Z');
    expect(formatCheckpointTime(at('0999-12-31T23:59:59Z'))).toBe('09991231T235959Z');
  });

  it('round-trips through parse', () => {
    for (const s of ['20240229T235959Z', '19700101T000000Z', '00010101T000000Z', '99991231T235959Z']) {
      const d = parseCheckpointTime(s);
      expect(d, s).toBeDefined();
      expect(formatCheckpointTime(d ?? new Date(0))).toBe(s);
    }
    expect(parseCheckpointTime('20240305T070809Z')?.toISOString()).toBe('2024-03-05T07:08:09.000Z');
  });

  it('rejects wrong shapes and impossible calendar times', () => {
    for (const s of [
      '20230230T000000Z',
      '20230229T000000Z',
      '20240431T000000Z',
      '20241301T000000Z',
      '20240001T000000Z',
      '20240100T000000Z',
      '20240101T240000Z',
      '20240101T006000Z',
      '20240101T000060Z',
      '20240101T000000',
      '20240101t000000Z',
      '2024-01-01T00:00:00Z',
      '20240101T000000Z/',
      ' 20240101T000000Z',
      '',
    ]) {
      expect(parseCheckpointTime(s), s).toBeUndefined();
    }
  });

  it('refuses to format dates outside four-digit years', () => {
    expect(() => formatCheckpointTime(at('+010000-01-01T00:00:00Z'))).toThrow(/checkpoint time/);
    expect(() => formatCheckpointTime(new Date(Number.NaN))).toThrow(/checkpoint time/);
  });
});

describe('resolveCheckpoint', () => {
  const times = ['20240101T000000Z', '20240201T120000Z', '20240301T000000Z', '20240301T000001Z'];
  const now = at('2024-06-01T00:00:00Z');

  it('finds exact matches', () => {
    for (const t of times) expect(resolveCheckpoint(times, t, now)).toEqual({ kind: 'exact', ts: t });
  });

  it('maps a time between checkpoints or after the last to the nearest earlier one', () => {
    expect(resolveCheckpoint(times, '20240201T115959Z', now)).toEqual({ kind: 'earlier', ts: '20240101T000000Z' });
    expect(resolveCheckpoint(times, '20240201T120001Z', now)).toEqual({ kind: 'earlier', ts: '20240201T120000Z' });
    expect(resolveCheckpoint(times, '20240515T000000Z', now)).toEqual({ kind: 'earlier', ts: '20240301T000001Z' });
    expect(resolveCheckpoint(times, '20240601T000000Z', now)).toEqual({ kind: 'earlier', ts: '20240301T000001Z' });
  });

  it('reports before-first, future, malformed and none', () => {
    expect(resolveCheckpoint(times, '20231231T235959Z', now)).toEqual({ kind: 'before-first' });
    expect(resolveCheckpoint(times, '20240601T000001Z', now)).toEqual({ kind: 'future' });
    expect(resolveCheckpoint(times, '20230230T000000Z', now)).toEqual({ kind: 'malformed' });
    expect(resolveCheckpoint(times, 'latest', now)).toEqual({ kind: 'malformed' });
    expect(resolveCheckpoint([], '20240101T000000Z', now)).toEqual({ kind: 'none' });
    expect(resolveCheckpoint([], 'nope', now)).toEqual({ kind: 'malformed' });
  });

  it('serves an existing checkpoint even if the clock is behind it', () => {
    expect(resolveCheckpoint(times, '20240301T000001Z', at('2024-01-15T00:00:00Z'))).toEqual({ kind: 'exact', ts: '20240301T000001Z' });
    expect(resolveCheckpoint(times, '20240201T000000Z', at('2024-01-15T00:00:00Z'))).toEqual({ kind: 'future' });
  });

  it('agrees with a linear scan on a large catalogue', () => {
    const many = Array.from({ length: 1000 }, (_, i) => formatCheckpointTime(new Date(Date.UTC(2020, 0, 1) + i * 7_919_000)));
    const far = at('2100-01-01T00:00:00Z');
    for (let probe = Date.UTC(2019, 11, 31); probe < Date.UTC(2020, 4, 1); probe += 3_600_000 + 17_000) {
      const req = formatCheckpointTime(new Date(probe));
      const earlier = many.filter((t) => t <= req);
      const last = earlier.at(-1);
      const want = last === undefined ? { kind: 'before-first' } : last === req ? { kind: 'exact', ts: last } : { kind: 'earlier', ts: last };
      expect(resolveCheckpoint(many, req, far)).toEqual(want);
    }
  });
});

describe('nextUniqueCheckpointTime', () => {
  it('uses now when it is free and after the newest', () => {
    expect(nextUniqueCheckpointTime([], at('2024-01-01T00:00:00.700Z'))).toBe('20240101T000000Z');
    expect(nextUniqueCheckpointTime(['20231231T235959Z'], at('2024-01-01T00:00:00Z'))).toBe('20240101T000000Z');
  });

  it('steps one second past the newest on a collision or a clock that went back', () => {
    expect(nextUniqueCheckpointTime(['20240101T000000Z'], at('2024-01-01T00:00:00.900Z'))).toBe('20240101T000001Z');
    expect(nextUniqueCheckpointTime(['20240101T000000Z', '20240229T235959Z'], at('2024-01-15T00:00:00Z'))).toBe('20240301T000000Z');
    expect(nextUniqueCheckpointTime(['20241231T235959Z'], at('2024-12-31T23:59:59Z'))).toBe('20250101T000000Z');
  });
});
