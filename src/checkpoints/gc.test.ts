import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryWorld, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { Catalogue } from './catalogue.ts';
import type { ManifestDeps, ManifestReader } from './checkpoint-source.ts';
import { collectGarbage } from './gc.ts';
import type { CheckpointManifest } from './manifest.ts';
import { checkpointPins, type PinSources } from './pins.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2024-05-01T00:00:00Z');

/**
 * A manifest type read by the test: `meta` lists metadata blobs, `indexes` names package lists in
 * `packageLists` (as an apt Packages blob lists .debs). Reads honour `seen`, as the real readers do.
 */
function reader(packageLists: Map<string, string[]>, reads: string[]): ManifestReader {
  return {
    metadataBlobs: (m) => m['meta'] as string[],
    async *packageBlobs(m: CheckpointManifest, _deps: ManifestDeps, seen: Set<string>) {
      for (const index of m['indexes'] as string[]) {
        if (seen.has(index)) continue;
        seen.add(index);
        reads.push(index);
        yield* packageLists.get(index) ?? [];
      }
    },
  };
}

describe('gc and checkpoint pins', () => {
  let w: MemoryWorld;
  let catalogue: Catalogue;
  let packageLists: Map<string, string[]>;
  let reads: string[];
  let sources: PinSources;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    w = memoryWorld();
    catalogue = new Catalogue(w.state, w.blobs);
    packageLists = new Map();
    reads = [];
    sources = { remotes: [{ name: 'deb', type: 'fake', upstreams: [] }, { name: 'deb2', type: 'fake', upstreams: [] }], readers: new Map([['fake', reader(packageLists, reads)]]) };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Stores `size` bytes as if written (and last read) `minute` minutes after T0. */
  const blobAt = async (minute: number, size: number, seed: string): Promise<string> => {
    vi.setSystemTime(T0 + minute * MINUTE);
    return (await w.content.storeBytes(Buffer.alloc(size, seed))).sha256;
  };
  const checkpoint = async (remote: string, ts: string, fields: { meta: string[]; indexes: string[] }, type = 'fake'): Promise<string> => {
    const m = { version: 1, remote, type, ts, createdAt: 'x', signer: 'y', ...fields };
    const blob = await w.content.storeBytes(Buffer.from(JSON.stringify(m)));
    await catalogue.publish(remote, { ts, manifest: blob.sha256, createdAt: 'x', files: 0, bytes: 0 }, 10);
    return blob.sha256;
  };
  const stored = async (): Promise<Set<string>> => {
    const out = new Set<string>();
    for await (const b of w.store.list()) out.add(b.sha256);
    return out;
  };

  /** Pinned: old metadata and an old package; unpinned: three blobs used at minutes 10, 20, 30. */
  async function world(): Promise<{ pinned: string[]; lru: string[]; total: number }> {
    const meta = await blobAt(0, 100, 'm');
    const pkg = await blobAt(0, 100, 'p');
    const lru = [await blobAt(10, 100, '1'), await blobAt(20, 100, '2'), await blobAt(30, 100, '3')];
    packageLists.set('idx', [pkg]);
    const manifest = await checkpoint('deb', '20240501T000000Z', { meta: [meta], indexes: ['idx'] });
    return { pinned: [meta, pkg, manifest], lru, total: (await w.store.totals()).bytes };
  }

  it('removes unpinned blobs, least recently used first, until the store fits the budget', async () => {
    const { pinned, lru, total } = await world();
    const r = await collectGarbage({ maxSizeBytes: total - 150, sources }, w.blobs, w.state, { all: false, dryRun: false });
    expect(r).toMatchObject({ removed: 2, freed: 200, pinned: 3, total });
    expect(await stored()).toEqual(new Set([...pinned, lru[2]]));
  });

  it('orders by last access, not by write time', async () => {
    const { lru, total } = await world();
    vi.setSystemTime(T0 + 40 * MINUTE);
    await w.blobs.readAll(lru[0] ?? ''); // read again: now the most recently used
    await collectGarbage({ maxSizeBytes: total - 150, sources }, w.blobs, w.state, { all: false, dryRun: false });
    const left = await stored();
    expect([lru[0], lru[1], lru[2]].map((s) => left.has(s ?? ''))).toEqual([true, false, false]);
  });

  it('takes from blobs used in the same minute only as many as the budget needs', async () => {
    const { total } = await world();
    const sameMinute = [await blobAt(5, 100, 'a'), await blobAt(5, 100, 'b'), await blobAt(5, 100, 'c')];
    const r = await collectGarbage({ maxSizeBytes: total + 300 - 150, sources }, w.blobs, w.state, { all: false, dryRun: false });
    expect(r).toMatchObject({ removed: 2, freed: 200 });
    const left = await stored();
    expect(sameMinute.filter((s) => left.has(s))).toHaveLength(1);
  });

  it('removes nothing while the store fits', async () => {
    const { total } = await world();
    expect(await collectGarbage({ maxSizeBytes: total, sources }, w.blobs, w.state, { all: false, dryRun: false })).toMatchObject({ removed: 0, freed: 0 });
    expect((await w.store.totals()).bytes).toBe(total);
  });

  it('with all, removes every unpinned blob whatever the budget', async () => {
    const { pinned, total } = await world();
    const r = await collectGarbage({ maxSizeBytes: total * 10, sources }, w.blobs, w.state, { all: true, dryRun: false });
    expect(r).toMatchObject({ removed: 3, freed: 300 });
    expect(await stored()).toEqual(new Set(pinned));
  });

  it('in a dry run, reports what it would remove and removes nothing', async () => {
    const { total } = await world();
    const before = await stored();
    const r = await collectGarbage({ maxSizeBytes: total - 150, sources }, w.blobs, w.state, { all: false, dryRun: true });
    expect(r).toMatchObject({ removed: 2, freed: 200 });
    expect(await stored()).toEqual(before);
  });

  it('pins every kept checkpoint of every remote, reading each shared index once', async () => {
    packageLists.set('shared', ['a'.repeat(64), 'b'.repeat(64)]);
    packageLists.set('own', ['c'.repeat(64)]);
    const m1 = await checkpoint('deb', '20240501T000000Z', { meta: ['1'.repeat(64)], indexes: ['shared'] });
    const m2 = await checkpoint('deb', '20240502T000000Z', { meta: ['2'.repeat(64)], indexes: ['shared', 'own'] });
    const m3 = await checkpoint('deb2', '20240503T000000Z', { meta: [], indexes: ['shared'] });
    const pins = await checkpointPins(sources, catalogue, w.state, w.blobs);
    expect(pins).toEqual(new Set([m1, m2, m3, '1'.repeat(64), '2'.repeat(64), 'a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)]));
    expect(reads).toEqual(['shared', 'own']);
  });

  it('pins only the manifest of a type this build cannot read', async () => {
    const m = await checkpoint('deb', '20240501T000000Z', { meta: ['1'.repeat(64)], indexes: [] }, 'zypper');
    expect(await checkpointPins(sources, catalogue, w.state, w.blobs)).toEqual(new Set([m]));
  });
});
