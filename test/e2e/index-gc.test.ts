import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectGarbage } from '../../src/checkpoints/gc.ts';
import { pinSources } from '../../src/registry.ts';
import { stateKeys } from '../../src/state/keys.ts';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'test-admin-token';

/**
 * Issue 8, finding 10: index records were never deleted. Several index versions go live, one is
 * pinned by a checkpoint; gc removes the records of the one nothing reads, and real apt-get still
 * installs the pinned version from the checkpoint (verified by its records) after upstream pruned it.
 */
describeE2E('gc of index records (issue 8, finding 10)', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({
      packages: [{ name: 'moving', version: '1' }],
      remote: { metadataTtl: '1s', checkpoints: { suites: ['stable'], components: ['main'], architectures: ['amd64'], keep: 1 } },
      extra: { admin: { token: TOKEN } },
    });
  });
  afterAll(async () => w?.close());

  const indexesWithRecords = async (): Promise<Set<string>> => {
    const out = new Set<string>();
    for await (const page of w.proxy.running.runtime.content.state.keys('apt:idx:')) for (const k of page) out.add(k.slice(8, 72));
    return out;
  };
  const liveIndexes = async (): Promise<string[]> =>
    ((await w.proxy.running.runtime.content.state.get<Array<{ sha256: string }>>(stateKeys.aptLiveIndexes(w.remote))) ?? []).map((r) => r.sha256);

  it('removes the records no live generation or kept checkpoint reads; apt-get installs from the checkpoint after', async () => {
    const live = await w.client();
    expect(aptProblems(await live.update())).toEqual([]);
    const v1 = w.repo.packages[0]!;
    await live.download(['moving'], await tempDir()); // stored now: upstream prunes it below
    const created = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(created.status).toBe(201);
    const { ts } = (await created.json()) as { ts: string };
    for (let v = 2; v <= 5; v++) {
      await w.repo.publish({ packages: [{ name: 'moving', version: String(v) }], prunePool: true });
      await new Promise((r) => setTimeout(r, 1100)); // metadataTtl
      const up = await live.update();
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    }
    const before = await indexesWithRecords();
    const listed = await liveIndexes();
    expect(listed.length).toBe(3); // three generations per index path
    expect(before.size).toBe(5);

    const { config, content } = w.proxy.running.runtime;
    const r = await collectGarbage({ maxSizeBytes: 0, sources: pinSources(config) }, content.blobs, content.state, { all: true, dryRun: false, indexGraceMs: 0 });
    const after = await indexesWithRecords();
    expect(r.indexes).toBe(1);
    expect(after.size).toBe(4);
    for (const sha of listed) expect(after.has(sha)).toBe(true);

    const dir = await tempDir('repoint-key-');
    const key = join(dir, 'mirror.gpg');
    await writeFile(key, Buffer.from(await (await fetch(`${w.proxy.url}/-/keys/mirror.gpg`)).arrayBuffer()));
    const pinned = await w.client({ signedBy: key, path: `${w.remote}/${ts}` });
    const up = await pinned.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    expect(await pinned.candidate('moving')).toBe('1');
    const dl = await tempDir();
    await pinned.download(['moving'], dl);
    expect(await sha256File(join(dl, debFileName(v1)))).toBe(v1.sha256);
    expect(await live.candidate('moving')).toBe('5');
  });
});
