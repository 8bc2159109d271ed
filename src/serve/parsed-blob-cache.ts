import { LRUCache } from 'lru-cache';
import type { BlobStore } from '../blobs/blob-store.ts';

/**
 * Parsed metadata (Release, repomd) by blob: blobs are immutable, so a parse is reused until evicted.
 * Bounded by the bytes parsed, not by count: one huge Release must not pin hundreds of megabytes.
 */
export class ParsedBlobCache<T> {
  readonly #blobs: BlobStore;
  readonly #parse: (text: string) => T;
  readonly #maxBlobBytes: number;
  readonly #cache: LRUCache<string, { value: T; bytes: number }>;

  constructor(blobs: BlobStore, parse: (text: string) => T, opts: { maxBytes: number; maxBlobBytes: number }) {
    this.#blobs = blobs;
    this.#parse = parse;
    this.#maxBlobBytes = opts.maxBlobBytes;
    this.#cache = new LRUCache({ maxSize: opts.maxBytes, sizeCalculation: (e) => Math.max(1, e.bytes) });
  }

  async get(sha256: string): Promise<T> {
    const hit = this.#cache.get(sha256);
    if (hit) return hit.value;
    const raw = await this.#blobs.readAll(sha256, this.#maxBlobBytes);
    const value = this.#parse(raw.toString('utf8'));
    this.set(sha256, value, raw.length);
    return value;
  }

  /** Remembers a parse made from bytes still in hand (right after verification). */
  set(sha256: string, value: T, bytes: number): void {
    // An entry larger than the whole cache is simply not kept (lru-cache would throw).
    if (bytes <= this.#cache.maxSize) this.#cache.set(sha256, { value, bytes });
  }
}
