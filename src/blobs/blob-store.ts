import type { Readable } from 'node:stream';

export interface BlobInfo {
  sha256: string;
  size: number;
  /** Upstream Last-Modified when known (set at commit), else commit time. */
  mtimeMs: number;
}

/**
 * A blob being written. Bytes land in a temp file that followers may read while it grows;
 * nothing is visible under its content address until commit().
 */
export interface BlobWriter {
  /** Path of the temp file; readable (positional reads) while writing, for followers. */
  readonly tempPath: string;
  readonly bytesWritten: number;
  write(chunk: Uint8Array): Promise<void>;
  /**
   * fsync, then rename to sha256/<ab>/<cd>/<hex>. The writer hashes what it wrote; when
   * expectSha256 is given and differs, it aborts and throws RepointError UPSTREAM_DIGEST_MISMATCH.
   */
  commit(opts?: { expectSha256?: string; mtime?: Date }): Promise<BlobInfo>;
  /** Remove the temp file. Safe to call more than once and after commit (no-op then). */
  abort(): Promise<void>;
}

export interface ByteRange {
  /** inclusive */
  start: number;
  /** inclusive */
  end: number;
}

export interface BlobStore {
  stat(sha256: string): Promise<BlobInfo | undefined>;
  /** Absolute file path of a committed blob (fs stores only; used for zero-copy sends). */
  filePath(sha256: string): string;
  createReadStream(sha256: string, range?: ByteRange): Readable;
  /** A whole small blob (metadata); refuses one larger than maxBytes. Throws NOT_FOUND when absent. */
  readAll(sha256: string, maxBytes?: number): Promise<Buffer>;
  createWriter(): Promise<BlobWriter>;
  delete(sha256: string): Promise<boolean>;
  /** Streams every committed blob; never loads the whole list. */
  list(): AsyncIterable<BlobInfo>;
  /** Start-up recovery: delete leftover temp files from a crash. Returns how many. */
  removeTempFiles(): Promise<number>;
  /** Running totals, kept without a rescan at start-up. */
  totals(): Promise<{ count: number; bytes: number }>;
}
