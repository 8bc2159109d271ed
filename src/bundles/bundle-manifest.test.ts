import { expect, it } from 'vitest';
import { FORMAT, FORMAT_VERSION, parseBundleManifest, serializeBundleManifest, type BundleManifest } from './bundle-manifest.ts';

const hex = (c: string, n = 64): string => c.repeat(n);

function manifest(blobs: unknown[], since: unknown = null): Buffer {
  const m = {
    format: FORMAT, version: FORMAT_VERSION, createdAt: '2026-01-01T00:00:00Z',
    exporter: { fingerprint: 'A'.repeat(40), software: 'repoint/test' }, remote: { name: 'deb', type: 'apt' },
    checkpoints: [{ ts: '20260101T000000Z', createdAt: '2026-01-01T00:00:00Z', manifest: hex('a'), files: 1, bytes: 1 }],
    since, blobs, totals: { count: blobs.length, bytes: blobs.reduce((n: number, b) => n + ((b as { size?: number }).size ?? 0), 0) },
  };
  return serializeBundleManifest(m as BundleManifest);
}

it('accepts a well-formed blob list (sha512, sha384, sha224 optional) and refuses a malformed item, naming where', () => {
  const ok = parseBundleManifest(manifest([{ sha256: hex('a'), size: 1 }, { sha256: hex('b'), size: 0, sha512: hex('c', 128) }, { sha256: hex('e'), size: 0, sha384: hex('f', 96), sha224: hex('f', 56) }]));
  expect(ok.blobs.map((b) => b.sha256)).toEqual([hex('a'), hex('b'), hex('e')]);
  expect(ok.blobs[2]).toMatchObject({ sha384: hex('f', 96), sha224: hex('f', 56) });
  const bad = (blobs: unknown[], since?: unknown): unknown => {
    try {
      parseBundleManifest(manifest([{ sha256: hex('a'), size: 1 }, ...blobs], since));
    } catch (err) {
      return err;
    }
    return undefined;
  };
  expect(bad([{ sha256: hex('B'), size: 1 }])).toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/blobs\.1: sha256/) });
  expect(bad([{ sha256: hex('b'), size: -1 }])).toMatchObject({ message: expect.stringMatching(/blobs\.1: size/) });
  expect(bad([{ sha256: hex('b'), size: 1, sha512: 'x' }])).toMatchObject({ message: expect.stringMatching(/blobs\.1: sha512/) });
  expect(bad([{ sha256: hex('b'), size: 1, sha384: hex('c', 128) }])).toMatchObject({ message: expect.stringMatching(/blobs\.1: sha384/) });
  expect(bad([{ sha256: hex('b'), size: 1, sha224: hex('C', 56) }])).toMatchObject({ message: expect.stringMatching(/blobs\.1: sha224/) });
  expect(bad(['nope'])).toMatchObject({ message: expect.stringMatching(/blobs\.1: expected an object/) });
  expect(bad([], { ts: '20251231T000000Z', manifest: hex('d'), blobs: [{ sha256: 'short', size: 1 }] })).toMatchObject({ message: expect.stringMatching(/since\.blobs\.0: sha256/) });
});
