import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { run } from '../../test/helpers/run.ts';
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

it('a look-up still waiting when the store closes fails instead of hanging, and so does a later one', async () => {
  const many = Array.from({ length: 20_000 }, (_, i) => join(dir, `none-${i}`));
  const waiting = stats.sizes(many);
  await stats.close();
  await expect(waiting).rejects.toMatchObject({ code: 'INTERNAL' });
  await expect(stats.sizes([join(dir, 'a')])).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('closed') });
});

it('a look-up made while the store is closing leaves no thread behind: the process exits', async () => {
  await writeFile(join(dir, 'a'), 'abc');
  const script = join(dir, 'script.mts');
  await writeFile(script, `
    import { StatWorker } from ${JSON.stringify(join(import.meta.dirname, 'stat-worker.ts'))};
    const stats = new StatWorker();
    console.log('first', JSON.stringify(await stats.sizes([${JSON.stringify(join(dir, 'a'))}])));
    const closing = stats.close();
    const late = stats.sizes([${JSON.stringify(join(dir, 'a'))}]).then((s) => JSON.stringify(s), (e) => e.code);
    await closing;
    console.log('late', await late);
  `);
  const res = await run(process.execPath, [script], { allowFail: true, timeoutMs: 10_000 });
  expect(res.stdout).toContain('late INTERNAL');
  expect(res.code).toBe(0);
});
