import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { BlobInfo, ByteRange } from './blob-store.ts';
import { withHotCache } from './hot-cache.ts';
import { MemoryBlobStore } from './memory-blob-store.ts';

/** A MemoryBlobStore that counts the calls that would be I/O on a real store. */
class CountingStore extends MemoryBlobStore {
  io = 0;
  override stat(sha256: string): Promise<BlobInfo | undefined> { this.io++; return super.stat(sha256); }
  override readAll(sha256: string, max?: number): Promise<Buffer> { this.io++; return super.readAll(sha256, max); }
  override open(sha256: string, range?: ByteRange): Readable { this.io++; return super.open(sha256, range); }
}

async function put(store: MemoryBlobStore, data: Buffer): Promise<string> {
  const w = await store.createWriter();
  await w.write(data);
  return (await w.commit()).sha256;
}

describe('withHotCache', () => {
  it('reads a small blob once; later hits are map lookups with no I/O', async () => {
    const inner = new CountingStore();
    const hot = withHotCache(inner);
    const data = randomBytes(1000);
    const sha = await put(inner, data);
    expect(hot.cached(sha)).toBeUndefined();
    expect((await hot.lookup(sha))?.data).toEqual(data);
    const io = inner.io;
    expect(hot.cached(sha)?.data).toEqual(data);
    expect((await hot.lookup(sha))?.info).toMatchObject({ sha256: sha, size: 1000 });
    expect(inner.io).toBe(io);
  });

  it('keeps only the stat of a large blob', async () => {
    const inner = new CountingStore();
    const hot = withHotCache(inner, { maxItemBytes: 100 });
    const sha = await put(inner, randomBytes(101));
    expect(await hot.lookup(sha)).toEqual({ info: expect.objectContaining({ size: 101 }) });
    const io = inner.io;
    expect((await hot.lookup(sha))?.data).toBeUndefined();
    expect(inner.io).toBe(io);
    expect(hot.cached(sha)).toBeUndefined();
  });

  it('forgets a blob deleted through it', async () => {
    const inner = new MemoryBlobStore();
    const hot = withHotCache(inner);
    const sha = await put(inner, randomBytes(10));
    await hot.lookup(sha);
    expect(await hot.delete(sha)).toBe(true);
    expect(hot.cached(sha)).toBeUndefined();
    expect(await hot.lookup(sha)).toBeUndefined();
  });

  it('notices a deletion behind its back once the stat has expired; stat() itself is never cached', async () => {
    const inner = new MemoryBlobStore();
    const hot = withHotCache(inner, { statTtlMs: 50 });
    const sha = await put(inner, randomBytes(10));
    await hot.lookup(sha);
    await inner.delete(sha); // another process (repoint gc) removed it
    expect(await hot.stat(sha)).toBeUndefined();
    await sleep(80);
    expect(hot.cached(sha)).toBeUndefined();
    expect(await hot.lookup(sha)).toBeUndefined();
  });

  it('keeps at most maxBytes of content, dropping the least recently used', async () => {
    const inner = new MemoryBlobStore();
    const hot = withHotCache(inner, { maxBytes: 2500 });
    const shas = [await put(inner, randomBytes(1000)), await put(inner, randomBytes(1000)), await put(inner, randomBytes(1000))];
    for (const sha of shas) await hot.lookup(sha);
    expect(shas.map((s) => hot.cached(s) !== undefined)).toEqual([false, true, true]);
  });
});
