import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../log.ts';
import type { TypedRemote } from '../repository-type.ts';
import type { ServeRequest } from '../serve/remote-handler.ts';
import { buildAptRepo, PACKAGES_PATH, sha256Of, type AptRepo } from '../../test/helpers/apt-memory-repo.ts';
import { bodyOf, configOf, corrupted, memoryWorld, remoteOf, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey, mirrorSigner, type ArchiveKey } from '../../test/helpers/pgp-keys.ts';
import type { Signer } from '../trust/signer.ts';
import { ScriptedUpstream, serveFiles } from '../../test/helpers/scripted-upstream.ts';
import { apt } from './index.ts';

const REQ: ServeRequest = { method: 'GET', id: 'test' };
const DIR = 'dists/stable';
const GZ = `${DIR}/${PACKAGES_PATH}.gz`;

describe('apt remote over the in-memory seams', () => {
  let key: ArchiveKey;
  let signer: Signer;
  let w: MemoryWorld;
  let files: Map<string, Buffer>;
  let upstream: ScriptedUpstream;
  let repo: AptRepo;

  beforeAll(async () => {
    key = await archiveKey();
    signer = await mirrorSigner();
  });
  beforeEach(async () => {
    w = memoryWorld();
    repo = await buildAptRepo({ key });
    files = new Map(repo.files);
    upstream = new ScriptedUpstream(serveFiles(() => files));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const remote = (extra: Record<string, unknown> = {}): TypedRemote => {
    const config = remoteOf(configOf({ deb: { upstream: 'http://127.0.0.1:9/debian', keyring: key.keyringPath, metadataTtl: '1h', ...extra } }), 'deb');
    return apt.createRemote({ remote: config, upstream, content: w.content, keyring: async () => key.keyring, signer, publicUrl: () => 'http://127.0.0.1:8080', log: silentLogger });
  };
  const get = async (r: TypedRemote, path: string): Promise<Buffer> => bodyOf(await r.handle(path, REQ));
  const paths = (): string[] => upstream.requests.map((q) => q.path);

  it('serves InRelease byte-identical, from the verified record while it is fresh', async () => {
    const r = remote();
    const reply = await r.handle(`${DIR}/InRelease`, REQ);
    expect(reply.contentType).toBe('text/plain; charset=utf-8');
    expect((await bodyOf(reply)).equals(repo.inRelease)).toBe(true);
    expect((await get(r, `${DIR}/InRelease`)).equals(repo.inRelease)).toBe(true);
    expect(paths()).toEqual([`${DIR}/InRelease`]);
  });

  it('serves Release and the Release.gpg that goes with it', async () => {
    const r = remote();
    expect((await get(r, `${DIR}/Release`)).toString()).toBe(repo.releaseText);
    expect((await get(r, `${DIR}/Release.gpg`)).equals(repo.releaseGpg)).toBe(true);
  });

  it('serves an index through the hash in the verified Release, by-hash first, even after upstream moved on', async () => {
    const r = remote();
    await get(r, `${DIR}/InRelease`);
    const next = await buildAptRepo({ key, packages: ['other'] });
    // upstream republishes; old by-hash files stay, as Debian keeps them for a while
    for (const [p, d] of next.files) files.set(p, d);
    expect(files.get(GZ)?.equals(repo.packagesGz)).toBe(false);
    expect((await get(r, GZ)).equals(repo.packagesGz)).toBe(true);
    expect(paths().slice(1)).toEqual([`${DIR}/main/binary-amd64/by-hash/SHA256/${sha256Of(repo.packagesGz)}`]);
    // a by-hash request is looked up by its digest and verified too
    const byHash = `${DIR}/main/binary-amd64/by-hash/SHA256/${sha256Of(repo.packages)}`;
    expect((await get(r, byHash)).equals(repo.packages)).toBe(true);
  });

  it('fetches the plain index name when the Release does not offer by-hash', async () => {
    repo = await buildAptRepo({ key, acquireByHash: false });
    files = new Map(repo.files);
    const r = remote();
    await get(r, `${DIR}/InRelease`);
    expect((await get(r, GZ)).equals(repo.packagesGz)).toBe(true);
    expect(paths()).toEqual([`${DIR}/InRelease`, GZ]);
  });

  it('refuses an index whose bytes upstream changed without a new Release', async () => {
    repo = await buildAptRepo({ key, acquireByHash: false });
    files = new Map(repo.files);
    const r = remote();
    await get(r, `${DIR}/InRelease`);
    const tampered = corrupted(repo.packagesGz, -1);
    files.set(GZ, tampered);
    await expect(get(r, GZ)).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
    expect(await w.store.stat(sha256Of(tampered))).toBeUndefined();
  });

  it('verifies a pool file against the Packages index that lists it, and caches it', async () => {
    const r = remote();
    await get(r, `${DIR}/InRelease`);
    await get(r, GZ);
    const [path, deb] = [...repo.debs][0] ?? [];
    if (!path || !deb) throw new Error('fixture has no .deb');
    const reply = await r.handle(path, REQ);
    expect(reply.headers?.['x-repoint-verified']).toBeUndefined();
    expect(reply.contentType).toBe('application/vnd.debian.binary-package');
    expect((await bodyOf(reply)).equals(deb)).toBe(true);
    expect(await w.store.stat(sha256Of(deb))).toMatchObject({ size: deb.length });
    const requests = upstream.requests.length;
    expect((await get(r, path)).equals(deb)).toBe(true);
    expect(upstream.requests).toHaveLength(requests);
  });

  it('fails a pool file whose upstream bytes do not match the index, storing nothing', async () => {
    const r = remote();
    await get(r, `${DIR}/InRelease`);
    await get(r, GZ);
    const [path, deb] = [...repo.debs][0] ?? [];
    if (!path || !deb) throw new Error('fixture has no .deb');
    const wrong = corrupted(deb);
    files.set(path, wrong);
    const before = await w.store.totals();
    await expect(get(r, path)).rejects.toMatchObject({ code: 'UPSTREAM_DIGEST_MISMATCH' });
    expect(await w.store.stat(sha256Of(wrong))).toBeUndefined();
    expect(await w.store.totals()).toEqual(before);
  });

  it('after a new InRelease, covers the packages of its new indexes without a client fetching them (pdiff clients)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const r = remote({ strict: true });
    await get(r, `${DIR}/InRelease`);
    await get(r, GZ);
    const next = await buildAptRepo({ key, packages: ['newer'], date: new Date(Date.now() + 60_000) });
    for (const [p, d] of next.files) files.set(p, d);
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    expect((await get(r, `${DIR}/InRelease`)).equals(next.inRelease)).toBe(true);
    const [path, deb] = [...next.debs][0] ?? [];
    if (!path || !deb) throw new Error('fixture has no .deb');
    expect((await get(r, path)).equals(deb)).toBe(true);
    expect(paths()).toContain(`${DIR}/main/binary-amd64/by-hash/SHA256/${sha256Of(next.packagesGz)}`);
  });

  it('passes a path no verified metadata covers through, marked unverified and not stored', async () => {
    files.set('README', Buffer.from('not covered'));
    const r = remote();
    const reply = await r.handle('README', REQ);
    expect(reply.headers?.['x-repoint-verified']).toBe('no');
    expect(reply.cacheControl).toBe('no-store');
    expect((await bodyOf(reply)).toString()).toBe('not covered');
    expect(await w.store.stat(sha256Of('not covered'))).toBeUndefined();
    // a pool path no ingested index lists is uncovered too
    const [path] = [...repo.debs][0] ?? [];
    expect((await r.handle(path ?? '', REQ)).headers?.['x-repoint-verified']).toBe('no');
  });

  it('refuses uncovered paths with NOT_IN_INDEX in strict mode', async () => {
    files.set('README', Buffer.from('not covered'));
    const r = remote({ strict: true });
    await expect(r.handle('README', REQ)).rejects.toMatchObject({ code: 'NOT_IN_INDEX' });
    await get(r, `${DIR}/InRelease`);
    await expect(r.handle(`${DIR}/main/binary-amd64/Unlisted.gz`, REQ)).rejects.toMatchObject({ code: 'NOT_IN_INDEX' });
    expect(paths()).toEqual([`${DIR}/InRelease`]);
  });
});
