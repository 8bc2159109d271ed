// Synthetic Packages indexes for the hostile-input benches: a legitimate one in Debian's shape and a
// tiny-stanza bomb, both xz-compressed in memory.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import lzma from 'lzma-native';

const MiB = 2 ** 20;

async function xz(chunks: Iterable<Buffer>, preset: number): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), lzma.createStream('easyEncoder', { preset }), async (src: AsyncIterable<Buffer>) => { for await (const c of src) out.push(c); });
  return Buffer.concat(out);
}

/** A Packages of ~`mib` MiB in Debian's shape (59k stanzas for 50 MiB), xz-compressed. */
export async function bigPackages(mib: number): Promise<{ xz: Buffer; size: number; stanzas: number }> {
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < mib * MiB) {
    const h = createHash('sha256').update(String(i)).digest('hex');
    const s = `Package: pkg${i}\nVersion: 1.${i}-1\nInstalled-Size: ${i % 9000}\nMaintainer: Dev <dev${i % 97}@example.org>\nArchitecture: amd64\n` +
      `Depends: libc6 (>= 2.36), libfoo${i % 500}, libbar${i % 77} (>= 1.${i % 13})\nDescription: package number ${i} of a synthetic archive\n` +
      ` ${randomBytes(150).toString('base64')}\n ${randomBytes(150).toString('base64')}\nHomepage: https://example.org/${i}\nSection: utils\nPriority: optional\n` +
      `Filename: pool/main/p/pkg${i}/pkg${i}_1.${i}-1_amd64.deb\nSize: ${1000 + i}\nMD5sum: ${h.slice(0, 32)}\nSHA256: ${h}\n\n`;
    parts.push(s);
    size += s.length;
    i++;
  }
  const text = Buffer.from(parts.join(''));
  return { xz: await xz([text], 1), size: text.length, stanzas: i };
}

/** ~`mib` MiB of `Package: a` stanzas (12 bytes each, no Filename), xz-compressed: the tiny-stanza bomb's body. */
export async function tinyStanzas(mib: number): Promise<Buffer> {
  const block = Buffer.from('Package: a\n\n'.repeat(Math.floor(MiB / 12))); // whole stanzas, so blocks concatenate
  return xz((function* () { for (let i = 0; i < mib; i++) yield block; })(), 6);
}
