import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRepointError } from '../../errors.ts';
import { TokenGuard, parsePrimary, parsePrimaryBatches } from './primary.ts';
import type { PrimaryPackage } from './primary.ts';

const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="N">\n';
const TAIL = '</metadata>\n';

function hex(algo: string, seed: string): string {
  return createHash(algo).update(seed).digest('hex');
}

/** One package in createrepo_c's layout, with multi-byte text to split across chunks. */
function pkgXml(i: number): string {
  const sha = i % 7 === 0 ? 'sha' : i % 11 === 0 ? 'sha512' : 'sha256';
  const algo = sha === 'sha' ? 'sha1' : sha;
  const base = i % 13 === 0 ? ` xml:base="http://127.0.0.1:8080/base${i}/"` : '';
  return `<package type="rpm">
  <name>pkg-${i}</name>
  <arch>${i % 2 === 0 ? 'x86_64' : 'noarch'}</arch>
  <version epoch="${i % 3}" ver="1.${i}" rel="${i}.fc40"/>
  <checksum type="${sha}" pkgid="YES">${hex(algo, `p${i}`)}</checksum>
  <summary>Ünïcødé 日本語 ☃ 🎉 summary &amp; &lt;more&gt;</summary>
  <description>Description ${'x'.repeat(i % 50)} — ünï 🎉</description>
  <packager></packager>
  <url></url>
  <time file="1700000000" build="1700000000"/>
  <size package="${1000 + i}" installed="0" archive="124"/>
  <location${base} href="Packages/p/pkg-${i}.rpm"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:header-range start="4504" end="5501"/>
    <rpm:provides><rpm:entry name="pkg-${i}" flags="EQ" epoch="0" ver="1" rel="1"/></rpm:provides>
    <file>/usr/bin/pkg-${i}</file>
  </format>
</package>
`;
}

function expected(i: number): PrimaryPackage {
  const algo = i % 7 === 0 ? 'sha1' : i % 11 === 0 ? 'sha512' : 'sha256';
  const p: PrimaryPackage = {
    location: `Packages/p/pkg-${i}.rpm`,
    checksum: { algo, hex: hex(algo, `p${i}`) },
    size: 1000 + i,
    name: `pkg-${i}`,
    arch: i % 2 === 0 ? 'x86_64' : 'noarch',
    version: { epoch: String(i % 3), ver: `1.${i}`, rel: `${i}.fc40` },
  };
  if (i % 13 === 0) p.xmlBase = `http://127.0.0.1:8080/base${i}/`;
  return p;
}

/** Lazily encodes the document and cuts the bytes at odd sizes, so UTF-8 sequences get split. */
async function* oddChunks(count: number, progress?: { produced: number }): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  const sizes = [1, 3, 7, 17, 101, 4093, 2, 65521];
  let pending = enc.encode(HEAD);
  let k = 0;
  for (let i = 0; i <= count; i++) {
    const next = enc.encode(i < count ? pkgXml(i) : TAIL);
    const joined = new Uint8Array(pending.length + next.length);
    joined.set(pending);
    joined.set(next, pending.length);
    pending = joined;
    for (;;) {
      const n = sizes[k % sizes.length] ?? 1;
      if (pending.length < n && i < count) break;
      if (pending.length === 0) break;
      k++;
      if (progress) progress.produced++;
      yield pending.subarray(0, n);
      pending = pending.subarray(n);
    }
  }
}

async function* fromStrings(...parts: string[]): AsyncGenerator<string> {
  yield* parts;
}

async function collect(src: AsyncIterable<Uint8Array | string>): Promise<PrimaryPackage[]> {
  const out: PrimaryPackage[] = [];
  for await (const p of parsePrimary(src)) out.push(p);
  return out;
}

async function expectInvalid(src: AsyncIterable<Uint8Array | string>, pattern: RegExp): Promise<void> {
  const err = await collect(src).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRepointError(err, 'METADATA_INVALID'), String(err)).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

describe('parsePrimary', () => {
  it('streams 50,000 packages from odd-sized byte chunks', async () => {
    const n = 50_000;
    let i = 0;
    for await (const p of parsePrimary(oddChunks(n))) {
      if (i % 997 === 0 || i < 30) expect(p).toEqual(expected(i));
      else expect(p.name).toBe(`pkg-${i}`);
      i++;
    }
    expect(i).toBe(n);
  });

  it('yields packages before the input is exhausted, in batches per chunk', async () => {
    const progress = { produced: 0 };
    let batches = 0;
    let firstAt = -1;
    let total = 0;
    for await (const batch of parsePrimaryBatches(oddChunks(2000, progress))) {
      if (firstAt < 0) firstAt = progress.produced;
      expect(batch.length).toBeGreaterThan(0);
      total += batch.length;
      batches++;
    }
    expect(total).toBe(2000);
    expect(batches).toBeGreaterThan(10);
    expect(batches).toBeLessThan(2000);
    expect(firstAt).toBeLessThan(progress.produced / 10);
  });

  it('reads xml:base, sha1 (type="sha") and sha512 checksums', async () => {
    const sha1 = hex('sha1', 'a');
    const sha512 = hex('sha512', 'b');
    const [a, b] = await collect(
      fromStrings(
        HEAD,
        `<package type="rpm"><name>a</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/>` +
          `<checksum type="sha" pkgid="YES">${sha1.toUpperCase()}</checksum><size package="5"/>` +
          `<location xml:base="http://127.0.0.1:1/x/" href="a.rpm"/></package>`,
        `<package type="rpm"><name>b</name><arch>src</arch><version ver="2" rel="3"/>` +
          `<checksum type="sha512" pkgid="YES">${sha512}</checksum><size package="0"/><location href="b.rpm"/></package>`,
        TAIL,
      ),
    );
    expect(a).toEqual({
      location: 'a.rpm',
      xmlBase: 'http://127.0.0.1:1/x/',
      checksum: { algo: 'sha1', hex: sha1 },
      size: 5,
      name: 'a',
      arch: 'noarch',
      version: { epoch: '0', ver: '1', rel: '1' },
    });
    expect(b).toEqual({
      location: 'b.rpm',
      checksum: { algo: 'sha512', hex: sha512 },
      size: 0,
      name: 'b',
      arch: 'src',
      version: { epoch: '0', ver: '2', rel: '3' },
    });
  });

  it('yields nothing for an empty repository', async () => {
    expect(await collect(fromStrings(HEAD.replace('packages="N">', 'packages="0"/>')))).toEqual([]);
  });

  it('rejects truncated documents, bad UTF-8 and wrong roots', async () => {
    const whole = HEAD + pkgXml(1) + pkgXml(2) + TAIL;
    await expectInvalid(fromStrings(whole.slice(0, whole.length - 12)), /malformed XML/);
    await expectInvalid(fromStrings(HEAD + pkgXml(1)), /malformed XML/);
    async function* badUtf8(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode(HEAD + '<package><name>');
      yield Uint8Array.of(0xc3, 0x28);
    }
    await expectInvalid(badUtf8(), /invalid UTF-8/);
    async function* cutSequence(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode(HEAD + TAIL.trim());
      yield Uint8Array.of(0xe2, 0x98);
    }
    await expectInvalid(cutSequence(), /invalid UTF-8/);
    await expectInvalid(fromStrings('<repomd xmlns="http://linux.duke.edu/metadata/repo"/>'), /expected <metadata>/);
  });

  it('rejects packages missing what the proxy needs', async () => {
    const good = pkgXml(3);
    const cases: Array<[string, RegExp]> = [
      [good.replace(/<checksum[^]*?<\/checksum>/, ''), /without <checksum>/],
      [good.replace(/<location[^>]*\/>/, ''), /without <location>/],
      [good.replace(/<size [^>]*\/>/, '<size installed="1"/>'), /<size> without/],
      [good.replace(/<name>[^<]*<\/name>/, ''), /without <name>/],
      [good.replace('type="sha256"', 'type="whirlpool"'), /unknown checksum type/],
      [good.replace(/<location[^>]*\/>/, '<location href="a"/><location href="b"/>'), /duplicate <location>/],
    ];
    for (const [body, pattern] of cases) await expectInvalid(fromStrings(HEAD, body, TAIL), pattern);
  });
});

describe('finding 2: primary.xml text and tags are capped (an endless text node)', () => {
  it('refuses a text node longer than maxToken while it is still arriving', async () => {
    let sent = 0;
    async function* endless(): AsyncGenerator<string> {
      yield '<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common"><package type="rpm"><description>';
      for (;;) { sent++; yield 'y'.repeat(64 * 1024); }
    }
    const err = await names(endless(), 1 << 20).catch((e: unknown) => e);
    expect(isRepointError(err, 'METADATA_TOO_LARGE')).toBe(true);
    expect(sent).toBeLessThanOrEqual(17);
  });

  it('counts runs without < or > across chunks, and markup resets them', () => {
    const g = new TokenGuard(8);
    g.check('<a>1234');
    g.check('5678<b x="1"');
    expect(() => g.check('>123456789')).toThrow(/longer than 8/);
    expect(() => new TokenGuard(8).check('<a href="123456789">')).toThrow(/longer than 8/); // a tag counts too
  });

  it('lets a normal primary through under a small cap', async () => {
    const text = '<?xml version="1.0"?><metadata xmlns="http://linux.duke.edu/metadata/common"></metadata>';
    expect(await names(fromStrings(text), 64)).toEqual([]);
  });
});

async function names(src: AsyncIterable<string>, maxToken: number): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of parsePrimaryBatches(src, { maxToken })) for (const p of batch) out.push(p.name);
  return out;
}
