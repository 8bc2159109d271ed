import { ingestMarker, markerTime } from '../state/ingest-marker.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Catalogue } from './catalogue.ts';
import type { IndexRecordKeys } from './checkpoint-source.ts';
import type { PinSources } from './pins.ts';

export interface IndexGcResult {
  /** Index blobs whose records were removed (or would be, in a dry run). */
  indexes: number;
  /** Records removed (0 in a dry run: counting them would mean reading them). */
  records: number;
}

/** A marker younger than this is an ingestion running or just finished, about to be listed live. */
export const DEFAULT_INDEX_GRACE_MS = 3600_000;

/**
 * Removes the package records (`apt:idx:` / `yum:idx:`) of index blobs that no live generation and no
 * kept checkpoint reads (issue 8, finding 10: 3 M stanzas are ~1 GB of state per index version).
 * Candidates are the ingestion markers, so the scan is one key per index, not per record. An index is
 * kept while a remote of its type lists it live, a kept checkpoint names it, or its marker is younger
 * than `graceMs` (an ingestion in progress writes its records before it lists the index). Its marker is
 * set to `deleting` first (a later ingestion then reads the index again rather than trust half its
 * records), then the records go, then the marker.
 */
export async function collectIndexRecords(sources: PinSources, catalogue: Catalogue, state: StateStore, opts: { dryRun: boolean; graceMs?: number; signal?: AbortSignal }): Promise<IndexGcResult> {
  const result: IndexGcResult = { indexes: 0, records: 0 };
  const graceMs = opts.graceMs ?? DEFAULT_INDEX_GRACE_MS;
  const remotes = [...sources.remotes];
  for (const [type, reader] of sources.readers) {
    const keys = reader.indexRecords;
    if (!keys) continue;
    const ofType = remotes.filter((r) => r.type === type);
    const kept = new Set<string>();
    for (const remote of ofType) {
      for (const entry of await catalogue.list(remote.name)) {
        const m = await catalogue.manifest(entry.manifest);
        if (m.type === type) for (const sha of keys.checkpointIndexes(m)) kept.add(sha);
      }
    }
    const markers = await markersBySha(state, keys.markerPrefix);
    for (const [sha, markerKeys] of markers) {
      if (kept.has(sha)) continue;
      // read now, not before the scan: an index listed (or an ingestion started) meanwhile is kept
      if (await isLive(keys, ofType, state, sha)) continue;
      const values = await state.getMany<unknown>(markerKeys);
      if (values.some((v) => v !== undefined && Date.now() - markerTime(v) < graceMs)) continue;
      result.indexes++;
      if (opts.dryRun) continue;
      opts.signal?.throwIfAborted(); // the gc lease was lost
      await state.setMany(markerKeys.map((key) => ({ key, value: ingestMarker('deleting') })));
      result.records += await state.deletePrefix(keys.recordPrefix(sha));
      for (const key of markerKeys) await state.delete(key);
    }
  }
  return result;
}

/** Marker keys grouped by the index sha256 that follows the prefix (yum has one per repository dir). */
async function markersBySha(state: StateStore, prefix: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const page of state.keys(prefix)) {
    for (const key of page) {
      const sha = key.slice(prefix.length, prefix.length + 64);
      if (!/^[0-9a-f]{64}$/.test(sha)) continue;
      const list = out.get(sha);
      if (list) list.push(key);
      else out.set(sha, [key]);
    }
  }
  return out;
}

async function isLive(keys: IndexRecordKeys, remotes: Iterable<{ name: string }>, state: StateStore, sha: string): Promise<boolean> {
  for (const remote of remotes) if ((await keys.liveIndexes(remote.name, state)).includes(sha)) return true;
  return false;
}
