import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StatusReport } from '../../src/http/status-model.ts';
import { aptProblems } from '../helpers/apt-client.ts';
import { DEFAULT_PACKAGES, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { repoint } from '../helpers/cli.ts';
import { describeE2E } from '../helpers/e2e.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];

describeE2E('/-/status.json and repoint status', TOOLS, () => {
  let w: AptWorld;
  const status = async (): Promise<StatusReport> => (await (await fetch(`${w.proxy.url}/-/status.json`)).json()) as StatusReport;

  beforeAll(async () => {
    w = await startAptWorld({
      packages: [...DEFAULT_PACKAGES, { name: 'slowpkg', version: '1.0-1', sizeBytes: 2_000_000 }],
      remote: { checkpoints: { suites: ['stable'], components: ['main'], architectures: ['amd64'] } },
      extra: { publicUrl: 'http://mirror.test:8080', cache: { maxSize: '1GiB' } },
    });
  });
  afterAll(async () => w?.close());

  it('reports per remote: requests, hit ratios, bytes saved, freshness, upstream health, checkpoints with their pins', async () => {
    const before = (await status()).remotes.find((r) => r.name === 'deb')!;
    expect(before).toMatchObject({ type: 'apt', requests: { total: 0 }, hitRatio: null, upstreams: [w.upstream.url] });
    const client = await w.client();
    expect(aptProblems(await client.update())).toEqual([]);
    const dir = await tempDir('repoint-dl-');
    await client.download(['bigpkg'], dir);
    const again = await tempDir('repoint-dl-');
    await client.download(['bigpkg'], again); // again: from the cache
    await w.proxy.running.runtime.checkpoints.create('deb');
    const s = await status();
    const r = s.remotes.find((x) => x.name === 'deb')!;
    const big = w.repo.packages.find((p) => p.name === 'bigpkg')!;
    expect(r.requests.hit).toBeGreaterThanOrEqual(1);
    expect(r.requests.miss).toBeGreaterThanOrEqual(2); // InRelease and the package, at least
    expect(r.bytesFromCache).toBeGreaterThanOrEqual(big.size);
    expect(r.byteHitRatio).toBeGreaterThan(0.3);
    expect(r.byteHitRatio).toBeLessThan(0.7);
    expect(r.upstream).toMatchObject({ healthy: true, failures: 0, lastStatus: expect.any(Number) as number });
    expect(r.upstream.bytes).toBeGreaterThanOrEqual(big.size);
    expect(r.freshness).toEqual([expect.objectContaining({ dist: 'stable', ageSeconds: expect.any(Number) as number })]);
    expect(r.history.hit.reduce((a, b) => a + b, 0)).toBe(r.requests.hit);
    expect(r.history.bytesCache.reduce((a, b) => a + b, 0)).toBe(r.bytesFromCache);
    expect(s.store).toMatchObject({ budgetBytes: 2 ** 30 });
    expect(s.store.bytes).toBeGreaterThan(big.size);
    // the checkpoint, with the lines the setup page writes for it: the source URI and the apt -S line
    const [cp] = r.checkpoints;
    expect(cp!.pin.join('\n')).toContain(`apt -S ${cp!.ts} update`);
    expect(cp!.pin.join('\n')).toContain(`http://mirror.test:8080/deb/${cp!.ts}`);
    expect(cp!.setup).toContain('/-/keys/mirror.gpg');
    await Promise.all([dir, again].map((d) => rm(d, { recursive: true })));
  });

  it('repoint status prints the same figures from a running node', async () => {
    const s = (await status()).remotes.find((x) => x.name === 'deb')!;
    const res = await repoint(['status', '--config', w.proxy.configPath, '--url', w.proxy.url]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('deb (apt)');
    // /-/ endpoints (status.json itself) are not counted as remote traffic
    expect(res.stdout).toMatch(new RegExp(`requests +${s.requests.total} \\(hit ${s.requests.hit}, stale 0, miss ${s.requests.miss}`));
    expect(res.stdout).toMatch(/stable +upstream Date \d+ s old/);
    expect(res.stdout).toContain(`apt -S ${s.checkpoints[0]!.ts} update`);
    const down = await repoint(['status', '--config', w.proxy.configPath, '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/no repoint answers at http:\/\/127\.0\.0\.1:9/);
  });

  it('lists a download in flight with its progress', async () => {
    const slow = w.repo.packages.find((p) => p.name === 'slowpkg')!;
    const fault = w.upstream.fault(`/${slow.filename}`, { kind: 'stall', at: 500_000, ms: 3000 });
    const body = fetch(`${w.base}/${slow.filename}`).then((r) => r.arrayBuffer());
    let seen: StatusReport['remotes'][number]['downloads'] = [];
    let fills = 0;
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      const s = await status();
      seen = s.remotes.find((r) => r.name === 'deb')!.downloads.filter((d) => d.path === slow.filename && d.received >= 500_000);
      fills = s.fillsInFlight;
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual([expect.objectContaining({ size: slow.size })]);
    expect(seen[0]!.received).toBeLessThan(slow.size);
    expect(fills).toBe(1);
    expect((await body).byteLength).toBe(slow.size);
    expect(fault.applied).toBe(1);
    expect((await status()).remotes.find((r) => r.name === 'deb')!.downloads).toEqual([]);
  });
});
