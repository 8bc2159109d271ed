import { describe, expect, it } from 'vitest';
import { isRepointError } from '../../errors.ts';
import { parseRepomd } from './repomd.ts';

const H = (c: string, n = 64): string => c.repeat(n);

function data(type: string, body: string): string {
  return `<data type="${type}">${body}</data>`;
}

function doc(inner: string, rootAttrs = 'xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm"'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<repomd ${rootAttrs}>\n${inner}\n</repomd>\n`;
}

// Shaped like createrepo_c --zck output, plus the extra types Fedora/RHEL carry.
const REAL = doc(`
  <revision>1700000123</revision>
  <tags><content>binary-x86_64</content><distro cpeid="cpe:/o:x:y:1">Y 1</distro></tags>
  <data type="primary">
    <checksum type="sha256">${H('a')}</checksum>
    <open-checksum type="sha256">${H('b')}</open-checksum>
    <location href="repodata/${H('a')}-primary.xml.gz"/>
    <timestamp>1700000100</timestamp>
    <size>571</size>
    <open-size>1079</open-size>
  </data>
  <data type="primary_db">
    <checksum type="sha256">${H('c')}</checksum>
    <open-checksum type="sha256">${H('d')}</open-checksum>
    <location href="repodata/${H('c')}-primary.sqlite.bz2"/>
    <timestamp>1700000120</timestamp>
    <size>1837</size>
    <open-size>106496</open-size>
    <database_version>10</database_version>
  </data>
  <data type="primary_zck">
    <checksum type="sha256">${H('e')}</checksum>
    <open-checksum type="sha256">${H('b')}</open-checksum>
    <header-checksum type="sha256">${H('f')}</header-checksum>
    <location href="repodata/${H('e')}-primary.xml.zck"/>
    <timestamp>1700000110</timestamp>
    <size>760</size>
    <open-size>1079</open-size>
    <header-size>134</header-size>
  </data>
  <data type="group">
    <checksum type="sha">${H('1', 40)}</checksum>
    <location href="repodata/comps.xml"/>
    <timestamp>1700000000</timestamp>
  </data>
  <data type="group_xz">
    <checksum type="sha512">${H('2', 128)}</checksum>
    <open-checksum type="md5">${H('3', 32)}</open-checksum>
    <location href="repodata/comps.xml.xz"/>
  </data>
  <data type="updateinfo"><checksum type="SHA384">${H('A', 96)}</checksum><location href="repodata/u.xml.gz"/></data>
  <data type="modules"><checksum type="sha224">${H('4', 56)}</checksum><location href="repodata/m.yaml.gz"/></data>`);

function expectInvalid(xml: string, pattern?: RegExp): void {
  let caught: unknown;
  try {
    parseRepomd(xml);
  } catch (err) {
    caught = err;
  }
  expect(isRepointError(caught, 'METADATA_INVALID'), String(caught)).toBe(true);
  if (pattern !== undefined) expect(String((caught as Error).message)).toMatch(pattern);
}

describe('parseRepomd', () => {
  it('parses every field of a createrepo_c-style repomd', () => {
    const r = parseRepomd(REAL);
    expect(r.revision).toBe('1700000123');
    expect(r.data.map((d) => d.type)).toEqual(['primary', 'primary_db', 'primary_zck', 'group', 'group_xz', 'updateinfo', 'modules']);
    expect(r.data[0]).toEqual({
      type: 'primary',
      location: `repodata/${H('a')}-primary.xml.gz`,
      checksum: { algo: 'sha256', hex: H('a') },
      openChecksum: { algo: 'sha256', hex: H('b') },
      timestamp: 1700000100,
      size: 571,
      openSize: 1079,
    });
    expect(r.data[2]).toMatchObject({
      headerChecksum: { algo: 'sha256', hex: H('f') },
      headerSize: 134,
      size: 760,
    });
    expect(r.maxTimestamp).toBe(1700000120);
  });

  it('maps checksum types, including sha = sha1, and lower-cases hex', () => {
    const byType = new Map(parseRepomd(REAL).data.map((d) => [d.type, d]));
    expect(byType.get('group')?.checksum).toEqual({ algo: 'sha1', hex: H('1', 40) });
    expect(byType.get('group_xz')?.checksum).toEqual({ algo: 'sha512', hex: H('2', 128) });
    expect(byType.get('group_xz')?.openChecksum).toEqual({ algo: 'md5', hex: H('3', 32) });
    expect(byType.get('updateinfo')?.checksum).toEqual({ algo: 'sha384', hex: H('a', 96) });
    expect(byType.get('modules')?.checksum).toEqual({ algo: 'sha224', hex: H('4', 56) });
    expect(byType.get('group_xz')?.timestamp).toBeUndefined();
  });

  it('accepts a prefixed namespace and unnamespaced documents alike', () => {
    const body = data('primary', `<r:checksum type="sha256">${H('a')}</r:checksum><r:location href="p.xml.gz"/>`)
      .replace('<data', '<r:data')
      .replace('</data>', '</r:data>');
    const prefixed = `<r:repomd xmlns:r="http://linux.duke.edu/metadata/repo">${body}</r:repomd>`;
    expect(parseRepomd(prefixed).data[0]?.location).toBe('p.xml.gz');
    const bare = `<repomd>${data('other', `<checksum type="sha256">${H('b')}</checksum><location href="o.xml.gz"/>`)}</repomd>`;
    expect(parseRepomd(bare).data[0]?.checksum.hex).toBe(H('b'));
  });

  it('ignores elements from foreign namespaces so they cannot shadow ours', () => {
    const xml = doc(
      data(
        'primary',
        `<rpm:checksum type="sha256">${H('9')}</rpm:checksum><checksum type="sha256">${H('a')}</checksum>` +
          `<rpm:location href="evil"/><location href="good.xml.gz"/>`,
      ),
    );
    const d = parseRepomd(xml).data[0];
    expect(d?.checksum.hex).toBe(H('a'));
    expect(d?.location).toBe('good.xml.gz');
  });

  it('reads xml:base on location', () => {
    const xml = doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><location xml:base="http://127.0.0.1:9/base/" href="p.xml.gz"/>`));
    expect(parseRepomd(xml).data[0]).toMatchObject({ location: 'p.xml.gz', xmlBase: 'http://127.0.0.1:9/base/' });
  });

  it('accepts fractional timestamps from old createrepo and reports no maxTimestamp without any', () => {
    const xml = doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><location href="p"/><timestamp>1313144446.55</timestamp>`));
    expect(parseRepomd(xml).maxTimestamp).toBe(1313144446.55);
    const none = doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><location href="p"/>`));
    expect(parseRepomd(none).maxTimestamp).toBeUndefined();
    expect(parseRepomd(none).revision).toBeUndefined();
  });

  it('rejects malformed XML and truncated documents', () => {
    expectInvalid('<repomd><data type="primary"></repomd>');
    expectInvalid('<repomd><revision>1</repomd></revision>', /malformed XML/);
    expectInvalid(REAL.slice(0, REAL.length - 20), /malformed XML/);
    expectInvalid('not xml at all');
    expectInvalid('<!DOCTYPE r [<!ENTITY x "y">]><repomd>&x;</repomd>');
  });

  it('rejects incomplete or inconsistent data entries', () => {
    expectInvalid(doc(data('primary', '<location href="p"/>')), /missing <checksum>/);
    expectInvalid(doc(data('primary', `<checksum type="sha256">${H('a')}</checksum>`)), /missing <location>/);
    expectInvalid(doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><location/>`)), /without href/);
    expectInvalid(doc(`<data><checksum type="sha256">${H('a')}</checksum><location href="p"/></data>`), /without a type/);
    expectInvalid(doc(data('primary', `<checksum type="crc32">${H('a', 8)}</checksum><location href="p"/>`)), /unknown checksum type/);
    expectInvalid(doc(data('primary', `<checksum>${H('a')}</checksum><location href="p"/>`)), /without a type/);
    expectInvalid(doc(data('primary', `<checksum type="sha256">${H('a', 63)}</checksum><location href="p"/>`)), /malformed sha256/);
    expectInvalid(doc(data('primary', `<checksum type="sha1">${H('g', 40)}</checksum><location href="p"/>`)), /malformed sha1/);
    expectInvalid(doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><location href="p"/><size>-1</size>`)), /bad size/);
    expectInvalid(doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><location href="p"/><timestamp>soon</timestamp>`)), /bad timestamp/);
    expectInvalid(doc(data('primary', `<checksum type="sha256">${H('a')}</checksum><checksum type="sha256">${H('b')}</checksum><location href="p"/>`)), /duplicate/);
  });

  it('rejects a document whose root is not repomd', () => {
    expectInvalid('<metadata xmlns="http://linux.duke.edu/metadata/common"/>', /expected <repomd>/);
  });
});
