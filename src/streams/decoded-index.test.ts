import { Readable, PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import lzma from 'lzma-native';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRepointError } from '../errors.ts';
import { decodeIndex } from './decoded-index.ts';
import { decoderStages } from './decompress.ts';

const MiB = 2 ** 20;

/** xz of `mib` MiB of zeros (preset 0), made once: ~7000:1, the shape of a signed xz bomb. */
async function xzZeros(mib: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const zero = Buffer.alloc(MiB);
  await pipeline(Readable.from((function* () { for (let i = 0; i < mib; i++) yield zero; })()), lzma.createStream('easyEncoder', { preset: 0 }),
    async (src: AsyncIterable<Buffer>) => { for await (const c of src) chunks.push(c); });
  return Buffer.concat(chunks);
}

/** A bomb as a stream: `copies` concatenated xz (or gzip) members, which decoders read as one file. */
const repeated = (member: Buffer, copies: number): Readable =>
  Readable.from((function* () { for (let i = 0; i < copies; i++) yield member; })());

async function drain(text: Readable): Promise<number> {
  let n = 0;
  for await (const c of text as AsyncIterable<Buffer>) n += c.length;
  return n;
}

describe('finding 2: decompression stops at the cap (signed decompression bombs)', () => {
  let xz64: Buffer;
  beforeAll(async () => { xz64 = await xzZeros(64); }, 60_000);

  // sync: decoded on the calling thread (CLI bulk commands), with the same bounds
  it.each([false, true])('an xz bomb (1 GiB from a few hundred KiB) fails with METADATA_TOO_LARGE once the output passes the cap (sync %s)', async (sync) => {
    const { text, done } = decodeIndex(repeated(xz64, 16), 'xz', 8 * MiB, 'main/binary-amd64/Packages.xz', { sync });
    const read = drain(text);
    await expect(read).rejects.toSatisfy((e) => isRepointError(e, 'METADATA_TOO_LARGE'));
    await expect(done).rejects.toSatisfy((e) => isRepointError(e, 'METADATA_TOO_LARGE'));
  });

  it('a gzip bomb (concatenated members of zeros) stops the same way', async () => {
    const member = gzipSync(Buffer.alloc(16 * MiB));
    const { text, done } = decodeIndex(repeated(member, 64), 'gz', 4 * MiB, 'Packages.gz');
    await expect(drain(text)).rejects.toSatisfy((e) => isRepointError(e, 'METADATA_TOO_LARGE'));
    await expect(done).rejects.toSatisfy((e) => isRepointError(e, 'METADATA_TOO_LARGE'));
  });

  it.each([false, true])('output up to the cap passes untouched (sync %s)', async (sync) => {
    const { text, done } = decodeIndex(repeated(xz64, 1), 'xz', 64 * MiB, 'Packages.xz', { sync });
    expect(await drain(text)).toBe(64 * MiB);
    await done;
  });

  it.each([false, true])('the xz decoder respects backpressure: with the reader paused, what it holds stays small (sync %s)', async (sync) => {
    // lzma-native decodes a whole written chunk before looking at backpressure: fed 64 KiB chunks of
    // this bomb it would hold ~450 MiB; fed slices it holds at most one slice's output (~3.5 MiB).
    const stages = decoderStages('xz', { sync });
    const sink = new PassThrough({ highWaterMark: MiB });
    const piping = pipeline([repeated(xz64, 16), ...stages, sink]);
    piping.catch(() => {});
    await sleep(1500); // the paused reader never reads: let the decoder run as far as it will
    const held = [...stages, sink].reduce((n, s) => n + s.readableLength + s.writableLength, 0);
    sink.destroy();
    expect(held).toBeLessThan(16 * MiB);
  });
});
