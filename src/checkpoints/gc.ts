import { inGrace } from './gc-grace.ts';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import { leaseNames } from '../state/keys.ts';
import { leaseHolder } from '../state/lease.ts';
import type { StateStore } from '../state/state-store.ts';
import { Catalogue } from './catalogue.ts';
import { collectIndexRecords } from './index-gc.ts';
import { checkpointPins, type PinSources } from './pins.ts';

export interface GcResult {
  /** Index blobs whose package records were removed from the state, and how many records. */
  indexes: number;
  indexRecords: number;
  removed: number;
  freed: number;
  pinned: number;
  pinnedBytes: number;
  total: number;
}

const BUCKET_MS = 60_000; // access-time resolution of the LRU order

/**
 * First removes the package records of index blobs nothing reads any more (index-gc.ts), then removes
 * blobs no kept checkpoint references, least recently used first, until the store fits
 * cache.maxSize (or all unpinned ones with `all`). Two streaming passes, so memory stays bounded whatever
 * the store's size: one builds an access-time histogram, the second deletes below the cut.
 *
 * The caller holds the `gc` lease. A checkpoint being made pins nothing yet (it is not in a catalogue
 * until it publishes), so collection refuses to run while any remote's checkpoint lease is held, and a
 * checkpoint run waits while the `gc` lease is held (checkpoint-service.ts): each takes its own lease
 * first and then looks for the other's, so at least one of two that start together sees the other.
 */
export async function collectGarbage(budget: { maxSizeBytes: number; sources: PinSources }, blobs: BlobStore, state: StateStore, opts: { all: boolean; dryRun: boolean; onProgress?: (text: string) => void; signal?: AbortSignal; indexGraceMs?: number }): Promise<GcResult> {
  if (!opts.dryRun) await refuseDuringCheckpoints(budget.sources, state);
  const catalogue = new Catalogue(state, blobs);
  const idx = await collectIndexRecords(budget.sources, catalogue, state, { dryRun: opts.dryRun, ...(opts.indexGraceMs !== undefined ? { graceMs: opts.indexGraceMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  const pins = await checkpointPins(budget.sources, catalogue, state, blobs);
  let total = 0;
  let pinnedBytes = 0;
  const byBucket = new Map<number, number>(); // unpinned bytes per access minute
  for await (const b of blobs.list()) {
    total += b.size;
    if (pins.has(b.sha256)) { pinnedBytes += b.size; continue; }
    if (inGrace(b)) continue; // stored moments ago: counted, never a candidate
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
      if (pins.has(b.sha256) || inGrace(b)) continue;
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
  return { indexes: idx.indexes, indexRecords: idx.records, removed, freed, pinned: pins.size, pinnedBytes, total };
}

/**
 * Only the index-record part of collectGarbage (state growth does not wait for the blob store to be
 * over budget): the serving processes run it on every gc tick. The caller holds the `gc` lease.
 */
export async function collectUnusedIndexes(sources: PinSources, blobs: BlobStore, state: StateStore, opts: { signal?: AbortSignal; indexGraceMs?: number } = {}): Promise<{ indexes: number; indexRecords: number }> {
  await refuseDuringCheckpoints(sources, state);
  const r = await collectIndexRecords(sources, new Catalogue(state, blobs), state, { dryRun: false, ...(opts.indexGraceMs !== undefined ? { graceMs: opts.indexGraceMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  return { indexes: r.indexes, indexRecords: r.records };
}

async function atime(blobs: BlobStore, sha256: string): Promise<number> {
  try {
    return (await blobs.lastAccess(sha256)) ?? 0;
  } catch {
    return 0;
  }
}

async function refuseDuringCheckpoints(sources: PinSources, state: StateStore): Promise<void> {
  for (const remote of sources.remotes) {
    const holder = await leaseHolder(state.leases, leaseNames.checkpoint(remote.name));
    if (holder) {
      throw new RepointError('CHECKPOINT_RUNNING', `a checkpoint of ${remote.name} is being made${holder.owner ? ` (${holder.owner})` : ''}; gc runs when it has finished`);
    }
  }
}
