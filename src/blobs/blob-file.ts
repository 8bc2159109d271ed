import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ByteRange } from './blob-store.ts';
import { errCode } from './fs-durable.ts';

/**
 * A blob file opened now, read through that descriptor: once this resolves, deleting the file (a
 * cache tier dropping its copy) cannot cut the stream short. Undefined when the file is not there.
 */
export async function openBlobFile(path: string, range?: ByteRange, highWaterMark = 256 * 1024): Promise<Readable | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return createReadStream(path, { fd: fh, highWaterMark, start: range?.start, end: range?.end });
}
