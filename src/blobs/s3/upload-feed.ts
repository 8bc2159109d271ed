import { Readable } from 'node:stream';
import { RepointError } from '../../errors.ts';
import type { WrittenBytesReader } from '../blob-store.ts';

const READ_BYTES = 1024 * 1024;

/**
 * The body of a multipart upload, read from the local temp file as it grows: the download writes at
 * disk speed and the upload follows at its own pace, with backpressure and nothing held in memory
 * beyond the uploader's parts. It ends only when seal() gives the final size, which the writer does
 * after the digest verified, so an upload can never complete with unverified bytes.
 */
export class UploadFeed extends Readable {
  readonly #reader: Promise<WrittenBytesReader>;
  readonly #available: () => number;
  #pos = 0;
  #end: number | undefined;
  #wake: (() => void) | undefined;
  #busy = false;

  constructor(reader: Promise<WrittenBytesReader>, available: () => number) {
    super({ highWaterMark: READ_BYTES });
    this.#reader = reader;
    this.#available = available;
    reader.catch(() => {}); // surfaces through _read
  }

  /** More bytes were written. */
  grew(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** The digest verified: the feed ends after `size` bytes. */
  seal(size: number): void {
    this.#end = size;
    this.grew();
  }

  override _read(): void {
    void this.#pump();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.grew();
    this.#reader.then((r) => r.close(), () => {}).finally(() => cb(err));
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const reader = await this.#reader;
      for (;;) {
        if (this.destroyed) return;
        const limit = this.#end ?? this.#available();
        if (this.#pos >= limit) {
          if (this.#end !== undefined) {
            this.push(null);
            return;
          }
          await new Promise<void>((resolve) => { this.#wake = resolve; });
          continue;
        }
        const buf = await reader.read(this.#pos, Math.min(READ_BYTES, limit - this.#pos));
        if (this.destroyed) return;
        if (buf.length === 0) throw new RepointError('INTERNAL', `upload source ended at ${this.#pos} of ${limit} bytes`);
        this.#pos += buf.length;
        if (!this.push(buf)) return;
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.#busy = false;
    }
  }
}
