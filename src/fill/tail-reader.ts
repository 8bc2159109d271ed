import { Readable } from 'node:stream';
import type { WrittenBytesReader } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import type { Fill } from './fill.ts';

/**
 * Reads what a fill has written while it grows, through its blob writer (no file path). Waits for
 * 'progress' when it has caught up; errors (so the HTTP layer resets the connection) when the fill
 * fails.
 */
export class TailReader extends Readable {
  #fill: Fill;
  #pos: number;
  #end: number | undefined;
  #src: WrittenBytesReader | undefined;
  #wake: (() => void) | undefined;

  constructor(fill: Fill, start: number, endInclusive?: number) {
    super({ highWaterMark: 256 * 1024 });
    this.#fill = fill;
    this.#pos = start;
    this.#end = endInclusive;
    const wake = (): void => { const w = this.#wake; this.#wake = undefined; w?.(); };
    fill.on('progress', wake);
    fill.on('failed', wake);
    this.once('close', () => { fill.off('progress', wake); fill.off('failed', wake); });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#openSource().then(() => callback(), (err: Error) => callback(err));
  }

  async #openSource(): Promise<void> {
    await this.#fill.ready;
    this.#src = await this.#fill.openWritten(); // Node defers a destroy() until construction ends
  }

  override _read(size: number): void {
    this.#pump(size).catch((err: Error) => this.destroy(err));
  }

  async #pump(size: number): Promise<void> {
    for (;;) {
      const fill = this.#fill;
      if (fill.state === 'failed') throw fill.error ?? new RepointError('INTERNAL', 'fill failed');
      const total = fill.state === 'committed' ? fill.written : fill.size;
      const stop = Math.min(this.#end === undefined ? Infinity : this.#end + 1, total ?? Infinity);
      if (this.#pos >= stop) {
        this.push(null);
        return;
      }
      // A range's last byte, like the file's, waits for verification: no client completes unverified bytes.
      const limit = Math.min(fill.readableLimit(), fill.state === 'committed' ? stop : stop - 1);
      if (this.#pos < limit) {
        const want = Math.min(size, limit - this.#pos);
        const mem = fill.fromWindow(this.#pos, want);
        if (mem) {
          this.#pos += mem.length;
          this.push(mem);
          return;
        }
        const buf = await this.#src!.read(this.#pos, want);
        if (buf.length === 0) throw new RepointError('INTERNAL', 'blob shorter than announced');
        this.#pos += buf.length;
        this.push(buf);
        return;
      }
      await new Promise<void>((resolve) => { this.#wake = resolve; });
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
    const src = this.#src;
    this.#src = undefined;
    if (src) src.close().then(() => callback(err), () => callback(err));
    else callback(err);
  }
}
