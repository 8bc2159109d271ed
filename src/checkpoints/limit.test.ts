import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { forEachWindow } from './limit.ts';

it('forEachWindow rejects with the first failure only once its window settled, and starts no later window', async () => {
  const finished: number[] = [];
  const run = forEachWindow([0, 1, 2, 3, 4, 5], 4, async (item) => {
    if (item === 0) throw new Error('first fails at once');
    await sleep(30);
    finished.push(item);
  });
  await expect(run).rejects.toThrow('first fails at once');
  expect(finished).toEqual([1, 2, 3]);
});

it('forEachWindow passes each item its index, a window at a time', async () => {
  const seen: Array<[string, number]> = [];
  await forEachWindow(['a', 'b', 'c'], 2, async (item, i) => { seen.push([item, i]); });
  expect(seen).toEqual([['a', 0], ['b', 1], ['c', 2]]);
});
