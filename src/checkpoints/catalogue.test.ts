import { beforeEach, describe, expect, it } from 'vitest';
import { memoryWorld, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { Catalogue } from './catalogue.ts';
import type { CatalogueEntry, CheckpointManifest } from './manifest.ts';

const entry = (ts: string, manifest = 'a'.repeat(64)): CatalogueEntry => ({ ts, manifest, createdAt: '2024-01-01T00:00:00.000Z', files: 1, bytes: 2 });
const TS = ['20240101T000000Z', '20240201T000000Z', '20240301T000000Z', '20240401T000000Z'] as const;

describe('Catalogue', () => {
  let w: MemoryWorld;
  let catalogue: Catalogue;

  beforeEach(() => {
    w = memoryWorld();
    catalogue = new Catalogue(w.state, w.blobs);
  });

  it('keeps entries oldest first whatever the publication order, per remote', async () => {
    expect(await catalogue.list('deb')).toEqual([]);
    for (const ts of [TS[2], TS[0], TS[1]]) expect(await catalogue.publish('deb', entry(ts), 10)).toEqual([]);
    await catalogue.publish('el', entry(TS[3]), 10);
    expect((await catalogue.list('deb')).map((e) => e.ts)).toEqual([TS[0], TS[1], TS[2]]);
    expect((await catalogue.list('el')).map((e) => e.ts)).toEqual([TS[3]]);
  });

  it('drops the oldest entries beyond keep and returns them', async () => {
    for (const ts of [TS[0], TS[1], TS[2]]) await catalogue.publish('deb', entry(ts), 10);
    const dropped = await catalogue.publish('deb', entry(TS[3]), 2);
    expect(dropped.map((e) => e.ts)).toEqual([TS[0], TS[1]]);
    expect((await catalogue.list('deb')).map((e) => e.ts)).toEqual([TS[2], TS[3]]);
  });

  it('reads a manifest blob, parsed once', async () => {
    const m: CheckpointManifest = { version: 1, remote: 'deb', type: 'apt', ts: TS[0], createdAt: '2024-01-01T00:00:00.000Z', signer: 'F'.repeat(40), suites: [] };
    const blob = await w.content.storeBytes(Buffer.from(JSON.stringify(m)));
    const read = await catalogue.manifest(blob.sha256);
    expect(read).toEqual(m);
    expect(await catalogue.manifest(blob.sha256)).toBe(read);
  });

  it('refuses a manifest that is not JSON or lacks its header (METADATA_INVALID)', async () => {
    const notJson = await w.content.storeBytes(Buffer.from('{ not json'));
    await expect(catalogue.manifest(notJson.sha256)).rejects.toMatchObject({ code: 'METADATA_INVALID' });
    for (const header of [{}, { version: 2, remote: 'deb', type: 'apt', ts: TS[0], createdAt: 'x', signer: 'y' }, { version: 1, remote: 'deb', type: 'apt', ts: TS[0], createdAt: 'x' }, null]) {
      const blob = await w.content.storeBytes(Buffer.from(JSON.stringify(header)));
      await expect(catalogue.manifest(blob.sha256), JSON.stringify(header)).rejects.toMatchObject({ code: 'METADATA_INVALID' });
    }
  });

  it('reports a manifest blob missing from the store as CHECKPOINT_NOT_FOUND', async () => {
    await expect(catalogue.manifest('b'.repeat(64))).rejects.toMatchObject({ code: 'CHECKPOINT_NOT_FOUND' });
  });
});
