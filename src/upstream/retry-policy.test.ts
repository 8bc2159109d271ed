import { describe, expect, it } from 'vitest';
import { backoffMs, encodePath, isRetryableStatus, retryAfterMs } from './retry-policy.ts';

describe('retry policy', () => {
  it('retries 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 304, 400, 403, 404, 410].some(isRetryableStatus)).toBe(false);
  });
  it('reads Retry-After as seconds or a date, capped', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs('3600')).toBe(10_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
  it('backs off exponentially with a cap', () => {
    expect(backoffMs(0, () => 0.5)).toBe(200);
    expect(backoffMs(3, () => 0.5)).toBe(1600);
    expect(backoffMs(20, () => 0.5)).toBe(5000);
  });
  it('encodes path segments, keeping slashes', () => {
    expect(encodePath('pool/main/f/foo/foo_1.0+dfsg-1~bpo1_amd64.deb')).toBe('pool/main/f/foo/foo_1.0%2Bdfsg-1~bpo1_amd64.deb');
    expect(encodePath('a b/100%')).toBe('a%20b/100%25');
  });
});
