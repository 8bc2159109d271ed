import { errorCodeOf } from '../../test/helpers/error-code.ts';
import { describe, expect, it } from 'vitest';
import { parseRequestPath } from './request-path.ts';

function code(raw: string): string | undefined {
  return errorCodeOf(() => parseRequestPath(raw));
}

describe('parseRequestPath', () => {
  it('decodes segments, keeping +, ~ and %', () => {
    expect(parseRequestPath('/debian/pool/main/f/foo/foo_1.0+dfsg-1~bpo1_amd64.deb').segments)
      .toEqual(['debian', 'pool', 'main', 'f', 'foo', 'foo_1.0+dfsg-1~bpo1_amd64.deb']);
    expect(parseRequestPath('/debian/pool/a%2bb%7e1%25.deb').segments).toEqual(['debian', 'pool', 'a+b~1%.deb']);
  });
  it('drops "." segments, as apt sends them for flat repositories', () => {
    expect(parseRequestPath('/debian/flat/./InRelease').segments).toEqual(['debian', 'flat', 'InRelease']);
    expect(parseRequestPath('/debian/flat/%2e/Packages.xz').segments).toEqual(['debian', 'flat', 'Packages.xz']);
  });

  it('notes a trailing slash', () => {
    expect(parseRequestPath('/debian/')).toEqual({ segments: ['debian'], directory: true });
    expect(parseRequestPath('/')).toEqual({ segments: [], directory: true });
  });
  it.each([
    '/debian/../etc/passwd', '/debian/%2e%2e/x', '/debian/a%2fb', '/debian/a%5Cb', '/debian\\x',
    '/debian/a%00b', '/debian//x', '/debian/%zz', 'debian/x', '/debian/a%0ab', `/debian/${'a'.repeat(5000)}`,
  ])('refuses %s', (raw) => expect(code(raw)).toBe('BAD_PATH'));
});
