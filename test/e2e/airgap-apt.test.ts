import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleManifestOf, checkpointsOf, createCheckpoint, repoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { aptProblems, createAptClient, type AptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { freePort } from '../helpers/ports.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const TOOLS = ['apt-get', 'gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'airgap-token';
const PACKAGES = [{ name: 'stable', version: '1.0-1', sizeBytes: 400_000 }, { name: 'moving', version: '1.0-1' }, { name: 'allpkg', version: '1', arch: 'all' }];

describeE2E('air gap (apt): export, import into an offline node, real apt-get with the upstream stopped', TOOLS, () => {
  let w: AptWorld;
  let inside: TestProxy;
  let dir: string;
  let insideKey: string;
  let outsideKey: string;
  let first: string;
  let second: string;
  const clients: AptClient[] = [];
  const clientOf = async (node: TestProxy, key: string, path: string): Promise<AptClient> => {
    const c = await createAptClient({ sourcesLine: `deb [signed-by=${key}] ${node.url}/${path} stable main`, options: { 'Acquire::Retries': '0' } });
    clients.push(c);
    return c;
  };
  const client = (path: string): Promise<AptClient> => clientOf(inside, insideKey, path);

  beforeAll(async () => {
    // The outside node: on-demand packages, so the export must complete the checkpoint from upstream.
    w = await startAptWorld({ packages: PACKAGES, remote: { metadataTtl: '1s', checkpoints: { suites: ['stable'], keep: 5 } }, extra: { admin: { token: TOKEN } } });
    dir = await tempDir('repoint-airgap-');
    outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    inside = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { listen: `127.0.0.1:${await freePort()}`, import: { trustedKeys: [outsideKey] } } });
    insideKey = await saveKey(inside, dir, 'inside', 'gpg');
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.cleanup()));
    await inside?.close();
    await w?.close();
  });

  it('answers live paths of the offline remote with 404 NO_CHECKPOINT_YET before the first import, /-/health 200', async () => {
    const res = await fetch(`${inside.url}/lab/dists/stable/InRelease`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('NO_CHECKPOINT_YET');
    expect((await fetch(`${inside.url}/-/health`)).status).toBe(200);
  });

  it('exports a full bundle from the serving outside node (completing on-demand packages); bundle verify passes', async () => {
    first = await createCheckpoint(w.proxy, w.remote, TOKEN);
    const out = join(dir, 'full.tar');
    await repointOk(['export', w.remote, '--output', out], w.proxy.configPath);
    const m = await bundleManifestOf(out);
    expect(m.checkpoints.map((c) => c.ts)).toEqual([first]);
    expect(m.since).toBeNull();
    for (const p of w.repo.packages) expect(m.blobs.map((b) => b.sha256)).toContain(p.sha256);
    // the transfer station: only the outside key, no repoint config needed
    const v = await repointOk(['bundle', 'verify', out, '--key', join(dir, 'outside.asc')], '/nonexistent/mirror.yaml');
    expect(v.stdout).toMatch(/^OK .* \d+ packages listed, all present; signed by [0-9A-F]{40}/);
  });

  it('imports with a separate CLI process while the inside node serves; apt-get installs on live and pinned paths with the upstream stopped', async () => {
    const r = await repointOk(['import', join(dir, 'full.tar'), '--remote', 'lab'], inside.configPath);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(new RegExp(`^imported lab: ${first}; \\d+ blobs`));
    expect(await checkpointsOf(inside, 'lab')).toEqual([first]);
    await w.upstream.down();
    try {
      // Re-signed by the inside key, Snapshots: pointing at the inside node.
      const inRelease = await (await fetch(`${inside.url}/lab/dists/stable/InRelease`)).text();
      expect(inRelease).toContain(`Snapshots: ${inside.url}/lab/@SNAPSHOTID@/`);
      for (const path of ['lab', `lab/${first}`]) {
        const apt = await client(path);
        const up = await apt.update();
        expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
        const dl = await tempDir();
        await apt.download(w.repo.packages.map((p) => p.name), dl);
        for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
      }
    } finally {
      await w.upstream.up();
    }
  });

  it('carries only the new package and the changed indexes in an incremental bundle; live moves on, the first pin does not', async () => {
    const old = w.repo.packages.find((p) => p.name === 'moving')!;
    await w.repo.publish({ packages: [PACKAGES[0]!, { name: 'moving', version: '2.0-1' }, PACKAGES[2]!] });
    await new Promise((r) => setTimeout(r, 1100)); // live metadataTtl
    second = await createCheckpoint(w.proxy, w.remote, TOKEN);
    const incr = join(dir, 'incr.tar');
    await repointOk(['export', w.remote, '--since', first, '--output', incr], w.proxy.configPath);
    const m = await bundleManifestOf(incr);
    const full = await bundleManifestOf(join(dir, 'full.tar'));
    const moving = w.repo.packages.find((p) => p.name === 'moving')!;
    const unchanged = w.repo.packages.filter((p) => p.name !== 'moving');
    const carried = m.blobs.map((b) => b.sha256);
    expect(m.since?.ts).toBe(first);
    expect(carried).toContain(moving.sha256);
    for (const p of unchanged) expect(carried).not.toContain(p.sha256);
    // the checkpoint manifest, the re-signed Release (3 files), the upstream InRelease, Packages (xz), and the new .deb
    expect(m.totals.count).toBeLessThanOrEqual(8);
    const [fullBytes, incrBytes] = [(await stat(join(dir, 'full.tar'))).size, (await stat(incr)).size];
    console.log(`airgap apt bundle sizes: full ${fullBytes} bytes (${full.totals.count} blobs, ${full.totals.bytes} blob bytes), incremental ${incrBytes} bytes (${m.totals.count} blobs, ${m.totals.bytes} blob bytes)`);
    expect(incrBytes).toBeLessThan(fullBytes / 4);

    await repointOk(['import', incr, '--remote', 'lab'], inside.configPath);
    expect(await checkpointsOf(inside, 'lab')).toEqual([first, second]);
    await w.upstream.down();
    try {
      const live = await client('lab');
      expect(aptProblems(await live.update())).toEqual([]);
      expect(await live.candidate('moving')).toBe('2.0-1');
      const dl = await tempDir();
      await live.download(['moving'], dl);
      expect(await sha256File(join(dl, debFileName(moving)))).toBe(moving.sha256);
      const pinned = await client(`lab/${first}`);
      expect(aptProblems(await pinned.update())).toEqual([]);
      expect(await pinned.candidate('moving')).toBe('1.0-1');
      const dl2 = await tempDir();
      await pinned.download(['moving'], dl2);
      expect(await sha256File(join(dl2, debFileName(old)))).toBe(old.sha256);
    } finally {
      await w.upstream.up();
    }
  });

  it('exports from the inside node a bundle carrying the inside signatures', async () => {
    const out = join(dir, 'from-inside.tar');
    await repointOk(['export', 'lab', '--output', out], inside.configPath);
    const m = await bundleManifestOf(out);
    const outside = await bundleManifestOf(join(dir, 'full.tar'));
    expect(m.checkpoints.map((c) => c.ts)).toEqual([second]);
    expect(m.exporter.fingerprint).not.toBe(outside.exporter.fingerprint);
    // the InRelease the inside node serves (signed by its key) is the one the bundle carries
    const insideInRelease = Buffer.from(await (await fetch(`${inside.url}/lab/${second}/dists/stable/InRelease`)).arrayBuffer());
    expect(m.blobs.map((b) => b.sha256)).toContain(sha256(insideInRelease));
  });

  it('re-imports a bundle it already has as "nothing new" (exit 0), and export --since the newest says there is nothing to export', async () => {
    const again = await repointOk(['import', join(dir, 'incr.tar'), '--remote', 'lab'], inside.configPath);
    expect(again.stdout).toMatch(/^imported lab: nothing new; 1 already here/);
    const none = await repoint(['export', w.remote, '--since', second, '--output', join(dir, 'none.tar')], w.proxy.configPath);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing to export/);
  });
  it('export --all carries every checkpoint whole; a fresh offline node imports it and serves each pin its own packages', async () => {
    // a third checkpoint whose new package is listed first: it must not take the place of one the first lists
    await w.repo.publish({ packages: [{ name: 'aardvark', version: '1' }, PACKAGES[0]!, { name: 'moving', version: '2.0-1' }, PACKAGES[2]!] });
    await new Promise((r) => setTimeout(r, 1100)); // live metadataTtl
    const third = await createCheckpoint(w.proxy, w.remote, TOKEN);
    const all = join(dir, 'all.tar');
    await repointOk(['export', w.remote, '--all', '--output', all], w.proxy.configPath);
    const m = await bundleManifestOf(all);
    expect(m.checkpoints.map((c) => c.ts)).toEqual([first, second, third]);
    const fresh = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { listen: `127.0.0.1:${await freePort()}`, import: { trustedKeys: [outsideKey] } } });
    await w.upstream.down();
    try {
      await repointOk(['import', all, '--remote', 'lab'], fresh.configPath);
      expect(await checkpointsOf(fresh, 'lab')).toEqual([first, second, third]);
      const freshKey = await saveKey(fresh, dir, 'fresh', 'gpg');
      for (const [ts, moving, more] of [[first, '1.0-1', []], [second, '2.0-1', []], [third, '2.0-1', ['aardvark']]] as const) {
        const apt = await clientOf(fresh, freshKey, `lab/${ts}`);
        expect(aptProblems(await apt.update())).toEqual([]);
        expect(await apt.candidate('moving')).toBe(moving);
        await apt.download(['moving', 'stable', 'allpkg', ...more], await tempDir());
      }
    } finally {
      await w.upstream.up();
      await fresh.close();
    }
  });
});
