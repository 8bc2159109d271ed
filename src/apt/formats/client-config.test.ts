import { describe, expect, it } from 'vitest';
import { aptConfLine, deb822Stanza, snapshotOverride } from './client-config.ts';

describe('apt client configuration writers', () => {
  it('quotes option names apt would not read unquoted, encoding % and "', () => {
    expect(snapshotOverride('Label', 'Debian-Security', 'http://m/sec/@SNAPSHOTID@/')).toBe('Acquire::Snapshots::URI::Override::Label::Debian-Security "http://m/sec/@SNAPSHOTID@/";');
    expect(snapshotOverride('Origin', 'Example Corp', 'http://m/x/')).toBe('"Acquire::Snapshots::URI::Override::Origin::Example Corp" "http://m/x/";');
    expect(aptConfLine('A::100% "x"', 'v')).toBe('"A::100%25 %22x%22" "v";');
    expect(() => aptConfLine('A', 'a"b')).toThrow(/double quote/);
  });

  it('writes deb822 stanzas without empty fields', () => {
    expect(deb822Stanza([['Types', 'deb'], ['Signed-By', ''], ['URIs', 'http://m/r']])).toBe('Types: deb\nURIs: http://m/r\n');
  });
});
