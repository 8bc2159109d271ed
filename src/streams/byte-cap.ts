import { Transform, type TransformCallback } from 'node:stream';
import { RepointError } from '../errors.ts';

/**
 * Passes bytes through and fails with METADATA_TOO_LARGE as soon as more than `max` have gone by: put
 * behind a decoder, the pipeline is destroyed there and decompression stops at the cap.
 */
export class ByteCap extends Transform {
  readonly #max: number;
  readonly #what: string;
  #seen = 0;

  constructor(max: number, what: string) {
    super({ highWaterMark: 1 << 16 });
    this.#max = max;
    this.#what = what;
  }

  get seen(): number {
    return this.#seen;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#max) {
      cb(new RepointError('METADATA_TOO_LARGE', `${this.#what} decompresses to more than ${this.#max} bytes (its declared size or limits.indexMaxBytes)`, { max: this.#max }));
      return;
    }
    cb(null, chunk);
  }
}
