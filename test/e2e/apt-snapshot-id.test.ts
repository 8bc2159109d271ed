import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatCheckpointTime, parseCheckpointTime } from '../../src/formats/checkpoint-time.ts';
import { sha256File, startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.ts';
import { createChrootApt, describeTrixie, type ChrootApt } from '../helpers/trixie-chroot.ts';

// issue 9: `apt -S <id>` (apt >= 2.7, run from the Debian trixie chroot) reaches repoint's checkpoints
// through a resign: true remote, with nothing on the client but the live sources stanza and the mirror key.
const TOKEN = 'test-admin-token';
const v1 = [{ name: 'moving', version: '1.0-1' }, { name: 'steady', version: '1' }];
const v2 = [{ name: 'moving', version: '2.0-1' }, { name: 'steady', version: '1' }];

async function checkpoint(w: AptWorld): Promise<string> {
  const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
  const body = (await res.json()) as { ts: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body.ts;
}

describeTrixie('apt -S <checkpoint> with a resign: true remote (issue 9, apt >= 2.7 in a trixie chroot)', () => {
  let w: AptWorld;
  let rec: RecordingProxy;
  let apt: ChrootApt;
  let first: string;
  let second: string;
  let oldMoving: { filename: string; sha256: string };

  beforeAll(async () => {
    w = await startAptWorld({ packages: v1, remote: { resign: true, metadataTtl: '1s', checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } } });
    oldMoving = w.repo.packages.find((p) => p.name === 'moving')!;
    first = await checkpoint(w);
    await w.repo.publish({ packages: v2 });
    await sleep(2000); // so that first + 1 s is a time strictly between the two checkpoints
    second = await checkpoint(w);
    rec = await startRecordingProxy(w.proxy.url);
    const keyring = new Uint8Array(await (await fetch(`${w.proxy.url}/-/keys/mirror.gpg`)).arrayBuffer());
    const sources = `Types: deb\nURIs: ${w.base}\nSuites: stable\nComponents: main\nSigned-By: /mnt/keyrings/repoint.gpg\n`;
    apt = await createChrootApt({ sources, keyring, proxy: rec.url });
  });
  afterAll(async () => {
    await apt?.cleanup();
    await rec?.stop();
    await w?.close();
  });

  const ok = (r: { code: number; stdout: string; stderr: string }): void => {
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(`${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^(W|E|Err):/.test(l)), r.stdout + r.stderr).toEqual([]);
  };

  it('runs apt >= 2.7', async () => {
    const v = await apt.apt(['--version']);
    const [major = 0, minor = 0] = (/^apt (\d+)\.(\d+)/.exec(v.stdout)?.slice(1) ?? []).map(Number);
    expect(major * 100 + minor, v.stdout).toBeGreaterThanOrEqual(207);
  });

  it('live update, then apt -S <TS> update and install --download-only fetch from /<remote>/<TS>/', async () => {
    ok(await apt.apt(['update']));
    rec.clear();
    ok(await apt.apt(['-S', first, 'update']));
    const paths = rec.paths();
    expect(paths).toContain(`/${w.remote}/${first}/dists/stable/InRelease`);
    expect(paths.some((p) => p.startsWith(`/${w.remote}/${first}/dists/stable/main/binary-amd64/`))).toBe(true);
    // the live suite is shadowed: apt revalidates its InRelease (where Snapshots: comes from), nothing more
    expect(paths.filter((p) => p.startsWith(`/${w.remote}/dists/`))).toEqual([`/${w.remote}/dists/stable/InRelease`]);
    rec.clear();
    ok(await apt.apt(['-S', first, 'install', '--download-only', '-y', 'moving']));
    expect(rec.paths()).toEqual([`/${w.remote}/${first}/${oldMoving.filename}`]);
    expect(rec.requests[0]?.status).toBe(200);
    const debs = (await readdir(apt.archives())).filter((f) => f.endsWith('.deb'));
    expect(debs).toEqual([oldMoving.filename.slice(oldMoving.filename.lastIndexOf('/') + 1)]);
    expect(await sha256File(join(apt.archives(), debs[0]!))).toBe(oldMoving.sha256);
  });

  it('a time between two checkpoints is redirected (301) to the earlier one, and works', async () => {
    const between = formatCheckpointTime(new Date(parseCheckpointTime(first)!.getTime() + 1000));
    expect(between > first && between < second).toBe(true);
    rec.clear();
    ok(await apt.apt(['-S', between, 'update']));
    const inrel = rec.requests.filter((r) => r.url.endsWith('/dists/stable/InRelease') && !r.url.endsWith(`/${w.remote}/dists/stable/InRelease`));
    expect(inrel.map((r) => [new URL(r.url).pathname, r.status])).toEqual([
      [`/${w.remote}/${between}/dists/stable/InRelease`, 301],
      [`/${w.remote}/${first}/dists/stable/InRelease`, 200],
    ]);
    const policy = await apt.apt(['-S', between, 'policy', 'moving']);
    expect(policy.stdout).toMatch(/Candidate: 1\.0-1/);
    const newer = await apt.apt(['-S', second, 'update']);
    ok(newer);
    expect((await apt.apt(['-S', second, 'policy', 'moving'])).stdout).toMatch(/Candidate: 2\.0-1/);
  });
});
