import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../log.ts';
import type { TypedRemote } from '../repository-type.ts';
import type { ServeRequest } from '../serve/remote-handler.ts';
import { sha256Of } from '../../test/helpers/apt-memory-repo.ts';
import { bodyOf, configOf, corrupted, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, mirrorSigner, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import type { Signer } from '../trust/signer.ts';
import { ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { buildYumRepo, type YumRepo } from '../../test/helpers/yum-memory-repo.ts';
import { yum } from './index.ts';

const REQ: ServeRequest = { method: 'GET', id: 'test' };
const REPOMD = 'os/repodata/repomd.xml';
const ASC = 'os/repodata/repomd.xml.asc';

describe('yum remote over the in-memory seams', () => {
  let key: ArchiveKey;
  let signer: Signer;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let upstream: ScriptedUpstream;
  let repo: YumRepo;

  beforeAll(async () => {
    key = await archiveKey();
    signer = await mirrorSigner();
  });
  beforeEach(async () => {
    w = memoryWorld();
    repo = await buildYumRepo({ key });
    files = new Map(repo.files);
    upstream = new ScriptedUpstream(serveFiles(() => files));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const remote = (extra: Record<string, unknown> = {}): TypedRemote => {
    const config = remoteOf(configOf({ el: { type: 'yum', upstream: 'http://127.0.0.1:9/el', keyring: key.keyringPath, metadataTtl: '1h', ...extra } }), 'el');
    return yum.createRemote({ remote: config, upstream, content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
  };
  const get = async (r: TypedRemote, path: string): Promise<Buffer> => bodyOf(await r.handle(path, REQ));
  const rpm = (): [string, Buffer] => {
    const first = [...repo.rpms][0];
    if (!first) throw new Error('fixture has no RPM');
    return first;
  };
  const fetchedPrimary = (): boolean => upstream.requests.some((q) => q.path === repo.primaryPath);

  it('serves repomd.xml byte-identical and the .asc of that same repomd, even after upstream moved on', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const r = remote();
    expect((await get(r, REPOMD)).equals(repo.repomd)).toBe(true);
    const next = await buildYumRepo({ key, revision: 1001, timestamp: 1001 });
    for (const [p, d] of next.files) files.set(p, d);
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    expect((await get(r, ASC)).equals(repo.asc ?? Buffer.alloc(0))).toBe(true);
    expect((await get(r, REPOMD)).equals(next.repomd)).toBe(true);
    expect((await get(r, ASC)).equals(next.asc ?? Buffer.alloc(0))).toBe(true);
  });

  it('verifies a data file against the repomd that lists it', async () => {
    const r = remote();
    await get(r, REPOMD);
    const reply = await r.handle(repo.filelistsPath, REQ);
    expect(reply.headers?.['x-repoint-verified']).toBeUndefined();
    expect(reply.cacheControl).toContain('immutable'); // hash-named
    expect((await bodyOf(reply)).equals(repo.files.get(repo.filelistsPath) ?? Buffer.alloc(0))).toBe(true);
    expect(await w.store.stat(sha256Of(repo.files.get(repo.filelistsPath) ?? ''))).toBeDefined();
  });

  it('fails a data file whose upstream bytes do not match repomd, storing nothing', async () => {
    const r = remote();
    await get(r, REPOMD);
    const wrong = corrupted(repo.files.get(repo.filelistsPath) ?? Buffer.alloc(1), -1);
    files.set(repo.filelistsPath, wrong);
    await expect(get(r, repo.filelistsPath)).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
    expect(await w.store.stat(sha256Of(wrong))).toBeUndefined();
  });

  it('verifies an RPM against the primary that lists it, and refuses wrong bytes', async () => {
    const r = remote();
    await get(r, REPOMD);
    expect((await get(r, repo.primaryPath)).equals(repo.primaryGz)).toBe(true);
    const [path, data] = rpm();
    const reply = await r.handle(path, REQ);
    expect(reply.headers?.['x-repoint-verified']).toBeUndefined();
    expect((await bodyOf(reply)).equals(data)).toBe(true);
    expect(await w.store.stat(sha256Of(data))).toBeDefined();

    const [other, otherData] = [...repo.rpms][1] ?? [];
    if (!other || !otherData) throw new Error('fixture has one RPM only');
    const wrong = corrupted(otherData, 10);
    files.set(other, wrong);
    await expect(get(r, other)).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
    expect(await w.store.stat(sha256Of(wrong))).toBeUndefined();
  });

  it('ingests the primary itself for an RPM request when no client fetched it (zchunk clients)', async () => {
    const r = remote({ strict: true });
    await get(r, REPOMD);
    const [path, data] = rpm();
    expect((await get(r, path)).equals(data)).toBe(true);
    expect(fetchedPrimary()).toBe(true);
  });

  it('passes an uncovered path through unverified, and refuses it in strict mode', async () => {
    files.set('os/README', Buffer.from('hello'));
    const loose = remote();
    const reply = await loose.handle('os/README', REQ);
    expect(reply.headers?.['x-repoint-verified']).toBe('no');
    expect((await bodyOf(reply)).toString()).toBe('hello');
    expect(await w.store.stat(sha256Of('hello'))).toBeUndefined();
    await expect(remote({ strict: true }).handle('os/README', REQ)).rejects.toMatchObject({ code: 'NOT_IN_INDEX' });
  });
});
