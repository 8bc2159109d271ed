import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { YUM_TOOLS, startYumWorld, type YumWorld } from './yum-world.ts';

// Finding 3: a revalidation that failed mid-body (500 INTERNAL) or trickled (a 30 s hang) did not
// serve the last verified copy. The deadline is configured short; TTLs lapse after 1 s.
const UPSTREAM = { metadataDeadline: '1s', retries: 0, bodyTimeout: '10s', connectTimeout: '2s' };
const lapse = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));
let generation = 1;

async function staleReason(url: string): Promise<string | null> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get('x-repoint-stale');
}

describeE2E('apt-get keeps the last verified InRelease when revalidation fails', ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  const inrelease = (): string => `/dists/${w.repo.suite}/InRelease`;
  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'a', version: '1' }], remote: { metadataTtl: '1s' }, extra: { upstream: UPSTREAM } });
    const up = await (await w.client()).update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
  });
  afterAll(async () => w?.close());

  // Each test publishes a new InRelease first: an unchanged one would be a bodiless 304.
  const publish = (): Promise<void> => w.repo.publish({ packages: [{ name: 'a', version: String(++generation) }] });

  it('finding 3: a connection reset mid-body → apt-get update succeeds on the stale copy, X-Repoint-Stale: UPSTREAM_TRUNCATED', async () => {
    await publish();
    await lapse();
    const fault = w.upstream.fault(inrelease(), { kind: 'reset', at: 200 });
    try {
      const up = await (await w.client()).update();
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
      expect(up.code).toBe(0);
      expect(fault.applied).toBeGreaterThan(0);
      expect(await staleReason(`${w.base}${inrelease()}`)).toBe('UPSTREAM_TRUNCATED');
    } finally {
      fault.remove();
    }
  });

  it('finding 3: an upstream trickling past upstream.metadataDeadline → the stale copy, X-Repoint-Stale: UPSTREAM_DEADLINE', async () => {
    await publish();
    await lapse();
    // ~2.5 KB at 160 B/s: 16 bytes every 100 ms, never silent long enough for bodyTimeout
    const fault = w.upstream.fault(inrelease(), { kind: 'trickle', bytesPerSecond: 160, chunk: 16 });
    try {
      const started = Date.now();
      const up = await (await w.client()).update();
      console.info(`[finding 3] apt-get update against a trickling InRelease (deadline 1s): ${Date.now() - started} ms`);
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
      expect(fault.applied).toBeGreaterThan(0);
      expect(await staleReason(`${w.base}${inrelease()}`)).toBe('UPSTREAM_DEADLINE');
    } finally {
      fault.remove();
    }
  });

  it('revalidates normally once upstream behaves', async () => {
    await lapse();
    expect(await staleReason(`${w.base}${inrelease()}`)).toBeNull();
  });
});

describeE2E('dnf keeps the last verified repomd.xml when revalidation fails', YUM_TOOLS, () => {
  let w: YumWorld;
  beforeAll(async () => {
    w = await startYumWorld({ remote: { metadataTtl: '1s' }, extra: { upstream: UPSTREAM } });
    const mc = await (await w.client()).makecache();
    expect(mc.code, mc.stdout + mc.stderr).toBe(0);
  });
  afterAll(async () => w?.close());

  it('finding 3: repomd.xml reset mid-body → dnf makecache succeeds on the stale copy, UPSTREAM_TRUNCATED', async () => {
    await w.repo.publish({ packages: [{ name: 'newer', version: String(++generation) }] }); // not a bodiless 304
    await lapse();
    const fault = w.upstream.fault('/repodata/repomd.xml', { kind: 'reset', at: 300 });
    try {
      const mc = await (await w.client()).makecache();
      expect(mc.code, mc.stdout + mc.stderr).toBe(0);
      expect(fault.applied).toBeGreaterThan(0);
      expect(await staleReason(`${w.base}/repodata/repomd.xml`)).toBe('UPSTREAM_TRUNCATED');
    } finally {
      fault.remove();
    }
  });

  it('finding 3: repomd.xml.asc trickling past the deadline (the signature fetch is under it too) → UPSTREAM_DEADLINE', async () => {
    await lapse();
    await w.repo.publish({ packages: [{ name: 'newer', version: String(++generation) }] }); // a new repomd, so its .asc is fetched
    const fault = w.upstream.fault('/repodata/repomd.xml.asc', { kind: 'trickle', bytesPerSecond: 160, chunk: 16 });
    try {
      const mc = await (await w.client()).makecache();
      expect(mc.code, mc.stdout + mc.stderr).toBe(0);
      expect(fault.applied).toBeGreaterThan(0);
      expect(await staleReason(`${w.base}/repodata/repomd.xml`)).toBe('UPSTREAM_DEADLINE');
    } finally {
      fault.remove();
    }
  });
});
