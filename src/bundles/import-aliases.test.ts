import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { memoryWorld } from '../../test/helpers/memory-world.ts';
import { stateKeys } from '../state/keys.ts';
import { FORMAT, type BlobRef, type BundleManifest } from './bundle-manifest.ts';
import { recordImportedAliases } from './import-aliases.ts';

const digest = (algo: string, b: Buffer): string => createHash(algo).update(b).digest('hex');

function bundle(blobs: BlobRef[], base: BlobRef[]): BundleManifest {
  return {
    format: FORMAT, version: 1, createdAt: '2026-12-01T00:00:00Z', exporter: { fingerprint: 'A'.repeat(40), software: 'test' },
    remote: { name: 'deb', type: 'apt' }, checkpoints: [], blobs, totals: { count: blobs.length, bytes: 0 },
    since: { ts: '20261201T000000Z', manifest: 'b'.repeat(64), blobs: base },
  };
}

it('records an alias for every other digest of carried and base entries; a base blob is checked against its stored bytes', async () => {
  const w = memoryWorld();
  const [carried, known, unknown] = [Buffer.from('carried'), Buffer.from('base, alias known'), Buffer.from('base, alias new')];
  for (const b of [carried, known, unknown]) await w.content.storeBytes(b);
  const ref = (b: Buffer, algo: 'sha512' | 'sha384'): BlobRef => ({ sha256: digest('sha256', b), size: b.length, [algo]: digest(algo, b) });
  await w.state.setMany([{ key: stateKeys.alias('sha512', digest('sha512', known)), value: digest('sha256', known) }]);
  await recordImportedAliases(w.content, bundle([ref(carried, 'sha384')], [ref(known, 'sha512'), ref(unknown, 'sha384'), { sha256: digest('sha256', carried), size: carried.length }]));
  expect(await w.state.get(stateKeys.alias('sha384', digest('sha384', carried)))).toBe(digest('sha256', carried));
  expect(await w.state.get(stateKeys.alias('sha384', digest('sha384', unknown)))).toBe(digest('sha256', unknown));

  // a base entry whose listed digest is not that of the stored blob records nothing and refuses the bundle
  const lie = { ...ref(known, 'sha384'), sha384: digest('sha384', Buffer.from('something else')) };
  await expect(recordImportedAliases(w.content, bundle([], [lie]))).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining('sha384') });
  expect(await w.state.get(stateKeys.alias('sha384', lie.sha384))).toBeUndefined();
});
