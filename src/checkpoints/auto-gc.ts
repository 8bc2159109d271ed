import { isRepointError } from '../errors.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { leaseNames } from '../state/keys.ts';
import { withLease } from '../state/lease.ts';
import { collectGarbage, collectUnusedIndexes } from './gc.ts';
import type { PinSources } from './pins.ts';

/**
 * Keeps the store within cache.maxSize while serving: every cache.gcInterval, when the running totals
 * exceed the budget, one process or node (the renewed `gc` lease) collects least recently used unpinned
 * blobs; it stops deleting if the lease is lost. Within budget it still removes the package records of
 * indexes nothing reads any more (index-gc.ts), so the state does not grow with every index version.
 */
export function startAutoGc(config: Config, content: ContentService, sources: PinSources, log: Logger, onFreed: (bytes: number) => void = () => {}): () => void {
  const { blobs, state } = content;
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const { bytes } = await blobs.totals();
      const lease = { ttlMs: config.state.leaseTtlMs, renewEveryMs: config.state.leaseRenewMs, owner: `pid ${process.pid} (auto gc)`, log };
      if (bytes <= config.cache.maxSizeBytes) {
        // within budget: only the records of indexes nothing reads any more (one state key per index to look at)
        const run = await withLease(state.leases, leaseNames.gc, lease, ({ signal }) => collectUnusedIndexes(sources, blobs, state, { signal }));
        if (run.held && run.value.indexes > 0) log.info('removed the records of unused indexes', run.value);
        return;
      }
      const run = await withLease(state.leases, leaseNames.gc, lease, ({ signal }) =>
        collectGarbage({ maxSizeBytes: config.cache.maxSizeBytes, sources }, blobs, state, { all: false, dryRun: false, signal }));
      if (!run.held) return; // another process or node is collecting
      const r = run.value;
      onFreed(r.freed);
      log.info('cache over budget: collected', { removed: r.removed, freed: r.freed, total: r.total, maxSize: config.cache.maxSizeBytes, pinned: r.pinned, indexes: r.indexes, indexRecords: r.indexRecords });
    } catch (err) {
      // a checkpoint being made: its blobs are not pinned yet, so collect on a later tick
      if (isRepointError(err, 'CHECKPOINT_RUNNING')) log.info('automatic gc postponed', { reason: err.message });
      else log.error('automatic gc failed', { reason: (err as Error).message });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), config.cache.gcIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
