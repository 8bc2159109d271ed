import { describe, expect, it } from 'vitest';
import type { RemoteStatus, StatusReport } from './status-model.ts';
import { renderStatusPage } from './status-page.ts';

const zeros = (): number[] => Array.from({ length: 60 }, () => 0);

function report(remote: Partial<RemoteStatus>): StatusReport {
  const hit = zeros();
  hit[59] = 7;
  const bytesCache = zeros();
  bytesCache[58] = 4096;
  return {
    version: '0.1.0', generatedAt: '2026-01-01T12:00:00.000Z', startedAt: '2026-01-01T11:00:00.000Z', publicUrl: 'http://mirror.test:8080',
    store: { blobs: 3, bytes: 512 * 2 ** 20, budgetBytes: 2 ** 30, gcFreedBytes: 0 }, fillsInFlight: 1,
    remotes: [{
      name: 'deb', type: 'apt', upstreams: ['http://up.test/debian'],
      upstream: { requests: 3, failures: 1, bytes: 10, lastAnswerAt: '2026-01-01T11:59:00.000Z', lastStatus: 200, lastFailureAt: '2026-01-01T11:59:30.000Z', lastFailure: 'UPSTREAM_UNAVAILABLE', healthy: false },
      requests: { hit: 7, miss: 2, stale: 0, pass: 0, error: 1, total: 10 }, hitRatio: 7 / 9, byteHitRatio: 0.5, bytesFromCache: 4096, bytesFromUpstream: 4096,
      verificationFailures: { UPSTREAM_DIGEST_MISMATCH: 1 },
      freshness: [{ dist: 'stable', date: '2026-01-01T11:00:00.000Z', ageSeconds: 3600, validUntil: '2026-01-01T11:30:00.000Z', validForSeconds: -1800, checkedAt: '2026-01-01T11:59:00.000Z' }],
      downloads: [{ path: 'pool/<script>alert(1)</script>.deb', received: 50, size: 100, startedAt: '2026-01-01T11:59:59.000Z' }],
      checkpoints: [{ ts: '20260101T110000Z', createdAt: '2026-01-01T11:00:00.000Z', files: 12, bytes: 2048, pin: ['apt -S 20260101T110000Z update'], setup: 'curl ... <b>' }],
      history: { startAt: '2026-01-01T11:01:00.000Z', hit, miss: zeros(), stale: zeros(), pass: zeros(), error: zeros(), bytesCache, bytesUpstream: zeros() },
      links: { listing: '/deb/', setup: '/-/setup/apt' },
      ...remote,
    }],
  };
}

describe('status page', () => {
  it('shows the figures, charts with per-minute titles, the pins, and escapes what came from outside', () => {
    const html = renderStatusPage(report({}));
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
    expect(html).toContain('data-testid="hit-ratio">77.8 %');
    expect(html).toContain('data-testid="byte-hit-ratio">50.0 %');
    expect(html).toContain('<span class="bad">● failing</span> (UPSTREAM_UNAVAILABLE');
    expect(html).toContain('<title>12:00 UTC: hit 7, stale 0, miss 0, pass 0, error 0</title>');
    expect(html).toContain('<title>11:59 UTC: from cache 4.00 KiB, from upstream 0 B</title>');
    expect(html).toContain('<pre>apt -S 20260101T110000Z update</pre>');
    expect(html).toContain('<progress max="100" value="50">');
    expect(html).toMatch(/<span class="bad">30 min ago<\/span>/); // Valid-Until passed
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>');
    for (const link of ['/-/metrics', '/-/status.json', '/-/setup/apt', '/deb/']) expect(html).toContain(`href="${link}"`);
  });
});
