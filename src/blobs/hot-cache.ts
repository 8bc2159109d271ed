import { readFile } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import type { BlobInfo, BlobStore } from './blob-store.ts';

export interface HotBlob {
  info: BlobInfo;
  /** Whole content for small blobs; absent for large ones (served from disk). */
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

/**
 * Blobs are immutable, so their content and metadata can be cached without invalidation: a hot hit
 * is a map lookup and one write, with no stat, open or read. Only deletion (gc, verify) can make an
 * entry wrong, so stat results expire after a few seconds; content in memory stays correct anyway.
 */
export class HotBlobCache {
  #blobs: BlobStore;
  #data: LRUCache<string, Buffer>;
  #stats: LRUCache<string, BlobInfo>;
  #maxItem: number;

  constructor(blobs: BlobStore, opts: HotCacheOptions) {
    this.#blobs = blobs;
    this.#maxItem = opts.maxItemBytes;
    this.#data = new LRUCache<string, Buffer>({ maxSize: Math.max(1, opts.maxBytes), sizeCalculation: (b) => Math.max(1, b.length) });
    this.#stats = new LRUCache<string, BlobInfo>({ max: 100_000, ttl: opts.statTtlMs });
  }

  async get(sha256: string): Promise<HotBlob | undefined> {
    let info = this.#stats.get(sha256);
    const cached = this.#data.get(sha256);
    if (info && cached) return { info, data: cached };
    info ??= await this.#blobs.stat(sha256);
    if (!info) return undefined;
    this.#stats.set(sha256, info);
    if (info.size > this.#maxItem) return { info };
    if (cached) return { info, data: cached };
    try {
      const data = await readFile(this.#blobs.filePath(sha256));
      if (data.length !== info.size) return { info };
      this.#data.set(sha256, data);
      return { info, data };
    } catch {
      this.#stats.delete(sha256);
      return undefined;
    }
  }

  forget(sha256: string): void {
    this.#stats.delete(sha256);
    this.#data.delete(sha256);
  }
}
