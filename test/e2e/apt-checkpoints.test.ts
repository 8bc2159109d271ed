import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';
import { formatCheckpointTime, parseCheckpointTime } from '../../src/formats/checkpoint-time.ts';

const TOOLS = ['apt-get', 'gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'test-admin-token';

async function createCheckpoint(w: AptWorld): Promise<string> {
  const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await res.json()) as { ts: string; error?: string; message?: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.ts;
}

async function mirrorKey(w: AptWorld): Promise<string> {
  const dir = await tempDir('repoint-key-');
  const file = join(dir, 'mirror.gpg');
  await writeFile(file, Buffer.from(await (await fetch(`${w.proxy.url}/-/keys/mirror.gpg`)).arrayBuffer()));
  return file;
}

describeE2E('apt checkpoints: pin, republish, re-sign', TOOLS, () => {
  let w: AptWorld;
  let first: string;
  let key: string;
  beforeAll(async () => {
    w = await startAptWorld({
      packages: [{ name: 'stable', version: '1.0-1', sizeBytes: 300_000 }, { name: 'moving', version: '1.0-1' }, { name: 'allpkg', version: '1', arch: 'all' }],
      remote: { metadataTtl: '1s', checkpoints: { suites: ['stable'], components: ['main'], architectures: ['amd64'], keep: 5 } },
      extra: { admin: { token: TOKEN } },
    });
    key = await mirrorKey(w);
  });
  afterAll(async () => w?.close());

  it('refuses to create a checkpoint without the admin token', async () => {
    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST' });
    expect(res.status).toBe(401);
    const list = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: unknown[] };
    expect(list.checkpoints).toEqual([]);
  });

  it('serves a re-signed checkpoint that real apt-get installs from, signed-by the mirror key', async () => {
    first = await createCheckpoint(w);
    expect(first).toMatch(/^\d{8}T\d{6}Z$/);
    const inrel = await (await fetch(`${w.base}/${first}/dists/stable/InRelease`)).text();
    expect(inrel).toMatch(new RegExp(`^Snapshots: http://127\\.0\\.0\\.1:\\d+/${w.remote}/@SNAPSHOTID@/$`, 'm'));
    expect(inrel).not.toMatch(/^Valid-Until:|^Signed-By:/m);
    // the re-signed files verify with gpgv against the exported key
    const dir = await tempDir();
    await writeFile(join(dir, 'InRelease'), inrel);
    await writeFile(join(dir, 'Release'), Buffer.from(await (await fetch(`${w.base}/${first}/dists/stable/Release`)).arrayBuffer()));
    await writeFile(join(dir, 'Release.gpg'), Buffer.from(await (await fetch(`${w.base}/${first}/dists/stable/Release.gpg`)).arrayBuffer()));
    await run('gpgv', ['--keyring', key, join(dir, 'InRelease')]);
    await run('gpgv', ['--keyring', key, join(dir, 'Release.gpg'), join(dir, 'Release')]);

    const apt = await w.client({ signedBy: key, path: `${w.remote}/${first}` });
    const up = await apt.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const dl = await tempDir();
    await apt.download(w.repo.packages.map((p) => p.name), dl);
    for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
  });

  it('keeps resolving the old version after upstream publishes a new one; a new checkpoint sees it', async () => {
    const old = w.repo.packages.find((p) => p.name === 'moving')!;
    await w.repo.publish({ packages: [{ name: 'stable', version: '1.0-1', sizeBytes: 300_000 }, { name: 'moving', version: '2.0-1' }, { name: 'allpkg', version: '1', arch: 'all' }] });
    await new Promise((r) => setTimeout(r, 1100)); // live metadataTtl

    const live = await w.client();
    expect(aptProblems(await live.update())).toEqual([]);
    expect(await live.candidate('moving')).toBe('2.0-1');

    const pinned = await w.client({ signedBy: key, path: `${w.remote}/${first}` });
    expect(aptProblems(await pinned.update())).toEqual([]);
    expect(await pinned.candidate('moving')).toBe('1.0-1');
    const dl = await tempDir();
    await pinned.download(['moving'], dl);
    expect(await sha256File(join(dl, debFileName(old)))).toBe(old.sha256);

    const second = await createCheckpoint(w);
    expect(second > first).toBe(true);
    const next = await w.client({ signedBy: key, path: `${w.remote}/${second}` });
    expect(aptProblems(await next.update())).toEqual([]);
    expect(await next.candidate('moving')).toBe('2.0-1');
  });

  it('resolves timestamps: exact, between (301 keeping the sub-path), before the first, future, malformed', async () => {
    const sub = 'dists/stable/InRelease';
    expect((await fetch(`${w.base}/${first}/${sub}`)).status).toBe(200);
    // a time after the newest checkpoint (and not in the future) resolves to it with a 301
    const list = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    const newest = list.checkpoints.at(-1)!.ts;
    const between = formatCheckpointTime(new Date(parseCheckpointTime(newest)!.getTime() + 1000));
    while (Date.now() < parseCheckpointTime(between)!.getTime() + 1000) await new Promise((r) => setTimeout(r, 100));
    const redirect = await fetch(`${w.base}/${between}/${sub}`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe(`/${w.remote}/${newest}/${sub}`);
    expect((await fetch(`${w.base}/20000101T000000Z/${sub}`)).status).toBe(404);
    expect((await fetch(`${w.base}/29990101T000000Z/${sub}`)).status).toBe(404);
    const bad = await fetch(`${w.base}/20230230T000000Z/${sub}`);
    expect(bad.status).toBe(404);
    expect(((await bad.json()) as { message: string }).message).toMatch(/YYYYMMDDTHHMMSSZ/);
    const listing = await fetch(`${w.base}/`);
    expect(listing.headers.get('content-type')).toMatch(/text\/html/);
    expect(await listing.text()).toContain(`${first}/`);
    const api = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string; url: string }> };
    expect(api.checkpoints.map((c) => c.ts)).toContain(first);
  });

  it('serves the uncompressed Packages (listed for apt) by decompressing the stored index, verified', async () => {
    const res = await fetch(`${w.base}/${first}/dists/stable/main/binary-amd64/Packages`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^Package: moving$(\n[^\n]+)*\nVersion: 1\.0-1$/m);
    expect(text).not.toMatch(/Version: 2\.0-1/);
  });

  it('creates and lists checkpoints from the command line', async () => {
    const node = join(process.cwd(), 'node_modules/.bin/node');
    const created = await run(node, ['src/cli/main.ts', 'checkpoint', 'create', w.remote, '--config', w.proxy.configPath]);
    expect(created.stdout).toMatch(new RegExp(`^${w.remote}/\\d{8}T\\d{6}Z\n$`));
    const listed = await run(node, ['src/cli/main.ts', 'checkpoint', 'list', w.remote, '--config', w.proxy.configPath]);
    expect(listed.stdout).toContain(created.stdout.trim());
    expect(listed.stdout).toContain(`${w.remote}/${first}`);
  });

  it('publishes nothing when an upstream index is corrupted, keeping the previous checkpoint', async () => {
    const before = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    await w.repo.publish({ packages: [{ name: 'moving', version: '3.0-1' }] });
    const f = w.upstream.fault(/\/binary-amd64\/(by-hash\/|Packages)/, { kind: 'flip' });
    try {
      const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: string }).error).toBe('CHECKPOINT_FAILED');
    } finally {
      f.remove();
    }
    const after = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    expect(after.checkpoints).toEqual(before.checkpoints);
  });
});

describeE2E('apt checkpoints with packages: immediate', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({
      remote: { checkpoints: { suites: ['stable'], packages: 'immediate', keep: 2 } },
      extra: { admin: { token: TOKEN } },
    });
  });
  afterAll(async () => w?.close());

  it('prefetches every package, so the checkpoint installs with the upstream stopped', async () => {
    const ts = await createCheckpoint(w);
    const key = await mirrorKey(w);
    await w.upstream.down();
    try {
      const apt = await w.client({ signedBy: key, path: `${w.remote}/${ts}` });
      const up = await apt.update();
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
      const dl = await tempDir();
      await apt.download(w.repo.packages.map((p) => p.name), dl);
      expect((await readdir(dl)).length).toBe(w.repo.packages.length);
      for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
    } finally {
      await w.upstream.up();
    }
  });

  it('an unchanged upstream still gives a new checkpoint, sharing every metadata blob; keep drops the oldest', async () => {
    const health = async () => ((await (await fetch(`${w.proxy.url}/-/health`)).json()) as { blobs: { count: number; bytes: number } }).blobs;
    const before = await health();
    const a = await createCheckpoint(w);
    const b = await createCheckpoint(w);
    expect(b > a).toBe(true);
    const after = await health();
    // each checkpoint adds only its manifest: the Release text and its signatures are reused
    expect(after.count - before.count).toBe(2);
    expect(after.bytes - before.bytes).toBeLessThan(20_000);
    const list = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    expect(list.checkpoints.map((c) => c.ts)).toEqual([a, b]);
  });
});

describeE2E('apt checkpoints and bz2-only indexes', TOOLS, () => {
  it('leaves out a translation published only as bz2, without downloading it', async () => {
    const { mkdir, rm } = await import('node:fs/promises');
    const w = await startAptWorld({ packages: [{ name: 'a', version: '1' }], remote: { checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } } });
    try {
      // Debian's layout: Release lists Translation-en and Translation-en.bz2, only the .bz2 is published
      const i18n = join(w.repo.distDir, 'main/i18n');
      await mkdir(i18n, { recursive: true });
      await writeFile(join(i18n, 'Translation-en'), 'Package: a\nDescription-md5: 0\nDescription-en: a\n\n');
      await run('bzip2', ['-k', join(i18n, 'Translation-en')]);
      const rel = await run('apt-ftparchive', ['-o', 'APT::FTPArchive::Release::Suite=stable', '-o', 'APT::FTPArchive::Release::Codename=stable',
        '-o', 'APT::FTPArchive::Release::Components=main', '-o', 'APT::FTPArchive::Release::Architectures=amd64', 'release', w.repo.distDir]);
      expect(rel.stdout).toMatch(/ main\/i18n\/Translation-en$/m);
      expect(rel.stdout).toMatch(/ main\/i18n\/Translation-en\.bz2$/m);
      await writeFile(join(w.repo.distDir, 'Release'), rel.stdout);
      await rm(join(w.repo.distDir, 'InRelease'));
      await w.key.gpg(['--clearsign', '--output', join(w.repo.distDir, 'InRelease'), join(w.repo.distDir, 'Release')]);
      await rm(join(i18n, 'Translation-en'));
      const ts = await createCheckpoint(w);
      const inrel = await (await fetch(`${w.base}/${ts}/dists/stable/InRelease`)).text();
      expect(inrel).toContain('main/binary-amd64/Packages');
      expect(inrel).not.toContain('Translation-en');
      expect(w.upstream.hitsMatching(/Translation-en\.bz2/)).toBe(0);
      // issue 9: listed in the checkpoint's JSON with the reason
      const detail = (await (await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints/${ts}`)).json()) as { suites: Array<{ leftOut: Array<{ path: string; reason: string }> }> };
      expect(detail.suites[0]?.leftOut).toEqual([
        { path: 'main/i18n/Translation-en', reason: expect.stringMatching(/^not published upstream/) },
        { path: 'main/i18n/Translation-en.bz2', reason: expect.stringMatching(/only bz2 is published/) },
      ]);
    } finally {
      await w.close();
    }
  });
});
