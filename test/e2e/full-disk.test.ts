import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { sha256, startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { eventually } from '../helpers/fill-harness.ts';
import { describeWithTmpfs, mountTmpfs, type Tmpfs } from '../helpers/tmpfs.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
const lapse = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));

/**
 * Issue 8, finding 11: a full disk was reported as an upstream failure (three useless resumes), and a
 * server could not start on one. The data dir is a real 2 MiB tmpfs; the big package does not fit.
 */
describeWithTmpfs('a full disk (issue 8, finding 11)', TOOLS, () => {
  let fs: Tmpfs;
  let w: AptWorld;
  let smallDeb: { path: string; sha256: string };
  const bigPath = (): string => `/${w.repo.packages.find((p) => p.name === 'bigpkg')!.filename}`;
  const leftovers = async (): Promise<string[]> => [
    ...(await readdir(join(fs.dir, 'blobs', 'tmp'))),
    ...(await readdir(join(fs.dir, 'blobs'))).filter((n) => n.includes('.tmp-')),
  ];

  beforeAll(async () => {
    fs = await mountTmpfs(2 * 2 ** 20);
    w = await startAptWorld({
      packages: [{ name: 'bigpkg', version: '1', sizeBytes: 3_000_000 }, { name: 'small', version: '1' }],
      remote: { metadataTtl: '1s' },
      extra: { dataDir: fs.dir, upstream: { retries: 1, bodyTimeout: '5s', connectTimeout: '2s', metadataDeadline: '5s' } },
    });
    const up = await (await w.client()).update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const small = w.repo.packages.find((p) => p.name === 'small')!;
    smallDeb = { path: `/${small.filename}`, sha256: small.sha256 };
    const res = await fetch(`${w.base}${smallDeb.path}`);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(smallDeb.sha256);
  });
  afterAll(async () => {
    await w?.close();
    await fs?.unmount();
  });

  it('finding 11: ENOSPC mid-download → one upstream request (no resume), the temp file removed', async () => {
    const res = await fetch(`${w.base}${bigPath()}`);
    const body = await res.arrayBuffer().then(() => 'complete', () => 'broken');
    expect([res.status, body]).not.toEqual([200, 'complete']);
    await eventually(() => w.upstream.requests.some((r) => r.path === bigPath()), 'the upstream request');
    await new Promise((r) => setTimeout(r, 500)); // a resume would have been asked for by now
    expect(w.upstream.requests.filter((r) => r.path === bigPath()).map((r) => r.range)).toEqual([undefined]);
    expect(await leftovers()).toEqual([]);
  });

  it('finding 11: a disk with no room at all → 507 STORAGE_FULL before any body', async () => {
    await fs.fill();
    const res = await fetch(`${w.base}${bigPath()}`);
    expect(res.status).toBe(507);
    expect(await res.json()).toMatchObject({ error: 'STORAGE_FULL' });
    expect(await leftovers()).toEqual([]);
  });

  it('finding 11 (and 3): a new InRelease that cannot be stored → the last verified one, X-Repoint-Stale: STORAGE_FULL', async () => {
    await w.repo.publish({ packages: w.repo.packages.map((p) => ({ name: p.name, version: '2' })) });
    await lapse();
    const res = await fetch(`${w.base}/dists/${w.repo.suite}/InRelease`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(res.headers.get('x-repoint-stale')).toBe('STORAGE_FULL');
  });

  it('finding 11: the server restarts on the full disk, serves what it has, and leaves no temp file', async () => {
    await w.proxy.restart();
    expect((await fetch(`${w.proxy.url}/-/health`)).status).toBe(200);
    const res = await fetch(`${w.base}${smallDeb.path}`);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(smallDeb.sha256);
    expect(await leftovers()).toEqual([]);
  });
});
