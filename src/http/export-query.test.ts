import { describe, expect, it } from 'vitest';
import { RepointError } from '../errors.ts';
import { exportSelectionOf } from './export-query.ts';

const sel = (q: string) => exportSelectionOf(new URLSearchParams(q));
const codeOf = (q: string): string => {
  try { sel(q); } catch (err) { return err instanceof RepointError ? `${err.code}: ${err.message}` : String(err); }
  return 'accepted';
};

describe('exportSelectionOf', () => {
  it('reads since, checkpoint and all', () => {
    expect(sel('')).toEqual({ all: false });
    expect(sel('since=20260101T000000Z')).toEqual({ since: '20260101T000000Z', all: false });
    expect(sel('since=20260101T000000Z&checkpoint=20260201T000000Z')).toEqual({ since: '20260101T000000Z', checkpoint: '20260201T000000Z', all: false });
    expect(sel('all=1')).toEqual({ all: true });
    expect(sel('all=true&since=20260101T000000Z')).toEqual({ since: '20260101T000000Z', all: true });
    expect(sel('all=0')).toEqual({ all: false });
  });

  it.each([
    ['sinse=20260101T000000Z', 'unknown parameter "sinse"'],
    ['all=yes', 'all: expected 1 or 0, got "yes"'],
    ['since=yesterday', 'since: expected a checkpoint timestamp'],
    ['checkpoint=', 'checkpoint: expected a checkpoint timestamp'],
    ['since=20260101T000000Z&since=20260201T000000Z', '"since" given more than once'],
    ['checkpoint=20260101T000000Z&all=1', 'checkpoint and all=1 exclude each other'],
  ])('refuses %s', (q, why) => {
    const got = codeOf(q);
    expect(got).toMatch(/^BAD_QUERY: export: /);
    expect(got).toContain(why);
  });
});
