import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { unlink } from 'node:fs/promises';
import { RepointError } from '../errors.ts';
import type { BlobInfo, BlobWriter } from './blob-store.ts';
import { errCode } from './fs-durable.ts';

/** Moves a finished, fsynced temp file to its content address (owned by the store). */
export type PlaceBlob = (tempPath: string, sha256: string, size: number) => Promise<BlobInfo>;

type WriterState = 'open' | 'committing' | 'done';

/**
 * Appends to a temp file while hashing; followers may read the temp file up to bytesWritten.
 * Writes are chained so callers that forget to await still get bytes in order.
 */
export class FsBlobWriter implements BlobWriter {
  readonly tempPath: string;
  readonly #fh: FileHandle;
  readonly #hash: Hash = createHash('sha256');
  readonly #place: PlaceBlob;
  readonly #onDone: (tempPath: string) => void;
  #bytes = 0;
  #state: WriterState = 'open';
  #tail: Promise<void> = Promise.resolve();
  #failure: unknown;
  #commit: Promise<BlobInfo> | undefined;
  #fhClosed = false;

  constructor(fh: FileHandle, tempPath: string, place: PlaceBlob, onDone: (tempPath: string) => void) {
    this.#fh = fh;
    this.tempPath = tempPath;
    this.#place = place;
    this.#onDone = onDone;
  }

  get bytesWritten(): number {
    return this.#bytes;
  }

  write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') return Promise.reject(new RepointError('INTERNAL', 'blob writer is closed'));
    const p = this.#tail.then(() => this.#append(chunk));
    this.#tail = p.catch((err: unknown) => {
      this.#failure ??= err;
    });
    return p;
  }

  commit(opts: { expectSha256?: string; mtime?: Date } = {}): Promise<BlobInfo> {
    if (this.#commit) return this.#commit;
    if (this.#state !== 'open') return Promise.reject(new RepointError('INTERNAL', 'blob writer is closed'));
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
    await this.#tail;
    await this.#cleanup();
  }

  async #append(chunk: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    let off = 0;
    while (off < chunk.byteLength) {
      const { bytesWritten } = await this.#fh.write(chunk, off, chunk.byteLength - off);
      off += bytesWritten;
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
      const info = await this.#place(this.tempPath, actual, this.#bytes);
      this.#state = 'done';
      this.#onDone(this.tempPath);
      return info;
    } catch (err) {
      this.#state = 'done';
      await this.#cleanup();
      throw err;
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
      await unlink(this.tempPath);
    } catch (err) {
      if (errCode(err) !== 'ENOENT') throw err;
    } finally {
      this.#onDone(this.tempPath);
    }
  }
}
