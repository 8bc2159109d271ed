// GC over a bucket (Ceph RGW) with last access in Redis: fresh blobs get a grace period, the least
// recently used go first, pinned ones stay, totals follow; one collector at a time holds the gc lease.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { RedisBlobRecords } from '../../src/blobs/s3/redis-blob-records.ts';
import { S3Bucket } from '../../src/blobs/s3/s3-bucket.ts';
import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.ts';
import { collectGarbage } from '../../src/checkpoints/gc.ts';
import type { PinSources } from '../../src/checkpoints/pins.ts';
import { openMemoryState } from '../../src/state/memory-state.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { rgwTools } from '../helpers/rgw.ts';
import { useS3Servers } from '../helpers/s3-servers.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const noPins: PinSources = { remotes: [], readers: new Map() };

describeE2E('GC over a bucket', [...rgwTools(), 'redis-server'], () => {
  const servers = useS3Servers();

  async function setup(gcGraceMs: number): Promise<{ store: S3BlobStore; records: RedisBlobRecords; bucket: string; close: () => Promise<void> }> {
    const bucket = await servers.rgw.createBucket();
    const namespace = `gc-${randomUUID().slice(0, 8)}`;
    const dir = await mkdtemp(join(tmpdir(), 'repoint-s3-gc-'));
    const store = new S3BlobStore({
      bucket: new S3Bucket({ endpoint: servers.rgw.endpoint, bucket, region: servers.rgw.region, accessKeyId: servers.rgw.accessKeyId, secretAccessKey: servers.rgw.secretAccessKey, forcePathStyle: true }),
      records: await RedisBlobRecords.open(servers.redis.url, namespace),
      local: await FsBlobStore.open(dir),
      gcGraceMs,
    });
    const records = await RedisBlobRecords.open(servers.redis.url, namespace);
    return { store, records, bucket, close: async () => { await store.close(); await records.close(); await rm(dir, { recursive: true, force: true }); } };
  }

  async function put(store: S3BlobStore, data: Buffer): Promise<string> {
    const w = await store.createWriter();
    await w.write(data);
    return (await w.commit()).sha256;
  }

  async function keys(bucket: string): Promise<string[]> {
    const s3 = servers.rgw.client();
    try {
      return ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!.slice(-64)).sort();
    } finally {
      s3.destroy();
    }
  }

  it('keeps blobs stored within the grace period, even with --all', async () => {
    const { store, bucket, close } = await setup(60 * 60_000);
    const state = openMemoryState();
    try {
      const a = await put(store, randomBytes(1000));
      const r = await collectGarbage({ maxSizeBytes: 0, sources: noPins }, store, state, { all: true, dryRun: false });
      expect([r.removed, r.total]).toEqual([0, 1000]);
      expect(await keys(bucket)).toEqual([a]);
    } finally {
      await state.close();
      await close();
    }
  });

  it('removes the least recently used first (last access from Redis), until the budget fits; totals follow', async () => {
    const { store, records, bucket, close } = await setup(0);
    const state = openMemoryState();
    try {
      const blobs = [randomBytes(1000), randomBytes(1000), randomBytes(1000)];
      const hashes = [];
      for (const b of blobs) hashes.push(await put(store, b));
      // accessed: blob 1 an hour ago, blob 0 two hours ago, blob 2 now (what reads on any node record)
      const now = Date.now();
      await records.touch(hashes[2]!, now + 60_000);
      const r0 = await records.get(hashes[0]!);
      expect(r0?.lastAccessMs).toBeGreaterThan(now - 60_000);
      // move the older ones back by removing and re-adding their records with an old access time
      for (const [i, ago] of [[0, 2], [1, 1]] as const) {
        await records.remove(hashes[i]!);
        await records.add(hashes[i]!, 1000, 0, now - ago * 3600_000);
      }
      expect(await store.lastAccess(hashes[0]!)).toBe(now - 2 * 3600_000);
      const r = await collectGarbage({ maxSizeBytes: 1500, sources: noPins }, store, state, { all: false, dryRun: false });
      expect([r.removed, r.freed, r.total]).toEqual([2, 2000, 3000]);
      expect(await keys(bucket)).toEqual([hashes[2]!]);
      expect(await store.totals()).toEqual({ count: 1, bytes: 1000 });
      expect(await store.stat(hashes[0]!)).toBeUndefined(); // the local copy went too
      expect(sha(await store.readAll(hashes[2]!))).toBe(hashes[2]);
    } finally {
      await state.close();
      await close();
    }
  });
});
