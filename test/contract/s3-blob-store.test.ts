// The blob contract suite against S3BlobStore on a real S3 server (Ceph RGW, test/helpers/servers.rgw.ts) with
// its records in a real Redis; then what only an object store has: a cold local tier reading from the
// bucket, uploads alongside the download, aborted uploads, and age-based cleanup of abandoned ones.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { S3Bucket, blobKey } from '../../src/blobs/s3/s3-bucket.ts';
import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.ts';
import { RedisBlobRecords } from '../../src/blobs/s3/redis-blob-records.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { rgwTools } from '../helpers/rgw.ts';
import { useS3Servers } from '../helpers/s3-servers.ts';
import { blobStoreContract } from './blob-store.contract.ts';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

describeE2E('S3BlobStore on Ceph RGW', [...rgwTools(), 'redis-server'], () => {
  const servers = useS3Servers();

  /** A store over `bucket` and `namespace` with its own local directory (one node). */
  async function node(bucket: string, namespace: string, local?: string, localMaxBytes?: number): Promise<{ store: S3BlobStore; dir: string }> {
    const dir = local ?? (await mkdtemp(join(tmpdir(), 'repoint-s3-local-')));
    const store = new S3BlobStore({
      bucket: new S3Bucket({ endpoint: servers.rgw.endpoint, bucket, region: servers.rgw.region, accessKeyId: servers.rgw.accessKeyId, secretAccessKey: servers.rgw.secretAccessKey, forcePathStyle: true }),
      records: await RedisBlobRecords.open(servers.redis.url, namespace),
      local: await FsBlobStore.open(dir),
      partSize: 5 * MiB,
      ...(localMaxBytes ? { localMaxBytes } : {}),
    });
    return { store, dir };
  }

  async function fresh(): Promise<{ bucket: string; namespace: string }> {
    return { bucket: await servers.rgw.createBucket(), namespace: `t-${randomUUID().slice(0, 8)}` };
  }

  blobStoreContract('S3BlobStore', async () => {
    const { bucket, namespace } = await fresh();
    let current = await node(bucket, namespace);
    const s3 = servers.rgw.client();
    return {
      store: current.store,
      async reopen() {
        await current.store.close();
        current = await node(bucket, namespace, current.dir);
        return current.store;
      },
      async plantUncounted(sha256, data) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: blobKey(sha256), Body: data }));
      },
      async cleanup() {
        await current.store.close();
        s3.destroy();
        await rm(current.dir, { recursive: true, force: true });
      },
    };
  });

  it('a node with a cold local tier streams whole blobs and ranges from the bucket, then serves them locally', async () => {
    const { bucket, namespace } = await fresh();
    const a = await node(bucket, namespace);
    const b = await node(bucket, namespace);
    try {
      const data = randomBytes(7 * MiB + 3);
      const w = await a.store.createWriter();
      await w.write(data);
      await w.commit({ expectSha256: sha(data), mtime: new Date('2020-02-02T00:00:00Z') });
      expect(await b.store.local.stat(sha(data))).toBeUndefined();
      expect(await b.store.stat(sha(data))).toMatchObject({ size: data.length, mtimeMs: Date.parse('2020-02-02T00:00:00Z') });
      expect((await readAll(b.store.open(sha(data), { start: 6 * MiB, end: 6 * MiB + 99 }))).equals(data.subarray(6 * MiB, 6 * MiB + 100))).toBe(true);
      expect(sha(await readAll(b.store.open(sha(data))))).toBe(sha(data));
      const last = data.length - 1;
      expect(await readAll(b.store.open(sha(data), { start: 0, end: 0 }))).toEqual(data.subarray(0, 1));
      expect(await readAll(b.store.open(sha(data), { start: last, end: last }))).toEqual(data.subarray(last));
      const small = randomBytes(3000);
      const ws = await a.store.createWriter();
      await ws.write(small);
      await ws.commit();
      expect(await b.store.readAll(sha(small))).toEqual(small); // from the bucket, then kept locally
      expect(await b.store.local.stat(sha(small))).toMatchObject({ size: 3000 });
      const missing = sha(Buffer.from('nobody stored this'));
      await expect(readAll(b.store.open(missing))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(b.store.readAll(missing)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect.poll(() => b.store.local.stat(sha(data)), { timeout: 20_000 }).toMatchObject({ size: data.length }); // copied in behind
      expect(await b.store.totals()).toEqual({ count: 2, bytes: data.length + 3000 });
    } finally {
      await Promise.all([a.store.close(), b.store.close()]);
      await Promise.all([rm(a.dir, { recursive: true, force: true }), rm(b.dir, { recursive: true, force: true })]);
    }
  });

  it('with the address known up front, parts are uploaded while bytes arrive; completion waits for the digest', async () => {
    const { bucket, namespace } = await fresh();
    const { store, dir } = await node(bucket, namespace);
    const s3 = servers.rgw.client();
    try {
      const data = randomBytes(12 * MiB);
      const w = await store.createWriter({ expectSha256: sha(data) });
      await w.write(data);
      // two full parts went up before commit; the object is not there yet
      await expect.poll(async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0, { timeout: 20_000 }).toBe(1);
      await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: blobKey(sha(data)) }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      await w.commit({ expectSha256: sha(data) });
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: blobKey(sha(data)) }));
      expect([head.ContentLength, head.ETag?.endsWith('-3"')]).toEqual([data.length, true]);
      expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);

      // a mismatch aborts the upload that ran alongside: no object, no upload
      const bad = randomBytes(11 * MiB);
      const claimed = sha(randomBytes(10));
      const w2 = await store.createWriter({ expectSha256: claimed });
      await w2.write(bad);
      await expect(w2.commit({ expectSha256: claimed })).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
      expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
      const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key);
      expect(keys).toEqual([blobKey(sha(data))]);
      expect(await store.totals()).toEqual({ count: 1, bytes: data.length });
    } finally {
      s3.destroy();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the local tier within its budget, dropping least recently used local copies; the bucket keeps them all', async () => {
    const { bucket, namespace } = await fresh();
    const { store, dir } = await node(bucket, namespace, undefined, 3 * MiB);
    try {
      const blobs = Array.from({ length: 4 }, () => randomBytes(MiB));
      const now = Date.now();
      for (const [i, b] of blobs.slice(0, 3).entries()) {
        const w = await store.createWriter();
        await w.write(b);
        await w.commit();
        // blob 0 used 3 h ago, blob 1 2 h ago, blob 2 1 h ago (the test knows the on-disk layout)
        const h = sha(b);
        const when = new Date(now - (3 - i) * 3600_000);
        await utimes(join(dir, 'sha256', h.slice(0, 2), h.slice(2, 4), h), when, when);
      }
      expect(await store.local.totals()).toEqual({ count: 3, bytes: 3 * MiB }); // at the budget: nothing dropped
      const w = await store.createWriter();
      await w.write(blobs[3]!);
      await w.commit();
      await store.trimLocal();
      const local = await Promise.all(blobs.map(async (b) => (await store.local.stat(sha(b))) !== undefined));
      expect(local).toEqual([false, false, true, true]); // 1.3 MiB over 90 % of the budget: the two oldest
      expect(await store.totals()).toEqual({ count: 4, bytes: 4 * MiB });
      for (const b of blobs) expect(sha(await readAll(store.open(sha(b))))).toBe(sha(b));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a hit never breaks because the local tier drops its copy: read from the bucket, or from the file opened before', async () => {
    const { bucket, namespace } = await fresh();
    const roomy = await node(bucket, namespace);
    const tiny = await node(bucket, namespace, undefined, 4096); // every blob is larger than the budget
    try {
      const data = randomBytes(700_000);
      const w = await roomy.store.createWriter();
      await w.write(data);
      await w.commit();
      // stat (the edge's lookup) finds the local copy; the tier drops it before the body is opened
      expect(await roomy.store.stat(sha(data))).toMatchObject({ size: data.length });
      await roomy.store.local.delete(sha(data));
      expect(sha(await readAll(roomy.store.open(sha(data))))).toBe(sha(data));
      await expect.poll(() => roomy.store.local.stat(sha(data)), { timeout: 20_000 }).toBeDefined(); // copied back in behind
      expect(await roomy.store.stat(sha(data))).toMatchObject({ size: data.length });
      await roomy.store.local.delete(sha(data));
      expect((await readAll(roomy.store.open(sha(data), { start: 5, end: 600_004 }))).equals(data.subarray(5, 600_005))).toBe(true);

      // concurrent writes and hits, the tier trimming all the while
      const blobs = Array.from({ length: 6 }, (_, i) => randomBytes(200_000 + i * 50_000));
      const bodies = await Promise.all(blobs.map(async (b, i) => {
        const bw = await tiny.store.createWriter();
        await bw.write(b);
        await bw.commit();
        return Promise.all(Array.from({ length: 12 }, async (_, j) => {
          const pick = blobs[(i + j) % blobs.length]!;
          if (!(await tiny.store.stat(sha(pick)))) return sha(pick); // not stored yet: nothing to hit
          return sha(await readAll(tiny.store.open(sha(pick))));
        }));
      }));
      expect(bodies.flat().filter((got, k) => got !== sha(blobs[(Math.floor(k / 12) + (k % 12)) % blobs.length]!))).toEqual([]);
      // copies made behind reads from the bucket may land after a trim that already ran: each one triggers
      // another, so the tier comes back within its budget
      await expect.poll(async () => {
        await tiny.store.trimLocal();
        return (await tiny.store.local.totals()).bytes;
      }, { timeout: 20_000 }).toBeLessThanOrEqual(4096);
    } finally {
      await Promise.all([roomy.store.close(), tiny.store.close()]);
      await Promise.all([rm(roomy.dir, { recursive: true, force: true }), rm(tiny.dir, { recursive: true, force: true })]);
    }
  });

  it('single-part writes are conditional: an object already under the key is never replaced, and counts as stored', async () => {
    const { bucket, namespace } = await fresh();
    const { store, dir } = await node(bucket, namespace);
    const s3 = servers.rgw.client();
    try {
      const data = randomBytes(4000);
      // planted by "another node" first (marked by its own bytes, which content addressing never allows: a probe)
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: blobKey(sha(data)), Body: 'first writer' }));
      const w = await store.createWriter();
      await w.write(data);
      expect((await w.commit()).sha256).toBe(sha(data)); // 412 = already stored
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: blobKey(sha(data)) }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe('first writer');
    } finally {
      s3.destroy();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('removeTempFiles aborts multipart uploads by age only, so another node\'s live upload stays', async () => {
    const { bucket, namespace } = await fresh();
    const { store, dir } = await node(bucket, namespace);
    const s3 = servers.rgw.client();
    try {
      const key = blobKey(sha(Buffer.from('someone else\'s download')));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: randomBytes(5 * MiB) }));
      expect(await store.removeTempFiles()).toBe(0); // young: it may be a live download on another node
      const old = new S3BlobStore({ bucket: new S3Bucket({ bucket, region: servers.rgw.region, forcePathStyle: true }, servers.rgw.client()), records: await RedisBlobRecords.open(servers.redis.url, namespace), local: await FsBlobStore.open(dir), uploadMaxAgeMs: 0 });
      expect(await old.removeTempFiles()).toBe(1);
      await old.close();
      expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    } finally {
      s3.destroy();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
