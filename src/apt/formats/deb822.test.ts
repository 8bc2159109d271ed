import { errorCodeOf } from '../../../test/helpers/error-code.ts';
import { describe, expect, it } from 'vitest';
import { LineSplitter, parseParagraphsSync, parseStanzaBatches, parseStanzas, parseStanzasFromChunks, parseStanzasSync, splitLines, type Stanza } from './deb822.ts';

const SAMPLE = [
  'Package: zlib1g',
  'Version: 1:1.2.13.dfsg-1',
  'Maintainer: Mark Brown <broonie@example.org>',
  'Description: compression library - runtime',
  ' zlib is a library implementing the deflate compression method found',
  ' in gzip and PKZIP.',
  ' .',
  '  Indented verbatim line.',
  'Filename: pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb',
  'Size: 90000',
  '',
  'Package: jörg-ütf8',
  'Maintainer: Jörg Müller <j@example.org> 日本語 🎉',
  'Filename: pool/main/j/j/j_1_all.deb',
  'Size: 12',
  '',
].join('\n');

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}


describe('parseStanzasSync', () => {
  it('parses fields, multi-line values and stanza breaks', () => {
    const [a, b, ...rest] = parseStanzasSync(SAMPLE);
    expect(rest).toHaveLength(0);
    expect(a?.['package']).toBe('zlib1g');
    expect(a?.['description']).toBe(
      'compression library - runtime\nzlib is a library implementing the deflate compression method found\nin gzip and PKZIP.\n.\n Indented verbatim line.',
    );
    expect(a?.['filename']).toBe('pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb');
    expect(b?.['maintainer']).toBe('Jörg Müller <j@example.org> 日本語 🎉');
  });

  it('looks fields up case-insensitively', () => {
    const [st] = parseStanzasSync('PACKAGE: a\nsha256: ABC\n');
    expect(st).toBeDefined();
    const s = st as Stanza;
    expect(s['package']).toBe('a');
    expect(s['sha256']).toBe('ABC');
    expect(s['missing']).toBeUndefined();
  });

  it('handles CRLF, comments, repeated and whitespace-only separators, no final newline', () => {
    const text = '# header comment\r\nA: 1\r\n# inside\r\nB: two\r\n words\r\n\r\n \t\r\n\r\nA: 3';
    expect(parseStanzasSync(text).map((s) => ({ ...s }))).toEqual([{ a: '1', b: 'two\nwords' }, { a: '3' }]);
  });

  it('trims values and keeps empty first lines of multi-line fields', () => {
    const [st] = parseStanzasSync('SHA256:\n abc 1 x\n def 2 y\nKey:   spaced   \n');
    expect(st?.['sha256']).toBe('\nabc 1 x\ndef 2 y');
    expect(st?.['key']).toBe('spaced');
  });

  it('does not treat prototype names specially', () => {
    const [st] = parseStanzasSync('Constructor: x\n__proto__: y\n');
    expect(st?.['constructor']).toBe('x');
    expect(Object.keys(st ?? {})).toEqual(['constructor', '__proto__']);
  });

  it('rejects malformed input with METADATA_INVALID', () => {
    expect(errorCodeOf(() => parseStanzasSync(' leading continuation\n'))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseStanzasSync('A: 1\nno colon here\n'))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseStanzasSync('A: 1\na: 2\n'))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseStanzasSync('-----BEGIN PGP SIGNED MESSAGE-----\n'))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => parseStanzasSync('A: 1\n\na: 2\n'))).toBeUndefined(); // same name, different stanzas
  });
});

describe('parseParagraphsSync', () => {
  it('keeps original spelling and order', () => {
    const paras = parseParagraphsSync('Origin: X\nMD5Sum:\n aa 1 f\nAcquire-By-Hash: yes\n\nNext: p\n');
    expect(paras).toEqual([
      [
        { name: 'Origin', value: 'X' },
        { name: 'MD5Sum', value: '\naa 1 f' },
        { name: 'Acquire-By-Hash', value: 'yes' },
      ],
      [{ name: 'Next', value: 'p' }],
    ]);
  });
});

describe('splitLines and async parsing', () => {
  const crlf = SAMPLE.replaceAll('\n', '\r\n');
  const expected = parseStanzasSync(SAMPLE).map((s) => ({ ...s }));

  it('splits lines like String.split for LF and CRLF input', async () => {
    expect(await collect(splitLines(fromArray([SAMPLE])))).toEqual(SAMPLE.split('\n').slice(0, -1));
    expect(await collect(splitLines(fromArray([crlf])))).toEqual(SAMPLE.split('\n').slice(0, -1));
  });

  it('gives the same stanzas wherever the bytes are split', async () => {
    for (const text of [SAMPLE, crlf]) {
      const bytes = new TextEncoder().encode(text);
      for (let at = 0; at <= bytes.length; at++) {
        const chunks = [bytes.subarray(0, at), bytes.subarray(at)];
        const viaLines = await collect(parseStanzas(splitLines(fromArray(chunks))));
        const direct = await collect(parseStanzasFromChunks(fromArray(chunks)));
        expect(viaLines.map((s) => ({ ...s })), `split at ${at}`).toEqual(expected);
        expect(direct.map((s) => ({ ...s })), `split at ${at}`).toEqual(expected);
      }
    }
  });

  it('finding 2: hands over the stanzas a chunk completes as one batch (no async hop per stanza)', async () => {
    const tiny = 'Package: a\n\n'.repeat(1000);
    const batches = await collect(parseStanzaBatches(fromArray([tiny, tiny.slice(0, 6), tiny.slice(6), 'Package: last'])));
    // a 1000-stanza chunk is one array; a chunk that completes nothing yields nothing; the tail comes last
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 1]);
    expect(batches.flat().map((s) => s['package'])).toEqual([...Array(2000).fill('a'), 'last']);
  });

  it('survives one-byte chunks (every UTF-8 sequence split)', async () => {
    const bytes = new TextEncoder().encode(crlf);
    const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    const got = await collect(parseStanzasFromChunks(fromArray(chunks)));
    expect(got.map((s) => ({ ...s }))).toEqual(expected);
  });

  it('accepts string chunks and a final line without newline', async () => {
    const lines = await collect(splitLines(fromArray(['A: 1\r', '\nB: 2\n\nC', ': 3'])));
    expect(lines).toEqual(['A: 1', 'B: 2', '', 'C: 3']);
  });

  it('parses a 60,000-stanza Packages file', async () => {
    const count = 60_000;
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      parts.push(
        `Package: pkg${i}\nVersion: 1.${i}-1\nArchitecture: amd64\nMaintainer: Dev <d@example.org>\n` +
          `Installed-Size: ${i % 977}\nDepends: libc6 (>= 2.36), pkg${i + 1}\n` +
          `Description: package number ${i}\n A long description line for package ${i}.\n .\n More text.\n` +
          `Filename: pool/main/p/pkg${i}/pkg${i}_1.${i}-1_amd64.deb\nSize: ${1000 + i}\n` +
          `SHA256: ${i.toString(16).padStart(64, '0')}\n\n`,
      );
    }
    const bytes = Buffer.from(parts.join(''));
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < bytes.length; off += 65_536) yield bytes.subarray(off, off + 65_536);
    }
    let n = 0;
    let last: Stanza | undefined;
    for await (const st of parseStanzasFromChunks(chunks())) {
      n++;
      last = st;
    }
    expect(n).toBe(count);
    expect(last?.['filename']).toBe(`pool/main/p/pkg${count - 1}/pkg${count - 1}_1.${count - 1}-1_amd64.deb`);
    expect(last?.['size']).toBe(String(1000 + count - 1));
    let viaLines = 0;
    for await (const _ of parseStanzas(splitLines(chunks()))) viaLines++;
    expect(viaLines).toBe(count);
  });
});

describe('finding 2: line splitting is linear and capped (an endless line)', () => {
  it('refuses a line longer than maxLine with METADATA_TOO_LARGE while it is still arriving', async () => {
    const x = 'x'.repeat(64 * 1024);
    let sent = 0;
    async function* endless(): AsyncGenerator<string> {
      yield 'Package: a\nDescription: ';
      for (;;) { sent++; yield x; } // never ends: the cap must stop it
    }
    await expect(collect(parseStanzasFromChunks(endless(), { maxLine: 1024 * 1024 }))).rejects.toMatchObject({ code: 'METADATA_TOO_LARGE' });
    expect(sent).toBeLessThanOrEqual(17); // stopped right past 1 MiB, not after reading more
  });

  it('the cap counts the whole line across chunks, CR included, and resets at each newline', () => {
    const s = new LineSplitter(10);
    expect(s.push('12345')).toEqual([]);
    expect(s.push('67890\n12')).toEqual(['1234567890']);
    expect(s.push('345678\r')).toEqual([]);
    expect(s.push('\nend')).toEqual(['12345678']);
    expect(s.end()).toBe('end');
    expect(errorCodeOf(() => new LineSplitter(10).push('12345678901'))).toBe('METADATA_TOO_LARGE');
    const split = new LineSplitter(10);
    split.push('123456');
    expect(errorCodeOf(() => split.push('78901'))).toBe('METADATA_TOO_LARGE');
  });

  it('joins a long line held as pieces exactly once (CRLF split across chunks too)', () => {
    const s = new LineSplitter(1 << 20);
    const piece = 'ab'.repeat(1000);
    for (let i = 0; i < 100; i++) expect(s.push(piece)).toEqual([]);
    expect(s.push('\r')).toEqual([]);
    expect(s.push('\nnext\n')).toEqual([piece.repeat(100), 'next']);
    expect(s.end()).toBeUndefined();
  });

  it('a default cap applies to the sync parsers too (Release text)', () => {
    expect(errorCodeOf(() => parseStanzasSync(`Origin: ${'x'.repeat(2 ** 20 + 1)}\n`))).toBe('METADATA_TOO_LARGE');
  });
});
