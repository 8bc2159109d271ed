/**
 * A histogram kept in a Float64Array: observing is a bucket search and three additions, no allocation
 * (prom-client's own Histogram hashes its labels on every observe). Exported by metric-export.ts.
 */
export class HistogramSeries {
  readonly bounds: readonly number[];
  /** Cumulative counts are computed at export; here one count per bucket, the last one +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** Seconds: from a hot hit (well under a millisecond) to a large download. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
