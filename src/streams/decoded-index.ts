import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../formats/compression.ts';
import { ByteCap } from './byte-cap.ts';
import { decoderStages, type DecodeOptions } from './decompress.ts';

/** A decompressed index being read: `text` to consume, `done` settles when the pipeline ends (or fails). */
export interface DecodedIndex {
  text: Readable;
  done: Promise<void>;
}

/**
 * Decodes a stored index blob with flat memory and a hard stop: more than `maxBytes` of output fails
 * the pipeline with METADATA_TOO_LARGE, which destroys the decoder there. `done` never rejects
 * unhandled; callers await it after reading `text` to learn why the text ended early.
 */
export function decodeIndex(source: Readable, compression: Compression, maxBytes: number, what: string, opts: DecodeOptions = {}): DecodedIndex {
  const text = new PassThrough({ highWaterMark: 1 << 20 });
  const done = pipeline([source, ...decoderStages(compression, opts), new ByteCap(maxBytes, what), text]);
  done.catch(() => {}); // surfaced by the caller's await
  return { text, done };
}
