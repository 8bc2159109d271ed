import { join } from 'node:path';
import type { BlobsConfig } from '../config/blobs-schema.ts';
import type { Logger } from '../log.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import type { S3BlobStore } from './s3/s3-blob-store.ts';

export interface OpenBlobStoreOptions {
  blobs: BlobsConfig;
  dataDir: string;
  /** The Redis URL of `state:` (blob records live beside the state). */
  stateBackend: string;
  tempMaxAgeMs: number;
  /** cache.maxSize: the budget of the local tier in front of the bucket. */
  maxSizeBytes: number;
  /** cache.gcGrace: GC keeps blobs stored less than this long ago. */
  gcGraceMs: number;
  readOnly?: boolean;
  log: Logger;
}

/** The configured blob store: FsBlobStore under dataDir/blobs, or S3BlobStore with that directory as its local tier. */
export async function openBlobStore(o: OpenBlobStoreOptions): Promise<{ store: BlobStore; s3?: S3BlobStore }> {
  const local = await FsBlobStore.open(join(o.dataDir, 'blobs'), { logger: o.log, tempMaxAgeMs: o.tempMaxAgeMs, ...(o.readOnly ? { readOnly: true } : {}) });
  if (o.blobs.type === 'fs') return { store: local };
  try {
    // loaded only when configured: the S3 client and redis cost a single-node command a few hundred ms of start-up
    const [{ RedisBlobRecords }, { S3Bucket }, { S3BlobStore }] = await Promise.all([
      import('./s3/redis-blob-records.ts'), import('./s3/s3-bucket.ts'), import('./s3/s3-blob-store.ts'),
    ]);
    const records = await RedisBlobRecords.open(o.stateBackend);
    const s3 = new S3BlobStore({ bucket: new S3Bucket(o.blobs), records, local, uploadMaxAgeMs: o.tempMaxAgeMs, localMaxBytes: o.maxSizeBytes, gcGraceMs: o.gcGraceMs, log: o.log });
    return { store: s3, s3 };
  } catch (err) {
    await local.close();
    throw err;
  }
}
