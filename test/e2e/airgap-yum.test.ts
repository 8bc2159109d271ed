import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleManifestOf, checkpointsOf, createCheckpoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { createDnfClient, type DnfClient } from '../helpers/dnf-client.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { YUM_TOOLS, rpmName, sha256, startYumWorld, type YumWorld } from './yum-world.ts';

const TOKEN = 'airgap-yum-token';
const PKGS = [{ name: 'steady', version: '1.0', sizeBytes: 300_000 }, { name: 'moving', version: '1.0' }];

describeE2E('air gap (yum): export, import into an offline node, real dnf with the upstream stopped', YUM_TOOLS, () => {
  let w: YumWorld;
  let inside: TestProxy;
  let dir: string;
  let first: string;
  const clients: DnfClient[] = [];
  const dnf = async (path: string): Promise<DnfClient> => {
    // inside clients trust only the inside node's key
    const c = await createDnfClient({ repoId: 'lab', baseurl: `${inside.url}/${path}/`, gpgkey: `${inside.url}/-/keys/mirror.asc`, repoGpgcheck: true, setopts: ['retries=1', 'timeout=30'] });
    clients.push(c);
    return c;
  };
  const download = async (c: DnfClient, names: readonly string[]): Promise<Map<string, string>> => {
    const dest = await mkdtemp(join(tmpdir(), 'repoint-airgap-dnf-'));
    const r = await c.download(names, dest);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const files = new Map<string, string>();
    for (const f of await readdir(dest)) files.set(f, sha256(await readFile(join(dest, f))));
    return files;
  };

  beforeAll(async () => {
    w = await startYumWorld({ packages: PKGS, remote: { metadataTtl: '1s', checkpoints: { repos: ['/'], keep: 5 } }, extra: { admin: { token: TOKEN } } });
    dir = await mkdtemp(join(tmpdir(), 'repoint-airgap-yum-'));
    const outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    inside = await startProxy({ remotes: { labrpm: { type: 'yum' } }, extra: { import: { trustedKeys: [outsideKey] } } });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await inside?.close();
    await w?.close();
  });

  it('answers 404 NO_CHECKPOINT_YET for repomd.xml before the first import', async () => {
    const res = await fetch(`${inside.url}/labrpm/repodata/repomd.xml`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('NO_CHECKPOINT_YET');
  });

  it('exports from the outside node and imports into the offline one', async () => {
    first = await createCheckpoint(w.proxy, w.remote, TOKEN);
    await repointOk(['export', w.remote, '--output', join(dir, 'full.tar')], w.proxy.configPath);
    await repointOk(['import', join(dir, 'full.tar'), '--remote', 'labrpm'], inside.configPath);
    expect(await checkpointsOf(inside, 'labrpm')).toEqual([first]);
  });

  it('serves dnf makecache + download on live and pinned paths with the upstream stopped', async () => {
    await w.upstream.down();
    try {
      // repomd.xml byte-identical to upstream's, its signature by the inside key
      expect(await (await fetch(`${inside.url}/labrpm/repodata/repomd.xml`)).text()).toBe(await readFile(join(w.repo.root, 'repodata/repomd.xml'), 'utf8'));
      for (const path of ['labrpm', `labrpm/${first}`]) {
        const c = await dnf(path);
        const mc = await c.makecache();
        expect(mc.code, mc.stdout + mc.stderr).toBe(0);
        const files = await download(c, PKGS.map((p) => p.name));
        for (const p of w.repo.packages) expect(files.get(rpmName(p))).toBe(p.sha256);
      }
    } finally {
      await w.upstream.up();
    }
  });

  it('imports an incremental bundle after upstream republishes: live has the new package, the first pin the old', async () => {
    const old = w.repo.packages.find((p) => p.name === 'moving')!;
    await w.repo.publish({ packages: [PKGS[0]!, { name: 'moving', version: '2.0' }] });
    await new Promise((r) => setTimeout(r, 1100));
    const newer = w.repo.packages.find((p) => p.name === 'moving')!;
    const steady = w.repo.packages.find((p) => p.name === 'steady')!;
    const second = await createCheckpoint(w.proxy, w.remote, TOKEN);
    const incr = join(dir, 'incr.tar');
    await repointOk(['export', w.remote, '--since', first, '--output', incr], w.proxy.configPath);
    const m = await bundleManifestOf(incr);
    expect(m.blobs.map((b) => b.sha256)).toContain(newer.sha256);
    expect(m.blobs.map((b) => b.sha256)).not.toContain(steady.sha256);
    console.log(`airgap yum bundle sizes: full ${(await stat(join(dir, 'full.tar'))).size} bytes, incremental ${(await stat(incr)).size} bytes (${m.totals.count} blobs)`);
    await repointOk(['import', incr, '--remote', 'labrpm'], inside.configPath);
    expect(await checkpointsOf(inside, 'labrpm')).toEqual([first, second]);
    await w.upstream.down();
    try {
      const live = await dnf('labrpm');
      expect((await live.makecache()).code).toBe(0);
      expect((await download(live, ['moving'])).get(rpmName(newer))).toBe(newer.sha256);
      const pinned = await dnf(`labrpm/${first}`);
      expect((await pinned.makecache()).code).toBe(0);
      expect((await download(pinned, ['moving'])).get(rpmName(old))).toBe(old.sha256);
    } finally {
      await w.upstream.up();
    }
  });
});
