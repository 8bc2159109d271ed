import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { blobPath } from '../blobs/blob-paths.ts';
import { FsBlobStore } from '../blobs/fs-blob-store.ts';
import type { BlobRef } from './bundle-manifest.ts';
import { writeBundle } from './bundle-writer.ts';

let dir: string;
let store: FsBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-writer-'));
  store = await FsBlobStore.open(dir);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function put(data: Buffer): Promise<BlobRef> {
  const w = await store.createWriter();
  await w.write(data);
  const info = await w.commit();
  return { sha256: info.sha256, size: info.size };
}

async function bundle(blobs: BlobRef[], syncIo: boolean): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeBundle(out, { manifest: Buffer.from('{}\n'), signature: Buffer.from('sig'), blobs, store, syncIo, mtime: new Date('2026-01-01T00:00:00Z') });
  return Buffer.concat(chunks);
}

it('writes the same tar with synchronous reads into the output chunk as with read-ahead (small, chunk-spanning and streamed blobs)', async () => {
  const blobs: BlobRef[] = [];
  for (let i = 0; i < 300; i++) blobs.push(await put(randomBytes(2000 + i * 37)));
  blobs.push(await put(randomBytes(1.5 * 2 ** 20)), await put(randomBytes(5 * 2 ** 20)), await put(Buffer.alloc(0)));
  const direct = await bundle(blobs, true);
  expect(direct.equals(await bundle(blobs, false))).toBe(true);
  expect(direct.length % 512).toBe(0);
});

it('fails the export when a stored blob no longer matches its name, on either path', async () => {
  const ok = await put(randomBytes(3000));
  const bad = await put(randomBytes(3000));
  await writeFile(blobPath(dir, bad.sha256), randomBytes(3000));
  for (const syncIo of [true, false]) await expect(bundle([ok, bad], syncIo)).rejects.toThrow(/is corrupt/);
});
