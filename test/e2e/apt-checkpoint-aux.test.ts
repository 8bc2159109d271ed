import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { releaseEntries } from '../fixtures/apt-repo.ts';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { formatCheckpointTime, parseCheckpointTime } from '../../src/formats/checkpoint-time.ts';

// issue 9, part 1: auxiliary indexes never fail a checkpoint; Packages/Sources stay all or nothing.
const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive', 'gzip', 'xz'];
const TOKEN = 'test-admin-token';
const CONTENTS = 'main/Contents-amd64.gz';

interface Detail {
  ts: string;
  url: string;
  suites: Array<{ dir: string; files: string[]; leftOut: Array<{ path: string; reason: string }> }>;
}

async function create(proxyUrl: string, remote: string): Promise<Response> {
  return fetch(`${proxyUrl}/-/api/remotes/${remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
}

async function createOk(proxyUrl: string, remote: string): Promise<string> {
  const res = await create(proxyUrl, remote);
  const body = (await res.json()) as { ts: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.ts;
}

async function mirrorKey(proxyUrl: string): Promise<string> {
  const file = join(await tempDir('repoint-key-'), 'mirror.gpg');
  await writeFile(file, Buffer.from(await (await fetch(`${proxyUrl}/-/keys/mirror.gpg`)).arrayBuffer()));
  return file;
}

describeE2E('apt checkpoints: auxiliary indexes (issue 9)', TOOLS, () => {
  let w: AptWorld;
  let lean: TestProxy;
  beforeAll(async () => {
    w = await startAptWorld({
      auxiliary: true,
      packages: [{ name: 'one', version: '1.0-1' }, { name: 'two', version: '2.0-1', arch: 'all' }],
      remote: { checkpoints: { suites: ['stable'] } },
      extra: { admin: { token: TOKEN } },
    });
    // The real case: Contents disagrees with the InRelease (another size) and its by-hash copy is gone.
    const release = await readFile(join(w.repo.distDir, 'Release'), 'utf8');
    for (const [section, entries] of releaseEntries(release)) {
      for (const e of entries) if (e.path === CONTENTS) await rm(join(w.repo.distDir, 'main/by-hash', section, e.hash));
    }
    await appendFile(join(w.repo.distDir, CONTENTS), Buffer.from('a later run of the Contents job'));
    lean = await startProxy({
      remotes: { lean: { type: 'apt', upstream: w.upstream.url, keyring: w.key.publicKeyPath, checkpoints: { suites: ['stable'], indexes: ['packages'] } } },
      extra: { admin: { token: TOKEN } },
    });
  });
  afterAll(async () => {
    await lean?.close();
    await w?.close();
  });

  it('publishes the checkpoint without a Contents file that disagrees with the InRelease and has no by-hash copy', async () => {
    const ts = await createOk(w.proxy.url, w.remote);
    const inrel = await (await fetch(`${w.base}/${ts}/dists/stable/InRelease`)).text();
    expect(inrel).not.toContain('Contents-amd64');
    expect(inrel).toContain('main/binary-amd64/Packages.xz');
    expect(inrel).toContain('main/i18n/Translation-en.xz'); // auxiliary files that verify are kept
    expect((await fetch(`${w.base}/${ts}/dists/stable/${CONTENTS}`)).status).toBe(404);

    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints/${ts}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as Detail;
    expect(detail.ts).toBe(ts);
    expect(detail.url).toBe(`${w.proxy.url}/${w.remote}/${ts}/`);
    const [suite] = detail.suites;
    expect(suite?.dir).toBe('dists/stable');
    expect(suite?.files).toEqual(expect.arrayContaining(['main/binary-amd64/Packages', 'main/binary-amd64/Packages.xz', 'main/i18n/Translation-en', 'main/i18n/Translation-en.xz']));
    expect(suite?.files).not.toContain(CONTENTS);
    expect(suite?.leftOut).toEqual([{ path: CONTENTS, reason: expect.stringMatching(/UPSTREAM_SIZE_MISMATCH: upstream sent \d+ bytes .* metadata says \d+/) }]);
  });

  it('real apt-get update and download work on that checkpoint, translations included', async () => {
    const list = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    const ts = list.checkpoints.at(-1)!.ts;
    const apt = await w.client({ signedBy: await mirrorKey(w.proxy.url), path: `${w.remote}/${ts}` });
    const up = await apt.aptGet(['-o', 'Acquire::Languages=en', 'update'], { allowFail: true });
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    expect(`${up.stdout}`).toMatch(/Translation-en/);
    const dl = await tempDir();
    await apt.download(['one', 'two'], dl);
    for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
  });

  it('a Packages index that does not verify still fails the checkpoint', async () => {
    const before = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: unknown[] };
    await w.repo.publish({ packages: [{ name: 'one', version: '1.1-1' }] }); // new indexes, not stored yet
    const f = w.upstream.fault(/\/binary-amd64\/(by-hash\/|Packages)/, { kind: 'flip' });
    try {
      const res = await create(w.proxy.url, w.remote);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('CHECKPOINT_FAILED');
      expect(body.message).toMatch(/binary-amd64\/Packages/);
    } finally {
      f.remove();
    }
    const after = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: unknown[] };
    expect(after.checkpoints).toEqual(before.checkpoints);
  });

  it('checkpoints.indexes: [packages] keeps only what apt-get install needs, without fetching the rest', async () => {
    w.upstream.resetCounters();
    const ts = await createOk(lean.url, 'lean');
    const detail = (await (await fetch(`${lean.url}/-/api/remotes/lean/checkpoints/${ts}`)).json()) as Detail;
    expect(detail.suites[0]?.files.every((p) => /\/Packages(\.xz)?$/.test(p))).toBe(true);
    expect(detail.suites[0]?.leftOut).toEqual([]);
    expect(w.upstream.hitsMatching(/Contents|Translation|i18n/)).toBe(0);
    const inrel = await (await fetch(`${lean.url}/lean/${ts}/dists/stable/InRelease`)).text();
    expect(inrel).not.toMatch(/Contents|Translation/);
  });

  it('answers a time between checkpoints with a 301 to the earlier one, and a time before the first with 404', async () => {
    const list = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    expect(list.checkpoints).toHaveLength(1);
    const ts = list.checkpoints[0]!.ts;
    const laterMs = parseCheckpointTime(ts)!.getTime() + 1000;
    // a time in the future is 404 by design: ask once `later` has passed (the checkpoint may be under 1 s old)
    await new Promise((r) => setTimeout(r, Math.max(0, laterMs - Date.now() + 50)));
    const later = formatCheckpointTime(new Date(laterMs));
    const between = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints/${later}`, { redirect: 'manual' });
    expect(between.status).toBe(301);
    expect(between.headers.get('location')).toBe(`/-/api/remotes/${w.remote}/checkpoints/${ts}`);
    expect((await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints/20000101T000000Z`)).status).toBe(404);
  });
});
