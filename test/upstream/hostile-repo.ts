// Test helper: a signed apt archive whose signed indexes are hostile (finding 2 and 10 of issue 8).
// Everything is validly signed with the fixture key: the signature vouches only for the compressed
// bytes, so the proxy must bound what they expand to, how long a line gets, and how big a Release is.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import lzma from 'lzma-native';
import type { GpgKey } from '../fixtures/gpg.ts';

const MiB = 2 ** 20;

export interface HostileRepo {
  root: string;
  /** Packages.xz expands to `expandsTo` bytes of tiny stanzas; its Release declares `declared` for the uncompressed file. */
  xzBomb: { suite: string; bytes: number; expandsTo: number; declared: number };
  /** Packages.xz of zeros (no newline at all), declaring `declared`: the shape of the bomb the issue reported. */
  zeroBomb: { suite: string; bytes: number; expandsTo: number };
  /** Packages.gz of newlines; its Release declares no uncompressed size (the hard cap applies). */
  gzBomb: { suite: string; bytes: number; expandsTo: number };
  /** Packages.gz holding one line of `length` characters. */
  longLine: { suite: string; length: number };
  /** An InRelease of `bytes` bytes, validly signed. */
  hugeRelease: { suite: string; bytes: number };
  /** A well-behaved suite: one package. */
  good: { suite: string; poolPath: string; data: Buffer };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** One compressed member of `mib` MiB of `pattern` repeated; members concatenate into one valid file. */
async function member(pattern: string, mib: number, kind: 'xz' | 'gz'): Promise<Buffer> {
  const block = Buffer.from(pattern.repeat(Math.ceil(MiB / pattern.length)).slice(0, MiB));
  if (kind === 'gz') return gzipSync(Buffer.concat(Array.from({ length: mib }, () => block)), { level: 9 });
  const chunks: Buffer[] = [];
  await pipeline(Readable.from((function* () { for (let i = 0; i < mib; i++) yield block; })()), lzma.createStream('easyEncoder', { preset: 9 }),
    async (src: AsyncIterable<Buffer>) => { for await (const c of src) chunks.push(c); });
  return Buffer.concat(chunks);
}

/** Writes `copies` of `m` to `file`, streaming; returns its size and sha256. */
async function writeRepeated(file: string, m: Buffer, copies: number): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  await pipeline(Readable.from((function* () { for (let i = 0; i < copies; i++) { hash.update(m); yield m; } })()), createWriteStream(file));
  return { size: m.length * copies, sha256: hash.digest('hex') };
}

export function releaseText(suite: string, files: ReadonlyArray<{ path: string; size: number; sha256: string }>, filler = ''): string {
  return [
    'Origin: Hostile', 'Label: Hostile', `Suite: ${suite}`, `Codename: ${suite}`,
    `Date: ${new Date(Date.now() - 60_000).toUTCString()}`, 'Architectures: amd64', 'Components: main',
    'SHA256:', ...files.map((f) => ` ${f.sha256} ${String(f.size).padStart(16)} ${f.path}`),
  ].join('\n') + '\n' + filler;
}

export async function signSuite(root: string, key: GpgKey, suite: string, text: string): Promise<void> {
  const dir = join(root, 'dists', suite);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'Release'), text);
  await key.gpg(['--local-user', key.fingerprint, '--digest-algo', 'SHA256', '--clearsign', '--output', join(dir, 'InRelease'), join(dir, 'Release')]);
}

export async function buildHostileRepo(root: string, key: GpgKey, o: { xzExpandsTo?: number; xzDeclared?: number; gzExpandsTo?: number; lineLength?: number; releaseBytes?: number } = {}): Promise<HostileRepo> {
  const idx = 'main/binary-amd64';
  const xzMiB = Math.ceil((o.xzExpandsTo ?? 512 * MiB) / (16 * MiB));
  const gzMiB = Math.ceil((o.gzExpandsTo ?? 512 * MiB) / (16 * MiB));
  const declared = o.xzDeclared ?? 32 * MiB;

  // xz bomb: tiny stanzas (parsing costs CPU), declared uncompressed size far below what it expands to.
  await mkdir(join(root, 'dists/xzbomb', idx), { recursive: true });
  const xz = await writeRepeated(join(root, 'dists/xzbomb', idx, 'Packages.xz'), await member('Package: a\n\n', 16, 'xz'), xzMiB);
  await signSuite(root, key, 'xzbomb', releaseText('xzbomb', [
    { path: `${idx}/Packages`, size: declared, sha256: sha256(Buffer.from('not served')) },
    { path: `${idx}/Packages.xz`, ...xz },
  ]));

  // xz of zeros, the bomb as reported (805 KB → 5 GiB).
  await mkdir(join(root, 'dists/zeros', idx), { recursive: true });
  const zeros = await writeRepeated(join(root, 'dists/zeros', idx, 'Packages.xz'), await member('\0', 16, 'xz'), xzMiB);
  await signSuite(root, key, 'zeros', releaseText('zeros', [
    { path: `${idx}/Packages`, size: declared, sha256: sha256(Buffer.from('not served')) },
    { path: `${idx}/Packages.xz`, ...zeros },
  ]));

  // gz bomb: newlines, no uncompressed entry in the Release.
  await mkdir(join(root, 'dists/gzbomb', idx), { recursive: true });
  const gz = await writeRepeated(join(root, 'dists/gzbomb', idx, 'Packages.gz'), await member('\n', 16, 'gz'), gzMiB);
  await signSuite(root, key, 'gzbomb', releaseText('gzbomb', [{ path: `${idx}/Packages.gz`, ...gz }]));

  // an endless line (well, long): one Description line.
  const lineLength = o.lineLength ?? 256 * MiB;
  await mkdir(join(root, 'dists/longline', idx), { recursive: true });
  const head = gzipSync('Package: a\nDescription: ');
  const body = await member('x', 16, 'gz');
  const longFile = join(root, 'dists/longline', idx, 'Packages.gz');
  const hash = createHash('sha256');
  const parts = [head, ...Array.from({ length: Math.ceil(lineLength / (16 * MiB)) }, () => body)];
  await pipeline(Readable.from((function* () { for (const p of parts) { hash.update(p); yield p; } })()), createWriteStream(longFile));
  await signSuite(root, key, 'longline', releaseText('longline', [{ path: `${idx}/Packages.gz`, size: parts.reduce((n, p) => n + p.length, 0), sha256: hash.digest('hex') }]));

  // a huge Release (58 MB by default), validly signed.
  const releaseBytes = o.releaseBytes ?? 58_000_000;
  const line = ` ${'0'.repeat(64)}              123 main/filler\n`;
  const filler = 'Filler:\n' + line.repeat(Math.ceil(releaseBytes / line.length));
  await signSuite(root, key, 'huge', releaseText('huge', [], filler));

  // a good suite beside them.
  const data = randomBytes(200_000);
  const poolPath = 'pool/main/g/good/good_1_all.deb';
  await mkdir(join(root, 'pool/main/g/good'), { recursive: true });
  await writeFile(join(root, poolPath), data);
  const packages = `Package: good\nVersion: 1\nArchitecture: all\nFilename: ${poolPath}\nSize: ${data.length}\nSHA256: ${sha256(data)}\n\n`;
  await mkdir(join(root, 'dists/good', idx), { recursive: true });
  await writeFile(join(root, 'dists/good', idx, 'Packages'), packages);
  await signSuite(root, key, 'good', releaseText('good', [{ path: `${idx}/Packages`, size: Buffer.byteLength(packages), sha256: sha256(Buffer.from(packages)) }]));

  return {
    root,
    xzBomb: { suite: 'xzbomb', bytes: xz.size, expandsTo: xzMiB * 16 * MiB, declared },
    zeroBomb: { suite: 'zeros', bytes: zeros.size, expandsTo: xzMiB * 16 * MiB },
    gzBomb: { suite: 'gzbomb', bytes: gz.size, expandsTo: gzMiB * 16 * MiB },
    longLine: { suite: 'longline', length: lineLength },
    hugeRelease: { suite: 'huge', bytes: releaseBytes },
    good: { suite: 'good', poolPath, data },
  };
}
