import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { BlobInfo, BlobStore, BlobWriter, BulkBlobAccess, ByteRange, CreateWriterOptions } from './blob-store.ts';

export interface HotBlob {
  info: BlobInfo;
  /** Whole content for small blobs; absent for large ones (streamed from the store). */
  data?: Buffer;
}

export interface HotCacheOptions {
  /** Bytes of small blob content kept in memory. */
  maxBytes: number;
  /** Blobs up to this size are kept whole. */
  maxItemBytes: number;
  /** How long a stat result is trusted (another process may gc the blob). */
  statTtlMs: number;
}

const HOT_CACHE_DEFAULTS: HotCacheOptions = { maxBytes: 256 * 2 ** 20, maxItemBytes: 2 ** 20, statTtlMs: 5000 };

/** A BlobStore that also answers hot lookups from memory. */
export interface HotBlobStore extends BlobStore {
  /** A small blob whose bytes and (fresh) stat are in memory: a map lookup, no I/O. */
  cached(sha256: string): HotBlob | undefined;
  /** stat (trusted for statTtlMs) plus, for a small blob, its bytes: read once, then kept. */
  lookup(sha256: string): Promise<HotBlob | undefined>;
}

/**
 * Blobs are immutable, so their content and metadata can be cached without invalidation: a hot hit
 * is a map lookup and one write, with no stat, open or read. Only deletion (gc, verify) can make an
 * entry wrong: delete() through this store forgets it, and stat results expire after a few seconds
 * for deletions by another process. Every other call goes straight to the store underneath.
 */
export function withHotCache(store: BlobStore, opts: Partial<HotCacheOptions> = {}): HotBlobStore {
  return new HotCachedBlobStore(store, { ...HOT_CACHE_DEFAULTS, ...opts });
}

class HotCachedBlobStore implements HotBlobStore {
  readonly #inner: BlobStore;
  readonly bulk?: (opts: { sync: boolean }) => BulkBlobAccess;
  readonly #data: LRUCache<string, Buffer>;
  readonly #stats: LRUCache<string, BlobInfo>;
  readonly #maxItem: number;
  /** Bumped by every delete: a lookup that overlapped one does not fill the cache. */
  #deletes = 0;

  constructor(inner: BlobStore, opts: HotCacheOptions) {
    this.#inner = inner;
    // bulk reads bypass the cache (an export would evict the serving set); bulk writes add new blobs only
    if (inner.bulk) this.bulk = (o) => inner.bulk!(o);
    this.#maxItem = opts.maxItemBytes;
    this.#data = new LRUCache<string, Buffer>({ maxSize: Math.max(1, opts.maxBytes), sizeCalculation: (b) => Math.max(1, b.length) });
    this.#stats = new LRUCache<string, BlobInfo>({ max: 100_000, ttl: opts.statTtlMs });
  }

  cached(sha256: string): HotBlob | undefined {
    const info = this.#stats.get(sha256);
    const data = info && this.#data.get(sha256);
    return info && data ? { info, data } : undefined;
  }

  async lookup(sha256: string): Promise<HotBlob | undefined> {
    const hit = this.cached(sha256);
    if (hit) return hit;
    const deletes = this.#deletes;
    const info = this.#stats.get(sha256) ?? (await this.#inner.stat(sha256));
    if (!info) return undefined;
    if (deletes === this.#deletes) this.#stats.set(sha256, info);
    if (info.size > this.#maxItem) return { info };
    const cached = this.#data.get(sha256);
    if (cached) return { info, data: cached };
    try {
      const data = await this.#inner.readAll(sha256, this.#maxItem);
      if (data.length !== info.size) return { info };
      if (deletes === this.#deletes) this.#data.set(sha256, data);
      return { info, data };
    } catch {
      this.#stats.delete(sha256);
      return undefined;
    }
  }

  async delete(sha256: string): Promise<boolean> {
    this.#deletes++;
    this.#forget(sha256);
    try {
      return await this.#inner.delete(sha256);
    } finally {
      this.#forget(sha256);
    }
  }

  #forget(sha256: string): void {
    this.#stats.delete(sha256);
    this.#data.delete(sha256);
  }

  stat(sha256: string): Promise<BlobInfo | undefined> {
    return this.#inner.stat(sha256);
  }

  open(sha256: string, range?: ByteRange): Readable {
    return this.#inner.open(sha256, range);
  }

  readAll(sha256: string, maxBytes?: number): Promise<Buffer> {
    return this.#inner.readAll(sha256, maxBytes);
  }

  lastAccess(sha256: string): Promise<number | undefined> {
    return this.#inner.lastAccess(sha256);
  }

  createWriter(opts?: CreateWriterOptions): Promise<BlobWriter> {
    return this.#inner.createWriter(opts);
  }

  list(): AsyncIterable<BlobInfo> {
    return this.#inner.list();
  }

  removeTempFiles(): Promise<number> {
    return this.#inner.removeTempFiles();
  }

  totals(): Promise<{ count: number; bytes: number }> {
    return this.#inner.totals();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
