import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256 } from '../helpers/apt-world.ts';
import { repoint, waitFor } from '../helpers/cli.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

// Finding 6: any second process (a read-only CLI command included) used to delete the serving
// process's live downloads at start-up.
describeE2E('a second process beside a serving node', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let repo: AptRepo;
  let up: Upstream;
  let proxy: TestProxy;
  const big = () => repo.packages.find((p) => p.name === 'big')!;

  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'big', version: '1', sizeBytes: 4_000_000 }] });
    up = await startUpstream({ root: repo.root });
    proxy = await startProxy({
      remotes: { deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath } },
      // the download waits on the test, not on a clock: keep upstream timeouts out of the way
      extra: { upstream: { retries: 0, bodyTimeout: '120s', connectTimeout: '2s' } },
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.stop();
  });

  it('finding 6: `repoint checkpoint list` and `gc --dry-run` while a download runs leave it alone; it completes', async () => {
    const base = `${proxy.url}/deb`;
    await (await fetch(`${base}/dists/${repo.suite}/InRelease`)).arrayBuffer();
    await (await fetch(`${base}/dists/${repo.suite}/main/binary-amd64/Packages.xz`)).arrayBuffer();
    // Hold the package's upstream answer until the second processes are done: the serving node then
    // has a live temp file the whole time.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const unhook = up.onRequest(async (req) => { if (req.path === `/${big().filename}`) await held; });
    const tmp = join(proxy.dataDir, 'blobs/tmp');
    const totals = join(proxy.dataDir, 'blobs/totals.json');
    try {
      const download = fetch(`${base}/${big().filename}`).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }));
      await waitFor(async () => (await readdir(tmp)).length === 1, 'the download\'s temp file');
      const part = (await readdir(tmp))[0]!;
      await new Promise((r) => setTimeout(r, 1500)); // past the server's own debounced totals.json write
      const totalsBefore = (await stat(totals)).mtimeMs;

      const list = await repoint(['checkpoint', 'list', '--config', proxy.configPath]);
      expect(list.code, list.stderr).toBe(0);
      const dry = await repoint(['gc', '--dry-run', '--config', proxy.configPath]);
      expect(dry.code, dry.stderr).toBe(0);

      expect(await readdir(tmp)).toEqual([part]);
      expect((await stat(totals)).mtimeMs, 'read-only commands do not rewrite totals.json').toBe(totalsBefore);
      release();
      const got = await download;
      expect(got.status).toBe(200);
      expect(sha256(got.body)).toBe(big().sha256);
      expect(await readdir(tmp)).toEqual([]);
      expect(up.hits(`/${big().filename}`)).toBe(1);
    } finally {
      release();
      unhook();
    }
  });
});
