import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { BlobBatch } from './blob-store.ts';
import { blobPath } from './blob-paths.ts';
import { FsBlobStore } from './fs-blob-store.ts';

let dir: string;
let store: FsBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-batch-'));
  store = await FsBlobStore.open(dir);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Adds one blob in two chunks (as a tar entry may arrive). */
async function put(batch: BlobBatch, data: Buffer, claimed = sha(data)): Promise<string> {
  const e = await batch.add(claimed, data.length);
  await e.write(data.subarray(0, 3));
  await e.write(data.subarray(3));
  await e.finish();
  return claimed;
}

it('shows nothing before flush; flush makes every blob visible, intact and counted, and leaves no temp file', async () => {
  const batch = store.bulk({ sync: true }).createBatch();
  const big = randomBytes((1 << 20) + 5); // streamed to its temp file, not gathered in memory
  const blobs = [randomBytes(10), randomBytes(5000), big];
  const names = [];
  for (const b of blobs) names.push(await put(batch, b));
  expect(batch.pending.count).toBe(3);
  for (const n of names) expect(await store.stat(n)).toBeUndefined();
  await batch.close();
  for (const [i, n] of names.entries()) expect(await readFile(blobPath(dir, n))).toEqual(blobs[i]);
  expect(await store.totals()).toEqual({ count: 3, bytes: blobs.reduce((s, b) => s + b.length, 0) });
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  // a blob stored meanwhile by someone else is not counted twice
  const again = store.bulk({ sync: false }).createBatch();
  await put(again, blobs[0]!);
  await again.close();
  expect((await store.totals()).count).toBe(3);
});

it('refuses bytes that do not hash to the claimed sha256, keeping nothing of them', async () => {
  const batch = store.bulk({ sync: true }).createBatch();
  const claimed = sha(Buffer.from('what the manifest says'));
  await expect(put(batch, Buffer.from('what arrived instead'), claimed)).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
  await batch.close();
  expect(await store.stat(claimed)).toBeUndefined();
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
});

it('abort drops what waits (flushed blobs stay); a process that dies before flush leaves only temp files, which the sweep removes', async () => {
  const batch = store.bulk({ sync: true }).createBatch();
  const kept = await put(batch, randomBytes(100));
  await batch.flush();
  const dropped = await put(batch, randomBytes(100));
  await batch.abort();
  expect(await store.stat(kept)).toBeDefined();
  expect(await store.stat(dropped)).toBeUndefined();
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);

  // a crash between writing and flushing: the store instance goes away with blobs waiting
  const crashed = store.bulk({ sync: true }).createBatch();
  const lost = await put(crashed, randomBytes((1 << 20) + 1)); // large: in its temp file once finished
  expect((await readdir(join(dir, 'tmp'))).length).toBe(1);
  await store.close();
  store = await FsBlobStore.open(dir);
  expect(await store.stat(lost)).toBeUndefined();
  expect(await store.removeTempFiles()).toBe(1);
  expect(await readdir(join(dir, 'tmp'))).toEqual([]);
});

it('bulk sizes: each stored blob\'s size in order, undefined for one not stored, BAD_PATH for a bad name', async () => {
  const a = randomBytes(700);
  const w = await store.createWriter();
  await w.write(a);
  await w.commit();
  for (const sync of [true, false]) {
    const bulk = store.bulk({ sync });
    expect(await bulk.sizes([sha(Buffer.from('not stored')), sha(a), sha(a)])).toEqual([undefined, 700, 700]);
    await expect(bulk.sizes([sha(a), 'not-a-sha'])).rejects.toMatchObject({ code: 'BAD_PATH' });
  }
});
