import type { Readable } from 'node:stream';

export interface BlobInfo {
  sha256: string;
  size: number;
  /** Upstream Last-Modified when known (set at commit), else commit time. */
  mtimeMs: number;
  /**
   * Set by list() of a shared store: GC leaves the blob alone until then (a grace period after it was
   * stored, while another node may be about to write the pointer or checkpoint that names it).
   */
  keepUntilMs?: number;
}

export interface ByteRange {
  /** inclusive */
  start: number;
  /** inclusive */
  end: number;
}

/**
 * Positional reads of the bytes a writer has written so far, for followers of a download in
 * progress. Opened before commit, it keeps reading the same bytes after commit; it fails once the
 * writer was aborted (or its commit failed), so a follower never finishes a discarded blob.
 */
export interface WrittenBytesReader {
  /** Up to `length` bytes at `position`; never beyond bytesWritten at the time of the call; empty past it. */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** A blob being written. Nothing is visible under its content address until commit(). */
export interface BlobWriter {
  readonly bytesWritten: number;
  write(chunk: Uint8Array): Promise<void>;
  /**
   * A reader of what has been written (and, after commit, of the committed blob). Rejects after
   * abort. Each reader holds resources until close().
   */
  openReader(): Promise<WrittenBytesReader>;
  /**
   * Make the blob durable and visible under its sha256. The writer hashes what it wrote; when
   * expectSha256 is given and differs, it aborts and throws RepointError UPSTREAM_DIGEST_MISMATCH.
   */
  commit(opts?: { expectSha256?: string; mtime?: Date }): Promise<BlobInfo>;
  /** Discard what was written. Safe to call more than once and after commit (no-op then). */
  abort(): Promise<void>;
}

/** One blob being added to a batch: its bytes are hashed as they are written. */
export interface BlobBatchEntry {
  write(chunk: Uint8Array): Promise<void>;
  /** Checks the sha256 given to add() (UPSTREAM_DIGEST_MISMATCH, and the bytes are gone, if not); the blob then waits for flush(). */
  finish(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Blobs stored in bulk (an import): nothing is visible until flush(), which makes the waiting blobs
 * durable with one barrier and then visible; close() also makes that visibility durable.
 */
export interface BlobBatch {
  readonly pending: { count: number; bytes: number };
  /**
   * A new entry for a blob of `size` bytes that must hash to `expectSha256`. `callerVerifies`: the
   * caller hashes the bytes itself and calls finish() only when they matched (abort() otherwise),
   * so the batch does not hash them a second time.
   */
  add(expectSha256: string, size: number, opts?: { callerVerifies?: boolean }): Promise<BlobBatchEntry>;
  /** Whether the store has this blob already (cheap when the batch knows its fan-out directory is missing). */
  contains(sha256: string): Promise<boolean>;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Drops blobs not flushed yet. */
  abort(): Promise<void>;
}

/**
 * Many blobs read or written by one command (export, import). `sync: true` is for a process that
 * does nothing else meanwhile (a CLI command): system calls then run on the calling thread, with no
 * thread-pool round trip per file.
 */
export interface BulkBlobAccess {
  /** Size of a stored blob; undefined when missing. */
  size(sha256: string): Promise<number | undefined>;
  /** size() of many blobs at once (in order): off the calling thread where the store can. */
  sizes(sha256s: readonly string[]): Promise<Array<number | undefined>>;
  /**
   * The whole blob when it has at most maxBytes (else undefined); NOT_FOUND when missing. With
   * `size` known (a manifest's), exactly that many bytes are read, without a stat; the caller hashes them.
   */
  readSmall(sha256: string, maxBytes: number, size?: number): Promise<Buffer | undefined>;
  /** Exactly target.length bytes of the blob into target (an export's output chunk: no buffer per blob); the caller hashes them. */
  readInto(sha256: string, target: Uint8Array): Promise<void>;
  createBatch(): BlobBatch;
}

/**
 * Content-addressed, immutable blobs. No filesystem path crosses this seam, so a backend may keep
 * blobs anywhere. What an object-storage (S3) backend needs, and why the interface allows it:
 * - writes go to a LOCAL temp file (the "temp tier") and, alongside, a multipart upload; followers
 *   tail the local file through BlobWriter.openReader, commit completes the upload only after the
 *   digest verified (conditional create, so concurrent nodes race safely) and abort cancels it;
 * - reads are streams with an optional range (ranged GETs), readAll is for small metadata only;
 * - object stores keep no atime: lastAccess may come from its own record (state) instead;
 * - list() streams (paginated listing), totals() is a running count kept without a rescan;
 * - removeTempFiles() clears abandoned temp data (and may abort stale multipart uploads); close()
 *   flushes whatever the backend keeps in memory.
 * Invalid names (not lowercase sha256 hex) are RepointError BAD_PATH: thrown by open(), rejected
 * by the async methods.
 */
export interface BlobStore {
  stat(sha256: string): Promise<BlobInfo | undefined>;
  /** The blob's bytes (a range when given, inclusive); a missing blob makes the stream error. Throws BAD_RANGE on an invalid range. */
  open(sha256: string, range?: ByteRange): Readable;
  /** The whole blob in memory, for small metadata; rejects NOT_FOUND when missing, INTERNAL when larger than maxBytes (default 64 MiB). */
  readAll(sha256: string, maxBytes?: number): Promise<Buffer>;
  /** When the blob was last read or written (epoch ms), for least-recently-used eviction; undefined when missing. */
  lastAccess(sha256: string): Promise<number | undefined>;
  /**
   * A writer for a new blob. `expectSha256`, when the caller knows the content address up front, is a
   * hint: an object store starts its upload under the final key while the bytes arrive (the digest
   * is still verified at commit, which is given the expectation again).
   */
  createWriter(opts?: CreateWriterOptions): Promise<BlobWriter>;
  delete(sha256: string): Promise<boolean>;
  /** Streams every committed blob; never loads the whole list. */
  list(): AsyncIterable<BlobInfo>;
  /**
   * Deletes temp data proven abandoned (its writer is gone, or it is older than the store's age
   * limit); never another live process's or node's download. Run at start-up and periodically.
   * Returns how many.
   */
  removeTempFiles(): Promise<number>;
  /** Running totals, kept without a rescan at start-up. */
  totals(): Promise<{ count: number; bytes: number }>;
  /** Persist what must survive a restart (running totals); the store is not used afterwards. */
  close(): Promise<void>;
  /** Bulk access (optional: callers fall back to the calls above). */
  bulk?(opts: { sync: boolean }): BulkBlobAccess;
}

export interface CreateWriterOptions {
  expectSha256?: string;
}

/** Cap of readAll when the caller gives none: it is for metadata, never for packages. */
export const DEFAULT_READ_ALL_MAX = 64 * 2 ** 20;
