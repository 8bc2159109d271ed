// An offline remote's live paths across an import (OfflineLive over the real apt and yum serveCheckpoint).
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apt } from '../apt/index.ts';
import { yum } from '../yum/index.ts';
import { buildYumRepo } from '../../test/helpers/yum-memory-repo.ts';
import { silentLogger } from '../log.ts';
import type { ServeRequest } from '../serve/remote-handler.ts';
import { loadOrCreateSigner, type Signer } from '../trust/signer.ts';
import { buildAptRepo, PACKAGES_PATH, sha256Of, type AptRepo } from '../../test/helpers/apt-memory-repo.ts';
import { bodyOf, configOf, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import { ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { Catalogue } from './catalogue.ts';
import { CheckpointService } from './checkpoint-service.ts';
import { OfflineLive } from './offline-live.ts';
import { CheckpointRouter } from './router.ts';

const REQ: ServeRequest = { method: 'GET', id: 'test' };
const DIR = 'dists/stable';

describe('offline live paths across an import', () => {
  let key: ArchiveKey;
  let signer: Signer;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let repo: AptRepo;
  let catalogue: Catalogue;
  let offline: CheckpointRouter;
  let service: CheckpointService;

  beforeAll(async () => {
    key = await archiveKey();
    signer = await loadOrCreateSigner(join(tmpdir(), 'mirror.asc'));
    await writeFile(join(tmpdir(), 'mirror-public.asc'), signer.publicKeyArmored);
  });
  beforeEach(async () => {
    w = memoryWorld();
    repo = await buildAptRepo({ key });
    files = new Map(repo.files);
    // checkpoints are made by a normal remote sharing the catalogue (what an import publishes, in effect);
    // the live paths are served as runtime.ts wires an offline remote: CheckpointRouter(OfflineLive(typed)).
    const config = configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, checkpoints: { suites: ['stable'], keep: 5 } } });
    const live = apt.createRemote({ remote: remoteOf(config, 'deb'), upstream: new ScriptedUpstream(serveFiles(() => files)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    catalogue = new Catalogue(w.state, w.blobs);
    offline = new CheckpointRouter(new OfflineLive(live, catalogue), catalogue);
    service = new CheckpointService(config, w.content, catalogue, signer, new Map([['deb', live]]), silentLogger, () => 'http://127.0.0.1:8080');
  });

  it('a client that ran apt update before an import still gets the indexes (by-hash) and packages its InRelease lists', async () => {
    await service.create('deb');
    // apt update on the live path: InRelease, then the index by hash
    const inRelease = (await bodyOf(await offline.handle(`${DIR}/InRelease`, REQ))).toString();
    const gzHash = sha256Of(repo.packagesGz);
    expect(inRelease).toContain(gzHash);
    const byHash = `${DIR}/main/binary-amd64/by-hash/SHA256/${gzHash}`;
    expect((await bodyOf(await offline.handle(byHash, REQ))).equals(repo.packagesGz)).toBe(true);

    // an import lands (a newer checkpoint whose indexes no longer list hello/world)
    const next = await buildAptRepo({ key, packages: ['other'], date: new Date(Date.now() - 60_000) });
    for (const [p, d] of next.files) files.set(p, d);
    await service.create('deb');
    expect((await catalogue.list('deb')).length).toBe(2); // the first checkpoint is still kept

    // the client's next requests, still following the InRelease it holds
    const [oldPath, oldDeb] = [...repo.debs][0]!;
    const results: string[] = [];
    for (const path of [byHash, oldPath]) {
      try {
        const body = await bodyOf(await offline.handle(path, REQ));
        results.push(`${path}: 200 ${body.equals(path === byHash ? repo.packagesGz : oldDeb) ? 'ok' : 'WRONG BYTES'}`);
      } catch (err) {
        results.push(`${path}: ${(err as { code?: string }).code}`);
      }
    }
    expect(results).toEqual([`${byHash}: 200 ok`, `${oldPath}: 200 ok`]);
  });

  it('serves both suites when one suite directory is nested in another (suites: [stable, stable/updates])', async () => {
    const updates = await buildAptRepo({ key, suite: 'stable/updates', packages: ['patch'] });
    for (const [p, d] of updates.files) files.set(p, d);
    const config = configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, checkpoints: { suites: ['stable', 'stable/updates'], keep: 5 } } });
    const live = apt.createRemote({ remote: remoteOf(config, 'deb'), upstream: new ScriptedUpstream(serveFiles(() => files)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    const svc = new CheckpointService(config, w.content, catalogue, signer, new Map([['deb', live]]), silentLogger, () => 'http://127.0.0.1:8080');
    const router = new CheckpointRouter(new OfflineLive(live, catalogue), catalogue);
    await svc.create('deb');
    expect((await bodyOf(await router.handle(`${DIR}/InRelease`, REQ))).toString()).toContain('Suite: stable\n');
    const nested = await router.handle('dists/stable/updates/InRelease', REQ).then(async (r) => (await bodyOf(r)).toString(), (err: { code?: string }) => `error ${err.code}`);
    expect(nested).toContain('Suite: stable/updates');
    const gz = await router.handle(`dists/stable/updates/${PACKAGES_PATH}.gz`, REQ).then(async (r) => (await bodyOf(r)).equals(updates.packagesGz), (err: { code?: string }) => `error ${err.code}`);
    expect(gz).toBe(true);
  });

  it('yum: a client holding the previous repomd.xml still gets its primary and RPMs after an import', async () => {
    const a = await buildYumRepo({ key });
    const yfiles = new Map(a.files);
    const config = configOf({ el: { type: 'yum', upstream: 'http://127.0.0.1:9/el', keyring: key.keyringPath, metadataTtl: '0s', checkpoints: { repos: ['os'], keep: 5 } } });
    const live = yum.createRemote({ remote: remoteOf(config, 'el'), upstream: new ScriptedUpstream(serveFiles(() => yfiles)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    const svc = new CheckpointService(config, w.content, catalogue, signer, new Map([['el', live]]), silentLogger, () => 'http://127.0.0.1:8080');
    const router = new CheckpointRouter(new OfflineLive(live, catalogue), catalogue);
    await svc.create('el');
    expect((await bodyOf(await router.handle('os/repodata/repomd.xml', REQ))).equals(a.repomd)).toBe(true);
    // an import lands: a newer checkpoint with other packages
    const b = await buildYumRepo({ key, revision: 1001, timestamp: 1001, packages: ['other'] });
    for (const [p, d] of b.files) yfiles.set(p, d);
    await svc.create('el');
    expect((await catalogue.list('el')).length).toBe(2);
    const [rpmPath, rpm] = [...a.rpms][0]!;
    const results: string[] = [];
    for (const [path, want] of [[a.primaryPath, a.primaryGz], [rpmPath, rpm]] as const) {
      results.push(await router.handle(path, REQ).then(async (r) => `${path}: ${(await bodyOf(r)).equals(want) ? '200 ok' : '200 WRONG BYTES'}`, (err: { code?: string }) => `${path}: ${err.code}`));
    }
    expect(results).toEqual([`${a.primaryPath}: 200 ok`, `${rpmPath}: 200 ok`]);
  });
});
