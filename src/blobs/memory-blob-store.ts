import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { RepointError } from '../errors.ts';
import { DEFAULT_READ_ALL_MAX, type BlobInfo, type BlobStore, type BlobWriter, type ByteRange } from './blob-store.ts';
import { assertByteRange, assertSha256Hex } from './blob-paths.ts';
import { MemoryBlobWriter } from './memory-blob-writer.ts';

export interface StoredBlob {
  data: Buffer;
  mtimeMs: number;
  /** Last read or the commit, for lastAccess(). */
  accessedMs: number;
}

/**
 * What a MemoryBlobStore keeps, apart from the store object: a test can "restart" by opening a new
 * store over the same storage, as a process reopens a data directory. Temp entries of writers
 * that never finished stay until removeTempFiles(), as temp files do after a crash.
 */
export class MemoryBlobStorage {
  readonly blobs = new Map<string, StoredBlob>();
  readonly temps = new Set<string>();
  /** Running totals, kept apart from `blobs` like totals.json (never recounted). */
  readonly totals = { count: 0, bytes: 0 };
}

/** An in-memory BlobStore with the same contract as FsBlobStore: for tests and single-process tools. */
export class MemoryBlobStore implements BlobStore {
  readonly storage: MemoryBlobStorage;
  readonly #active = new Set<string>();

  constructor(storage: MemoryBlobStorage = new MemoryBlobStorage()) {
    this.storage = storage;
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    assertSha256Hex(sha256);
    const b = this.storage.blobs.get(sha256);
    return b ? { sha256, size: b.data.length, mtimeMs: b.mtimeMs } : undefined;
  }

  open(sha256: string, range?: ByteRange): Readable {
    assertSha256Hex(sha256);
    assertByteRange(range);
    const b = this.storage.blobs.get(sha256);
    if (!b) {
      return new Readable({ read() { this.destroy(new RepointError('NOT_FOUND', `blob ${sha256} is not in the store`)); } });
    }
    b.accessedMs = Date.now();
    return Readable.from([b.data.subarray(range?.start ?? 0, range ? range.end + 1 : undefined)]);
  }

  async readAll(sha256: string, maxBytes = DEFAULT_READ_ALL_MAX): Promise<Buffer> {
    assertSha256Hex(sha256);
    const b = this.storage.blobs.get(sha256);
    if (!b) throw new RepointError('NOT_FOUND', `blob ${sha256} is not in the store`);
    if (b.data.length > maxBytes) throw new RepointError('INTERNAL', `blob ${sha256} has ${b.data.length} bytes, more than the ${maxBytes} allowed here`);
    b.accessedMs = Date.now();
    return Buffer.from(b.data);
  }

  async lastAccess(sha256: string): Promise<number | undefined> {
    assertSha256Hex(sha256);
    const b = this.storage.blobs.get(sha256);
    return b ? Math.max(b.accessedMs, b.mtimeMs) : undefined;
  }

  async createWriter(): Promise<BlobWriter> {
    const id = randomUUID();
    this.storage.temps.add(id);
    this.#active.add(id);
    return new MemoryBlobWriter({
      place: (sha256, data, mtimeMs) => this.#place(id, sha256, data, mtimeMs),
      discard: () => this.#finish(id),
      present: () => this.storage.temps.has(id),
    });
  }

  async delete(sha256: string): Promise<boolean> {
    assertSha256Hex(sha256);
    const b = this.storage.blobs.get(sha256);
    if (!b) return false;
    this.storage.blobs.delete(sha256);
    this.storage.totals.count--;
    this.storage.totals.bytes -= b.data.length;
    return true;
  }

  /** The Map's iterator is live: blobs deleted meanwhile are skipped, nothing is copied. */
  async *list(): AsyncIterable<BlobInfo> {
    for (const [sha256, b] of this.storage.blobs) yield { sha256, size: b.data.length, mtimeMs: b.mtimeMs };
  }

  async removeTempFiles(): Promise<number> {
    let removed = 0;
    for (const id of this.storage.temps) {
      if (this.#active.has(id)) continue;
      this.storage.temps.delete(id);
      removed++;
    }
    return removed;
  }

  async totals(): Promise<{ count: number; bytes: number }> {
    return { ...this.storage.totals };
  }

  async close(): Promise<void> {}

  /** Commits, unless removeTempFiles() took the temp entry away (a "restart" happened). */
  #place(id: string, sha256: string, data: Buffer, mtimeMs: number): BlobInfo {
    const temp = this.storage.temps.has(id);
    this.#finish(id);
    if (!temp) throw new RepointError('INTERNAL', 'the temp data of this blob writer was removed');
    const now = Date.now();
    if (!this.storage.blobs.has(sha256)) {
      this.storage.blobs.set(sha256, { data, mtimeMs, accessedMs: now });
      this.storage.totals.count++;
      this.storage.totals.bytes += data.length;
    }
    return { sha256, size: data.length, mtimeMs: this.storage.blobs.get(sha256)?.mtimeMs ?? mtimeMs };
  }

  #finish(id: string): void {
    this.storage.temps.delete(id);
    this.#active.delete(id);
  }
}
