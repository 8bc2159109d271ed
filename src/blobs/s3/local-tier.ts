import type { Logger } from '../../log.ts';
import type { FsBlobStore } from '../fs-blob-store.ts';

const BUCKET_MS = 60_000; // access-time resolution of the order

/**
 * Keeps the local read-through tier within its budget: least recently used local copies go first
 * (the bucket keeps every blob; a local copy is only a cache entry). Two streaming passes, as the
 * bucket GC does, so memory stays bounded: an access-time histogram, then deletes below the cut.
 * `lastHit` adds what this process saw (reads of a local file do not move its atime under relatime).
 */
export async function trimLocalTier(local: FsBlobStore, maxBytes: number, lastHit: (sha256: string) => number | undefined, log: Logger): Promise<{ removed: number; freed: number }> {
  const { bytes } = await local.totals();
  // a little below the budget, so a busy node does not trim on every new blob
  let toFree = bytes - Math.floor(maxBytes * 0.9);
  if (bytes <= maxBytes || toFree <= 0) return { removed: 0, freed: 0 };
  const accessed = async (sha256: string): Promise<number> => Math.max((await local.lastAccess(sha256).catch(() => undefined)) ?? 0, lastHit(sha256) ?? 0);
  const byBucket = new Map<number, number>();
  for await (const b of local.list()) {
    const bucket = Math.floor((await accessed(b.sha256)) / BUCKET_MS);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + b.size);
  }
  let cut = -Infinity;
  let neededFromCut = 0;
  for (const [bucket, n] of [...byBucket].sort((a, b) => a[0] - b[0])) {
    if (toFree <= 0) break;
    cut = bucket;
    neededFromCut = toFree;
    toFree -= n;
  }
  let removed = 0;
  let freed = 0;
  let freedFromCut = 0;
  for await (const b of local.list()) {
    const bucket = Math.floor((await accessed(b.sha256)) / BUCKET_MS);
    if (bucket > cut || (bucket === cut && freedFromCut >= neededFromCut)) continue;
    if (bucket === cut) freedFromCut += b.size;
    if (await local.delete(b.sha256)) {
      removed++;
      freed += b.size;
    }
  }
  if (removed) log.info('local tier over budget: dropped least recently used local copies (still in the bucket)', { removed, freed, maxBytes });
  return { removed, freed };
}
