import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { buildAptRepo, sha256Of, type AptRepo } from '../../test/helpers/apt-memory-repo.ts';
import { configOf, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import { ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { ReleaseStore } from './release-store.ts';

const DIR = 'dists/stable';
const DAY = 86400_000;
const NOW = Math.floor(Date.now() / 1000) * 1000; // Release dates have second precision
const ago = (days: number): Date => new Date(NOW - days * DAY);

describe('ReleaseStore', () => {
  let key: ArchiveKey;
  let outsider: ArchiveKey;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let upstream: ScriptedUpstream;
  let store: ReleaseStore;

  beforeAll(async () => {
    [key, outsider] = await Promise.all([archiveKey(), archiveKey('outsider')]);
  });
  beforeEach(() => {
    w = memoryWorld();
    files = new Map();
    upstream = new ScriptedUpstream(serveFiles(() => files));
    const remote = remoteOf(configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, metadataTtl: '1h' } }), 'deb');
    store = new ReleaseStore(remote, upstream, w.content, async () => key.keyring, silentLogger);
  });
  const publish = (repo: AptRepo, only?: readonly string[]): void => {
    for (const [p, d] of repo.files) if (!only || only.some((o) => p.endsWith(`/${o}`))) files.set(p, d);
  };
  const signedText = (repo: AptRepo): string => repo.releaseText.replace(/\n$/, '');

  it('accepts an InRelease signed by a keyring key, storing it byte-identical and its signed text', async () => {
    const repo = await buildAptRepo({ key, date: ago(1) });
    publish(repo);
    const { record, stale } = await store.fresh('inrelease', DIR);
    expect(stale).toBeUndefined();
    expect(record).toMatchObject({ kind: 'inrelease', sha256: sha256Of(repo.inRelease), textSha256: sha256Of(signedText(repo)), dateMs: ago(1).getTime(), history: [] });
    expect(record.gpgSha256).toBeUndefined();
    expect((await w.blobs.readAll(record.sha256)).equals(repo.inRelease)).toBe(true);
    expect((await store.parsed(record.textSha256)).files.has('main/binary-amd64/Packages.gz')).toBe(true);
    expect(upstream.requests.map((r) => r.path)).toEqual([`${DIR}/InRelease`]);
  });

  it('refuses an InRelease signed by an unknown key, or tampered with, or not signed at all', async () => {
    publish(await buildAptRepo({ key: outsider }));
    await expect(store.fresh('inrelease', DIR)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    const good = await buildAptRepo({ key });
    files.set(`${DIR}/InRelease`, Buffer.from(good.inRelease.toString().replace('Suite: stable', 'Suite: evil')));
    await expect(store.fresh('inrelease', DIR)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    files.set(`${DIR}/InRelease`, Buffer.from(good.releaseText));
    await expect(store.fresh('inrelease', DIR)).rejects.toMatchObject({ code: 'SIGNATURE_MISSING' });
    expect(await store.record('inrelease', DIR)).toBeUndefined();
  });

  it('reports each served suite\'s upstream Date, Valid-Until and last good check', async () => {
    const validUntil = new Date(Date.now() + 86_400_000);
    publish(await buildAptRepo({ key, date: ago(1), validUntil }));
    expect(await store.freshness()).toEqual([]);
    await store.fresh('inrelease', DIR);
    expect(await store.freshness()).toEqual([{ dist: DIR.replace(/^dists\//, ''), dateMs: ago(1).getTime(), validUntilMs: Math.floor(validUntil.getTime() / 1000) * 1000, checkedMs: expect.any(Number) as number }]);
  });

  it('tells the upstream which refused metadata it sent (verification failure metrics)', async () => {
    const codes: string[] = [];
    const told = { bases: upstream.bases, id: upstream.id, fetch: upstream.fetch.bind(upstream), rejected: (code: string) => void codes.push(code) };
    const remote = remoteOf(configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, metadataTtl: '1h' } }), 'deb');
    const s = new ReleaseStore(remote, told, w.content, async () => key.keyring, silentLogger);
    publish(await buildAptRepo({ key: outsider }));
    await expect(s.fresh('inrelease', DIR)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(codes).toEqual(['SIGNATURE_INVALID']);
  });

  it('refuses a Release whose Valid-Until has passed', async () => {
    publish(await buildAptRepo({ key, date: ago(10), validUntil: ago(3) }));
    await expect(store.fresh('inrelease', DIR)).rejects.toMatchObject({ code: 'METADATA_EXPIRED' });
  });

  it('refuses a Date rollback and keeps serving the verified Release, marked stale', async () => {
    publish(await buildAptRepo({ key, date: ago(1) }));
    const first = (await store.fresh('inrelease', DIR)).record;
    publish(await buildAptRepo({ key, date: ago(2) }));
    const view = await store.fresh('inrelease', DIR, { force: true });
    expect(view).toEqual({ record: first, stale: 'METADATA_ROLLBACK' });
    publish(await buildAptRepo({ key, date: ago(0.5) }));
    expect((await store.fresh('inrelease', DIR, { force: true })).record.history).toEqual([first.textSha256]);
  });

  it('verifies Release with Release.gpg (kind release) and requires the signature', async () => {
    const repo = await buildAptRepo({ key });
    publish(repo, ['Release', 'Release.gpg']);
    const { record } = await store.fresh('release', DIR);
    expect(record).toMatchObject({ kind: 'release', sha256: sha256Of(repo.releaseText), gpgSha256: sha256Of(repo.releaseGpg), textSha256: sha256Of(repo.releaseText) });
    expect(upstream.requests.map((r) => r.path)).toEqual([`${DIR}/Release`, `${DIR}/Release.gpg`]);
    expect((await w.blobs.readAll(record.gpgSha256 ?? '')).equals(repo.releaseGpg)).toBe(true);

    const other = await buildAptRepo({ key, suite: 'other' });
    files.set('dists/other/Release', Buffer.from(other.releaseText));
    await expect(store.fresh('release', 'dists/other')).rejects.toMatchObject({ code: 'SIGNATURE_MISSING' });
    files.set('dists/other/Release.gpg', Buffer.from(await outsider.detachSign(Buffer.from(other.releaseText))));
    await expect(store.fresh('release', 'dists/other')).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    files.set('dists/other/Release.gpg', other.releaseGpg);
    files.set('dists/other/Release', Buffer.from(other.releaseText.replace('Origin: Test', 'Origin: Tset')));
    await expect(store.fresh('release', 'dists/other')).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it('current() picks the newer of InRelease and Release and lists the earlier verified texts', async () => {
    expect(await store.current(DIR)).toBeUndefined();
    const a = await buildAptRepo({ key, date: ago(3) });
    const b = await buildAptRepo({ key, date: ago(2) });
    const c = await buildAptRepo({ key, date: ago(1) });
    publish(a, ['InRelease']);
    publish(b, ['Release', 'Release.gpg']);
    await store.fresh('inrelease', DIR);
    await store.fresh('release', DIR);
    let cur = await store.current(DIR);
    expect(cur?.release.date).toEqual(ago(2));
    expect(cur?.history).toEqual([]);
    publish(c, ['InRelease']);
    await store.fresh('inrelease', DIR, { force: true });
    cur = await store.current(DIR);
    expect(cur?.release.date).toEqual(ago(1));
    expect(cur?.history.map((r) => r.date)).toEqual([ago(3)]);
  });
});
