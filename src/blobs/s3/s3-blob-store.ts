import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { isRepointError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../log.ts';
import type { BlobRecords } from '../blob-records.ts';
import { DEFAULT_READ_ALL_MAX, type BlobInfo, type BlobStore, type BlobWriter, type ByteRange, type CreateWriterOptions } from '../blob-store.ts';
import { assertByteRange, assertSha256Hex, blobPath } from '../blob-paths.ts';
import { openBlobFile } from '../blob-file.ts';
import type { FsBlobStore } from '../fs-blob-store.ts';
import { lazyReadable, readCapped } from './lazy-stream.ts';
import { trimLocalTier } from './local-tier.ts';
import type { S3Bucket } from './s3-bucket.ts';
import { S3BlobWriter } from './s3-blob-writer.ts';

export interface S3BlobStoreOptions {
  bucket: S3Bucket;
  /** Sizes, upstream mtimes, last access and running totals (Redis in a cluster). */
  records: BlobRecords;
  /**
   * Local disk: temp files of downloads in progress (followers tail them) and the read-through tier,
   * so hot hits never leave the node.
   */
  local: FsBlobStore;
  /** Multipart uploads started this long ago and never completed are aborted (default 24 h). */
  uploadMaxAgeMs?: number;
  /** Part size of uploads (default 8 MiB, at least 5 MiB). */
  partSize?: number;
  /** Budget of the local tier (cache.maxSize); least recently used local copies go beyond it (default: no limit). */
  localMaxBytes?: number;
  /** Blobs larger than this are never copied into the local tier (default: half the local budget). */
  tierMaxItemBytes?: number;
  /** list() marks blobs stored less than this long ago as kept by GC (keepUntilMs; default 15 min). */
  gcGraceMs?: number;
  /** A blob's last access is written to the records at most this often per node (default 60 s). */
  touchEveryMs?: number;
  log?: Logger;
}

const MiB = 1024 * 1024;
/** Long enough to start a download; S3 checks expiry when the request starts, not while it streams. */
const PRESIGN_EXPIRES_S = 900;

/**
 * Blobs in S3-compatible object storage, keyed `sha256/<ab>/<cd>/<hex>` as on disk, with local disk
 * in front: the local store holds downloads in progress and is a read-through tier (a hit is a local
 * open; a miss streams from the bucket, ranges included, and copies the blob in behind). Object
 * stores keep no atime and their listing is paginated: last access and running totals live in the
 * shared records instead. The bucket is the truth about which blobs exist; a local copy of a blob
 * deleted from the bucket is only a cache entry.
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: S3Bucket;
  readonly local: FsBlobStore;
  readonly #records: BlobRecords;
  readonly #o: Required<Omit<S3BlobStoreOptions, 'bucket' | 'records' | 'local'>>;
  /** Copies into the local tier in flight, by sha256: one per blob per node. */
  readonly #promoting = new Map<string, Promise<void>>();
  readonly #touched: LRUCache<string, number>;
  #trimming: Promise<unknown> | undefined;
  /** Whether the bucket has a blob, for presign: kept 30 s (a collected blob 404s at most that long). */
  readonly #inBucket = new LRUCache<string, boolean>({ max: 100_000, ttl: 30_000 });

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    this.local = opts.local;
    this.#records = opts.records;
    this.#o = {
      uploadMaxAgeMs: opts.uploadMaxAgeMs ?? 24 * 3600_000,
      partSize: Math.max(5 * MiB, opts.partSize ?? 8 * MiB),
      localMaxBytes: opts.localMaxBytes ?? Number.MAX_SAFE_INTEGER,
      tierMaxItemBytes: opts.tierMaxItemBytes ?? Math.floor((opts.localMaxBytes ?? Number.MAX_SAFE_INTEGER) / 2),
      touchEveryMs: opts.touchEveryMs ?? 60_000,
      gcGraceMs: opts.gcGraceMs ?? 15 * 60_000,
      log: opts.log ?? silentLogger,
    };
    this.#touched = new LRUCache({ max: 100_000 });
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    assertSha256Hex(sha256);
    const local = await this.local.stat(sha256);
    if (local) return local;
    const [head, rec] = await Promise.all([this.bucket.head(sha256), this.#records.get(sha256).catch(() => undefined)]);
    if (!head) return undefined;
    return { sha256, size: head.size, mtimeMs: head.mtimeMs ?? rec?.mtimeMs ?? head.lastModifiedMs };
  }

  open(sha256: string, range?: ByteRange): Readable {
    assertSha256Hex(sha256);
    assertByteRange(range);
    this.#touch(sha256);
    // The tier may drop a local copy at any moment, even one stat() just found: open it once and read
    // that descriptor (an open file survives unlink); a copy already gone streams from the bucket.
    return lazyReadable(async () => {
      const local = await openBlobFile(blobPath(this.local.dir, sha256), range);
      if (local) return local;
      this.#promote(sha256);
      return this.bucket.get(sha256, range);
    });
  }

  async readAll(sha256: string, maxBytes = DEFAULT_READ_ALL_MAX): Promise<Buffer> {
    assertSha256Hex(sha256);
    this.#touch(sha256);
    try {
      return await this.local.readAll(sha256, maxBytes);
    } catch (err) {
      if (!isRepointError(err, 'NOT_FOUND')) throw err;
    }
    const data = await readCapped(this.bucket.get(sha256), maxBytes, sha256);
    await this.#stage(sha256, data).catch((e: unknown) => this.#o.log.warn('copying a blob into the local tier failed', { sha256, reason: (e as Error).message }));
    return data;
  }

  async lastAccess(sha256: string): Promise<number | undefined> {
    assertSha256Hex(sha256);
    const rec = await this.#records.get(sha256);
    if (rec) return rec.lastAccessMs;
    return (await this.bucket.head(sha256))?.lastModifiedMs; // stored by hand, or its record was lost
  }

  async createWriter(opts: CreateWriterOptions = {}): Promise<BlobWriter> {
    const local = await this.local.createWriter();
    return new S3BlobWriter(local, {
      bucket: this.bucket,
      partSize: this.#o.partSize,
      queueSize: 2,
      stored: async (info) => {
        await this.#records.add(info.sha256, info.size, info.mtimeMs, Date.now());
        this.#trimSoon();
      },
      unstage: async (sha) => { await this.local.delete(sha); },
      log: this.#o.log,
    }, opts.expectSha256);
  }

  async delete(sha256: string): Promise<boolean> {
    assertSha256Hex(sha256);
    const existed = (await this.bucket.head(sha256)) !== undefined;
    this.#inBucket.delete(sha256);
    if (existed) await this.bucket.delete(sha256);
    const recorded = await this.#records.remove(sha256);
    await this.#promoting.get(sha256)?.catch(() => {});
    await this.local.delete(sha256);
    return existed || recorded;
  }

  async *list(): AsyncIterable<BlobInfo> {
    // LastModified of a content-addressed object is when it was stored (upstream's mtime is in the records)
    for await (const o of this.bucket.list()) yield { sha256: o.sha256, size: o.size, mtimeMs: o.lastModifiedMs, keepUntilMs: o.lastModifiedMs + this.#o.gcGraceMs };
  }

  /**
   * Local temp files proven abandoned (as FsBlobStore) and multipart uploads older than the age limit
   * (their writer on some node is long gone; a bucket lifecycle rule for incomplete uploads is the
   * backstop). Never by "whoever starts": an upload younger than the limit may be another node's.
   */
  async removeTempFiles(): Promise<number> {
    let removed = await this.local.removeTempFiles();
    const cutoff = Date.now() - this.#o.uploadMaxAgeMs;
    for await (const u of this.bucket.uploads()) {
      if (u.initiatedMs >= cutoff) continue;
      await this.bucket.abortUpload(u);
      removed++;
    }
    return removed;
  }

  totals(): Promise<{ count: number; bytes: number }> {
    return this.#records.totals();
  }

  /**
   * A presigned URL of the blob's object for `method` (a GET-signed URL is 403 on HEAD), whose
   * response says Cache-Control immutable; undefined when the bucket does not have the blob (a local
   * copy of a blob collected meanwhile is served by the node itself). Presence is cached briefly.
   */
  async presign(sha256: string, method: 'GET' | 'HEAD', cacheControl: string): Promise<string | undefined> {
    assertSha256Hex(sha256);
    let present = this.#inBucket.get(sha256);
    if (present === undefined) {
      present = (await this.bucket.head(sha256)) !== undefined;
      this.#inBucket.set(sha256, present);
    }
    if (!present) return undefined;
    this.#touch(sha256);
    return this.bucket.presign(sha256, method, PRESIGN_EXPIRES_S, cacheControl);
  }

  /** Redis and the bucket both answer (the /-/ready check). */
  async ready(): Promise<void> {
    await Promise.all([this.#records.ping(), this.bucket.check()]);
  }

  /** Drops least recently used local copies until the local tier fits its budget (one run at a time). */
  trimLocal(): Promise<unknown> {
    this.#trimming ??= trimLocalTier(this.local, this.#o.localMaxBytes, (sha) => this.#touched.get(sha), this.#o.log)
      .catch((err: unknown) => this.#o.log.warn('trimming the local tier failed', { reason: (err as Error).message }))
      .finally(() => { this.#trimming = undefined; });
    return this.#trimming;
  }

  #trimSoon(): void {
    void this.local.totals().then(({ bytes }) => { if (bytes > this.#o.localMaxBytes) void this.trimLocal(); });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#promoting.values());
    await this.#trimming;
    await this.local.close();
    await this.#records.close();
    this.bucket.destroy();
  }

  /** Records the access, at most every touchEveryMs per blob from this node; never fails a read. */
  #touch(sha256: string): void {
    const now = Date.now();
    if (now - (this.#touched.get(sha256) ?? 0) < this.#o.touchEveryMs) return;
    this.#touched.set(sha256, now);
    this.#records.touch(sha256, now).catch((err: unknown) => this.#o.log.debug('recording a blob access failed', { sha256, reason: (err as Error).message }));
  }

  /** Copies a blob from the bucket into the local tier in the background (verified by its digest). */
  #promote(sha256: string): void {
    if (this.#promoting.has(sha256)) return;
    const run = (async () => {
      const [head, rec] = await Promise.all([this.bucket.head(sha256), this.#records.get(sha256).catch(() => undefined)]);
      if (!head || head.size > this.#o.tierMaxItemBytes) return;
      const w = await this.local.createWriter();
      try {
        for await (const chunk of this.bucket.get(sha256)) await w.write(chunk as Buffer);
        await w.commit({ expectSha256: sha256, mtime: new Date(head.mtimeMs ?? rec?.mtimeMs ?? head.lastModifiedMs) });
        this.#trimSoon();
      } finally {
        await w.abort();
      }
    })().catch((err: unknown) => this.#o.log.warn('copying a blob into the local tier failed', { sha256, reason: (err as Error).message }))
      .finally(() => this.#promoting.delete(sha256));
    this.#promoting.set(sha256, run);
  }

  async #stage(sha256: string, data: Buffer): Promise<void> {
    if (data.length > this.#o.tierMaxItemBytes) return;
    const w = await this.local.createWriter();
    try {
      await w.write(data);
      await w.commit({ expectSha256: sha256 });
      this.#trimSoon();
    } finally {
      await w.abort();
    }
  }
}
