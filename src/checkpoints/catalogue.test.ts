import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { openMemoryState } from '../state/memory-state.ts';
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

describe('Catalogue manifest cache (issue 8, finding 10)', () => {
  /** A blob store that counts whole-blob reads. */
  class CountingStore extends MemoryBlobStore {
    reads = 0;
    override readAll(sha256: string, maxBytes?: number): Promise<Buffer> {
      this.reads++;
      return super.readAll(sha256, maxBytes);
    }
  }
  const manifestOf = (ts: string, padBytes: number): Buffer =>
    Buffer.from(JSON.stringify({ version: 1, remote: 'deb', type: 'apt', ts, createdAt: 'x', signer: 'y', pad: 'p'.repeat(padBytes) }));
  const store = async (blobs: CountingStore, data: Buffer): Promise<string> => {
    const w = await blobs.createWriter();
    await w.write(data);
    return (await w.commit()).sha256;
  };

  it('is bounded by the bytes of the manifests it holds, not by their number', async () => {
    const blobs = new CountingStore();
    const catalogue = new Catalogue(openMemoryState(), blobs, { cacheBytes: 10_000 });
    const big = [await store(blobs, manifestOf(TS[0], 6000)), await store(blobs, manifestOf(TS[1], 6000))];
    const small = [await store(blobs, manifestOf(TS[2], 100)), await store(blobs, manifestOf(TS[3], 100))];
    for (const sha of [...small, big[0]!]) await catalogue.manifest(sha);
    expect(blobs.reads).toBe(3);
    for (const sha of [...small, big[0]!]) expect((await catalogue.manifest(sha)).remote).toBe('deb'); // all three fit
    expect(blobs.reads).toBe(3);
    await catalogue.manifest(big[1]!); // 12 KB of big manifests do not fit in 10 KB: the older one goes
    await catalogue.manifest(big[0]!);
    expect(blobs.reads).toBe(5);
    const huge = await store(blobs, manifestOf(TS[0], 20_000)); // larger than the whole cache: never kept
    await catalogue.manifest(huge);
    await catalogue.manifest(huge);
    expect(blobs.reads).toBe(7);
  });
});
