import { createHash } from 'node:crypto';
import { RepointError } from '../errors.ts';
import type { BlobInfo, BlobWriter, WrittenBytesReader } from './blob-store.ts';

export interface MemoryWriterHooks {
  /** Makes the blob visible; throws when the writer's temp entry was removed meanwhile. */
  place(sha256: string, data: Buffer, mtimeMs: number): BlobInfo;
  /** Drops the temp entry. */
  discard(): void;
  /** False once removeTempFiles() took the temp entry away. */
  present(): boolean;
}

type WriterState = 'open' | 'committing' | 'done';

const closedError = (): RepointError => new RepointError('INTERNAL', 'blob writer is closed');

/** Collects bytes in a growing buffer while hashing them; readers see them as they arrive. */
export class MemoryBlobWriter implements BlobWriter {
  readonly #hooks: MemoryWriterHooks;
  readonly #hash = createHash('sha256');
  #buf = Buffer.alloc(0);
  #bytes = 0;
  #state: WriterState = 'open';
  #commit: Promise<BlobInfo> | undefined;
  #discarded = false;

  constructor(hooks: MemoryWriterHooks) {
    this.#hooks = hooks;
  }

  get bytesWritten(): number {
    return this.#bytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#state !== 'open') throw closedError();
    if (this.#bytes + chunk.byteLength > this.#buf.length) {
      const grown = Buffer.alloc(Math.max(this.#bytes + chunk.byteLength, this.#buf.length * 2, 4096));
      this.#buf.copy(grown, 0, 0, this.#bytes);
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#bytes);
    this.#hash.update(chunk);
    this.#bytes += chunk.byteLength;
  }

  async openReader(): Promise<WrittenBytesReader> {
    if (this.#discarded) {
      await this.#commit; // a failed commit: its error says why
      throw closedError();
    }
    if (this.#state === 'open' && !this.#hooks.present()) throw closedError();
    let closed = false;
    return {
      read: async (position, length) => {
        if (closed || this.#discarded) throw closedError();
        const end = Math.min(this.#bytes, position + Math.max(0, length));
        // a copy: the buffer is replaced when it grows, and readers must not see later writes change it
        return Buffer.from(this.#buf.subarray(Math.min(position, end), end));
      },
      close: async () => { closed = true; },
    };
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
      await this.#commit.catch(() => {});
      return;
    }
    if (this.#state === 'done') return;
    this.#discard();
  }

  async #doCommit(opts: { expectSha256?: string; mtime?: Date }): Promise<BlobInfo> {
    try {
      const actual = this.#hash.digest('hex');
      const expected = opts.expectSha256?.toLowerCase();
      if (expected !== undefined && expected !== actual) {
        throw new RepointError('UPSTREAM_DIGEST_MISMATCH', `sha256 mismatch: expected ${expected}, got ${actual}`, { expected, actual, size: this.#bytes });
      }
      const data = Buffer.from(this.#buf.subarray(0, this.#bytes));
      const info = this.#hooks.place(actual, data, opts.mtime?.getTime() ?? Date.now());
      this.#state = 'done';
      return info;
    } catch (err) {
      this.#discard();
      throw err;
    }
  }

  #discard(): void {
    this.#state = 'done';
    this.#discarded = true;
    this.#hooks.discard();
  }
}
