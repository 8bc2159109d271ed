import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkpointsOf, createCheckpoint, repoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { sha256, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'media-token';
const PACKAGES = [{ name: 'big', version: '1.0-1', sizeBytes: 2_500_000 }, { name: 'small', version: '1.0-1' }];

describeE2E('air gap media: split sets, stdin/stdout, and exporting beside a serving node', TOOLS, () => {
  let w: AptWorld;
  let dir: string;
  let outsideKey: string;
  const proxies: TestProxy[] = [];
  const inside = async (): Promise<TestProxy> => {
    const p = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [outsideKey] } } });
    proxies.push(p);
    return p;
  };

  beforeAll(async () => {
    // a long body timeout: the stalled download below must outlive the export, not resume around it
    w = await startAptWorld({ packages: PACKAGES, remote: { checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN }, upstream: { bodyTimeout: '60s', retries: 1 } } });
    dir = await tempDir('repoint-airgap-media-');
    outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
  });
  afterAll(async () => {
    for (const p of proxies) await p.close();
    await w?.close();
  });

  it('does not disturb a download in progress on the serving node while export runs on the same data dir', async () => {
    const big = w.repo.packages.find((p) => p.name === 'big')!;
    const ts = await createCheckpoint(w.proxy, w.remote, TOKEN);
    // the client's download stalls half way (its temp file sits in the shared blobs/tmp) while export starts up
    const stall = w.upstream.fault(`/${big.filename}`, { kind: 'stall', at: 1_000_000, ms: 15_000, times: 1 });
    const download = fetch(`${w.base}/${ts}/${big.filename}`).then(async (r) => ({ status: r.status, sha: sha256(new Uint8Array(await r.arrayBuffer())) }));
    try {
      await repointOk(['export', w.remote, '--output', join(dir, 'beside.tar')], w.proxy.configPath);
      expect(stall.applied).toBe(1);
      expect(await download).toEqual({ status: 200, sha: big.sha256 });
    } finally {
      stall.remove();
    }
  });

  it('writes FILE.tar.000, .001, ... with --split and imports the set from its first part', async () => {
    const base = join(dir, 'split.tar');
    await repointOk(['export', w.remote, '--output', base, '--split', '1MiB'], w.proxy.configPath);
    const parts = (await readdir(dir)).filter((f) => f.startsWith('split.tar.')).sort();
    expect(parts).toEqual(['split.tar.000', 'split.tar.001', 'split.tar.002']);
    for (const p of parts.slice(0, -1)) expect((await stat(join(dir, p))).size).toBe(2 ** 20);
    const node = await inside();
    await repointOk(['bundle', 'verify', `${base}.000`], node.configPath);
    const r = await repointOk(['import', `${base}.000`, '--remote', 'lab'], node.configPath);
    expect(r.stdout).toMatch(/^imported lab: \d{8}T\d{6}Z;/);
    // a missing middle part is a truncated bundle
    const broken = join(dir, 'broken.tar');
    await repointOk(['export', w.remote, '--output', broken, '--split', '1MiB'], w.proxy.configPath);
    await unlink(`${broken}.001`);
    const v = await repoint(['bundle', 'verify', `${broken}.000`], node.configPath);
    expect(v.code).toBe(1);
  });

  it('pipes export --output - straight into import - (stdout to stdin)', async () => {
    const node = await inside();
    const cli = (args: string): string => `${join(process.cwd(), 'node_modules/.bin/node')} src/cli/main.ts ${args}`;
    const r = await run('bash', ['-c', `set -o pipefail; ${cli(`export ${w.remote} --output - --config ${w.proxy.configPath}`)} | ${cli(`import - --remote lab --config ${node.configPath}`)}`], { allowFail: true, timeoutMs: 300_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^imported lab: \d{8}T\d{6}Z;/);
    expect(await checkpointsOf(node, 'lab')).toHaveLength(1);
  });
});
