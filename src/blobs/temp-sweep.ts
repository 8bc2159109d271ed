import type { Logger } from '../log.ts';
import type { BlobStore } from './blob-store.ts';

/** Removes temp files proven abandoned (BlobStore.removeTempFiles); never throws. */
export async function sweepTempFiles(blobs: BlobStore, log: Logger): Promise<number> {
  try {
    const removed = await blobs.removeTempFiles();
    if (removed > 0) log.warn('removed abandoned partial downloads', { count: removed });
    return removed;
  } catch (err) {
    log.warn('sweeping abandoned partial downloads failed', { reason: (err as Error).message });
    return 0;
  }
}

/**
 * Sweeps every intervalMs while serving: a crashed CLI command's or another node's leftovers go
 * without a restart. Cheap (one directory listing), so the interval can be short.
 */
export function startTempSweep(blobs: BlobStore, intervalMs: number, log: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void sweepTempFiles(blobs, log).finally(() => { running = false; });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
