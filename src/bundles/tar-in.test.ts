import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRepointError } from '../errors.ts';
import { parseTarHeader, TarReader } from './tar-in.ts';
import { ustarHeader } from './tar-out.ts';

/** The input cut into chunks of `size` bytes (small: every header and entry straddles chunk boundaries). */
async function* chunks(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function readAll(buf: Buffer, size: number): Promise<Array<{ name: string; type: string; data: Buffer }>> {
  const tar = new TarReader(chunks(buf, size));
  const out: Array<{ name: string; type: string; data: Buffer }> = [];
  for (let h = await tar.next(); h; h = await tar.next()) {
    const parts: Buffer[] = [];
    await tar.data(h.size, (s) => void parts.push(Buffer.from(s)));
    out.push({ name: h.name, type: h.type, data: Buffer.concat(parts) });
  }
  return out;
}

async function code(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  return isRepointError(err) ? err.code : `not a RepointError: ${String(err)}`;
}

describe('TarReader on what GNU tar writes', () => {
  let dir: string;
  const files: Array<[string, Buffer]> = [
    ['bundle.json', Buffer.from('{"format":"repoint-bundle"}\n')],
    [`blobs/sha256/ab/cd/${'ab'.repeat(32)}`, randomBytes((1 << 20) + 77)],
    [`blobs/sha256/ef/01/${'ef'.repeat(32)}`, Buffer.alloc(0)],
    [`blobs/sha256/12/34/${'12'.repeat(32)}`, randomBytes(512)],
    // longer than 100 bytes: ustar splits it into prefix and name
    [`${'p'.repeat(60)}/${'q'.repeat(60)}/leaf`, randomBytes(3)],
  ];
  let archive: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-tar-in-'));
    for (const [name, data] of files) {
      await mkdir(dirname(join(dir, 'in', name)), { recursive: true });
      await writeFile(join(dir, 'in', name), data);
    }
    execFileSync('tar', ['--format=ustar', '-cf', join(dir, 'a.tar'), '-C', join(dir, 'in'), ...files.map(([n]) => n)]);
    archive = await readFile(join(dir, 'a.tar'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  for (const size of [3, 511, 4096, 1 << 20]) {
    it(`reads every entry's name and bytes (input chunks of ${size} bytes)`, async () => {
      const got = await readAll(archive, size);
      expect(got.map((e) => e.name)).toEqual(files.map(([n]) => n));
      expect(got.every((e) => e.type === '0')).toBe(true);
      for (const [i, [, data]] of files.entries()) expect(got[i]!.data.equals(data)).toBe(true);
    });
  }

  it('refuses an archive cut inside an entry, and one without its end-of-archive marker', async () => {
    expect(await code(readAll(archive.subarray(0, 2000), 4096))).toBe('BUNDLE_INVALID');
    const entriesEnd = files.reduce((n, [, data]) => n + 512 + 512 * Math.ceil(data.length / 512), 0);
    expect(await readAll(archive.subarray(0, entriesEnd + 512), 4096)).toHaveLength(files.length);
    const withoutMarker = archive.subarray(0, entriesEnd);
    expect(await code(readAll(withoutMarker, 4096))).toBe('BUNDLE_INVALID');
  });

  it('refuses a header whose checksum does not match (a flipped byte)', async () => {
    const bad = Buffer.from(archive);
    bad[5] = bad[5]! ^ 0x01; // inside the first entry's name
    expect(await code(readAll(bad, 4096))).toBe('BUNDLE_INVALID');
  });
});

describe('parseTarHeader', () => {
  it('reads back what the writer puts in a header, and a zero block as the end', () => {
    const h = parseTarHeader(ustarHeader('bundle.json.asc', 1234567, new Date(0)));
    expect(h).toEqual({ name: 'bundle.json.asc', size: 1234567, type: '0' });
    expect(parseTarHeader(new Uint8Array(512))).toBeUndefined();
  });

  it('reads a GNU base-256 size (entries of 8 GiB and more)', () => {
    const h = Buffer.from(ustarHeader('big', 0, new Date(0)));
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h.writeUIntBE(9 * 2 ** 30, 130, 6);
    let sum = 8 * 0x20;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += h[i]!;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(parseTarHeader(h)?.size).toBe(9 * 2 ** 30);
  });

  it('refuses a size field that is not octal', () => {
    const h = Buffer.from(ustarHeader('x', 10, new Date(0)));
    h.write('9', 124, 'latin1');
    expect(() => parseTarHeader(h)).toThrow(/not octal|checksum/);
  });
});
