// Test helper: signed yum repositories whose primary.xml expands past the open-size their repomd.xml
// declares (issue 8, finding 2). repomd.xml.asc is a valid signature by the fixture key: it vouches
// only for the compressed bytes, so the proxy must stop decompressing at the declared size.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import lzma from 'lzma-native';
import type { GpgKey } from '../fixtures/gpg.ts';

const MiB = 2 ** 20;
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">\n';

export interface YumBomb {
  /** Repository directory under the upstream root (`<dir>/repodata/repomd.xml`). */
  dir: string;
  /** The primary's href, relative to `dir`. */
  location: string;
  bytes: number;
  expandsTo: number;
  declared: number;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function compress(blocks: number, block: Buffer, kind: 'gz' | 'xz'): Promise<Buffer> {
  if (kind === 'gz') return Buffer.concat([gzipSync(HEAD), ...Array.from({ length: blocks }, () => gzipSync(block, { level: 9 }))]);
  const out: Buffer[] = [];
  await pipeline(Readable.from((function* () { yield Buffer.from(HEAD); for (let i = 0; i < blocks; i++) yield block; })()),
    lzma.createStream('easyEncoder', { preset: 6 }), async (src: AsyncIterable<Buffer>) => { for await (const c of src) out.push(c); });
  return Buffer.concat(out);
}

/**
 * Writes `<root>/<kind>bomb/repodata/`: a primary.xml.<kind> of `expandsTo` bytes (an open <metadata>
 * full of empty elements, so only the size cap can stop it) and a signed repomd.xml declaring `declared`.
 */
export async function buildYumBomb(root: string, key: GpgKey, kind: 'gz' | 'xz', o: { expandsTo?: number; declared?: number } = {}): Promise<YumBomb> {
  const blocks = Math.ceil((o.expandsTo ?? 256 * MiB) / (16 * MiB));
  const declared = o.declared ?? 4 * MiB;
  const body = await compress(blocks, Buffer.from('<pad/>\n'.repeat(Math.ceil(16 * MiB / 7)).slice(0, 16 * MiB)), kind);
  const dir = `${kind}bomb`;
  const location = `repodata/${sha256(body)}-primary.xml.${kind}`;
  await mkdir(join(root, dir, 'repodata'), { recursive: true });
  await writeFile(join(root, dir, location), body);
  const now = Math.floor(Date.now() / 1000) - 60;
  const repomd = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">',
    `  <revision>${now}</revision>`,
    '  <data type="primary">',
    `    <checksum type="sha256">${sha256(body)}</checksum>`,
    `    <open-checksum type="sha256">${'0'.repeat(64)}</open-checksum>`,
    `    <location href="${location}"/>`,
    `    <timestamp>${now}</timestamp>`,
    `    <size>${body.length}</size>`,
    `    <open-size>${declared}</open-size>`,
    '  </data>',
    '</repomd>',
    '',
  ].join('\n');
  const md = join(root, dir, 'repodata', 'repomd.xml');
  await writeFile(md, repomd);
  await key.gpg(['--local-user', key.fingerprint, '--armor', '--detach-sign', '--output', `${md}.asc`, md]);
  return { dir, location, bytes: body.length, expandsTo: blocks * 16 * MiB + HEAD.length, declared };
}
