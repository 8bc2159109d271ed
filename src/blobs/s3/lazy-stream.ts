import { PassThrough, type Readable } from 'node:stream';
import { RepointError } from '../../errors.ts';

/**
 * A stream returned at once whose source is found asynchronously (BlobStore.open is synchronous):
 * the source's bytes and its error pass through; destroying the result destroys the source.
 */
export function lazyReadable(source: () => Promise<Readable>): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  source().then(
    (src) => {
      if (out.destroyed) return void src.destroy();
      src.once('error', (err) => out.destroy(err));
      out.once('close', () => src.destroy());
      src.pipe(out);
    },
    (err: unknown) => out.destroy(err as Error),
  );
  return out;
}

/** The whole stream in memory, failing INTERNAL past maxBytes (readAll is for metadata only). */
export async function readCapped(src: Readable, maxBytes: number, sha256: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of src) {
    const b = chunk as Buffer;
    n += b.length;
    if (n > maxBytes) {
      src.destroy();
      throw new RepointError('INTERNAL', `blob ${sha256} has more than the ${maxBytes} bytes allowed here`);
    }
    parts.push(b);
  }
  return Buffer.concat(parts, n);
}
