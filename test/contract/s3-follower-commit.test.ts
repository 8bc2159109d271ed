// A cluster follower's writer (created without the address: its leader uploads the blob) stores
// nothing when its commit finds the blob in the bucket; without the leader's copy it uploads.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { RedisBlobRecords } from '../../src/blobs/s3/redis-blob-records.ts';
import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.ts';
import { S3Bucket } from '../../src/blobs/s3/s3-bucket.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { rgwTools } from '../helpers/rgw.ts';
import { useS3Servers } from '../helpers/s3-servers.ts';

const MiB = 1024 * 1024;

describeE2E('S3 writer of a cluster follower', [...rgwTools(), 'redis-server'], () => {
  const servers = useS3Servers();

  /** One node's store over the bucket, and the S3 commands its client sent. */
  async function node(bucket: string, namespace: string): Promise<{ store: S3BlobStore; sent: string[] }> {
    const b = new S3Bucket({ endpoint: servers.rgw.endpoint, bucket, region: servers.rgw.region, accessKeyId: servers.rgw.accessKeyId, secretAccessKey: servers.rgw.secretAccessKey, forcePathStyle: true });
    const sent: string[] = [];
    b.client.middlewareStack.add((next, ctx) => async (args) => {
      sent.push(ctx.commandName ?? '?');
      return next(args);
    }, { step: 'initialize' });
    const store = new S3BlobStore({ bucket: b, records: await RedisBlobRecords.open(servers.redis.url, namespace), local: await FsBlobStore.open(await mkdtemp(join(tmpdir(), 'repoint-s3-local-'))), partSize: 5 * MiB });
    return { store, sent };
  }

  it('skips the upload of a blob the leader stored, and uploads one nobody stored', async () => {
    const bucket = await servers.rgw.createBucket();
    const ns = `t-${randomUUID().slice(0, 8)}`;
    const leader = await node(bucket, ns);
    const follower = await node(bucket, ns);
    const data = randomBytes(12 * MiB);
    const sha256 = createHash('sha256').update(data).digest('hex');

    const lw = await leader.store.createWriter({ expectSha256: sha256 });
    await lw.write(data);
    await lw.commit({ expectSha256: sha256 });
    expect(leader.sent).toContain('CreateMultipartUploadCommand');

    const fw = await follower.store.createWriter();
    await fw.write(data);
    expect((await fw.commit({ expectSha256: sha256 })).sha256).toBe(sha256);
    expect(follower.sent.filter((c) => /Upload|PutObject/.test(c)), 'the follower wrote nothing to the bucket').toEqual([]);
    expect(await follower.store.totals()).toEqual({ count: 1, bytes: data.length });

    const other = randomBytes(MiB);
    const ow = await follower.store.createWriter();
    await ow.write(other);
    const info = await ow.commit();
    expect(follower.sent.some((c) => /Upload|PutObject/.test(c)), 'a blob nobody stored is uploaded').toBe(true);
    expect((await leader.store.stat(info.sha256))?.size).toBe(MiB);
    for (const s of [leader.store, follower.store]) await s.close();
  }, 120_000);
});
