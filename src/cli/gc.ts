import { stat } from 'node:fs/promises';
import { Catalogue } from '../checkpoints/catalogue.ts';
import { checkpointPins } from '../checkpoints/pins.ts';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import { openStores } from '../runtime.ts';
import { formatBytes, Progress } from './progress.ts';

export interface GcOptions {
  /** Remove every unpinned blob, not just enough to get under cache.maxSize. */
  all: boolean;
  dryRun: boolean;
}

const HOUR = 3600_000;

/**
 * Frees space: blobs no kept checkpoint references are removed, least recently used first, until the
 * store fits cache.maxSize (or all of them with --all). Two streaming passes over the store, so memory
 * stays bounded whatever its size: one builds an access-time histogram, the second deletes below the cut.
 */
export async function runGc(config: Config, log: Logger, opts: GcOptions): Promise<number> {
  const { blobs, state } = await openStores(config, log);
  try {
    const pins = await checkpointPins(config, new Catalogue(state, blobs), state, blobs);
    const progress = new Progress('gc');
    let total = 0;
    let pinnedBytes = 0;
    const byHour = new Map<number, number>(); // unpinned bytes per access hour
    for await (const b of blobs.list()) {
      total += b.size;
      if (pins.has(b.sha256)) { pinnedBytes += b.size; continue; }
      const hour = Math.floor((await atime(blobs.filePath(b.sha256))) / HOUR);
      byHour.set(hour, (byHour.get(hour) ?? 0) + b.size);
      progress.update(`scanned ${formatBytes(total)}`);
    }
    const target = opts.all ? 0 : config.cache.maxSizeBytes;
    let toFree = Math.max(0, total - target);
    let cutHour = -Infinity; // delete unpinned blobs accessed before the end of this hour
    for (const [hour, bytes] of [...byHour].sort((a, b) => a[0] - b[0])) {
      if (toFree <= 0) break;
      cutHour = hour;
      toFree -= bytes;
    }
    let removed = 0;
    let freed = 0;
    if (cutHour > -Infinity) {
      for await (const b of blobs.list()) {
        if (pins.has(b.sha256)) continue;
        if (Math.floor((await atime(blobs.filePath(b.sha256))) / HOUR) > cutHour) continue;
        if (!opts.dryRun) await blobs.delete(b.sha256);
        removed++;
        freed += b.size;
        progress.update(`removed ${removed} blobs, ${formatBytes(freed)}`);
      }
    }
    progress.done(`${opts.dryRun ? 'would remove' : 'removed'} ${removed} blobs (${formatBytes(freed)}); ${pins.size} pinned by checkpoints (${formatBytes(pinnedBytes)}); store ${formatBytes(total - (opts.dryRun ? 0 : freed))} of ${formatBytes(config.cache.maxSizeBytes)}`);
    return 0;
  } finally {
    await state.close();
    await blobs.close();
  }
}

async function atime(path: string): Promise<number> {
  try {
    const s = await stat(path);
    return Math.max(s.atimeMs, s.mtimeMs);
  } catch {
    return 0;
  }
}
