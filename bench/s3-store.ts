// The S3 blob store on a local Ceph RGW (test/helpers/rgw.ts) with Redis: how long commit() takes
// after the last byte of a paced "download" with the upload running alongside (address known up
// front) vs started at commit, and read throughput from the bucket (cold node) vs the local tier.
// Usage: node bench/s3-store.ts   (env: BENCH_MIB blob size, default 64; BENCH_MBPS pacing, default 200)
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FsBlobStore } from '../src/blobs/fs-blob-store.ts';
import { RedisBlobRecords } from '../src/blobs/s3/redis-blob-records.ts';
import { S3Bucket } from '../src/blobs/s3/s3-bucket.ts';
import { S3BlobStore } from '../src/blobs/s3/s3-blob-store.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { startRgw } from '../test/helpers/rgw.ts';

const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.BENCH_MIB ?? 64);
const mbps = Number(process.env.BENCH_MBPS ?? 200);

const [rgw, redis] = await Promise.all([startRgw({ memstoreBytes: 4 * 1024 ** 3 }), startRedis({ own: true })]);
const dirs: string[] = [];
const stores: S3BlobStore[] = [];
try {
  const bucket = await rgw.createBucket();
  const node = async (): Promise<S3BlobStore> => {
    const dir = await mkdtemp(join(tmpdir(), 'repoint-bench-s3-'));
    dirs.push(dir);
    const s = new S3BlobStore({
      bucket: new S3Bucket({ endpoint: rgw.endpoint, bucket, region: rgw.region, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey, forcePathStyle: true }),
      records: await RedisBlobRecords.open(redis.url, 'bench'),
      local: await FsBlobStore.open(dir),
    });
    stores.push(s);
    return s;
  };
  const a = await node();
  const chunk = 256 * 1024;
  const perChunkMs = (chunk / (mbps * 1e6)) * 1000;
  for (const alongside of [true, false]) {
    const data = randomBytes(sizeMiB * MiB);
    const sha = createHash('sha256').update(data).digest('hex');
    const w = await a.createWriter(alongside ? { expectSha256: sha } : {});
    const t0 = performance.now();
    for (let off = 0; off < data.length; off += chunk) {
      await w.write(data.subarray(off, off + chunk));
      await sleep(perChunkMs);
    }
    const t1 = performance.now();
    await w.commit({ expectSha256: sha });
    const t2 = performance.now();
    console.log(`${sizeMiB} MiB at ${mbps} MB/s, upload ${alongside ? 'alongside' : 'at commit'}: download ${(t1 - t0).toFixed(0)} ms, commit after last byte ${(t2 - t1).toFixed(0)} ms`);
    if (!alongside) {
      const cold = await node();
      const read = async (s: S3BlobStore): Promise<number> => {
        const r0 = performance.now();
        const h = createHash('sha256');
        for await (const c of s.open(sha)) h.update(c as Buffer);
        if (h.digest('hex') !== sha) throw new Error('bad bytes');
        return (data.length / 1e6) / ((performance.now() - r0) / 1000);
      };
      const fromBucket = await read(cold); // also copies it into cold's tier, behind
      await sleep(3000);
      const fromTier = [await read(a), await read(a), await read(cold)];
      console.log(`read ${sizeMiB} MiB: from the bucket (cold node) ${fromBucket.toFixed(0)} MB/s; from the local tier ${fromTier.map((x) => x.toFixed(0)).join(', ')} MB/s (sha256 included); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    }
  }
} finally {
  for (const s of stores) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await Promise.all([rgw.stop(), redis.stop()]);
}
