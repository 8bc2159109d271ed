// Issue 8, finding 10: gc removes the package records of index blobs nothing reads any more.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apt } from '../apt/index.ts';
import { yum } from '../yum/index.ts';
import type { Config } from '../config/types.ts';
import { silentLogger } from '../log.ts';
import { pinSources } from '../registry.ts';
import type { ServeRequest } from '../serve/remote-handler.ts';
import { stateKeys } from '../state/keys.ts';
import { loadOrCreateSigner, type Signer } from '../trust/signer.ts';
import { buildAptRepo, PACKAGES_PATH, type AptRepo } from '../../test/helpers/apt-memory-repo.ts';
import { bodyOf, configOf, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import { ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { buildYumRepo } from '../../test/helpers/yum-memory-repo.ts';
import { Catalogue } from './catalogue.ts';
import { CheckpointService } from './checkpoint-service.ts';
import { collectGarbage, collectUnusedIndexes } from './gc.ts';
import { CheckpointRouter } from './router.ts';

const REQ: ServeRequest = { method: 'GET', id: 'test' };
const DIR = 'dists/stable';

describe('finding 10: gc of index records', () => {
  let key: ArchiveKey;
  let signer: Signer;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let config: Config;
  let catalogue: Catalogue;
  let router: CheckpointRouter;
  let service: CheckpointService;

  beforeAll(async () => {
    key = await archiveKey();
    signer = await loadOrCreateSigner(join(tmpdir(), 'mirror-index-gc.asc'));
    await writeFile(join(tmpdir(), 'mirror-index-gc-public.asc'), signer.publicKeyArmored);
  });
  beforeEach(() => {
    lastLive = undefined;
    w = memoryWorld();
    files = new Map();
    config = configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, metadataTtl: '0s', checkpoints: { suites: ['stable'], keep: 1 } } }, { publicUrl: 'http://127.0.0.1:8080' });
    const live = apt.createRemote({ remote: remoteOf(config, 'deb'), upstream: new ScriptedUpstream(serveFiles(() => files)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    catalogue = new Catalogue(w.state, w.blobs);
    router = new CheckpointRouter(live, catalogue);
    service = new CheckpointService(config, w.content, catalogue, signer, new Map([['deb', live]]), silentLogger, () => 'http://127.0.0.1:8080');
  });
  const get = async (path: string): Promise<Buffer> => bodyOf(await router.handle(path, REQ));
  let lastLive: string | undefined;

  /** Publishes a new index upstream and has a live client read it (InRelease, Packages.gz, one .deb). */
  const publishAndFetch = async (n: number): Promise<{ repo: AptRepo; index: string }> => {
    const repo = await buildAptRepo({ key, packages: [`pkg${n}`, `lib${n}`], date: new Date(Date.now() - 60_000) });
    for (const [p, d] of repo.files) files.set(p, d);
    await get(`${DIR}/InRelease`);
    await get(`${DIR}/${PACKAGES_PATH}.gz`);
    const [path, deb] = [...repo.debs][0]!;
    expect((await get(path)).equals(deb)).toBe(true);
    // the lookup answers as soon as its path is read; the live list is written when the ingestion ends
    for (let i = 0; i < 500; i++) {
      const live = (await w.state.get<Array<{ sha256: string }>>(stateKeys.aptLiveIndexes('deb'))) ?? [];
      if (live[0] && live[0].sha256 !== lastLive) return { repo, index: (lastLive = live[0].sha256) };
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('the new index was never listed live');
  };
  /** Index blobs that have records in the state, and how many records in all. */
  const indexesWithRecords = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for await (const page of w.state.keys('apt:idx:')) for (const k of page) out.set(k.slice(8, 72), (out.get(k.slice(8, 72)) ?? 0) + 1);
    return out;
  };
  const gc = (graceMs: number) => collectGarbage({ maxSizeBytes: 0, sources: pinSources(config) }, w.blobs, w.state, { all: true, dryRun: false, indexGraceMs: graceMs });

  it('removes the records of indexes no live generation or kept checkpoint uses; keeps the rest servable', async () => {
    const v1 = await publishAndFetch(1);
    const cp = await service.create('deb'); // pins v1's index
    const later = [];
    for (let n = 2; n <= 5; n++) later.push(await publishAndFetch(n));
    const [v2, v3, v4, v5] = later as [typeof v1, typeof v1, typeof v1, typeof v1];
    // live keeps 3 generations per index path: v5, v4, v3; v2 is read by nothing now
    expect(new Set((await indexesWithRecords()).keys())).toEqual(new Set([v1.index, v2.index, v3.index, v4.index, v5.index]));

    expect(await gc(3600_000)).toMatchObject({ indexes: 0, indexRecords: 0 }); // young markers: an ingestion may be about to list them
    const r = await gc(0);
    expect(r).toMatchObject({ indexes: 1, indexRecords: 2 });
    const left = await indexesWithRecords();
    expect(new Set(left.keys())).toEqual(new Set([v1.index, v3.index, v4.index, v5.index]));
    expect(await w.state.get(stateKeys.aptIndexDone(v2.index))).toBeUndefined();
    expect(await w.state.get(stateKeys.aptIndexDone(v1.index))).toMatchObject({ state: 'done' });

    // the checkpoint still verifies and serves its packages (upstream moved on: fetched by its records)
    const [path, deb] = [...v1.repo.debs][1]!;
    expect((await get(`${cp.ts}/${path}`)).equals(deb)).toBe(true);
    // live lookups still answer from the kept generations
    const [p3, d3] = [...v3.repo.debs][1]!;
    expect((await get(p3)).equals(d3)).toBe(true);

    // a newer checkpoint retires the first one (keep: 1): v1's records go with it
    await service.create('deb');
    expect(await gc(0)).toMatchObject({ indexes: 1 });
    expect(new Set((await indexesWithRecords()).keys())).toEqual(new Set([v3.index, v4.index, v5.index]));
  });

  it('the serving processes\' tick (collectUnusedIndexes) removes them without touching blobs', async () => {
    const v = [];
    for (let n = 1; n <= 4; n++) v.push(await publishAndFetch(n));
    const blobsBefore = (await w.store.totals()).count;
    expect(await collectUnusedIndexes(pinSources(config), w.blobs, w.state, { indexGraceMs: 0 })).toEqual({ indexes: 1, indexRecords: 2 });
    expect((await indexesWithRecords()).has(v[0]!.index)).toBe(false);
    expect((await w.store.totals()).count).toBe(blobsBefore);
  });

  it('a dry run removes nothing', async () => {
    for (let n = 1; n <= 4; n++) await publishAndFetch(n);
    const before = await indexesWithRecords();
    const r = await collectGarbage({ maxSizeBytes: 0, sources: pinSources(config) }, w.blobs, w.state, { all: true, dryRun: true, indexGraceMs: 0 });
    expect(r).toMatchObject({ indexes: 1, indexRecords: 0 });
    expect(await indexesWithRecords()).toEqual(before);
  });

  it('an index gc half removed is read again in full when it is used again', async () => {
    const v1 = await publishAndFetch(1);
    const sha = v1.index;
    // as if gc stopped between marking and deleting: the marker says "deleting", half the records are gone
    await w.state.set(stateKeys.aptIndexDone(sha), { state: 'deleting', at: 0 });
    await w.state.delete(stateKeys.aptIndexRecord(sha, [...v1.repo.debs.keys()][1]!));
    await w.state.set(stateKeys.aptLiveIndexes('deb'), []);
    // a fresh remote (a restart) sees the index live again and must not trust the half-deleted records
    const live = apt.createRemote({ remote: remoteOf(config, 'deb'), upstream: new ScriptedUpstream(serveFiles(() => files)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    const fresh = new CheckpointRouter(live, catalogue);
    await bodyOf(await fresh.handle(`${DIR}/InRelease`, REQ));
    await bodyOf(await fresh.handle(`${DIR}/${PACKAGES_PATH}.gz`, REQ));
    const [path, deb] = [...v1.repo.debs][1]!;
    const reply = await fresh.handle(path, REQ);
    expect(reply.headers?.['x-repoint-verified']).toBeUndefined(); // verified by its record, not passed through
    expect((await bodyOf(reply)).equals(deb)).toBe(true);
  });
});

describe('finding 10: gc of index records (yum)', () => {
  it('removes the records of a primary that dropped out of the live generations', async () => {
    const key = await archiveKey();
    const signer = await loadOrCreateSigner(join(tmpdir(), 'mirror-index-gc.asc'));
    const w = memoryWorld();
    const files = new Map<string, Buffer>();
    const config = configOf({ el: { type: 'yum', upstream: 'http://127.0.0.1:9/el', keyring: key.keyringPath, metadataTtl: '0s' } });
    const live = yum.createRemote({ remote: remoteOf(config, 'el'), upstream: new ScriptedUpstream(serveFiles(() => files)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    const primaries: string[] = [];
    for (let v = 1; v <= 4; v++) {
      const repo = await buildYumRepo({ key, revision: 1000 + v, timestamp: 1000 + v, packages: [`pkg${v}`, `lib${v}`] });
      for (const [p, d] of repo.files) files.set(p, d);
      await bodyOf(await live.handle('os/repodata/repomd.xml', REQ));
      await bodyOf(await live.handle(repo.primaryPath, REQ));
      const [path, rpm] = [...repo.rpms][0]!;
      expect((await bodyOf(await live.handle(path, REQ))).equals(rpm)).toBe(true);
      for (let i = 0; i < 500 && primaries.length < v; i++) {
        const head = ((await w.state.get<Array<{ sha256: string }>>(stateKeys.yumLivePrimaries('el'))) ?? [])[0]?.sha256;
        if (head && head !== primaries.at(-1)) primaries.push(head);
        else await new Promise((r) => setTimeout(r, 5));
      }
    }
    expect(primaries.length).toBe(4);
    const withRecords = async (): Promise<Set<string>> => {
      const out = new Set<string>();
      for await (const page of w.state.keys('yum:idx:')) for (const k of page) out.add(k.slice(8, 72));
      return out;
    };
    expect(await withRecords()).toEqual(new Set(primaries));
    expect(await collectUnusedIndexes(pinSources(config), w.blobs, w.state, { indexGraceMs: 0 })).toEqual({ indexes: 1, indexRecords: 2 });
    expect(await withRecords()).toEqual(new Set(primaries.slice(1)));
    expect(await w.state.get(stateKeys.yumIndexDone(primaries[0]!, 'os'))).toBeUndefined();
    expect(await w.state.get(stateKeys.yumIndexDone(primaries[3]!, 'os'))).toMatchObject({ state: 'done' });
  });
});
