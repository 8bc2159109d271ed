/**
 * The value of an index's ingestion marker (`apt:ingested:`, `yum:idx-done:`). It is written before the
 * first record (`reading`), after the last (`done`), and by gc before it deletes the records
 * (`deleting`), each with the time, so gc can tell an ingestion in progress or just finished (young)
 * from an abandoned or long unused one. Older versions wrote `true` (complete, time unknown).
 */
export type IngestMarker = true | { state: 'reading' | 'done' | 'deleting'; at: number };

export function ingestMarker(state: 'reading' | 'done' | 'deleting', at = Date.now()): IngestMarker {
  return { state, at };
}

/** Every record of the index is written: lookups can rely on it, and ingestion is skipped. */
export function ingestComplete(v: unknown): boolean {
  return v === true || (typeof v === 'object' && v !== null && 'state' in v && v.state === 'done');
}

/** When the marker was written (0 for the legacy `true`, and for anything unreadable: old). */
export function markerTime(v: unknown): number {
  return typeof v === 'object' && v !== null && 'at' in v && typeof v.at === 'number' ? v.at : 0;
}
