import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Registry } from 'prom-client';
import { RepointError } from '../errors.ts';
import { metricsRegistry, type MetricSources } from '../ops/metric-export.ts';
import type { MetadataFreshness } from '../serve/remote-handler.ts';
import type { Runtime } from '../runtime.ts';
import { hasBearer } from './admin.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** Freshness of every live remote's served metadata (remotes that cannot say are left out). */
export async function freshnessOf(rt: Runtime): Promise<Map<string, MetadataFreshness[]>> {
  const out = new Map<string, MetadataFreshness[]>();
  for (const [name, remote] of rt.live) {
    const f = await remote.freshness?.().catch(() => undefined);
    if (f) out.set(name, f);
  }
  return out;
}

/** This node's store: its local tier when blobs live in object storage (the bucket is every node's). */
export function nodeBlobTotals(rt: Runtime): Promise<{ count: number; bytes: number }> {
  return rt.objectStore ? rt.objectStore.local.totals() : rt.content.blobs.totals();
}

export function metricSources(rt: Runtime): MetricSources {
  return {
    budgetBytes: rt.config.cache.maxSizeBytes,
    blobTotals: () => nodeBlobTotals(rt),
    fillsInFlight: () => rt.content.fills.active,
    freshness: async () => [...(await freshnessOf(rt))].flatMap(([remote, list]) => list.map((f) => ({ remote, ...f }))),
    newestCheckpoints: async () => {
      const out: Array<{ remote: string; createdMs: number }> = [];
      for (const name of rt.live.keys()) {
        const newest = (await rt.checkpoints.catalogue.list(name).catch(() => [])).at(-1);
        if (newest) out.push({ remote: name, createdMs: Date.parse(newest.createdAt) });
      }
      return out;
    },
  };
}

/** `GET /-/metrics`: Prometheus text format; open like /-/health unless metrics.token is set. */
export function metricsRoute(rt: Runtime): (c: Ctx) => Promise<Response> {
  let registry: Registry | undefined; // made on first scrape: default process metrics register timers
  return async (c) => {
    const token = rt.config.metrics.token;
    if (token !== undefined && !hasBearer(c, token)) throw new RepointError('UNAUTHORIZED', 'missing or wrong metrics token (Authorization: Bearer <metrics.token>)');
    registry ??= metricsRegistry(rt.ops, metricSources(rt));
    return c.body(await registry.metrics(), 200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
  };
}
