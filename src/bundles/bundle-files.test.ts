import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { SplitWriter, openBundleSource } from './bundle-files.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'repoint-split-')); });
afterEach(() => rm(dir, { recursive: true, force: true }));

async function contents(arg: string): Promise<string> {
  const s = await openBundleSource(arg);
  if (s.kind !== 'stream') throw new Error('expected a stream');
  const chunks: Buffer[] = [];
  for await (const c of s.stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

it('reads a split set in order from any of its parts or its base name, .1000 after .999', async () => {
  const base = join(dir, 'b.tar');
  for (const [i, text] of [[0, 'A'], [1, 'B'], [2, 'C']] as const) await writeFile(`${base}.${String(i).padStart(3, '0')}`, text);
  await writeFile(`${base}.0001`, 'not a part'); // not the canonical name of part 1
  expect(await contents(`${base}.000`)).toBe('ABC');
  expect(await contents(`${base}.002`)).toBe('ABC');
  expect(await contents(base)).toBe('ABC');
  const many = join(dir, 'm.tar');
  for (let i = 0; i <= 1000; i++) await writeFile(`${many}.${String(i).padStart(3, '0')}`, i === 1000 ? 'Z' : '');
  expect(await contents(`${many}.000`)).toBe('Z');
});

it('refuses a set with a gap, or without its first part, naming the missing part', async () => {
  const base = join(dir, 'b.tar');
  await writeFile(`${base}.000`, 'A');
  await writeFile(`${base}.001`, 'B');
  await writeFile(`${base}.003`, 'D');
  await expect(openBundleSource(`${base}.000`)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('b.tar.002 is missing') });
  const late = join(dir, 'c.tar');
  await writeFile(`${late}.001`, 'B');
  await writeFile(`${late}.002`, 'C');
  await expect(openBundleSource(`${late}.001`)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('c.tar.000 is missing') });
});

it('reads a plain bundle whose name ends in a dot and digits as the file it is', async () => {
  for (const name of ['debian.20261201', 'x.123']) {
    await writeFile(join(dir, name), `TAR ${name}`);
    expect(await contents(join(dir, name))).toBe(`TAR ${name}`);
  }
});

it('SplitWriter.remove() also deletes a part still being opened (a signal at any moment), and later writes fail', async () => {
  const w = new SplitWriter(join(dir, 's.tar'), 4);
  const errors: Error[] = [];
  w.on('error', (e) => errors.push(e));
  w.write(Buffer.from('abcdefghij')); // starts opening s.tar.000
  await w.remove(); // at once: that open is in flight
  await new Promise((r) => setTimeout(r, 50));
  expect(await readdir(dir)).toEqual([]);
  expect(errors.map((e) => e.message)).toEqual(['the split output was removed']);
});
