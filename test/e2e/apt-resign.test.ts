import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseRelease } from '../../src/apt/formats/release.ts';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';

// issue 9, part 2: `resign: true` serves the live Release files re-signed with `Snapshots:`
// (a forged Host header: test/e2e/public-url.test.ts).
const TOOLS = ['apt-get', 'gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'test-admin-token';
const PACKAGES = [{ name: 'one', version: '1.0-1' }, { name: 'two', version: '1', arch: 'all' }];

/** The signed text of a clearsigned file, as gpgv checked it. */
function signedText(clearsigned: string): string {
  const body = clearsigned.slice(clearsigned.indexOf('\n\n') + 2, clearsigned.indexOf('\n-----BEGIN PGP SIGNATURE-----'));
  return `${body.replace(/^- /gm, '')}\n`;
}

describeE2E('apt resign: true (issue 9)', TOOLS, () => {
  let w: AptWorld;
  let key: string;
  const dir = 'dists/stable';
  beforeAll(async () => {
    w = await startAptWorld({
      packages: PACKAGES,
      remote: { resign: true, metadataTtl: '1s', checkpoints: { suites: ['stable'] } },
      extra: { admin: { token: TOKEN } },
    });
    // upstream's own Valid-Until must survive re-signing (live metadata is revalidated anyway)
    await w.repo.publish({ packages: PACKAGES, validUntil: new Date(Date.now() + 7 * 86400_000) });
    key = join(await tempDir('repoint-key-'), 'mirror.gpg');
    await writeFile(key, Buffer.from(await (await fetch(`${w.proxy.url}/-/keys/mirror.gpg`)).arrayBuffer()));
  });
  afterAll(async () => w?.close());

  it('serves InRelease signed by the mirror key: upstream\'s fields, Valid-Until kept, Snapshots added, Signed-By dropped', async () => {
    const served = await (await fetch(`${w.base}/${dir}/InRelease`)).text();
    const files = await tempDir();
    await writeFile(join(files, 'InRelease'), served);
    await run('gpgv', ['--keyring', key, join(files, 'InRelease')]);
    expect((await run('gpgv', ['--keyring', w.key.publicKeyPath, join(files, 'InRelease')], { allowFail: true })).code).not.toBe(0);

    const upstream = parseRelease(signedText(await readFile(join(w.repo.distDir, 'InRelease'), 'utf8')));
    const ours = parseRelease(signedText(served));
    expect(upstream.validUntil).toBeDefined();
    expect(ours.validUntil).toEqual(upstream.validUntil);
    expect(ours.fields.filter((f) => f.name !== 'Snapshots')).toEqual(upstream.fields.filter((f) => f.name !== 'Signed-By' && f.name !== 'Snapshots'));
    expect(ours.fields.filter((f) => f.name === 'Snapshots')).toEqual([{ name: 'Snapshots', value: `${w.proxy.url}/${w.remote}/@SNAPSHOTID@/` }]);
  });

  it('pairs Release.gpg with the Release served, and serves indexes and packages byte for byte', async () => {
    const files = await tempDir();
    const release = Buffer.from(await (await fetch(`${w.base}/${dir}/Release`)).arrayBuffer());
    await writeFile(join(files, 'Release'), release);
    await writeFile(join(files, 'Release.gpg'), Buffer.from(await (await fetch(`${w.base}/${dir}/Release.gpg`)).arrayBuffer()));
    await run('gpgv', ['--keyring', key, join(files, 'Release.gpg'), join(files, 'Release')]);
    expect(release.toString()).toMatch(/^Snapshots: /m);
    for (const index of ['main/binary-amd64/Packages.xz', 'main/binary-amd64/Packages']) {
      const body = Buffer.from(await (await fetch(`${w.base}/${dir}/${index}`)).arrayBuffer());
      expect(sha256(body)).toBe(await sha256File(join(w.repo.distDir, index)));
    }
  });

  it('real apt-get updates and downloads with only the mirror key', async () => {
    const apt = await w.client({ signedBy: key });
    const up = await apt.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const dl = await tempDir();
    await apt.download(PACKAGES.map((p) => p.name), dl);
    for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
  });

  it('makes checkpoints as before (issue 9: checkpoints of a resign remote work as today)', async () => {
    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(201);
    const { ts } = (await res.json()) as { ts: string };
    const apt = await w.client({ signedBy: key, path: `${w.remote}/${ts}` });
    const up = await apt.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    expect(await apt.candidate('one')).toBe('1.0-1');
  });
});

describeE2E('apt resign: true with publicUrl (issue 9)', TOOLS, () => {
  let w: AptWorld;
  const dir = 'dists/stable';
  beforeAll(async () => {
    w = await startAptWorld({ packages: PACKAGES, remote: { resign: true, metadataTtl: '1s' }, extra: { publicUrl: 'http://mirror.test:8080' } });
  });
  afterAll(async () => w?.close());

  it('re-signs once per verified upstream text: the same bytes after revalidation and after a restart; new ones for new text', async () => {
    const first = await (await fetch(`${w.base}/${dir}/InRelease`)).text();
    expect(first).toMatch(/^Snapshots: http:\/\/mirror\.test:8080\/deb\/@SNAPSHOTID@\/$/m);
    await sleep(1100); // past metadataTtl, and past the signature's one-second clock: a new signing would differ
    expect(await (await fetch(`${w.base}/${dir}/InRelease`)).text()).toBe(first);
    expect(w.upstream.requests.filter((r) => r.path.endsWith('/InRelease')).map((r) => r.status)).toEqual([200, 304]);
    await w.proxy.restart();
    expect(await (await fetch(`${w.base}/${dir}/InRelease`)).text()).toBe(first);
    await w.repo.publish({ packages: [...PACKAGES, { name: 'three', version: '3' }] });
    await sleep(1100);
    const next = await (await fetch(`${w.base}/${dir}/InRelease`)).text();
    expect(next).not.toBe(first);
    expect(next).toContain(`Date: ${w.repo.date.toUTCString().replace('GMT', 'UTC')}`);
  });
});

describeE2E('apt without resign (issue 9)', TOOLS, () => {
  it('serves the live InRelease, Release and Release.gpg exactly as upstream published them', async () => {
    const w = await startAptWorld({ packages: PACKAGES, remote: { checkpoints: { suites: ['stable'] } } });
    try {
      for (const name of ['InRelease', 'Release', 'Release.gpg']) {
        const body = Buffer.from(await (await fetch(`${w.base}/dists/stable/${name}`)).arrayBuffer());
        expect(sha256(body), name).toBe(await sha256File(join(w.repo.distDir, name)));
      }
    } finally {
      await w.close();
    }
  });
});
