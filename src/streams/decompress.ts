import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import lzma from 'lzma-native';
import { RepointError } from '../errors.ts';
import type { Compression } from '../formats/compression.ts';

/**
 * Input fed to lzma-native per call. It decodes a whole written chunk (in its thread) and pushes all of
 * the output before looking at backpressure; xz of zeros expands ~7000:1, so a 64 KiB chunk of a bomb
 * is ~450 MiB at once. A 512-byte slice yields at most ~3.5 MiB, and the Transform waits for readers
 * between slices, so memory stays flat.
 */
export const XZ_SLICE_BYTES = 512;

/** Cuts chunks into slices of at most `size` bytes (views, no copies). */
export class Slicer extends Transform {
  readonly #size: number;

  constructor(size: number) {
    super({ highWaterMark: 16 });
    this.#size = size;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    for (let at = 0; at < chunk.length; at += this.#size) this.push(chunk.subarray(at, at + this.#size));
    cb();
  }
}

export interface DecodeOptions {
  /**
   * Decode xz/lzma on the calling thread: for a process that does nothing else meanwhile (a CLI
   * bulk command), where the thread-pool round trip per slice cost more than the decoding (a
   * Debian-scale Packages.xz: 1.3 s -> 1.0 s to list). A server keeps the default, off its event loop.
   */
  sync?: boolean;
}

/**
 * A streaming decoder for an index's compression. Memory stays flat for any output size: node:zlib
 * decoders wait for readers, and the xz/lzma ones are fed small slices (see XZ_SLICE_BYTES); use
 * decoderStages() to get the slicer with them.
 */
export function decompressor(c: Compression, opts: DecodeOptions = {}): Transform {
  // lzma-native decodes each slice in the thread pool by default: a round trip per 512 bytes of input
  const lzmaOpts = { synchronous: opts.sync ?? false };
  switch (c) {
    case 'none': return new PassThrough();
    case 'gz': return createGunzip();
    case 'zst': return createZstdDecompress();
    case 'xz': return lzma.createStream('autoDecoder', lzmaOpts);
    case 'lzma': return lzma.createStream('aloneDecoder', lzmaOpts);
    case 'bz2': throw new RepointError('METADATA_INVALID', 'bzip2-compressed indexes are not supported; the proxy reads the .xz, .gz or plain variant');
  }
}

/** The transforms that decode `c` with bounded memory, in pipeline order. */
export function decoderStages(c: Compression, opts: DecodeOptions = {}): Transform[] {
  const decoder = decompressor(c, opts);
  return c === 'xz' || c === 'lzma' ? [new Slicer(XZ_SLICE_BYTES), decoder] : [decoder];
}
