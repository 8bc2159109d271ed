import { History } from './history.ts';
import { DURATION_BUCKETS, HistogramSeries } from './histogram-series.ts';

export const CACHE_RESULTS = ['hit', 'miss', 'stale', 'pass', 'error'] as const;
export type CacheResult = (typeof CACHE_RESULTS)[number];
/** Index into CACHE_RESULTS (and History's first series). */
export const CACHE = { hit: 0, miss: 1, stale: 2, pass: 3, error: 4 } as const satisfies Record<CacheResult, number>;

const METHODS = ['GET', 'HEAD'] as const;
const BYTES_CACHE = 5;
const BYTES_UPSTREAM = 6;

/** Codes that mean upstream's bytes failed a check (what repoint_verification_failures_total counts). */
export const VERIFICATION_CODES = new Set([
  'UPSTREAM_DIGEST_MISMATCH', 'UPSTREAM_SIZE_MISMATCH', 'UPSTREAM_TOO_LARGE', 'SIGNATURE_INVALID', 'SIGNATURE_MISSING',
  'METADATA_INVALID', 'METADATA_EXPIRED', 'METADATA_ROLLBACK',
]);

export interface UpstreamHealth {
  /** Epoch ms of the last answer (any status), and of the last failure with its code. */
  lastOkMs?: number;
  lastStatus?: number;
  lastErrorMs?: number;
  lastError?: string;
}

/**
 * One remote's figures as plain numbers, updated on the request path without allocating; metric-export.ts
 * turns them into Prometheus series at scrape time, and the status page reads them directly.
 */
export class RemoteMeters {
  readonly name: string;
  /** requests[method][cache] → count per HTTP status */
  readonly requests: Array<Array<Map<number, number>>> = METHODS.map(() => CACHE_RESULTS.map(() => new Map<number, number>()));
  readonly duration: HistogramSeries[] = CACHE_RESULTS.map(() => new HistogramSeries(DURATION_BUCKETS));
  readonly byCache = new Float64Array(CACHE_RESULTS.length);
  bytesFromCache = 0;
  bytesFromUpstream = 0;
  /** Upstream requests by status code (0: no answer: connect error, timeout, refused redirect). */
  readonly upstreamByStatus = new Map<number, number>();
  upstreamBytes = 0;
  readonly upstreamDuration = new HistogramSeries(DURATION_BUCKETS);
  readonly upstream: UpstreamHealth = {};
  readonly verificationFailures = new Map<string, number>();
  readonly history = new History(60);

  constructor(name: string) {
    this.name = name;
  }

  request(method: string, status: number, cache: number, bytes: number, fromUpstream: boolean, seconds: number, nowMs: number): void {
    const byStatus = this.requests[method === 'HEAD' ? 1 : 0]![cache]!;
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.duration[cache]!.observe(seconds);
    this.byCache[cache]!++;
    this.history.add(cache, 1, nowMs);
    if (bytes > 0) {
      if (fromUpstream) this.bytesFromUpstream += bytes;
      else this.bytesFromCache += bytes;
      this.history.add(fromUpstream ? BYTES_UPSTREAM : BYTES_CACHE, bytes, nowMs);
    }
  }

  upstreamAnswer(status: number, seconds: number, nowMs: number): void {
    this.upstreamByStatus.set(status, (this.upstreamByStatus.get(status) ?? 0) + 1);
    this.upstreamDuration.observe(seconds);
    this.upstream.lastOkMs = nowMs;
    this.upstream.lastStatus = status;
  }

  upstreamFailure(code: string, seconds: number, nowMs: number): void {
    this.upstreamByStatus.set(0, (this.upstreamByStatus.get(0) ?? 0) + 1);
    this.upstreamDuration.observe(seconds);
    this.upstream.lastErrorMs = nowMs;
    this.upstream.lastError = code;
  }

  verificationFailed(code: string): void {
    if (!VERIFICATION_CODES.has(code)) return; // bounded labels: only the known verification codes
    this.verificationFailures.set(code, (this.verificationFailures.get(code) ?? 0) + 1);
  }

  get methods(): readonly string[] {
    return METHODS;
  }
}
