import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { ParsedBlobCache } from './parsed-blob-cache.ts';

/** A blob store that counts whole-blob reads (each one is a parse too). */
class CountingStore extends MemoryBlobStore {
  reads = 0;
  override readAll(sha256: string, maxBytes?: number): Promise<Buffer> {
    this.reads++;
    return super.readAll(sha256, maxBytes);
  }
}

async function put(blobs: MemoryBlobStore, bytes: number, fill: string): Promise<string> {
  const w = await blobs.createWriter();
  await w.write(Buffer.alloc(bytes, fill));
  return (await w.commit()).sha256;
}

describe('ParsedBlobCache (issue 8, finding 10: bounded by bytes, not by count)', () => {
  it('keeps many small parses, evicts the least recently used by bytes, never keeps one larger than the cache', async () => {
    const blobs = new CountingStore();
    const parsed = new ParsedBlobCache(blobs, (t) => t.length, { maxBytes: 10_000, maxBlobBytes: 1_000_000 });
    const small = await Promise.all(Array.from({ length: 50 }, (_, i) => put(blobs, 100, String.fromCharCode(65 + (i % 26)) + i)));
    for (const sha of small) await parsed.get(sha);
    for (const sha of small) expect(await parsed.get(sha)).toBe(100); // 50 entries, 5 KB: all cached
    expect(blobs.reads).toBe(50);
    const big = await put(blobs, 8000, 'b');
    expect(await parsed.get(big)).toBe(8000); // 13 KB > 10 KB: the least recently used small ones go
    expect(await parsed.get(big)).toBe(8000);
    expect(blobs.reads).toBe(51);
    await parsed.get(small[0]!);
    expect(blobs.reads).toBe(52);
    await parsed.get(small[49]!); // recently used: still there
    expect(blobs.reads).toBe(52);
    const huge = await put(blobs, 20_000, 'h');
    await parsed.get(huge);
    await parsed.get(huge);
    expect(blobs.reads).toBe(54);
    expect(await parsed.get(small[49]!)).toBe(100); // the huge one pushed nothing out
    expect(blobs.reads).toBe(54);
  });

  it('set() remembers a parse made from bytes in hand, by their size', async () => {
    const blobs = new CountingStore();
    const parsed = new ParsedBlobCache(blobs, (t) => t.length, { maxBytes: 1000, maxBlobBytes: 1_000_000 });
    const sha = await put(blobs, 500, 'x');
    parsed.set(sha, 500, 500);
    expect(await parsed.get(sha)).toBe(500);
    expect(blobs.reads).toBe(0);
    parsed.set('f'.repeat(64), 1, 2000); // larger than the cache: not kept, and no throw
  });
});
