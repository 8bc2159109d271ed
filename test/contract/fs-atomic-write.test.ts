import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/blobs/fs-durable.ts';
import { describeWithTmpfs, mountTmpfs, type Tmpfs } from '../helpers/tmpfs.ts';

describe('writeFileAtomic', () => {
  it('lets writers in one process (several store instances) write the same file at once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repoint-atomic-'));
    try {
      const path = join(dir, 'totals.json');
      const bodies = Array.from({ length: 20 }, (_, i) => `{"n":${i}}\n`);
      await Promise.all(bodies.map((b) => writeFileAtomic(path, b)));
      expect(bodies).toContain(await readFile(path, 'utf8'));
      expect(await readdir(dir)).toEqual(['totals.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describeWithTmpfs('writeFileAtomic on a full disk (issue 8, finding 11)', [], () => {
  let fs: Tmpfs;
  beforeAll(async () => {
    fs = await mountTmpfs(256 * 1024);
  });
  afterAll(async () => fs?.unmount());

  it('fails with ENOSPC, keeps the old file and leaves no temp file behind', async () => {
    const path = join(fs.dir, 'totals.json');
    await writeFileAtomic(path, 'old\n');
    await fs.fill();
    await expect(writeFileAtomic(path, 'x'.repeat(10_000))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect((await readdir(fs.dir)).sort()).toEqual(['filler', 'totals.json']);
  });
});
