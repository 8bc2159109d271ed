import { describe, expect, it } from 'vitest';
import { IMMUTABLE, type Reply } from '../serve/reply.ts';
import { blobRedirect, redirectable } from './redirect.ts';

const hex = 'a'.repeat(64);

describe('blob redirects', () => {
  it.each([
    ['pool/main/b/big/big_1_amd64.deb', true],
    ['20240101T000000Z/pool/main/b/big/big_1_amd64.deb', true],
    [`dists/stable/main/binary-amd64/by-hash/SHA256/${hex}`, true],
    ['Packages/f/foo-1.0-1.x86_64.rpm', true],
    [`repodata/${hex}-primary.xml.gz`, true],
    ['dists/stable/InRelease', false],
    ['dists/stable/Release.gpg', false],
    ['dists/stable/main/binary-amd64/Packages.xz', false],
    ['repodata/repomd.xml', false],
    ['repodata/repomd.xml.asc', false],
    ['20240101T000000Z/dists/stable/InRelease', false],
  ])('%s → %s', (path, expected) => {
    expect(redirectable(path)).toBe(expected);
  });

  const blob = (cacheControl = IMMUTABLE): Reply => ({ body: { kind: 'blob', sha256: hex, size: 3, mtimeMs: 0, open: () => { throw new Error('not opened'); } }, contentType: 'x', cacheControl });
  const signer = async (sha256: string, method: string): Promise<string> => `http://127.0.0.1:1/b/${sha256}?signed-for=${method}`;

  it('answers 302 to a URL signed for the request method, never cached itself', async () => {
    const res = await blobRedirect(signer, 'pool/x.deb', 'HEAD', blob(), false);
    expect([res?.status, res?.headers.get('location'), res?.headers.get('cache-control')]).toEqual([302, `http://127.0.0.1:1/b/${hex}?signed-for=HEAD`, 'no-store']);
  });

  it('serves here: conditional requests, short-lived replies, metadata paths, no signer, or a blob the bucket lacks', async () => {
    expect(await blobRedirect(signer, 'pool/x.deb', 'GET', blob(), true)).toBeUndefined();
    expect(await blobRedirect(signer, 'pool/x.deb', 'GET', blob('public, max-age=300'), false)).toBeUndefined();
    expect(await blobRedirect(signer, 'dists/stable/InRelease', 'GET', blob(), false)).toBeUndefined();
    expect(await blobRedirect(undefined, 'pool/x.deb', 'GET', blob(), false)).toBeUndefined();
    expect(await blobRedirect(async () => undefined, 'pool/x.deb', 'GET', blob(), false)).toBeUndefined();
  });
});
