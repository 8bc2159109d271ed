import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { isRepointError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../formats/limits.ts';
import type { IndexEntry } from './formats/packages-index.ts';
import { parseRelease } from './formats/release.ts';
import { withOpenSize, type IndexRef } from './manifest.ts';
import { PoolIndex, couldList, poolEntries } from './pool-index.ts';
import { silentLogger } from '../log.ts';
import { openMemoryState } from '../state/memory-state.ts';

const stanza = (i: number): string =>
  `Package: p${i}\nVersion: 1\nFilename: pool/main/p/p${i}_1_all.deb\nSize: ${100 + i}\nSHA256: ${i.toString(16).padStart(64, '0')}\n\n`;

async function store(blobs: MemoryBlobStore, data: Uint8Array): Promise<string> {
  const w = await blobs.createWriter();
  await w.write(data);
  return (await w.commit()).sha256;
}

async function collect(it: AsyncIterable<IndexEntry>): Promise<{ entries: IndexEntry[]; error?: unknown }> {
  const entries: IndexEntry[] = [];
  try {
    for await (const e of it) entries.push(e);
  } catch (error) {
    return { entries, error };
  }
  return { entries };
}

describe('finding 2: poolEntries reads a signed index no further than it may', () => {
  const text = Array.from({ length: 200 }, (_, i) => stanza(i)).join('');

  it('stops at the uncompressed size the Release declares, with METADATA_TOO_LARGE', async () => {
    const blobs = new MemoryBlobStore();
    const sha256 = await store(blobs, gzipSync(text));
    // The Release lists Packages.gz (the blob's hash) and a Packages that is far smaller than what it expands to.
    const release = parseRelease(`Origin: x\nSHA256:\n ${'a'.repeat(64)} 1000 main/binary-amd64/Packages\n ${sha256} 10 main/binary-amd64/Packages.gz\n`);
    const ref: IndexRef = withOpenSize({ sha256, root: '', path: 'main/binary-amd64/Packages.gz' }, release.openSizeOf('main/binary-amd64/Packages.gz'));
    expect(ref.openSize).toBe(1000);
    const { entries, error } = await collect(poolEntries(blobs, ref));
    expect(isRepointError(error, 'METADATA_TOO_LARGE')).toBe(true);
    expect(entries.length).toBeLessThan(200);
  });

  it('without a declared size, stops at limits.indexMaxBytes', async () => {
    const blobs = new MemoryBlobStore();
    const sha256 = await store(blobs, gzipSync(text));
    const { error } = await collect(poolEntries(blobs, { sha256, root: '', path: 'main/binary-amd64/Packages.gz' }, { ...DEFAULT_LIMITS, indexMaxBytes: 4096 }));
    expect(isRepointError(error, 'METADATA_TOO_LARGE')).toBe(true);
  });

  it('reads the whole index when it is what the Release declares', async () => {
    const blobs = new MemoryBlobStore();
    const sha256 = await store(blobs, gzipSync(text));
    const { entries, error } = await collect(poolEntries(blobs, { sha256, root: '', path: 'main/binary-amd64/Packages.gz', openSize: Buffer.byteLength(text) }));
    expect(error).toBeUndefined();
    expect(entries).toHaveLength(200);
  });

  it('refuses a line longer than limits.indexLineMax', async () => {
    const blobs = new MemoryBlobStore();
    const sha256 = await store(blobs, gzipSync(`Package: a\nDescription: ${'x'.repeat(10_000)}\n`));
    const { error } = await collect(poolEntries(blobs, { sha256, root: '', path: 'Packages.gz' }, { ...DEFAULT_LIMITS, indexLineMax: 1000 }));
    expect(isRepointError(error, 'METADATA_TOO_LARGE')).toBe(true);
  });
});

describe('finding 2: a pool lookup waits only for an index that can list the path', () => {
  it('knows which indexes can list a pool path', () => {
    const amd64 = 'main/binary-amd64/Packages.xz';
    expect(couldList(amd64, 'pool/main/h/hello/hello_2.10-3_amd64.deb')).toBe(true);
    expect(couldList(amd64, 'pool/main/h/hello/hello_2.10-3_all.deb')).toBe(true);
    expect(couldList(amd64, 'pool/main/h/hello/hello_2.10-3_arm64.deb')).toBe(false);
    expect(couldList('main/debian-installer/binary-amd64/Packages.gz', 'pool/main/d/di/di_1_amd64.udeb')).toBe(true);
    expect(couldList(amd64, 'pool/main/h/hello/hello_2.10-3.dsc')).toBe(false);
    expect(couldList(amd64, 'pool/main/h/hello/hello-latest.deb')).toBe(true); // unconventional: may
    expect(couldList('main/source/Sources.xz', 'pool/main/h/hello/hello_2.10.orig.tar.gz')).toBe(true);
    expect(couldList('main/source/Sources.xz', 'pool/main/h/hello/hello_2.10-3_amd64.deb')).toBe(false);
  });

  it('answers a miss at once while an unrelated index (another architecture) is still being read', async () => {
    const stalled = new PassThrough(); // an index that never finishes arriving
    class StallingStore extends MemoryBlobStore {
      override open(sha256: string): Readable {
        return sha256 === 'f'.repeat(64) ? stalled : super.open(sha256);
      }
    }
    const pool = new PoolIndex('deb', openMemoryState(), new StallingStore(), silentLogger);
    const ingesting = pool.ingest({ sha256: 'f'.repeat(64), root: '', path: 'main/binary-arm64/Packages', dir: 'dists/x' }, true);
    ingesting.catch(() => {});
    expect(await pool.lookup('pool/main/h/hello/hello_1_amd64.deb')).toBeUndefined();
    // a path the stalled index could list still waits for it
    const waiting = pool.lookup('pool/main/h/hello/hello_1_arm64.deb');
    expect(await Promise.race([waiting.then(() => 'answered'), sleep(100).then(() => 'waiting')])).toBe('waiting');
    stalled.end();
    expect(await waiting).toBeUndefined();
  });

  it('lets timers run all through a large ingest (the parse yields; writes go out in batches)', async () => {
    const blobs = new MemoryBlobStore();
    const text = Array.from({ length: 40_000 }, (_, i) => stanza(i)).join(''); // ~6 MiB, seconds of parsing when it never yields
    const sha256 = await store(blobs, Buffer.from(text)); // uncompressed: all of it is at hand, no decoder thread to wait for
    const pool = new PoolIndex('deb', openMemoryState(), blobs, silentLogger);
    let fired = 0;
    let stop = false;
    const tick = (): void => { fired++; if (!stop) setTimeout(tick, 1); };
    setTimeout(tick, 1);
    const startedAt = fired;
    await pool.ingest({ sha256, root: '', path: 'main/binary-amd64/Packages', dir: 'dists/x' }, true);
    stop = true;
    // each yield lets at least one timer callback run: an ingest that held the loop to the end would show 0 or 1
    expect(fired - startedAt).toBeGreaterThanOrEqual(5);
    expect(await pool.lookup('pool/main/p/p39999_1_all.deb')).toMatchObject({ size: 100 + 39_999 });
  });
});
