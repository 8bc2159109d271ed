import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobInfo, BlobStore, BlobWriter } from '../../src/blobs/blob-store.ts';
import { isRepointError } from '../../src/errors.ts';

export interface BlobStoreFixture {
  store: BlobStore;
  /** Shut the current store down cleanly and open a new instance over the same storage. */
  reopen(): Promise<BlobStore>;
  /** Put a blob into the backing storage behind the store's back (as an operator might): no commit counts it. */
  plantUncounted(sha256: string, data: Uint8Array): Promise<void>;
  cleanup(): Promise<void>;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

async function put(store: BlobStore, data: Uint8Array): Promise<BlobInfo> {
  const w = await store.createWriter();
  await w.write(data);
  return w.commit();
}

async function collect(store: BlobStore): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const b of store.list()) out.push(b);
  return out;
}

/** A discarded writer leaves nothing: its bytes cannot be read, and there is no temp data to remove. */
async function leftNothing(store: BlobStore, w: BlobWriter): Promise<void> {
  await expect(w.openReader()).rejects.toThrow();
  expect(await store.removeTempFiles()).toBe(0);
}

/** The behaviour every BlobStore must have; each implementation's test file calls this. */
export function blobStoreContract(name: string, makeStore: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fx: BlobStoreFixture;
    let store: BlobStore;
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('commits a blob that stat, read and list all return', async () => {
      const data = randomBytes(5000);
      const info = await put(store, data);
      expect(info).toMatchObject({ sha256: sha(data), size: 5000 });
      expect(await store.stat(sha(data))).toMatchObject({ sha256: sha(data), size: 5000 });
      expect(await readAll(store.open(sha(data)))).toEqual(data);
      expect(await store.readAll(sha(data))).toEqual(data);
      expect((await collect(store)).map((b) => b.sha256)).toEqual([sha(data)]);
      expect(await store.totals()).toEqual({ count: 1, bytes: 5000 });
    });

    it('keeps the given mtime', async () => {
      const w = await store.createWriter();
      await w.write(Buffer.from('dated'));
      const when = new Date('2024-03-01T12:34:56.000Z');
      const info = await w.commit({ mtime: when });
      expect(Math.round(info.mtimeMs)).toBe(when.getTime());
      expect(Math.round((await store.stat(info.sha256))?.mtimeMs ?? 0)).toBe(when.getTime());
    });

    it('rejects a digest mismatch and leaves nothing behind', async () => {
      const data = Buffer.from('not what the index said');
      const expected = sha(Buffer.from('what the index said'));
      const w = await store.createWriter();
      await w.write(data);
      const early = await w.openReader();
      const err: unknown = await w.commit({ expectSha256: expected }).catch((e: unknown) => e);
      expect(isRepointError(err, 'UPSTREAM_DIGEST_MISMATCH')).toBe(true);
      await expect(early.read(0, data.length)).rejects.toThrow(); // followers never finish rejected bytes
      await early.close();
      await leftNothing(store, w);
      expect(await store.stat(sha(data))).toBeUndefined();
      expect(await store.stat(expected)).toBeUndefined();
      expect(await collect(store)).toEqual([]);
      expect(await store.totals()).toEqual({ count: 0, bytes: 0 });
    });

    it('accepts a matching expected digest', async () => {
      const data = Buffer.from('exactly this');
      const w = await store.createWriter();
      await w.write(data);
      expect((await w.commit({ expectSha256: sha(data) })).sha256).toBe(sha(data));
    });

    it('abort discards the written bytes and is idempotent; abort after commit is a no-op', async () => {
      const w = await store.createWriter();
      await w.write(Buffer.from('partial'));
      const early = await w.openReader();
      expect(await early.read(0, 7)).toEqual(Buffer.from('partial'));
      await w.abort();
      await w.abort();
      await expect(early.read(0, 7)).rejects.toThrow();
      await early.close();
      await expect(w.write(Buffer.from('more'))).rejects.toThrow();
      await expect(w.commit()).rejects.toThrow();
      await leftNothing(store, w);
      expect(await store.stat(sha(Buffer.from('partial')))).toBeUndefined();
      expect(await collect(store)).toEqual([]);

      const data = Buffer.from('kept');
      const w2 = await store.createWriter();
      await w2.write(data);
      await w2.commit();
      await w2.abort();
      expect(await store.stat(sha(data))).toBeDefined();
    });

    it('stores the same content once', async () => {
      const data = randomBytes(777);
      const [a, b] = await Promise.all([put(store, data), put(store, data)]);
      expect(a.sha256).toBe(b.sha256);
      await put(store, data);
      expect(await store.totals()).toEqual({ count: 1, bytes: 777 });
      expect(await collect(store)).toHaveLength(1);
    });

    it('reads inclusive byte ranges', async () => {
      const data = randomBytes(1000);
      await put(store, data);
      const h = sha(data);
      expect(await readAll(store.open(h, { start: 10, end: 19 }))).toEqual(data.subarray(10, 20));
      expect(await readAll(store.open(h, { start: 0, end: 0 }))).toEqual(data.subarray(0, 1));
      expect(await readAll(store.open(h, { start: 999, end: 999 }))).toEqual(data.subarray(999));
      expect(await readAll(store.open(h, { start: 500, end: 999 }))).toEqual(data.subarray(500));
      expect(() => store.open(h, { start: 5, end: 4 })).toThrow(expect.objectContaining({ code: 'BAD_RANGE' }));
    });

    it('lets followers read what was written while it grows, and after commit', async () => {
      const one = randomBytes(3000);
      const two = randomBytes(4000);
      const w = await store.createWriter();
      await w.write(one);
      const follower = await w.openReader();
      try {
        expect(await follower.read(0, 7000)).toEqual(one); // never past bytesWritten
        expect(await follower.read(3000, 100)).toHaveLength(0);
        await w.write(two);
        expect(w.bytesWritten).toBe(7000);
        expect(await follower.read(3000, 4000)).toEqual(two);
        expect(await follower.read(6990, 100)).toEqual(two.subarray(3990));
        await w.commit();
        // a reader opened before commit keeps working once the blob has its content address
        expect(await follower.read(0, 7000)).toEqual(Buffer.concat([one, two]));
      } finally {
        await follower.close();
      }
      // and one opened after commit reads the committed blob
      const late = await w.openReader();
      expect(await late.read(2999, 2)).toEqual(Buffer.concat([one.subarray(2999), two.subarray(0, 1)]));
      await late.close();
    });

    it('removes temp files left by a crashed writer; that blob never appears', async () => {
      const data = randomBytes(2048);
      const w = await store.createWriter();
      await w.write(data);
      // "crash": the writer is never committed or aborted, and the process restarts
      store = await fx.reopen();
      expect(await store.removeTempFiles()).toBeGreaterThanOrEqual(1);
      await expect(w.openReader()).rejects.toThrow();
      await expect(w.commit()).rejects.toThrow();
      expect(await store.stat(sha(data))).toBeUndefined();
      expect(await collect(store)).toEqual([]);
      expect(await store.removeTempFiles()).toBe(0);
    });

    it('removeTempFiles spares writers that are still open in this instance', async () => {
      const w = await store.createWriter();
      await w.write(Buffer.from('in flight'));
      expect(await store.removeTempFiles()).toBe(0);
      const r = await w.openReader();
      expect(await r.read(0, 100)).toEqual(Buffer.from('in flight'));
      await r.close();
      expect((await w.commit()).sha256).toBe(sha(Buffer.from('in flight')));
    });

    it('lists every blob', async () => {
      const blobs = Array.from({ length: 60 }, (_, i) => randomBytes(10 + i));
      for (const b of blobs) await put(store, b);
      const listed = await collect(store);
      expect(listed.map((b) => b.sha256).sort()).toEqual(blobs.map(sha).sort());
      for (const b of listed) expect(b.size).toBe(blobs.find((x) => sha(x) === b.sha256)?.length);
    });

    it('deletes blobs and keeps totals in step', async () => {
      const a = randomBytes(100);
      const b = randomBytes(200);
      await put(store, a);
      await put(store, b);
      expect(await store.delete(sha(a))).toBe(true);
      expect(await store.delete(sha(a))).toBe(false);
      expect(await store.stat(sha(a))).toBeUndefined();
      expect(await store.totals()).toEqual({ count: 1, bytes: 200 });
    });

    it('keeps totals across a re-open without rescanning', async () => {
      const blobs = [randomBytes(10), randomBytes(20), randomBytes(30)];
      for (const b of blobs) await put(store, b);
      expect(await store.totals()).toEqual({ count: 3, bytes: 60 });
      store = await fx.reopen();
      // a file no commit accounted for: a rescan would count it, the saved totals do not
      await fx.plantUncounted(sha(Buffer.from('stray')), Buffer.from('stray'));
      expect(await store.totals()).toEqual({ count: 3, bytes: 60 });
      await put(store, randomBytes(40));
      expect(await store.totals()).toEqual({ count: 4, bytes: 100 });
    });

    it('rejects names that are not lowercase sha256 hex', async () => {
      const bad = ['../../etc/passwd', 'A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(62)}/x`, ''];
      for (const b of bad) {
        await expect(store.stat(b)).rejects.toMatchObject({ code: 'BAD_PATH' });
        await expect(store.delete(b)).rejects.toMatchObject({ code: 'BAD_PATH' });
        await expect(store.readAll(b)).rejects.toMatchObject({ code: 'BAD_PATH' });
        await expect(store.lastAccess(b)).rejects.toMatchObject({ code: 'BAD_PATH' });
        expect(() => store.open(b)).toThrow(expect.objectContaining({ code: 'BAD_PATH' }));
      }
    });

    it('hashes a 20 MB blob written in chunks', async () => {
      const h = createHash('sha256');
      const w = await store.createWriter();
      const chunk = 64 * 1024;
      for (let i = 0; i < 320; i++) {
        const c = randomBytes(chunk);
        h.update(c);
        await w.write(c);
      }
      const digest = h.digest('hex');
      const info = await w.commit({ expectSha256: digest });
      expect(info).toMatchObject({ sha256: digest, size: 20 * 1024 * 1024 });
      const again = createHash('sha256');
      for await (const c of store.open(digest)) again.update(c as Uint8Array);
      expect(again.digest('hex')).toBe(digest);
    });

    it('reads small blobs whole, within a cap', async () => {
      const data = randomBytes(300);
      await put(store, data);
      expect(await store.readAll(sha(data), 300)).toEqual(data);
      await expect(store.readAll(sha(data), 299)).rejects.toMatchObject({ code: 'INTERNAL' });
      await expect(store.readAll(sha(Buffer.from('never stored')))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('a missing blob makes open() error, and has no stat or last access', async () => {
      const missing = sha(Buffer.from('never stored'));
      await expect(readAll(store.open(missing))).rejects.toThrow();
      expect(await store.stat(missing)).toBeUndefined();
      expect(await store.lastAccess(missing)).toBeUndefined();
    });

    it('counts a commit as an access even when the blob keeps an older mtime', async () => {
      const before = Date.now() - 1000; // filesystem timestamps may be coarser than Date.now()
      const w = await store.createWriter();
      await w.write(Buffer.from('published long ago'));
      const info = await w.commit({ mtime: new Date('2001-01-01T00:00:00Z') });
      expect(info.mtimeMs).toBe(Date.parse('2001-01-01T00:00:00Z'));
      expect(await store.lastAccess(info.sha256)).toBeGreaterThanOrEqual(before);
    });
  });
}
