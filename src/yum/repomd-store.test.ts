import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { sha256Of } from '../../test/helpers/apt-memory-repo.ts';
import { configOf, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import { ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { buildYumRepo, type YumRepo } from '../../test/helpers/yum-memory-repo.ts';
import { RepomdStore } from './repomd-store.ts';

const REPOMD = 'os/repodata/repomd.xml';
const ASC = 'os/repodata/repomd.xml.asc';

describe('RepomdStore', () => {
  let key: ArchiveKey;
  let outsider: ArchiveKey;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let upstream: ScriptedUpstream;

  beforeAll(async () => {
    [key, outsider] = await Promise.all([archiveKey(), archiveKey('outsider')]);
  });
  beforeEach(() => {
    w = memoryWorld();
    files = new Map();
    upstream = new ScriptedUpstream(serveFiles(() => files, { lastModified: 'Mon, 01 Jan 2024 00:00:00 GMT' }));
  });
  /** A store for a remote with (signed) or without a keyring, over the same world. */
  const storeFor = (signed: boolean): RepomdStore => {
    const remote = remoteOf(configOf({ el: { type: 'yum', upstream: 'http://127.0.0.1:9/el', metadataTtl: '1h', ...(signed ? { keyring: key.keyringPath } : {}) } }), 'el');
    return new RepomdStore(remote, upstream, w.content, async () => key.keyring, silentLogger);
  };
  const publish = (repo: YumRepo): void => {
    files.delete(ASC);
    for (const [p, d] of repo.files) files.set(p, d);
  };

  it('accepts a repomd.xml whose .asc a keyring key made, and stores both', async () => {
    const repo = await buildYumRepo({ key, revision: 1700, timestamp: 1600 });
    publish(repo);
    const store = storeFor(true);
    expect(store.signed).toBe(true);
    const { record } = await store.fresh('os');
    expect(record).toMatchObject({ sha256: sha256Of(repo.repomd), ascSha256: sha256Of(repo.asc ?? ''), verified: true, revision: '1700', maxTimestamp: 1600, history: [] });
    expect(upstream.requests.map((r) => r.path)).toEqual([REPOMD, ASC]);
    expect((await w.blobs.readAll(record.ascSha256 ?? '')).equals(repo.asc ?? Buffer.alloc(0))).toBe(true);
  });

  it('reports the freshness of the repositories it served: newest data timestamp and last good check', async () => {
    publish(await buildYumRepo({ key, revision: 1700, timestamp: 1600 }));
    const store = storeFor(true);
    expect(await store.freshness()).toEqual([]);
    const before = Date.now();
    await store.fresh('os');
    const [f] = await store.freshness();
    expect(f).toMatchObject({ dist: 'os', dateMs: 1600_000 });
    expect(f!.checkedMs).toBeGreaterThanOrEqual(before);
  });

  it('with a keyring, refuses a signature by an unknown key or over other bytes, and a missing .asc', async () => {
    const store = storeFor(true);
    const repo = await buildYumRepo({ key });
    publish(repo);
    files.set(ASC, Buffer.from(await outsider.detachSignArmored(repo.repomd)));
    await expect(store.fresh('os')).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    files.set(ASC, Buffer.from(await key.detachSignArmored(Buffer.from('other bytes'))));
    await expect(store.fresh('os')).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    files.delete(ASC);
    await expect(store.fresh('os')).rejects.toMatchObject({ code: 'SIGNATURE_MISSING' });
    expect(await store.record('os')).toBeUndefined();
  });

  it('without a keyring, accepts repomd.xml unverified, keeping an .asc upstream publishes', async () => {
    const store = storeFor(false);
    expect(store.signed).toBe(false);
    publish(await buildYumRepo());
    const bare = (await store.fresh('os')).record;
    expect(bare.verified).toBe(false);
    expect(bare.ascSha256).toBeUndefined();
    const signed = await buildYumRepo({ key: outsider, revision: 1001 });
    publish(signed);
    const { record } = await store.fresh('os', { force: true });
    expect(record).toMatchObject({ verified: false, ascSha256: sha256Of(signed.asc ?? '') });
  });

  it('does not use a record stored unverified once the remote has a keyring', async () => {
    const repo = await buildYumRepo({ key });
    publish(repo);
    const before = (await storeFor(false).fresh('os')).record;
    expect(before.verified).toBe(false);
    const store = storeFor(true);
    expect(await store.record('os')).toBeUndefined();
    const { record } = await store.fresh('os');
    expect(record).toMatchObject({ sha256: before.sha256, verified: true });
    expect(upstream.requests.at(-2)).toMatchObject({ path: REPOMD, headers: {} });
  });

  it('refuses a lower revision or an older newest timestamp, serving the verified repomd stale', async () => {
    const store = storeFor(true);
    publish(await buildYumRepo({ key, revision: 1000, timestamp: 1000 }));
    const first = (await store.fresh('os')).record;
    publish(await buildYumRepo({ key, revision: 999, timestamp: 1000 }));
    expect(await store.fresh('os', { force: true })).toEqual({ record: first, stale: 'METADATA_ROLLBACK' });
    publish(await buildYumRepo({ key, revision: 1001, timestamp: 999 }));
    expect(await store.fresh('os', { force: true })).toEqual({ record: first, stale: 'METADATA_ROLLBACK' });
    publish(await buildYumRepo({ key, revision: 1001, timestamp: 1001 }));
    const next = await store.fresh('os', { force: true });
    expect(next.stale).toBeUndefined();
    expect(next.record.history).toEqual([first.sha256]);
  });

  it('current() gives the verified repomd and the earlier generations', async () => {
    const store = storeFor(true);
    expect(await store.current('os')).toBeUndefined();
    publish(await buildYumRepo({ key, revision: 1000 }));
    await store.fresh('os');
    publish(await buildYumRepo({ key, revision: 1001, timestamp: 1001 }));
    await store.fresh('os', { force: true });
    const cur = await store.current('os');
    expect(cur?.repomd.revision).toBe('1001');
    expect(cur?.history.map((r) => r.revision)).toEqual(['1000']);
  });
});
