import type { Readable } from 'node:stream';
import { RepointError, type ErrorCode } from '../errors.ts';

/** Reads a small metadata body (InRelease, repomd.xml) with a hard cap: these must be parsed whole. */
export async function readCapped(body: Readable, max: number, what: string, code: ErrorCode = 'UPSTREAM_TOO_LARGE'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      throw new RepointError(code, `${what} is larger than ${max} bytes`, { max });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
