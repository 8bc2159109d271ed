import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';
import { YUM_PACKAGES, YUM_TOOLS, rpmName, startYumWorld, type YumWorld } from './yum-world.ts';

/** `repoint gc --all` as a second process on the same data dir, as an operator runs it. */
async function gcAll(configPath: string): Promise<void> {
  const gc = await run(join(process.cwd(), 'node_modules/.bin/node'), ['src/cli/main.ts', 'gc', '--all', '--config', configPath]);
  expect(gc.stderr).toMatch(/removed [1-9]\d* blobs/);
}

// Regression: gc --all removes live metadata blobs; the pointers that name them must repair themselves
// (fetch and verify again) instead of failing, with no change upstream.
describeE2E('apt after gc --all and a restart', ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  beforeAll(async () => { w = await startAptWorld(); });
  afterAll(async () => w?.close());

  it('apt-get update and download work again without any upstream change', async () => {
    const names = w.repo.packages.map((p) => p.name);
    const dir = await tempDir();
    const warm = await w.client();
    expect(aptProblems(await warm.update())).toEqual([]);
    await warm.download(names, dir);

    await gcAll(w.proxy.configPath);
    await w.proxy.restart();

    const apt = await w.client();
    expect(aptProblems(await apt.update())).toEqual([]);
    const again = await tempDir();
    await apt.download(names, again);
    for (const p of w.repo.packages) expect(await sha256File(join(again, debFileName(p))), p.name).toBe(p.sha256);
  });
});

describeE2E('dnf after gc --all and a restart', YUM_TOOLS, () => {
  let w: YumWorld;
  beforeAll(async () => { w = await startYumWorld(); });
  afterAll(async () => w?.close());

  it('dnf makecache and download work again without any upstream change', async () => {
    const names = YUM_PACKAGES.map((p) => p.name);
    const warm = await w.client();
    expect((await warm.makecache()).code).toBe(0);
    expect((await w.download(warm, names)).code).toBe(0);

    await gcAll(w.proxy.configPath);
    await w.proxy.restart();

    const repomd = await fetch(`${w.base}/repodata/repomd.xml`);
    expect(repomd.status, await repomd.clone().text()).toBe(200);
    await repomd.arrayBuffer();
    const client = await w.client();
    const mc = await client.makecache();
    expect(mc.code, mc.stdout + mc.stderr).toBe(0);
    const dl = await w.download(client, names);
    expect(dl.code, dl.output).toBe(0);
    for (const p of w.repo.packages) expect(dl.files.get(rpmName(p)), p.nevra).toBe(p.sha256);
  });
});
