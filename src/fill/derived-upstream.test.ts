import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import lzma from 'lzma-native';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { DerivedUpstream } from './derived-upstream.ts';

const MiB = 2 ** 20;

describe('finding 2: DerivedUpstream (a checkpoint\'s uncompressed index) decodes a bomb with flat memory', () => {
  it('holds little while its reader is paused', async () => {
    const chunks: Buffer[] = [];
    const zero = Buffer.alloc(MiB);
    await pipeline(Readable.from((function* () { for (let i = 0; i < 64; i++) yield zero; })()), lzma.createStream('easyEncoder', { preset: 0 }),
      async (src: AsyncIterable<Buffer>) => { for await (const c of src) chunks.push(c); });
    const member = Buffer.concat(chunks);
    const blobs = new MemoryBlobStore();
    const w = await blobs.createWriter();
    for (let i = 0; i < 16; i++) await w.write(member); // 1 GiB of zeros, signed as "Packages.xz"
    const { sha256 } = await w.commit();
    const res = await new DerivedUpstream(blobs, sha256, 'xz').fetch({ path: 'dists/x/main/binary-amd64/Packages' });
    await sleep(1500); // nobody reads: the decoder must wait, not expand the bomb into memory
    const held = res.body.readableLength;
    res.body.destroy();
    expect(held).toBeLessThan(16 * MiB);
  }, 30_000);
});
