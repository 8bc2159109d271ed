import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { History } from './history.ts';
import { metricsRegistry } from './metric-export.ts';
import { Ops } from './ops.ts';
import { CACHE } from './remote-meters.ts';

const MIN = 60_000;

describe('History (the status page charts)', () => {
  it('keeps one bucket per minute for the last hour and clears a bucket when its minute comes round again', () => {
    const h = new History(60);
    const t0 = 1000 * MIN;
    h.add(0, 2, t0);
    h.add(0, 3, t0 + 30_000); // same minute
    h.add(5, 100, t0 + MIN);
    let snap = h.snapshot(t0 + MIN);
    expect(snap.series.hit.slice(-2)).toEqual([5, 0]);
    expect(snap.series.bytesCache.slice(-2)).toEqual([0, 100]);
    expect(snap.series.hit).toHaveLength(60);
    // an hour later the same slot is reused: the old count must not leak into the new minute
    h.add(0, 1, t0 + 60 * MIN);
    snap = h.snapshot(t0 + 60 * MIN);
    expect(snap.series.hit.at(-1)).toBe(1);
    expect(snap.series.hit.reduce((a, b) => a + b, 0)).toBe(1); // t0's minute has left the window
    expect(snap.series.bytesCache.at(-60)).toBe(100);
  });
});

describe('metric export', () => {
  it('writes the meters as Prometheus series: cumulative histogram buckets, bounded labels', async () => {
    const ops = new Ops();
    const m = ops.meter('deb');
    m.request('GET', 200, CACHE.hit, 10, false, 0.0007, Date.now());
    m.request('GET', 200, CACHE.hit, 10, false, 3, Date.now());
    m.request('HEAD', 404, CACHE.error, 0, false, 0.002, Date.now());
    m.verificationFailed('UPSTREAM_DIGEST_MISMATCH');
    m.verificationFailed('UPSTREAM_UNAVAILABLE'); // not a verification failure: not counted, not a label
    ops.gcFreedBytes = 42;
    const text = await metricsRegistry(ops, {
      budgetBytes: 100, blobTotals: async () => ({ count: 3, bytes: 30 }), fillsInFlight: () => 2,
      freshness: async () => [{ remote: 'deb', dist: 'stable', dateMs: Date.now() - 10_000 }], newestCheckpoints: async () => [{ remote: 'deb', createdMs: 5000 }],
    }).metrics();
    expect(text).toContain('repoint_http_requests_total{remote="deb",method="GET",status="200",cache="hit"} 2');
    expect(text).toContain('repoint_http_requests_total{remote="deb",method="HEAD",status="404",cache="error"} 1');
    expect(text).toContain('repoint_http_request_duration_seconds_bucket{remote="deb",cache="hit",le="0.001"} 1');
    expect(text).toContain('repoint_http_request_duration_seconds_bucket{remote="deb",cache="hit",le="5"} 2');
    expect(text).toContain('repoint_http_request_duration_seconds_count{remote="deb",cache="hit"} 2');
    expect(text).toContain('repoint_http_response_bytes_total{remote="deb",source="cache"} 20');
    expect(text).toContain('repoint_verification_failures_total{remote="deb",code="UPSTREAM_DIGEST_MISMATCH"} 1');
    expect(text).not.toContain('UPSTREAM_UNAVAILABLE');
    expect(text).toContain('repoint_blob_store_bytes 30');
    expect(text).toContain('repoint_fills_in_flight 2');
    expect(text).toContain('repoint_gc_freed_bytes_total 42');
    expect(text).toContain('repoint_checkpoint_last_success_timestamp_seconds{remote="deb"} 5');
    expect(text).toMatch(/repoint_metadata_age_seconds\{remote="deb",dist="stable"\} (9|10)(\.\d+)?\n/);
    expect(text).not.toContain('repoint_metadata_valid_until_seconds{'); // only where a Valid-Until exists
  });
});

describe('the documented names', () => {
  it('every repoint_* metric in the Grafana dashboard and the README table is exported', async () => {
    const text = await metricsRegistry(new Ops(), {
      budgetBytes: 1, blobTotals: async () => ({ count: 0, bytes: 0 }), fillsInFlight: () => 0, freshness: async () => [], newestCheckpoints: async () => [],
    }).metrics();
    const exported = new Set([...text.matchAll(/^# TYPE (repoint_\w+) (\w+)$/gm)].flatMap((m) => m[2] === 'histogram' ? [m[1]!, `${m[1]!}_bucket`, `${m[1]!}_count`, `${m[1]!}_sum`] : [m[1]!]));
    const named = (s: string): string[] => [...new Set([...s.matchAll(/repoint_[a-z_]+[a-z]/g)].map((m) => m[0]))];
    const dashboard = named(await readFile('deploy/grafana-dashboard.json', 'utf8'));
    const readme = named(await readFile('README.md', 'utf8'));
    expect(dashboard.length).toBeGreaterThan(10);
    expect(dashboard.filter((n) => !exported.has(n))).toEqual([]);
    expect(readme.filter((n) => !exported.has(n))).toEqual([]);
    // and the README documents every one
    expect([...text.matchAll(/^# TYPE (repoint_\w+)/gm)].map((m) => m[1]!).filter((n) => !readme.includes(n))).toEqual([]);
  });
});
