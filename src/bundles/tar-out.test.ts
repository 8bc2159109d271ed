import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { pack } from 'tar-stream';
import { expect, it } from 'vitest';
import { parseTarHeader } from './tar-in.ts';
import { TarOut, ustarHeader } from './tar-out.ts';

async function collect(write: (out: PassThrough) => Promise<void>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await write(out);
  return Buffer.concat(chunks);
}

it('writes the same bytes as tar-stream (ustar headers, padding, end marker), across chunk boundaries', async () => {
  const mtime = new Date('2026-01-02T03:04:05Z');
  const entries: Array<[string, Buffer]> = [
    ['bundle.json', Buffer.from('{"format":"repoint-bundle"}\n')],
    [`blobs/sha256/ab/cd/${'ab'.repeat(32)}`, randomBytes((1 << 20) + 77)],
    [`blobs/sha256/ef/01/${'ef'.repeat(32)}`, Buffer.alloc(0)],
    [`blobs/sha256/12/34/${'12'.repeat(32)}`, randomBytes(512)],
  ];
  const ours = await collect(async (out) => {
    const tar = new TarOut(out);
    for (const [name, data] of entries) await tar.file(name, data, mtime);
    await tar.finish();
  });
  const reference = await collect(async (out) => {
    const p = pack();
    p.pipe(out);
    for (const [name, data] of entries) p.entry({ name, size: data.length, mode: 0o644, mtime, type: 'file', uid: 0, gid: 0 }, data);
    p.finalize();
    await new Promise((r) => out.on('end', r));
  });
  expect(ours.length).toBe(reference.length);
  expect(ours.equals(reference)).toBe(true);
});

it('fails instead of hanging when the output closes while it waits for drain', async () => {
  const out = new PassThrough({ highWaterMark: 1 });
  const tar = new TarOut(out);
  const writing = (async () => {
    for (let i = 0; i < 4; i++) await tar.file(`f${i}`, randomBytes(1 << 20), new Date());
  })();
  setTimeout(() => out.destroy(), 50);
  await expect(writing).rejects.toThrow(/closed/);
});

it('leaves no listener behind on the output for each wait for drain', async () => {
  const out = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => setImmediate(cb) }); // every write waits for drain
  const tar = new TarOut(out);
  const before = out.listenerCount('close') + out.listenerCount('drain') + out.listenerCount('error');
  for (let i = 0; i < 40; i++) await tar.file(`f${i}`, randomBytes(1 << 20), new Date());
  expect(out.listenerCount('close') + out.listenerCount('drain') + out.listenerCount('error')).toBe(before);
  await tar.finish();
});

it('writes an entry of 8 GiB or more with the GNU base-256 size field, as the reader takes it', () => {
  for (const size of [0o77777777777, 9 * 2 ** 30, 2 ** 40 + 3]) {
    const header = ustarHeader(`blobs/sha256/ab/cd/${'ab'.repeat(32)}`, size, new Date(0));
    expect(parseTarHeader(header)?.size).toBe(size);
  }
});
