import { collectGarbage } from '../checkpoints/gc.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { pinSources } from '../registry.ts';
import { openStores } from '../runtime.ts';
import { formatBytes, Progress } from './progress.ts';

export interface GcOptions {
  /** Remove every unpinned blob, not just enough to get under cache.maxSize. */
  all: boolean;
  dryRun: boolean;
}

/** `repoint gc`: frees blobs no kept checkpoint needs (see collectGarbage). */
export async function runGc(config: Config, log: Logger, opts: GcOptions): Promise<number> {
  const { blobs, state } = await openStores(config, log);
  try {
    const progress = new Progress('gc');
    const r = await collectGarbage({ maxSizeBytes: config.cache.maxSizeBytes, sources: pinSources(config) }, blobs, state, { ...opts, onProgress: (t) => progress.update(t) });
    progress.done(`${opts.dryRun ? 'would remove' : 'removed'} ${r.removed} blobs (${formatBytes(r.freed)}); ${r.pinned} pinned by checkpoints (${formatBytes(r.pinnedBytes)}); store ${formatBytes(r.total - (opts.dryRun ? 0 : r.freed))} of ${formatBytes(config.cache.maxSizeBytes)}`);
    return 0;
  } finally {
    await state.close();
    await blobs.close();
  }
}
