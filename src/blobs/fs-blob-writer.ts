import { createHash, type Hash } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { RepointError } from '../errors.ts';
import type { BlobInfo, BlobWriter, WrittenBytesReader } from './blob-store.ts';
import { errCode } from './fs-durable.ts';
import { storageError } from './storage-error.ts';

/** What the store lends a writer: placing a finished, fsynced temp file, and where blobs live. */
export interface FsWriterHooks {
  place(tempPath: string, sha256: string, size: number): Promise<BlobInfo>;
  /** Called once the temp file is gone (committed or discarded). */
  onDone(tempPath: string): void;
  committedPath(sha256: string): string;
}

type WriterState = 'open' | 'committing' | 'done';

const closedError = (): RepointError => new RepointError('INTERNAL', 'blob writer is closed');

/**
 * Appends to a temp file while hashing; readers (openReader) read it with positional reads up to
 * bytesWritten. Writes are chained so callers that forget to await still get bytes in order.
 */
export class FsBlobWriter implements BlobWriter {
  readonly #tempPath: string;
  readonly #fh: FileHandle;
  readonly #hash: Hash = createHash('sha256');
  readonly #hooks: FsWriterHooks;
  #bytes = 0;
  #state: WriterState = 'open';
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown;
  #commit: Promise<BlobInfo> | undefined;
  #fhClosed = false;
  /** Set once the written bytes were thrown away (abort, failed commit): readers must fail. */
  #discarded = false;

  constructor(fh: FileHandle, tempPath: string, hooks: FsWriterHooks) {
    this.#fh = fh;
    this.#tempPath = tempPath;
    this.#hooks = hooks;
  }

  get bytesWritten(): number {
    return this.#bytes;
  }

  get discarded(): boolean {
    return this.#discarded;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(closedError());
    const p = this.#tail.then(() => this.#append(chunk));
    this.#tail = p.catch((err: unknown) => {
      this.#failure ??= err;
    });
    return p;
  }

  async openReader(): Promise<WrittenBytesReader> {
    if (this.#discarded) {
      await this.#commit; // a failed commit: its error says why
      throw closedError();
    }
    if (!this.#commit) {
      try {
        return new FsWrittenBytesReader(await open(this.#tempPath, 'r'), this);
      } catch (err) {
        // a commit may have moved the file between our check and the open
        if (errCode(err) !== 'ENOENT' || !this.#commit) throw err;
      }
    }
    // An open handle follows the file through link/unlink; a reader opened later finds it by name.
    const info = await this.#commit;
    return new FsWrittenBytesReader(await open(this.#hooks.committedPath(info.sha256), 'r'), this);
  }

  commit(opts: { expectSha256?: string; mtime?: Date } = {}): Promise<BlobInfo> {
    if (this.#commit) return this.#commit;
    if (this.#state !== 'open') return Promise.reject(closedError());
    this.#state = 'committing';
    this.#commit = this.#doCommit(opts);
    return this.#commit;
  }

  async abort(): Promise<void> {
    if (this.#commit) {
      // Committing or committed: commit cleans up after itself on failure.
      await this.#commit.catch(() => {});
      return;
    }
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#discarded = true;
    await this.#tail;
    await this.#cleanup();
  }

  async #append(chunk: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    let off = 0;
    try {
      while (off < chunk.byteLength) {
        const { bytesWritten } = await this.#fh.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    } catch (err) {
      throw storageError(err, 'writing a blob');
    }
    this.#hash.update(chunk);
    this.#bytes += chunk.byteLength;
  }

  async #doCommit(opts: { expectSha256?: string; mtime?: Date }): Promise<BlobInfo> {
    try {
      await this.#tail;
      if (this.#failure !== undefined) throw this.#failure;
      const actual = this.#hash.digest('hex');
      const expected = opts.expectSha256?.toLowerCase();
      if (expected !== undefined && expected !== actual) {
        throw new RepointError('UPSTREAM_DIGEST_MISMATCH', `sha256 mismatch: expected ${expected}, got ${actual}`, {
          expected,
          actual,
          size: this.#bytes,
        });
      }
      await this.#fh.sync();
      if (opts.mtime) await this.#fh.utimes(new Date(), opts.mtime);
      await this.#closeFh();
      const info = await this.#hooks.place(this.#tempPath, actual, this.#bytes);
      this.#state = 'done';
      this.#hooks.onDone(this.#tempPath);
      return info;
    } catch (err) {
      this.#state = 'done';
      this.#discarded = true;
      await this.#cleanup();
      throw storageError(err, 'committing a blob');
    }
  }

  async #closeFh(): Promise<void> {
    if (this.#fhClosed) return;
    this.#fhClosed = true;
    await this.#fh.close();
  }

  async #cleanup(): Promise<void> {
    try {
      await this.#closeFh();
    } catch {
      // the temp file is deleted next; a close error changes nothing
    }
    try {
      await unlink(this.#tempPath);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    } finally {
      this.#hooks.onDone(this.#tempPath);
    }
  }
}

/** Its own read-only handle on the temp file (which stays valid when the file is linked into place). */
class FsWrittenBytesReader implements WrittenBytesReader {
  readonly #fh: FileHandle;
  readonly #writer: FsBlobWriter;
  #closed = false;

  constructor(fh: FileHandle, writer: FsBlobWriter) {
    this.#fh = fh;
    this.#writer = writer;
  }

  async read(position: number, length: number): Promise<Buffer> {
    if (this.#closed || this.#writer.discarded) throw closedError();
    const n = Math.max(0, Math.min(length, this.#writer.bytesWritten - position));
    if (n === 0) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await this.#fh.read(buf, 0, n, position);
    return bytesRead === n ? buf : buf.subarray(0, bytesRead);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#fh.close();
  }
}
