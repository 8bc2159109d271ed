import { describe, expect, it } from 'vitest';
import type { Repomd } from './repomd.ts';
import { marksOf, rollbackReason } from './repomd-policy.ts';

const md = (revision: string | undefined, maxTimestamp: number | undefined): Repomd => ({
  data: [],
  ...(revision !== undefined ? { revision } : {}),
  ...(maxTimestamp !== undefined ? { maxTimestamp } : {}),
});

describe('rollbackReason', () => {
  it('accepts anything when nothing was verified before', () => {
    expect(rollbackReason(md('1', 1), undefined)).toBeUndefined();
  });

  it('refuses a lower numeric revision', () => {
    expect(rollbackReason(md('1700000000', undefined), { revision: '1700000001' })).toMatch(/revision 1700000000 is lower/);
    expect(rollbackReason(md('1700000001', undefined), { revision: '1700000001' })).toBeUndefined();
    expect(rollbackReason(md('1700000002', undefined), { revision: '1700000001' })).toBeUndefined();
  });

  it('does not order free-form revisions', () => {
    expect(rollbackReason(md('abc', undefined), { revision: 'abd' })).toBeUndefined();
    expect(rollbackReason(md('9', undefined), { revision: 'release-10' })).toBeUndefined();
  });

  it('refuses an older newest timestamp, even with a higher revision', () => {
    expect(rollbackReason(md('5', 99), { revision: '4', maxTimestamp: 100 })).toMatch(/timestamp 99 is older than the verified 100/);
    expect(rollbackReason(md('5', 100), { revision: '4', maxTimestamp: 100 })).toBeUndefined();
    expect(rollbackReason(md(undefined, undefined), { revision: '4', maxTimestamp: 100 })).toBeUndefined();
  });
});

describe('marksOf', () => {
  it('keeps only what the repomd has', () => {
    expect(marksOf(md('7', 12.5))).toEqual({ revision: '7', maxTimestamp: 12.5 });
    expect(marksOf(md('', undefined))).toEqual({});
  });
});
