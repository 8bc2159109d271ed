import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems, createAptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { freePort } from '../helpers/ports.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];

describeE2E('apt upstream handling: forward proxy, failover, uncovered paths, schedules', TOOLS, () => {
  let w: AptWorld;
  let dead: number;
  beforeAll(async () => {
    dead = await freePort(); // nothing listens there: connections are refused
    w = await startAptWorld({
      packages: [{ name: 'fwd', version: '1.0-1', sizeBytes: 100_000 }, { name: 'other', version: '2' }],
      remote: { checkpoints: { schedule: '*/2 * * * * *', suites: ['stable'], keep: 3 } },
    });
  });
  afterAll(async () => w?.close());

  it('serves real apt-get configured with Acquire::http::Proxy (absolute URIs), verified and cached', async () => {
    const apt = await createAptClient({ sourcesLine: `deb [signed-by=${w.key.publicKeyPath}] ${w.upstream.url} stable main`, proxy: w.proxy.url });
    try {
      const up = await apt.update();
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
      const dir = await tempDir();
      await apt.download(['fwd', 'other'], dir);
      for (const p of w.repo.packages) expect(await sha256File(join(dir, debFileName(p)))).toBe(p.sha256);
      const again = await tempDir();
      await apt.download(['fwd'], again);
      expect(await readdir(again)).toHaveLength(1);
      expect(w.upstream.hits(`/${w.repo.packages[0]!.filename}`)).toBe(1); // the second download was a cache hit
    } finally {
      await apt.cleanup();
    }
  });

  it('fails over to the next upstream mirror when the first refuses connections', async () => {
    const { startProxy } = await import('../helpers/proxy.ts');
    const proxy = await startProxy({ remotes: { deb: { type: 'apt', upstream: [`http://127.0.0.1:${dead}`, w.upstream.url], keyring: w.key.publicKeyPath } } });
    try {
      const res = await fetch(`${proxy.url}/deb/dists/stable/InRelease`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/BEGIN PGP SIGNED MESSAGE/);
    } finally {
      await proxy.close();
    }
  });

  it('streams uncovered paths through without caching them, and refuses them in strict mode', async () => {
    await writeFile(join(w.repo.root, 'README.mirror'), 'not listed in any index\n');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${w.base}/README.mirror`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-repoint-verified')).toBe('no');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).toBe('not listed in any index\n');
    }
    expect(w.upstream.hits('/README.mirror')).toBe(2); // never cached
    expect((await fetch(`${w.base}/missing.txt`)).status).toBe(404);
    const { startProxy } = await import('../helpers/proxy.ts');
    const strict = await startProxy({ remotes: { deb: { type: 'apt', upstream: w.upstream.url, keyring: w.key.publicKeyPath, strict: true } } });
    try {
      const r = await fetch(`${strict.url}/deb/README.mirror`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: string }).error).toBe('NOT_IN_INDEX');
    } finally {
      await strict.close();
    }
  });

  it('runs the cron schedule (every 2 s here) and publishes checkpoints on its own', async () => {
    const deadline = Date.now() + 15_000;
    let list: Array<{ ts: string }> = [];
    while (Date.now() < deadline && list.length < 2) {
      await new Promise((r) => setTimeout(r, 500));
      list = ((await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> }).checkpoints;
    }
    expect(list.length).toBeGreaterThanOrEqual(2);
    expect(new Set(list.map((c) => c.ts)).size).toBe(list.length);
  });
});
