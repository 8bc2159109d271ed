import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { silentLogger } from '../../src/log.ts';
import { PoolIndex } from '../../src/apt/pool-index.ts';
import { openSqliteState } from '../../src/state/open-state.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { aptProblems, createAptClient } from '../helpers/apt-client.ts';
import { sha256, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy } from '../helpers/proxy.ts';
import { run } from '../helpers/run.ts';
import { startUpstream } from '../upstream/server.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];

describeE2E('live apt indexes', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'first', version: '1' }], remote: { metadataTtl: '1s', strict: true } });
  });
  afterAll(async () => w?.close());

  it('covers packages published after a client fetched only InRelease (as pdiff clients do)', async () => {
    expect((await fetch(`${w.base}/dists/stable/InRelease`)).status).toBe(200);
    await (await fetch(`${w.base}/dists/stable/main/binary-amd64/Packages.xz`)).arrayBuffer();
    await w.repo.publish({ packages: [{ name: 'first', version: '1' }, { name: 'later', version: '2', sizeBytes: 50_000 }] });
    await new Promise((r) => setTimeout(r, 1100));
    // the client revalidates InRelease and then applies diffs itself: it never asks for Packages.xz
    expect((await fetch(`${w.base}/dists/stable/InRelease`)).status).toBe(200);
    const later = w.repo.packages.find((p) => p.name === 'later')!;
    const res = await fetch(`${w.base}/${later.filename}`); // strict remote: 404 unless the new index was ingested
    expect(res.status).toBe(200);
    expect(res.headers.get('x-repoint-verified')).toBeNull();
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(later.sha256);
  });
});

describeE2E('flat apt repositories ("deb http://host/path ./")', TOOLS, () => {
  it('serves a flat repository to real apt-get, verified', async () => {
    const key = await createGpgKey();
    const root = await mkdtemp(join(tmpdir(), 'repoint-flat-'));
    const flat = join(root, 'flat');
    const pkgDir = join(root, 'build/usr/share/flatpkg');
    await mkdir(join(root, 'build/DEBIAN'), { recursive: true });
    await mkdir(pkgDir, { recursive: true });
    await mkdir(flat, { recursive: true });
    await writeFile(join(pkgDir, 'data'), 'flat payload\n');
    await writeFile(join(root, 'build/DEBIAN/control'), 'Package: flatpkg\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t.invalid>\nDescription: flat test\n');
    await run('dpkg-deb', ['--root-owner-group', '--build', join(root, 'build'), join(flat, 'flatpkg_1.0_all.deb')]);
    const pkgs = await run('apt-ftparchive', ['packages', '.'], { cwd: flat });
    await writeFile(join(flat, 'Packages'), pkgs.stdout);
    await run('xz', ['-k', join(flat, 'Packages')]);
    const rel = await run('apt-ftparchive', ['release', '.'], { cwd: flat });
    await writeFile(join(flat, 'Release'), rel.stdout);
    await key.gpg(['--clearsign', '--output', join(flat, 'InRelease'), join(flat, 'Release')]);
    const up = await startUpstream({ root });
    const proxy = await startProxy({ remotes: { r: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, strict: true } } });
    const apt = await createAptClient({ sourcesLine: `deb [signed-by=${key.publicKeyPath}] ${proxy.url}/r/flat ./` });
    try {
      const upd = await apt.update();
      expect(aptProblems(upd), upd.stdout + upd.stderr).toEqual([]);
      const dir = await tempDir();
      await apt.download(['flatpkg'], dir);
      expect(up.hits('/flat/flatpkg_1.0_all.deb')).toBe(1);
    } finally {
      await apt.cleanup();
      await proxy.close();
      await up.stop();
    }
  });
});

describeE2E('live index list retention', [], () => {
  it('keeps a stable suite\'s index listed however many generations other indexes go through', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repoint-live-'));
    const blobs = await FsBlobStore.open(join(dir, 'blobs'));
    const state = openSqliteState(join(dir, 'state.sqlite'));
    const pool = new PoolIndex('r', state, blobs, silentLogger);
    const store = async (text: string): Promise<string> => {
      const wtr = await blobs.createWriter();
      await wtr.write(Buffer.from(text));
      return (await wtr.commit()).sha256;
    };
    const stanza = (name: string, n: number) => `Package: ${name}\nVersion: ${n}\nFilename: pool/${name}_${n}.deb\nSize: ${n + 1}\nSHA256: ${sha256(Buffer.from(`${name}${n}`))}\n\n`;
    try {
      const stable = await store(stanza('stable', 1));
      await pool.ingest({ sha256: stable, root: '', path: 'main/binary-amd64/Packages', dir: 'dists/stable' }, true);
      for (let i = 0; i < 300; i++) {
        const churn = await store(stanza('churn', i));
        await pool.ingest({ sha256: churn, root: '', path: 'main/binary-amd64/Packages', dir: 'dists/unstable' }, true);
      }
      expect(await pool.lookup('pool/stable_1.deb')).toMatchObject({ size: 2 });
      expect(await pool.lookup('pool/churn_299.deb')).toMatchObject({ size: 300 });
      expect(await pool.lookup('pool/churn_297.deb')).toBeDefined(); // three generations per index are kept
      expect(await pool.lookup('pool/churn_296.deb')).toBeUndefined();
      expect((await pool.liveIndexes()).length).toBe(4);
    } finally {
      await state.close();
      await blobs.close();
    }
  });
});
