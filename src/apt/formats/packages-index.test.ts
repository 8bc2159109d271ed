import { errorCodeOf } from '../../../test/helpers/error-code.ts';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseStanzasSync, type Stanza } from './deb822.ts';
import { indexEntries, packagesEntries, sourcesEntries, type IndexEntry } from './packages-index.ts';

const hex = (algo: string, s: string): string => createHash(algo).update(s).digest('hex');

function one(text: string): Stanza {
  const [st] = parseStanzasSync(text);
  if (st === undefined) throw new Error('no stanza');
  return st;
}


const DSC = 'dsc body';
const ORIG = 'orig tarball';
const DEB = 'debian tarball';
const SOURCES = `Package: hello
Binary: hello
Version: 2.10-3
Directory: pool/main/h/hello
Files:
 ${hex('md5', DSC)} ${DSC.length} hello_2.10-3.dsc
 ${hex('md5', ORIG)} ${ORIG.length} hello_2.10.orig.tar.gz
Checksums-Sha256:
 ${hex('sha256', DSC)} ${DSC.length} hello_2.10-3.dsc
 ${hex('sha256', ORIG)} ${ORIG.length} hello_2.10.orig.tar.gz
 ${hex('sha256', DEB)} ${DEB.length} hello_2.10-3.debian.tar.xz
Checksums-Sha512:
 ${hex('sha512', ORIG)} ${ORIG.length} hello_2.10.orig.tar.gz
 ${hex('sha512', DSC)} ${DSC.length} hello_2.10-3.dsc
`;

describe('packagesEntries', () => {
  it('reads Filename, Size and strong hashes (any field case)', () => {
    const sha = hex('sha256', 'deb');
    const st = one(`Package: a\nfilename: pool/main/a/a_1_all.deb\nSIZE: 1234\nSHA256: ${sha.toUpperCase()}\nMD5sum: ${hex('md5', 'deb')}\n`);
    expect(packagesEntries(st)).toEqual({ filename: 'pool/main/a/a_1_all.deb', size: 1234, sha256: sha });
    const sha512 = hex('sha512', 'deb');
    expect(packagesEntries(one(`Filename: p/b.deb\nSize: 0\nSHA512: ${sha512}\n`))).toEqual({ filename: 'p/b.deb', size: 0, sha512 });
  });

  it('returns undefined without Filename or Size', () => {
    expect(packagesEntries(one('Package: a\nSize: 1\n'))).toBeUndefined();
    expect(packagesEntries(one('Package: a\nFilename: p/a.deb\n'))).toBeUndefined();
  });

  it('normalises flat-repository ./ and rejects escapes or bad values', () => {
    expect(packagesEntries(one('Filename: ./a_1_all.deb\nSize: 3\n'))?.filename).toBe('a_1_all.deb');
    expect(errorCodeOf(() => packagesEntries(one('Filename: ../x.deb\nSize: 3\n')))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => packagesEntries(one('Filename: /x.deb\nSize: 3\n')))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => packagesEntries(one('Filename: x.deb\nSize: 3kB\n')))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => packagesEntries(one('Filename: x.deb\nSize: 3\nSHA256: abc\n')))).toBe('METADATA_INVALID');
  });
});

describe('sourcesEntries', () => {
  it('lists every file under Directory, merging SHA256 and SHA512', () => {
    expect(sourcesEntries(one(SOURCES))).toEqual([
      { filename: 'pool/main/h/hello/hello_2.10-3.dsc', size: DSC.length, sha256: hex('sha256', DSC), sha512: hex('sha512', DSC) },
      { filename: 'pool/main/h/hello/hello_2.10.orig.tar.gz', size: ORIG.length, sha256: hex('sha256', ORIG), sha512: hex('sha512', ORIG) },
      { filename: 'pool/main/h/hello/hello_2.10-3.debian.tar.xz', size: DEB.length, sha256: hex('sha256', DEB) },
    ]);
  });

  it('handles a flat Directory and missing fields', () => {
    const flat = SOURCES.replace('Directory: pool/main/h/hello', 'Directory: .');
    expect(sourcesEntries(one(flat)).map((e) => e.filename)).toEqual(['hello_2.10-3.dsc', 'hello_2.10.orig.tar.gz', 'hello_2.10-3.debian.tar.xz']);
    expect(sourcesEntries(one(SOURCES.replace('Directory: pool/main/h/hello\n', '')))).toEqual([]);
    expect(sourcesEntries(one(`Package: x\nDirectory: p\nFiles:\n ${hex('md5', DSC)} 8 x.dsc\n`))).toEqual([]);
  });

  it('rejects inconsistent or unsafe lines', () => {
    const badSize = SOURCES.replace(` ${hex('sha512', DSC)} ${DSC.length} `, ` ${hex('sha512', DSC)} 999 `);
    expect(errorCodeOf(() => sourcesEntries(one(badSize)))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => sourcesEntries(one(`Directory: p\nChecksums-Sha256:\n ${hex('sha256', 'x')} 1 ../x\n`)))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => sourcesEntries(one(`Directory: p\nChecksums-Sha256:\n ${hex('sha256', 'x')} 1\n`)))).toBe('METADATA_INVALID');
    expect(errorCodeOf(() => sourcesEntries(one(`Directory: ../p\nChecksums-Sha256:\n ${hex('sha256', 'x')} 1 x\n`)))).toBe('METADATA_INVALID');
  });
});

describe('indexEntries', () => {
  async function* stanzas(items: Stanza[]): AsyncGenerator<Stanza> {
    yield* items;
  }
  async function collect(it: AsyncIterable<IndexEntry>): Promise<string[]> {
    const out: string[] = [];
    for await (const e of it) out.push(e.filename);
    return out;
  }

  it('walks Packages and Sources stanzas', async () => {
    const pkgs = parseStanzasSync('Filename: p/a.deb\nSize: 1\n\nPackage: no-file\n\nFilename: p/b.deb\nSize: 2\n');
    expect(await collect(indexEntries('packages', stanzas(pkgs)))).toEqual(['p/a.deb', 'p/b.deb']);
    const srcs = parseStanzasSync(SOURCES + '\n' + SOURCES.replaceAll('hello', 'world'));
    expect(await collect(indexEntries('sources', stanzas(srcs)))).toHaveLength(6);
  });
});
