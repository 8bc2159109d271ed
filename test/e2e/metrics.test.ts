import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { aptProblems } from '../helpers/apt-client.ts';
import { DEFAULT_PACKAGES, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { scrape, sum, type Sample } from '../helpers/prometheus.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'scrape-secret';
const HOUR = 3600_000;

describeE2E('Prometheus metrics and the access log under real apt-get traffic', TOOLS, () => {
  let w: AptWorld;
  const lines: string[] = [];
  const access = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'reqId' in l);
  const metrics = (): Promise<Sample[]> => scrape(`${w.proxy.url}/-/metrics`, TOKEN);
  const R = { remote: 'deb' };

  beforeAll(async () => {
    w = await startAptWorld({
      packages: [...DEFAULT_PACKAGES, { name: 'tamperpkg', version: '1.0-1', sizeBytes: 200_000 }],
      date: new Date(Date.now() - HOUR), validUntil: new Date(Date.now() + 48 * HOUR),
      extra: { metrics: { token: TOKEN }, cache: { maxSize: '3GiB' } },
      log: createLogger('error', {}, (l) => lines.push(l)),
    });
  });
  afterAll(async () => w?.close());

  it('is bearer-protected when metrics.token is set', async () => {
    expect((await fetch(`${w.proxy.url}/-/metrics`)).status).toBe(401);
    expect((await fetch(`${w.proxy.url}/-/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const s = await metrics();
    // prom-client's default metrics; its CPU counters count from registration, so they may still read 0
    expect(s.some((x) => x.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(sum(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sum(s, 'repoint_cache_budget_bytes')).toBe(3 * 2 ** 30);
  });

  it('counts a cold run as misses from upstream, a warm one as hits from the cache', async () => {
    const served = w.repo.packages.filter((p) => p.name !== 'tamperpkg');
    const packages = served.map((p) => p.name);
    const total = served.reduce((a, p) => a + p.size, 0);
    const client = await w.client();
    expect(aptProblems(await client.update())).toEqual([]);
    const cold = await tempDir('repoint-dl-');
    await client.download(packages, cold);
    const a = await metrics();
    expect(sum(a, 'repoint_http_requests_total', { ...R, cache: 'miss', status: '200' })).toBeGreaterThanOrEqual(packages.length + 1);
    expect(sum(a, 'repoint_http_response_bytes_total', { ...R, source: 'upstream' })).toBeGreaterThanOrEqual(total);
    expect(sum(a, 'repoint_upstream_requests_total', { ...R, status: '200' })).toBeGreaterThanOrEqual(packages.length + 1);
    expect(sum(a, 'repoint_upstream_bytes_total', R)).toBeGreaterThanOrEqual(total);
    expect(sum(a, 'repoint_upstream_request_duration_seconds_count', R)).toBeGreaterThan(0);
    expect(sum(a, 'repoint_blob_store_bytes')).toBeGreaterThanOrEqual(total);
    expect(sum(a, 'repoint_blob_store_blobs')).toBeGreaterThanOrEqual(packages.length);
    // freshness: the fixture's Release is dated an hour ago and valid for two more days
    const age = sum(a, 'repoint_metadata_age_seconds', { ...R, dist: w.repo.suite });
    expect(age).toBeGreaterThan(3590);
    expect(age).toBeLessThan(3600 + 600);
    const left = sum(a, 'repoint_metadata_valid_until_seconds', { ...R, dist: w.repo.suite });
    expect(left).toBeGreaterThan(47 * 3600);
    expect(left).toBeLessThanOrEqual(48 * 3600);

    // warm: a second client, everything from the cache
    const warm = await tempDir('repoint-dl-');
    const second = await w.client();
    expect(aptProblems(await second.update())).toEqual([]);
    await second.download(packages, warm);
    const b = await metrics();
    expect(sum(b, 'repoint_http_requests_total', { ...R, cache: 'hit' }) - sum(a, 'repoint_http_requests_total', { ...R, cache: 'hit' })).toBeGreaterThanOrEqual(packages.length + 1);
    expect(sum(b, 'repoint_http_response_bytes_total', { ...R, source: 'cache' }) - sum(a, 'repoint_http_response_bytes_total', { ...R, source: 'cache' })).toBeGreaterThanOrEqual(total);
    expect(sum(b, 'repoint_upstream_bytes_total', R)).toBe(sum(a, 'repoint_upstream_bytes_total', R)); // nothing fetched again
    expect(sum(b, 'repoint_http_request_duration_seconds_count', { ...R, cache: 'hit' })).toBeGreaterThanOrEqual(packages.length + 1);
    expect(sum(b, 'repoint_fills_in_flight')).toBe(0);

    // the access log: one flat line per request, a package's bytes and its cache result
    const big = w.repo.packages.find((p) => p.name === 'bigpkg')!;
    const bigLines = access().filter((l) => decodeURIComponent(String(l.path)) === `/deb/${big.filename}`);
    expect(bigLines.map((l) => [l.cache, l.status, l.bytes])).toEqual([['miss', 200, big.size], ['hit', 200, big.size]]);
    expect(typeof bigLines[0]!.upstreamMs).toBe('number');
    expect(bigLines[1]).not.toHaveProperty('upstreamMs');
    await Promise.all([cold, warm].map((d) => rm(d, { recursive: true })));
  });

  it('counts a verification failure on a tampered package', async () => {
    const before = sum(await metrics(), 'repoint_verification_failures_total', { ...R, code: 'UPSTREAM_DIGEST_MISMATCH' });
    const tamper = w.repo.packages.find((p) => p.name === 'tamperpkg')!;
    const fault = w.upstream.fault(`/${tamper.filename}`, { kind: 'flip' });
    const client = await w.client();
    expect(aptProblems(await client.update())).toEqual([]);
    const dir = await tempDir('repoint-dl-');
    const res = await client.download(['tamperpkg'], dir, { allowFail: true });
    expect(res.code).not.toBe(0);
    expect(fault.applied).toBeGreaterThan(0);
    fault.remove();
    const after = await metrics();
    expect(sum(after, 'repoint_verification_failures_total', { ...R, code: 'UPSTREAM_DIGEST_MISMATCH' }) - before).toBe(1);
    expect(access().filter((l) => decodeURIComponent(String(l.path)) === `/deb/${tamper.filename}`).at(-1)).toMatchObject({ cache: 'error' });
    for (const f of await readdir(dir)) await rm(join(dir, f));
  });
});
