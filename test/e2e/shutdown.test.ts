import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256, tempDir } from '../helpers/apt-world.ts';
import { spawnRepoint, waitFor, type RepointProcess } from '../helpers/cli.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { freePort } from '../helpers/ports.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

// Finding 12: SIGTERM during a slow download took 92 s (the upstream agent waited for it).
describeE2E('shutdown on SIGTERM', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let repo: AptRepo;
  let up: Upstream;
  let serve: RepointProcess | undefined;
  const pkg = (name: string) => repo.packages.find((p) => p.name === name)!;

  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'stalled', version: '1', sizeBytes: 3_000_000 }, { name: 'slow', version: '1', sizeBytes: 200_000 }] });
    up = await startUpstream({ root: repo.root });
  });
  afterAll(async () => {
    serve?.child.kill('SIGKILL');
    await up?.stop();
  });

  it('finding 12: finishes responses in flight within shutdownGrace, then aborts a stalled download and exits 0', async () => {
    const dataDir = await tempDir('repoint-shutdown-');
    const port = await freePort();
    const config = join(dataDir, 'mirror.yaml');
    await writeFile(config, stringify({
      listen: `127.0.0.1:${port}`, dataDir, logLevel: 'info', shutdownGrace: '2s',
      // timeouts far longer than the test's outer bound: only the grace may end the stalled download
      upstream: { bodyTimeout: '120s', retries: 0 },
      remotes: { deb: { type: 'apt', upstream: up.url, keyring: repo.key.publicKeyPath } },
    }));
    serve = spawnRepoint(['serve', '--config', config]);
    const base = `http://127.0.0.1:${port}/deb`;
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/-/health`).catch(() => undefined))?.ok === true, 'repoint serve to listen');
    await (await fetch(`${base}/dists/${repo.suite}/InRelease`)).arrayBuffer();
    await (await fetch(`${base}/dists/${repo.suite}/main/binary-amd64/Packages.xz`)).arrayBuffer();

    // one download stalls upstream after 64 KiB for longer than the test; another is merely slow to start
    up.fault(`/${pkg('stalled').filename}`, { kind: 'stall', at: 65_536, ms: 600_000 });
    up.fault(`/${pkg('slow').filename}`, { kind: 'delay', ms: 1000 });
    const stalled = await fetch(`${base}/${pkg('stalled').filename}`);
    const reader = stalled.body!.getReader();
    let got = 0;
    while (got < 1000) got += (await reader.read()).value?.length ?? 0;
    const stalledEnd = (async () => { for (;;) if ((await reader.read()).done) return 'ended'; })().catch(() => 'reset');
    const slow = fetch(`${base}/${pkg('slow').filename}`).then(async (r) => ({ status: r.status, body: Buffer.from(await r.arrayBuffer()) }));
    await waitFor(() => up.hits(`/${pkg('slow').filename}`) > 0, 'the slow download to reach upstream');

    const signalled = Date.now();
    serve.child.kill('SIGTERM');
    const exit = await Promise.race([serve.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    const exitMs = Date.now() - signalled;
    console.info(`[finding 12] SIGTERM with a stalled download, shutdownGrace 2s: exited after ${exitMs} ms`);
    expect(exit, 'repoint serve exited (outer bound 60 s; the stalled download would hold it 120 s)').toEqual({ code: 0, signal: null });

    const slowRes = await slow;
    expect(slowRes.status, 'a response in flight finished within the grace').toBe(200);
    expect(sha256(slowRes.body)).toBe(pkg('slow').sha256);
    expect(await stalledEnd, 'the stalled download was cut, not ended as if complete').toBe('reset');
    expect(serve.stderr).toMatch(/"shutdown grace is over: closing the connections still busy"/);
  });
});
