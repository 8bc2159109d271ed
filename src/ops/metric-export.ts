import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client';
import type { HistogramSeries } from './histogram-series.ts';
import type { Ops } from './ops.ts';
import { CACHE_RESULTS } from './remote-meters.ts';

/** What the exported gauges read at scrape time, besides the meters. */
export interface MetricSources {
  budgetBytes: number;
  /** This node's blob store (its local tier when blobs live in object storage). */
  blobTotals(): Promise<{ count: number; bytes: number }>;
  fillsInFlight(): number;
  /** Served metadata per remote and suite/repository: upstream Date and Valid-Until, epoch ms. */
  freshness(): Promise<Array<{ remote: string; dist: string; dateMs?: number; validUntilMs?: number }>>;
  /** Newest published checkpoint per remote, epoch ms (from the catalogue: any process or node). */
  newestCheckpoints(): Promise<Array<{ remote: string; createdMs: number }>>;
}

type Labels = Record<string, string>;


/** A prom-client Histogram whose values are read from HistogramSeries (kept without allocating). */
class SeriesHistogram extends Histogram<string> {
  readonly #read: () => Array<{ labels: Labels; h: HistogramSeries }>;
  readonly #name: string;
  readonly #shape: Histogram<string>;

  constructor(name: string, help: string, labelNames: string[], registry: Registry, read: () => Array<{ labels: Labels; h: HistogramSeries }>) {
    super({ name, help, labelNames, registers: [registry] });
    this.#read = read;
    this.#name = name;
    this.#shape = new Histogram({ name, help, labelNames, registers: [] });
  }

  /** What the registry formats (prom-client prefers it to get() when a metric has it). */
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    return this.get();
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: Array<MetricValueWithName<string>> = [];
    for (const { labels, h } of this.#read()) {
      let cumulative = 0;
      h.bounds.forEach((le, i) => {
        cumulative += h.counts[i]!;
        values.push({ metricName: `${this.#name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.#name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${this.#name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${this.#name}_count`, labels, value: h.count });
    }
    // name, help, type and aggregator from an empty prom-client histogram of the same name
    return { ...(await this.#shape.get()), values };
  }
}

/** The Prometheus registry of a serving node: default process metrics plus repoint_*. */
export function metricsRegistry(ops: Ops, src: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Counters are copied from the meters at scrape time: the request path only adds numbers.
  new Counter({
    name: 'repoint_http_requests_total', help: 'Client requests by remote, method, HTTP status and cache result (hit|miss|stale|pass|error).',
    labelNames: ['remote', 'method', 'status', 'cache'], registers,
    collect() {
      this.reset();
      for (const m of ops.meters()) {
        m.requests.forEach((byCache, mi) => byCache.forEach((byStatus, ci) => {
          for (const [status, n] of byStatus) this.inc({ remote: m.name, method: m.methods[mi]!, status: String(status), cache: CACHE_RESULTS[ci]! }, n);
        }));
      }
    },
  });
  new SeriesHistogram('repoint_http_request_duration_seconds', 'Time from request to the last byte sent, by remote and cache result.', ['remote', 'cache'], registry,
    () => ops.meters().flatMap((m) => m.duration.map((h, ci) => ({ labels: { remote: m.name, cache: CACHE_RESULTS[ci]! }, h }))));
  new Counter({
    name: 'repoint_http_response_bytes_total', help: 'Response body bytes sent to clients, by where they came from (cache|upstream).',
    labelNames: ['remote', 'source'], registers,
    collect() {
      this.reset();
      for (const m of ops.meters()) {
        this.inc({ remote: m.name, source: 'cache' }, m.bytesFromCache);
        this.inc({ remote: m.name, source: 'upstream' }, m.bytesFromUpstream);
      }
    },
  });
  new Counter({
    name: 'repoint_upstream_requests_total', help: 'Requests to upstream by remote and HTTP status (0: no answer; retries and failover inside one request not counted apart).',
    labelNames: ['remote', 'status'], registers,
    collect() {
      this.reset();
      for (const m of ops.meters()) for (const [status, n] of m.upstreamByStatus) this.inc({ remote: m.name, status: String(status) }, n);
    },
  });
  new Counter({
    name: 'repoint_upstream_bytes_total', help: 'Body bytes received from upstream.', labelNames: ['remote'], registers,
    collect() {
      this.reset();
      for (const m of ops.meters()) this.inc({ remote: m.name }, m.upstreamBytes);
    },
  });
  new SeriesHistogram('repoint_upstream_request_duration_seconds', 'Time to upstream response headers (retries and redirects included).', ['remote'], registry,
    () => ops.meters().map((m) => ({ labels: { remote: m.name }, h: m.upstreamDuration })));
  new Gauge({ name: 'repoint_fills_in_flight', help: 'Verified downloads running in this process.', registers, collect() { this.set(src.fillsInFlight()); } });
  new Counter({
    name: 'repoint_verification_failures_total', help: 'Upstream content or metadata that failed a check, by error code.', labelNames: ['remote', 'code'], registers,
    collect() {
      this.reset();
      for (const m of ops.meters()) for (const [code, n] of m.verificationFailures) this.inc({ remote: m.name, code }, n);
    },
  });
  new Gauge({ name: 'repoint_blob_store_bytes', help: 'Bytes in this node\'s blob store.', registers, async collect() { this.set((await src.blobTotals()).bytes); } });
  new Gauge({ name: 'repoint_blob_store_blobs', help: 'Blobs in this node\'s blob store.', registers, async collect() { this.set((await src.blobTotals()).count); } });
  new Gauge({ name: 'repoint_cache_budget_bytes', help: 'cache.maxSize.', registers, collect() { this.set(src.budgetBytes); } });
  new Counter({ name: 'repoint_gc_freed_bytes_total', help: 'Bytes removed by gc in this process.', registers, collect() { this.reset(); this.inc(ops.gcFreedBytes); } });
  freshnessGauges(registry, src);
  checkpointGauges(registry, ops, src);
  return registry;
}

function freshnessGauges(registry: Registry, src: MetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'repoint_metadata_age_seconds', help: 'Now minus the upstream Date of the served InRelease (newest data timestamp of repomd.xml).', labelNames: ['remote', 'dist'], registers,
    async collect() {
      this.reset();
      const now = Date.now();
      for (const f of await src.freshness()) if (f.dateMs !== undefined) this.set({ remote: f.remote, dist: f.dist }, (now - f.dateMs) / 1000);
    },
  });
  new Gauge({
    name: 'repoint_metadata_valid_until_seconds', help: 'Seconds until the served Release\'s Valid-Until (negative: past); only where it has one.', labelNames: ['remote', 'dist'], registers,
    async collect() {
      this.reset();
      const now = Date.now();
      for (const f of await src.freshness()) if (f.validUntilMs !== undefined) this.set({ remote: f.remote, dist: f.dist }, (f.validUntilMs - now) / 1000);
    },
  });
}

function checkpointGauges(registry: Registry, ops: Ops, src: MetricSources): void {
  const registers = [registry];
  new Gauge({
    name: 'repoint_checkpoint_last_success_timestamp_seconds', help: 'Creation time of the newest published checkpoint.', labelNames: ['remote'], registers,
    async collect() {
      this.reset();
      for (const c of await src.newestCheckpoints()) this.set({ remote: c.remote }, c.createdMs / 1000);
    },
  });
  new Gauge({
    name: 'repoint_checkpoint_duration_seconds', help: 'How long the last checkpoint run in this process took.', labelNames: ['remote'], registers,
    collect() {
      this.reset();
      for (const [remote, run] of ops.checkpointRuns) this.set({ remote }, run.seconds);
    },
  });
}
