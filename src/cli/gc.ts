import { hostname } from 'node:os';
import { sweepTempFiles } from '../blobs/temp-sweep.ts';
import { collectGarbage } from '../checkpoints/gc.ts';
import type { Config } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { pinSources } from '../registry.ts';
import { openStores } from '../runtime.ts';
import { leaseNames } from '../state/keys.ts';
import { withLease } from '../state/lease.ts';
import { formatBytes, Progress } from './progress.ts';

export interface GcOptions {
  /** Remove every unpinned blob, not just enough to get under cache.maxSize. */
  all: boolean;
  dryRun: boolean;
}

/**
 * `repoint gc`: frees blobs no kept checkpoint needs (see collectGarbage), under the same `gc` lease as
 * the serving processes' automatic collection. `--dry-run` only reads: the store is opened read-only.
 */
export async function runGc(config: Config, log: Logger, opts: GcOptions): Promise<number> {
  const { blobs, state } = await openStores(config, log, { readOnly: opts.dryRun });
  try {
    const progress = new Progress('gc');
    const collect = (signal?: AbortSignal) => collectGarbage({ maxSizeBytes: config.cache.maxSizeBytes, sources: pinSources(config) }, blobs, state, { ...opts, onProgress: (t) => progress.update(t), ...(signal ? { signal } : {}) });
    let r;
    if (opts.dryRun) r = await collect();
    else {
      const lease = { ttlMs: config.state.leaseTtlMs, renewEveryMs: config.state.leaseRenewMs, owner: `pid ${process.pid} on ${hostname()} (repoint gc)`, log };
      const run = await withLease(state.leases, leaseNames.gc, lease, ({ signal }) => collect(signal));
      if (!run.held) throw new RepointError('GC_RUNNING', `a garbage collection is already running${run.owner ? ` (${run.owner})` : ''}; try again when it has finished`);
      r = run.value;
      await sweepTempFiles(blobs, log); // only abandoned ones: a serving node's downloads stay
    }
    const verb = opts.dryRun ? 'would remove' : 'removed';
    progress.done(`${verb} ${r.removed} blobs (${formatBytes(r.freed)}); ${r.pinned} pinned by checkpoints (${formatBytes(r.pinnedBytes)}); store ${formatBytes(r.total - (opts.dryRun ? 0 : r.freed))} of ${formatBytes(config.cache.maxSizeBytes)}; `
      + `${verb} the package records of ${r.indexes} unused indexes${opts.dryRun ? '' : ` (${r.indexRecords} state keys)`}`);
    return 0;
  } finally {
    await state.close();
    await blobs.close();
  }
}
