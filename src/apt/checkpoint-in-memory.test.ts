// An apt checkpoint end to end over the in-memory seams: live remote → CheckpointService → router.
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Catalogue } from '../checkpoints/catalogue.ts';
import { CheckpointService } from '../checkpoints/checkpoint-service.ts';
import { collectGarbage } from '../checkpoints/gc.ts';
import type { CatalogueEntry } from '../checkpoints/manifest.ts';
import { CheckpointRouter } from '../checkpoints/router.ts';
import type { Config } from '../config/types.ts';
import { formatCheckpointTime, parseCheckpointTime } from '../formats/checkpoint-time.ts';
import { silentLogger } from '../log.ts';
import { pinSources } from '../registry.ts';
import type { ServeRequest } from '../serve/remote-handler.ts';
import { loadKeyring, type Keyring } from '../trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from '../trust/signer.ts';
import { verifyClearsigned, verifyDetached } from '../trust/verify.ts';
import { buildAptRepo, PACKAGES_PATH, sha256Of, type AptRepo } from '../../test/helpers/apt-memory-repo.ts';
import { bodyOf, configOf, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import { gate, ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { apt } from './index.ts';
import { aptSuites } from './manifest.ts';

const REQ: ServeRequest = { method: 'GET', id: 'test' };
const DIR = 'dists/stable';

describe('apt checkpoint in memory', () => {
  let key: ArchiveKey;
  let signer: Signer;
  let mirrorKeyring: Keyring;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let repo: AptRepo;
  let config: Config;
  let catalogue: Catalogue;
  let router: CheckpointRouter;
  let service: CheckpointService;

  beforeAll(async () => {
    key = await archiveKey();
    signer = await loadOrCreateSigner(join(tmpdir(), 'mirror.asc'));
    const ring = join(tmpdir(), 'mirror-public.asc');
    await writeFile(ring, signer.publicKeyArmored);
    mirrorKeyring = await loadKeyring([ring]);
  });
  beforeEach(async () => {
    w = memoryWorld();
    repo = await buildAptRepo({ key });
    files = new Map(repo.files);
    const upstream = new ScriptedUpstream(serveFiles(() => files));
    config = configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, checkpoints: { suites: ['stable'], keep: 5 } } }, { publicUrl: 'http://127.0.0.1:8080' });
    const live = apt.createRemote({ remote: remoteOf(config, 'deb'), upstream, content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    catalogue = new Catalogue(w.state, w.blobs);
    router = new CheckpointRouter(live, catalogue);
    service = new CheckpointService(config, w.content, catalogue, signer, new Map([['deb', live]]), silentLogger, () => 'http://127.0.0.1:8080');
  });
  const get = async (path: string): Promise<Buffer> => bodyOf(await router.handle(path, REQ));
  const firstDeb = (r: AptRepo): [string, Buffer] => {
    const d = [...r.debs][0];
    if (!d) throw new Error('fixture has no .deb');
    return d;
  };
  const republish = async (packages: string[]): Promise<AptRepo> => {
    const next = await buildAptRepo({ key, packages, date: new Date(Date.now() - 60_000) });
    for (const [p, d] of next.files) files.set(p, d);
    return next;
  };

  it('serves a re-signed InRelease, its indexes and its pool files from the checkpoint', async () => {
    const entry = await service.create('deb');
    const text = (await get(`${entry.ts}/${DIR}/InRelease`)).toString();
    const verified = await verifyClearsigned(text, mirrorKeyring);
    expect(verified.signers).toEqual([signer.fingerprint]);
    expect(verified.text).toContain('Snapshots: http://127.0.0.1:8080/deb/@SNAPSHOTID@/');
    expect(verified.text).not.toContain('Valid-Until');
    expect(verified.text).toContain(`${sha256Of(repo.packagesGz)} ${String(repo.packagesGz.length).padStart(16)} ${PACKAGES_PATH}.gz`);
    const release = await get(`${entry.ts}/${DIR}/Release`);
    expect(release.toString()).toBe(`${verified.text}\n`);
    expect((await verifyDetached(release, await get(`${entry.ts}/${DIR}/Release.gpg`), mirrorKeyring)).signers).toEqual([signer.fingerprint]);

    expect((await get(`${entry.ts}/${DIR}/${PACKAGES_PATH}.gz`)).equals(repo.packagesGz)).toBe(true);
    expect((await get(`${entry.ts}/${DIR}/${PACKAGES_PATH}`)).equals(repo.packages)).toBe(true);
    const [path, deb] = firstDeb(repo);
    expect((await get(`${entry.ts}/${path}`)).equals(deb)).toBe(true);
    expect(await w.store.stat(sha256Of(deb))).toBeDefined();
  });

  it('keeps serving what it froze after upstream moves on, and refuses what it never listed', async () => {
    const first = await service.create('deb');
    const next = await republish(['other']);
    const second = await service.create('deb');
    expect(second.ts > first.ts).toBe(true);
    const [oldPath, oldDeb] = firstDeb(repo);
    const [newPath, newDeb] = firstDeb(next);
    expect((await get(`${first.ts}/${DIR}/${PACKAGES_PATH}.gz`)).equals(repo.packagesGz)).toBe(true);
    expect((await get(`${second.ts}/${DIR}/${PACKAGES_PATH}.gz`)).equals(next.packagesGz)).toBe(true);
    expect((await get(`${first.ts}/${oldPath}`)).equals(oldDeb)).toBe(true);
    expect((await get(`${second.ts}/${newPath}`)).equals(newDeb)).toBe(true);
    await expect(router.handle(`${first.ts}/${newPath}`, REQ)).rejects.toMatchObject({ code: 'NOT_IN_INDEX' });
    await expect(router.handle(`${second.ts}/${oldPath}`, REQ)).rejects.toMatchObject({ code: 'NOT_IN_INDEX' });
    await expect(router.handle(`${first.ts}/${DIR}/main/binary-arm64/Packages.gz`, REQ)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('redirects a time after the checkpoint to it, keeping the sub-path', async () => {
    const entry = await service.create('deb');
    const created = parseCheckpointTime(entry.ts)?.getTime() ?? 0;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(created + 3600_000); // an hour later, the request time is no longer in the future
      const reply = await router.handle(`${formatCheckpointTime(new Date(created + 60_000))}/${DIR}/InRelease`, REQ);
      expect(reply.status).toBe(301);
      expect(reply.headers?.['location']).toBe(`/deb/${entry.ts}/${DIR}/InRelease`);
    } finally {
      vi.useRealTimers();
    }
  });

  it('pins what a checkpoint needs through the apt manifest reader: gc keeps it servable', async () => {
    const entry: CatalogueEntry = await service.create('deb');
    const [path, deb] = firstDeb(repo);
    await get(`${entry.ts}/${path}`);
    await republish(['other']);
    const r = await collectGarbage({ maxSizeBytes: 0, sources: pinSources(config) }, w.blobs, w.state, { all: true, dryRun: false });
    expect(r.removed).toBeGreaterThan(0); // the live Release text, at least
    expect(await w.store.stat(sha256Of(deb))).toBeDefined();
    expect((await get(`${entry.ts}/${path}`)).equals(deb)).toBe(true);
    expect((await get(`${entry.ts}/${DIR}/${PACKAGES_PATH}.gz`)).equals(repo.packagesGz)).toBe(true);
    await verifyClearsigned((await get(`${entry.ts}/${DIR}/InRelease`)).toString(), mirrorKeyring);
  });

  // BUG (reported, not fixed here): gc pins only published checkpoints and takes no checkpoint lock, so
  // a `repoint gc --all` (another process) during a run deletes what the run stored; the catalogue
  // write then publishes a manifest naming missing blobs.
  it('a gc that runs while a checkpoint is being made does not remove what the checkpoint publishes', async () => {
    const signing = gate();
    const signed = gate();
    const slowSigner: Signer = { ...signer, clearsign: async (t) => { signing.open(); await signed.promise; return signer.clearsign(t); } };
    const live = apt.createRemote({ remote: remoteOf(config, 'deb'), upstream: new ScriptedUpstream(serveFiles(() => files)), content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
    const slow = new CheckpointService(config, w.content, catalogue, slowSigner, new Map([['deb', live]]), silentLogger, () => 'http://127.0.0.1:8080');
    const creating = slow.create('deb');
    await signing.promise; // the indexes are stored and ingested, the Release is being signed
    await expect(collectGarbage({ maxSizeBytes: 0, sources: pinSources(config) }, w.blobs, w.state, { all: true, dryRun: false }))
      .rejects.toMatchObject({ code: 'CHECKPOINT_RUNNING' });
    signed.open();
    const entry = await creating;
    expect((await get(`${entry.ts}/${DIR}/${PACKAGES_PATH}.gz`)).equals(repo.packagesGz)).toBe(true);
  });

  it('reads each index of a manifest once for pins (seen), and skips indexes gone from the store', async () => {
    const entry = await service.create('deb');
    const m = await catalogue.manifest(entry.manifest);
    const deps = { blobs: w.blobs, state: w.state, upstreams: [] };
    const seen = new Set<string>();
    const first: string[] = [];
    for await (const sha of apt.packageBlobs(m, deps, seen)) first.push(sha);
    expect(new Set(first)).toEqual(new Set([...repo.debs.values()].map((d) => sha256Of(d))));
    expect(seen).toEqual(new Set(aptSuites(m).flatMap((s) => s.indexes.map((i) => i.sha256))));
    const again: string[] = [];
    for await (const sha of apt.packageBlobs(m, deps, seen)) again.push(sha);
    expect(again).toEqual([]);
    for (const i of aptSuites(m).flatMap((s) => s.indexes)) await w.blobs.delete(i.sha256);
    const gone: string[] = [];
    for await (const sha of apt.packageBlobs(m, deps, new Set())) gone.push(sha);
    expect(gone).toEqual([]);
  });
});
