import type { Readable } from 'node:stream';
import { RepointError } from '../errors.ts';

/** Reads a small metadata body (InRelease, repomd.xml) with a hard cap: these must be parsed whole. */
export async function readCapped(body: Readable, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      throw new RepointError('UPSTREAM_TOO_LARGE', `${what} is larger than ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
