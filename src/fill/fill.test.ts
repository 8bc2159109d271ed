import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import type { Expected } from '../formats/digests.ts';
import { silentLogger } from '../log.ts';
import { Fill } from './fill.ts';
import { ScriptedUpstream, gate, serveFile } from '../../test/helpers/scripted-upstream.ts';
import { SlowCommitStore, eventually, settle, sha256, sha512, track } from '../../test/helpers/fill-harness.ts';
import type { BlobStore, BlobWriter } from '../blobs/blob-store.ts';

const expectOf = (data: Uint8Array, algo: 'sha256' | 'sha512' = 'sha256'): Expected => ({
  size: data.length, digests: [{ algo, hex: algo === 'sha256' ? sha256(data) : sha512(data) }],
});

function startFill(store: BlobStore, upstream: ScriptedUpstream, expected: Expected): Fill {
  return new Fill({ key: 'k', upstream, sources: ['pool/f.deb'], expected }, store, silentLogger);
}

async function listed(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list()) out.push(b.sha256);
  return out;
}

describe('Fill', () => {
  it('gives a follower that joins mid-stream every byte, from the writer and then live', async () => {
    const data = randomBytes(3 * 2 ** 20); // more than the 2 MiB in-memory window
    const paused = gate();
    const up = new ScriptedUpstream(serveFile(data, { pauseAt: { offset: 2.5 * 2 ** 20, until: paused.promise } }));
    const store = new MemoryBlobStore();
    const fill = startFill(store, up, expectOf(data));
    const first = track(fill.reader());
    await eventually(() => fill.written === 2.5 * 2 ** 20, 'the first 2.5 MiB');
    const follower = track(fill.reader());
    paused.open();
    expect((await follower.done).equals(data)).toBe(true);
    expect((await first.done).equals(data)).toBe(true);
    expect(up.requests).toHaveLength(1);
    expect((await store.readAll(sha256(data))).equals(data)).toBe(true);
  });

  it.each([
    ['known', false],
    ['unknown (no Content-Length, no size in the metadata)', true],
  ] as const)('holds back the last byte of the file until the digest has verified, size %s', async (_, unsized) => {
    const data = randomBytes(10_000);
    const verified = gate();
    const upstream = new ScriptedUpstream(unsized ? (req) => ({ ...serveFile(data)(req), headers: {} }) : serveFile(data));
    const expected = unsized ? { digests: expectOf(data).digests } : expectOf(data);
    const fill = startFill(new SlowCommitStore(verified.promise), upstream, expected);
    const r = track(fill.reader());
    await eventually(() => fill.written === data.length && r.bytes === data.length - 1, 'all but the last byte');
    await settle();
    expect(r.bytes).toBe(data.length - 1);
    verified.open();
    expect((await r.done).equals(data)).toBe(true);
  });

  it('holds back the last byte of a range that ends before the end, too', async () => {
    const data = randomBytes(10_000);
    const verified = gate();
    const fill = startFill(new SlowCommitStore(verified.promise), new ScriptedUpstream(serveFile(data)), expectOf(data));
    const r = track(fill.reader(100, 199));
    await eventually(() => fill.written === data.length, 'the whole body');
    await eventually(() => r.bytes === 99, 'all but the last byte of the range');
    await settle();
    expect(r.bytes).toBe(99);
    verified.open();
    expect((await r.done).equals(data.subarray(100, 200))).toBe(true);
  });

  it('resumes a body that broke off with Range and If-Range', async () => {
    const data = randomBytes(200_000);
    const etag = '"v1"';
    const up = new ScriptedUpstream(serveFile(data, { etag })).queue(serveFile(data, { etag, breakAt: 70_000 }));
    const store = new MemoryBlobStore();
    const fill = startFill(store, up, expectOf(data));
    const r = track(fill.reader());
    expect((await fill.done).sha256).toBe(sha256(data));
    expect((await r.done).equals(data)).toBe(true);
    expect(up.requests.map((q) => q.headers)).toEqual([{}, { range: 'bytes=70000-', 'if-range': etag }]);
    expect((await store.readAll(sha256(data))).equals(data)).toBe(true);
  });

  it.each([
    ['broke off', (data: Buffer, lastModified: string) => serveFile(data, { lastModified, breakAt: 70_000 })],
    ['ended early', (data: Buffer, lastModified: string) => () => ({ status: 200, headers: { 'last-modified': lastModified }, body: [data.subarray(0, 70_000)] })],
  ] as const)('resumes a body that %s from a server that ignores Range, skipping what it has', async (_, first) => {
    const data = randomBytes(200_000);
    const lastModified = 'Tue, 01 Oct 2024 10:00:00 GMT';
    const up = new ScriptedUpstream(serveFile(data, { lastModified, ignoreRange: true })).queue(first(data, lastModified));
    const fill = startFill(new MemoryBlobStore(), up, expectOf(data));
    const r = track(fill.reader());
    await fill.done;
    expect((await r.done).equals(data)).toBe(true);
    expect(up.requests[1]?.headers).toEqual({ range: 'bytes=70000-', 'if-range': lastModified });
  });

  it.each(['sha256', 'sha512'] as const)('a %s mismatch makes every reader error and commits nothing', async (algo) => {
    const good = randomBytes(50_000);
    const bad = Buffer.from(good);
    bad[25_000] = (bad[25_000] ?? 0) ^ 0xff;
    const store = new MemoryBlobStore();
    const fill = startFill(store, new ScriptedUpstream(serveFile(bad)), expectOf(good, algo));
    const readers = [track(fill.reader()), track(fill.reader(40_000)), track(fill.reader(0, 999))];
    for (const r of readers) await expect(r.done).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
    await expect(fill.done).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
    expect(readers[0]!.bytes).toBeLessThan(bad.length); // no reader ever had the whole unverified body
    expect(readers[1]!.bytes).toBeLessThan(bad.length - 40_000);
    expect(readers[2]!.bytes).toBeLessThan(1000);
    await expect(track(fill.reader()).done).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' }); // a late one too
    expect(await listed(store)).toEqual([]);
    expect(await store.totals()).toEqual({ count: 0, bytes: 0 });
    expect(await store.removeTempFiles()).toBe(0);
  });

  it('refuses a Content-Length that contradicts the metadata before writing anything', async () => {
    const data = randomBytes(5000);
    const store = new MemoryBlobStore();
    const fill = startFill(store, new ScriptedUpstream(serveFile(data, { contentLength: 4000 })), expectOf(data));
    const r = track(fill.reader());
    await expect(fill.done).rejects.toMatchObject({ code: 'UPSTREAM_SIZE_MISMATCH' });
    await expect(r.done).rejects.toMatchObject({ code: 'UPSTREAM_SIZE_MISMATCH' });
    expect(fill.written).toBe(0);
    expect(r.bytes).toBe(0);
    expect(await listed(store)).toEqual([]);
    expect(await store.removeTempFiles()).toBe(0);
  });

  it('keeps downloading when a client reader is destroyed early', async () => {
    const data = randomBytes(1_000_000);
    const paused = gate();
    const up = new ScriptedUpstream(serveFile(data, { pauseAt: { offset: 300_000, until: paused.promise } }));
    const store = new MemoryBlobStore();
    const fill = startFill(store, up, expectOf(data));
    const quitter = fill.reader();
    const r = track(quitter);
    await eventually(() => r.bytes > 0, 'the first bytes');
    quitter.destroy();
    paused.open();
    expect((await fill.done).sha256).toBe(sha256(data));
    expect(r.bytes).toBeLessThan(data.length);
    expect((await store.readAll(sha256(data))).equals(data)).toBe(true);
    expect(up.requests).toHaveLength(1);
  });
});

/** A store whose writers fail with ENOSPC once `room` bytes are written: a full disk. */
class FullDiskStore extends MemoryBlobStore {
  readonly room: number;
  constructor(room: number) {
    super();
    this.room = room;
  }
  override async createWriter(): Promise<BlobWriter> {
    const w = await super.createWriter();
    const room = this.room;
    return {
      get bytesWritten() { return w.bytesWritten; },
      write: async (c) => {
        if (w.bytesWritten + c.length > room) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return w.write(c);
      },
      openReader: () => w.openReader(),
      commit: (o) => w.commit(o),
      abort: () => w.abort(),
    };
  }
}

describe('Fill on a full disk (issue 8, finding 11)', () => {
  it('fails STORAGE_FULL after one upstream request: a local write error is never resumed upstream', async () => {
    const data = randomBytes(200_000);
    const up = new ScriptedUpstream(serveFile(data));
    const fill = startFill(new FullDiskStore(100_000), up, expectOf(data));
    await fill.ready; // bytes were stored before the disk filled: clients were already answered
    await expect(fill.done).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(up.requests).toHaveLength(1);
  });

  it('with no room for a single byte, clients are never told 200: ready rejects STORAGE_FULL', async () => {
    const data = randomBytes(10_000);
    const fill = startFill(new FullDiskStore(0), new ScriptedUpstream(serveFile(data)), expectOf(data));
    await expect(fill.ready).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    expect(fill.state).toBe('failed');
  });
});
