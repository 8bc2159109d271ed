import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';

const TOKEN = 't';

describeE2E('gc: retention frees dropped checkpoints, never a kept one', ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({
      packages: [{ name: 'keep', version: '1', sizeBytes: 100_000 }, { name: 'moving', version: '1', sizeBytes: 200_000 }],
      remote: { checkpoints: { suites: ['stable'], packages: 'immediate', keep: 1 } },
      extra: { admin: { token: TOKEN } },
    });
  });
  afterAll(async () => w?.close());

  const create = async (): Promise<string> => {
    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(201);
    return ((await res.json()) as { ts: string }).ts;
  };
  const blobExists = async (sha: string): Promise<boolean> => (await w.proxy.running.runtime.content.blobs.stat(sha)) !== undefined;

  it('removes blobs only the dropped checkpoint used and keeps everything the kept one needs', async () => {
    await create();
    const oldMoving = w.repo.packages.find((p) => p.name === 'moving')!;
    await w.repo.publish({ packages: [{ name: 'keep', version: '1', sizeBytes: 100_000 }, { name: 'moving', version: '2', sizeBytes: 200_000 }] });
    const kept = await create();
    const list = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    expect(list.checkpoints.map((c) => c.ts)).toEqual([kept]);
    expect(await blobExists(oldMoving.sha256)).toBe(true);

    const node = join(process.cwd(), 'node_modules/.bin/node');
    const gc = await run(node, ['src/cli/main.ts', 'gc', '--all', '--config', w.proxy.configPath]);
    expect(gc.stderr).toMatch(/removed \d+ blobs/);
    expect(await blobExists(oldMoving.sha256)).toBe(false);
    for (const p of w.repo.packages) expect(await blobExists(p.sha256)).toBe(true);

    // the kept checkpoint still installs with upstream gone
    const dir = await tempDir();
    const key = join(dir, 'mirror.gpg');
    await writeFile(key, Buffer.from(await (await fetch(`${w.proxy.url}/-/keys/mirror.gpg`)).arrayBuffer()));
    await w.upstream.down();
    try {
      const apt = await w.client({ signedBy: key, path: `${w.remote}/${kept}` });
      expect(aptProblems(await apt.update())).toEqual([]);
      await apt.download(w.repo.packages.map((p) => p.name), dir);
      for (const p of w.repo.packages) expect(await sha256File(join(dir, debFileName(p)))).toBe(p.sha256);
    } finally {
      await w.upstream.up();
    }
    // live metadata removed by gc is fetched and verified again on the next request
    const live = await fetch(`${w.base}/dists/stable/InRelease`);
    expect(live.status).toBe(200);
    await live.text();
  });
});
