import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { blobStoreContract } from './blob-store.contract.ts';

blobStoreContract('FsBlobStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-blobs-'));
  let current = await FsBlobStore.open(dir);
  return {
    store: current,
    async reopen() {
      await current.close();
      current = await FsBlobStore.open(dir);
      return current;
    },
    async plantUncounted(sha256, data) {
      // the on-disk layout, computed here: the store hands out no paths
      const path = join(dir, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
    },
    async cleanup() {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('FsBlobStore totals file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-totals-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fill(store: FsBlobStore, sizes: number[]): Promise<void> {
    for (const n of sizes) {
      const w = await store.createWriter();
      await w.write(randomBytes(n));
      await w.commit();
    }
  }

  it('recounts in the background when totals.json is missing', async () => {
    const s1 = await FsBlobStore.open(dir);
    await fill(s1, [5, 6, 7]);
    await s1.close();
    await unlink(join(dir, 'totals.json'));
    const s2 = await FsBlobStore.open(dir);
    expect(await s2.totals()).toEqual({ count: 3, bytes: 18 });
    await s2.close();
    expect(JSON.parse(await readFile(join(dir, 'totals.json'), 'utf8'))).toMatchObject({ count: 3, bytes: 18, clean: true });
  });

  it('trusts 0 for a new, empty store: no walk races the first writes (a blob planted behind its back is not counted)', async () => {
    const s1 = await FsBlobStore.open(dir);
    const sha = `ff${'0'.repeat(62)}`; // the last part a walk would reach
    await mkdir(join(dir, 'sha256', 'ff', '00'), { recursive: true });
    await writeFile(join(dir, 'sha256', 'ff', '00', sha), 'planted');
    await fill(s1, [4]);
    expect(await s1.totals()).toEqual({ count: 1, bytes: 4 });
    await s1.close();
    // not empty any more: without a file, the next open walks again
    await unlink(join(dir, 'totals.json'));
    const s2 = await FsBlobStore.open(dir);
    expect(await s2.totals()).toEqual({ count: 2, bytes: 11 });
    await s2.close();
  });

  it('recounts after an unclean shutdown (totals.json left marked unclean)', async () => {
    const s1 = await FsBlobStore.open(dir, { totalsFlushMs: 60_000 });
    await fill(s1, [10, 20]);
    // no close(): the debounced write never happened, the file still says 0 and unclean
    expect(JSON.parse(await readFile(join(dir, 'totals.json'), 'utf8'))).toMatchObject({ count: 0, clean: false });
    const s2 = await FsBlobStore.open(dir);
    expect(await s2.totals()).toEqual({ count: 2, bytes: 30 });
    await s2.close();
    await s1.close();
  });

  it('counts every commit and delete made while a recount runs exactly once', async () => {
    const s1 = await FsBlobStore.open(dir);
    const existing: string[] = [];
    for (let i = 0; i < 400; i++) {
      const w = await s1.createWriter();
      // unique content: 1-byte random blobs alone would collide (and be stored once) now and then
      await w.write(Buffer.concat([Buffer.from(`old blob ${i} `), randomBytes(i % 50)]));
      existing.push((await w.commit()).sha256);
    }
    await s1.close();
    await writeFile(join(dir, 'totals.json'), '{"garbage":');
    const s2 = await FsBlobStore.open(dir);
    // race the walk: new blobs land in every part of the tree, old ones disappear
    await Promise.all([
      ...Array.from({ length: 150 }, async (_, i) => {
        const w = await s2.createWriter();
        await w.write(Buffer.from(`new blob ${i}`));
        return w.commit();
      }),
      ...existing.slice(0, 120).map((h) => s2.delete(h)),
    ]);
    let count = 0;
    let bytes = 0;
    for await (const b of s2.list()) {
      count++;
      bytes += b.size;
    }
    expect(count).toBe(400 - 120 + 150);
    expect(await s2.totals()).toEqual({ count, bytes });
    await s2.close();
  });

  it('serves reads before a recount has finished', async () => {
    const s1 = await FsBlobStore.open(dir);
    const w = await s1.createWriter();
    const data = Buffer.from('readable straight away');
    await w.write(data);
    const { sha256 } = await w.commit();
    await s1.close();
    await unlink(join(dir, 'totals.json'));
    const s2 = await FsBlobStore.open(dir);
    expect(await s2.stat(sha256)).toMatchObject({ size: data.length });
    expect(sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(await s2.totals()).toEqual({ count: 1, bytes: data.length });
    await s2.close();
  });
});
