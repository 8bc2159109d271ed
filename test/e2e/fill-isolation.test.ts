import { link, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptPackageSpec, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { aptProblems, createAptClient, type AptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256, sha256File, tempDir } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
const SHARED: AptPackageSpec = { name: 'shared', version: '1.0-1', sizeBytes: 4_000_000 };

interface Health { blobs: { count: number; bytes: number } }

/**
 * Issue 8, finding 4: a second remote, trusting its own key, lists the same .deb (same sha256) as
 * the good remote and serves it at a trickle. The good remote's client must get the file from its
 * own upstream, not wait on the hostile download; the bytes are still stored once.
 */
describeE2E('one remote\'s slow upstream does not starve another (issue 8, finding 4)', TOOLS, () => {
  let goodKey: GpgKey;
  let good: AptRepo;
  let evil: AptRepo;
  let goodUp: Upstream;
  let evilUp: Upstream;
  let proxy: TestProxy;
  let client: AptClient;

  beforeAll(async () => {
    goodKey = await createGpgKey('good archive');
    const evilKey = await createGpgKey('hostile archive');
    good = await buildAptRepo({ key: goodKey, packages: [SHARED] });
    // the hostile repository publishes the very same .deb (a package already in its pool is reused as is)
    const evilRoot = await mkdtemp(join(tmpdir(), 'repoint-apt-evil-'));
    const pooled = good.packages[0]!.filename;
    await mkdir(dirname(join(evilRoot, pooled)), { recursive: true });
    await link(join(good.root, pooled), join(evilRoot, pooled));
    evil = await buildAptRepo({ dir: evilRoot, key: evilKey, packages: [SHARED, { name: 'decoy', version: '1' }] });
    expect(evil.packages[0]!.sha256).toBe(good.packages[0]!.sha256);
    goodUp = await startUpstream({ root: good.root });
    evilUp = await startUpstream({ root: evil.root });
    proxy = await startProxy({ remotes: {
      good: { type: 'apt', upstream: goodUp.url, keyring: goodKey.publicKeyPath },
      evil: { type: 'apt', upstream: evilUp.url, keyring: evilKey.publicKeyPath },
    } });
    for (const remote of ['good', 'evil']) {
      expect((await fetch(`${proxy.url}/${remote}/dists/stable/InRelease`)).status).toBe(200);
      expect((await fetch(`${proxy.url}/${remote}/dists/stable/main/binary-amd64/Packages.xz`)).status).toBe(200);
    }
    client = await createAptClient({ sourcesLine: `deb [signed-by=${goodKey.publicKeyPath}] ${proxy.url}/good stable main`, options: { 'Acquire::Retries': '0' } });
    const up = await client.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
  });
  afterAll(async () => {
    await client?.cleanup();
    // upstreams first: a download still trickling would otherwise hold the proxy's close
    await Promise.all([goodUp?.stop(), evilUp?.stop()]);
    await proxy?.close();
  });

  it('the good remote\'s apt-get finishes from its own upstream while the hostile one trickles; the blob is stored once', async () => {
    const deb = good.packages[0]!;
    const path = `/${deb.filename}`;
    evilUp.setRateLimit(2000); // 4 MB at 2 kB/s: half an hour
    const hostile = fetch(`${proxy.url}/evil${path}`).then(async (r) => sha256(Buffer.from(await r.arrayBuffer())));
    hostile.catch(() => {}); // awaited below; cut off when the test fails early
    while (evilUp.hits(path) === 0) await sleep(20); // the hostile download is the first under way

    const dir = await tempDir();
    await client.download(['shared'], dir);
    expect(await sha256File(join(dir, debFileName(deb)))).toBe(deb.sha256);
    expect(goodUp.hits(path)).toBe(1);
    const stored = ((await (await fetch(`${proxy.url}/-/health`)).json()) as Health).blobs;

    evilUp.setRateLimit(undefined); // let the hostile download finish: same bytes, same blob
    expect(await hostile).toBe(deb.sha256);
    const after = ((await (await fetch(`${proxy.url}/-/health`)).json()) as Health).blobs;
    expect(after).toEqual(stored);
  }, 60_000);
});
