import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { blobPath } from '../../src/blobs/blob-paths.ts';
import { blobEntryName } from '../../src/bundles/bundle-manifest.ts';
import { checkpointsOf, createCheckpoint, repoint, repointOk, saveKey, tarEntries } from '../helpers/airgap.ts';
import { startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { MAIN, NODE, waitFor } from '../helpers/cli.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import type { RunResult } from '../helpers/run.ts';

const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'crash-token';
const BIG = 600_000;

describeE2E('air gap: an import killed after writing blobs publishes nothing and shows no blob it had not made durable', TOOLS, () => {
  let w: AptWorld;
  let inside: TestProxy;
  let dir: string;
  let ts: string;
  const bundle = (): string => join(dir, 'full.tar');

  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'big', version: '1.0-1', sizeBytes: BIG }, { name: 'small', version: '1.0-1' }], remote: { checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } } });
    dir = await tempDir('repoint-airgap-crash-');
    inside = await startProxy({
      remotes: { lab: { type: 'apt' } },
      // the killed import's lease lapses quickly
      extra: { import: { trustedKeys: [await saveKey(w.proxy, dir, 'outside', 'asc')] }, state: { leaseTtl: '2s', leaseRenewEvery: '500ms' } },
    });
    ts = await createCheckpoint(w.proxy, w.remote, TOKEN);
    await repointOk(['export', w.remote, '--output', bundle()], w.proxy.configPath);
  });
  afterAll(async () => {
    await inside?.close();
    await w?.close();
  });

  it('SIGKILL once the big package was verified and written: no checkpoint, no visible blob; a re-run imports', async () => {
    const big = w.repo.packages.find((p) => p.name === 'big')!;
    const entry = (await tarEntries(bundle())).find((e) => e.name === blobEntryName(big.sha256))!;
    const bytes = await readFile(bundle());
    // stdin gets the bundle up to just past the big package, and then nothing: the import waits for more
    const child = spawn(NODE, [MAIN, 'import', '-', '--remote', 'lab', '--config', inside.configPath], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = once(child, 'exit');
    child.stdin.write(bytes.subarray(0, entry.offset + entry.size + 512));
    const tmp = join(inside.dataDir, 'blobs', 'tmp');
    const written = async (): Promise<boolean> => {
      for (const f of existsSync(tmp) ? await readdir(tmp) : []) if ((await stat(join(tmp, f)).catch(() => undefined))?.size === entry.size) return true;
      return false;
    };
    await waitFor(written, 'the verified big package in a temp file');
    child.kill('SIGKILL');
    await exited;
    expect(await checkpointsOf(inside, 'lab')).toEqual([]);
    // verified and written, but the batch had not reached its barrier: not under its address
    expect(existsSync(blobPath(join(inside.dataDir, 'blobs'), big.sha256))).toBe(false);
    const live = await fetch(`${inside.url}/lab/dists/stable/InRelease`);
    expect(((await live.json()) as { error: string }).error).toBe('NO_CHECKPOINT_YET');

    let r: RunResult | undefined;
    await waitFor(async () => {
      r = await repoint(['import', bundle(), '--remote', 'lab'], inside.configPath);
      if (r.code !== 0) expect(r.stderr, r.stderr).toContain('CHECKPOINT_RUNNING'); // the dead holder's lease, until it lapses
      return r.code === 0;
    }, 'the re-run import');
    expect(r!.stdout).toMatch(new RegExp(`^imported lab: ${ts}; `));
    expect(await checkpointsOf(inside, 'lab')).toEqual([ts]);
    expect((await readFile(blobPath(join(inside.dataDir, 'blobs'), big.sha256))).length).toBe(entry.size);
  });
});
