import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { lockNames } from '../state/keys.ts';
import { collectGarbage } from './gc.ts';
import type { PinSources } from './pins.ts';

/**
 * Keeps the store within cache.maxSize while serving: every cache.gcInterval, when the running totals
 * exceed the budget, one node (state lock) collects least recently used unpinned blobs.
 */
export function startAutoGc(config: Config, content: ContentService, sources: PinSources, log: Logger): () => void {
  const { blobs, state } = content;
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const { bytes } = await blobs.totals();
      if (bytes <= config.cache.maxSizeBytes) return;
      const release = await state.tryLock(lockNames.gc, 3600_000);
      if (!release) return;
      try {
        const r = await collectGarbage({ maxSizeBytes: config.cache.maxSizeBytes, sources }, blobs, state, { all: false, dryRun: false });
        log.info('cache over budget: collected', { removed: r.removed, freed: r.freed, total: r.total, maxSize: config.cache.maxSizeBytes, pinned: r.pinned });
      } finally {
        await release();
      }
    } catch (err) {
      log.error('automatic gc failed', { reason: (err as Error).message });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), config.cache.gcIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
