import type { BlobInfo } from '../blobs/blob-store.ts';

/**
 * A blob listed with keepUntilMs in the future was stored recently (object storage: its upload time
 * plus cache.gcGrace): another node may be about to write the pointer or publish the checkpoint that
 * names it, so GC keeps it this round.
 */
export function inGrace(b: BlobInfo, now = Date.now()): boolean {
  return b.keepUntilMs !== undefined && b.keepUntilMs > now;
}
