import type { BlobStore } from '../blobs/blob-store.ts';
import type { StateStore } from '../state/state-store.ts';
import { Catalogue } from './catalogue.ts';
import { checkpointPins, type PinSources } from './pins.ts';

export interface GcResult {
  removed: number;
  freed: number;
  pinned: number;
  pinnedBytes: number;
  total: number;
}

const BUCKET_MS = 60_000; // access-time resolution of the LRU order

/**
 * Removes blobs no kept checkpoint references, least recently used first, until the store fits
 * cache.maxSize (or all unpinned ones with `all`). Two streaming passes, so memory stays bounded whatever
 * the store's size: one builds an access-time histogram, the second deletes below the cut.
 */
export async function collectGarbage(budget: { maxSizeBytes: number; sources: PinSources }, blobs: BlobStore, state: StateStore, opts: { all: boolean; dryRun: boolean; onProgress?: (text: string) => void; signal?: AbortSignal }): Promise<GcResult> {
  const pins = await checkpointPins(budget.sources, new Catalogue(state, blobs), state, blobs);
  let total = 0;
  let pinnedBytes = 0;
  const byBucket = new Map<number, number>(); // unpinned bytes per access minute
  for await (const b of blobs.list()) {
    total += b.size;
    if (pins.has(b.sha256)) { pinnedBytes += b.size; continue; }
    const bucket = Math.floor((await atime(blobs, b.sha256)) / BUCKET_MS);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + b.size);
  }
  let toFree = Math.max(0, total - (opts.all ? 0 : budget.maxSizeBytes));
  // Everything accessed before the cut bucket goes; from the cut bucket itself only what is still needed.
  let cut = -Infinity;
  let neededFromCut = 0;
  for (const [bucket, bytes] of [...byBucket].sort((a, b) => a[0] - b[0])) {
    if (toFree <= 0) break;
    cut = bucket;
    neededFromCut = opts.all ? Infinity : toFree;
    toFree -= bytes;
  }
  let removed = 0;
  let freed = 0;
  let freedFromCut = 0;
  if (cut > -Infinity) {
    for await (const b of blobs.list()) {
      if (pins.has(b.sha256)) continue;
      const bucket = Math.floor((await atime(blobs, b.sha256)) / BUCKET_MS);
      if (bucket > cut || (bucket === cut && freedFromCut >= neededFromCut)) continue;
      if (bucket === cut) freedFromCut += b.size;
      if (!opts.dryRun) {
        opts.signal?.throwIfAborted(); // the gc lease was lost: another collector may be running now
        await blobs.delete(b.sha256);
      }
      removed++;
      freed += b.size;
      opts.onProgress?.(`removed ${removed} blobs`);
    }
  }
  return { removed, freed, pinned: pins.size, pinnedBytes, total };
}

async function atime(blobs: BlobStore, sha256: string): Promise<number> {
  try {
    return (await blobs.lastAccess(sha256)) ?? 0;
  } catch {
    return 0;
  }
}
