import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StatWorker } from './stat-worker.ts';

let dir: string;
let stats: StatWorker;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-stat-worker-'));
  stats = new StatWorker();
});
afterEach(async () => {
  await stats.close();
  await rm(dir, { recursive: true, force: true });
});

it('gives each file\'s size in order, undefined for a missing one, over several calls at once', async () => {
  await mkdir(join(dir, 'd'));
  await writeFile(join(dir, 'a'), 'x'.repeat(5));
  await writeFile(join(dir, 'd/b'), '');
  const [one, two] = await Promise.all([
    stats.sizes([join(dir, 'a'), join(dir, 'missing'), join(dir, 'd/b'), join(dir, 'gone/deeper')]),
    stats.sizes([join(dir, 'd/b'), join(dir, 'a')]),
  ]);
  expect(one).toEqual([5, undefined, 0, undefined]);
  expect(two).toEqual([0, 5]);
  expect(await stats.sizes([])).toEqual([]);
});

it('rejects with STORAGE_FAILED when a file cannot be looked up for another reason than being missing', async () => {
  await symlink(join(dir, 'loop2'), join(dir, 'loop1'));
  await symlink(join(dir, 'loop1'), join(dir, 'loop2'));
  await expect(stats.sizes([join(dir, 'loop1')])).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringContaining('ELOOP') });
  await writeFile(join(dir, 'a'), 'abc');
  expect(await stats.sizes([join(dir, 'a')])).toEqual([3]); // the thread goes on
});

it('a look-up still waiting when the store closes fails instead of hanging; a later one starts a new thread', async () => {
  const many = Array.from({ length: 20_000 }, (_, i) => join(dir, `none-${i}`));
  const waiting = stats.sizes(many);
  await stats.close();
  await expect(waiting).rejects.toMatchObject({ code: 'INTERNAL' });
  await writeFile(join(dir, 'a'), 'ab');
  expect(await stats.sizes([join(dir, 'a')])).toEqual([2]);
});
