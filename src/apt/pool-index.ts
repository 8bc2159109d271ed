import type { BlobStore } from '../blobs/blob-store.ts';
import type { Expected } from '../formats/digests.ts';
import { DEFAULT_LIMITS, indexCap, type InputLimits } from '../formats/limits.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import type { Logger } from '../log.ts';
import { DigestIndex, type IndexScheme, type IndexedPackage } from '../serve/digest-index.ts';
import { stateKeys } from '../state/keys.ts';
import type { StateStore } from '../state/state-store.ts';
import { decodeIndex } from '../streams/decoded-index.ts';
import type { DecodeOptions } from '../streams/decompress.ts';
import { yieldingChunks } from '../streams/yield-budget.ts';
import { parseStanzaBatches } from './formats/deb822.ts';
import { indexEntryBatches, type IndexEntry } from './formats/packages-index.ts';
import { compressionOf, indexKindOf } from './formats/paths.ts';
import type { IndexRef } from './manifest.ts';

/** What a pool file must be, as recorded from a verified index. */
export interface PoolRecord {
  size: number;
  sha256?: string;
  sha512?: string;
}

/** Generations kept per index path: clients may still hold an older Release. */
const PER_PATH = 3;

/** The limits an index is read under (config `limits:`). */
export type IndexLimits = Pick<InputLimits, 'indexMaxBytes' | 'indexLineMax'>;

/**
 * Streams the pool entries of a verified Packages/Sources blob (nothing for other indexes). The signed
 * Release vouches only for the compressed bytes: decompression stops at the uncompressed size it
 * declares (ref.openSize) or limits.indexMaxBytes, lines at limits.indexLineMax (METADATA_TOO_LARGE),
 * and the parse yields to the event loop between chunks. One array per chunk of text (see parseStanzaBatches).
 */
export async function* poolEntryBatches(blobs: BlobStore, ref: IndexRef, limits: IndexLimits = DEFAULT_LIMITS, decode: DecodeOptions = {}): AsyncGenerator<IndexEntry[]> {
  const kind = indexKindOf(ref.path);
  if (kind === 'other') return;
  const { text, done } = decodeIndex(blobs.open(ref.sha256), compressionOf(ref.path), indexCap(ref.openSize, limits), ref.path, decode);
  try {
    yield* indexEntryBatches(kind, parseStanzaBatches(yieldingChunks(text), { maxLine: limits.indexLineMax }));
  } finally {
    text.destroy();
  }
  await done;
}

/** As poolEntryBatches, one entry at a time (for consumers that do async work per entry anyway). */
export async function* poolEntries(blobs: BlobStore, ref: IndexRef, limits: IndexLimits = DEFAULT_LIMITS, decode: DecodeOptions = {}): AsyncGenerator<IndexEntry> {
  for await (const batch of poolEntryBatches(blobs, ref, limits, decode)) yield* batch;
}

/** The record for an entry; weak-hash-only entries are not servable as verified. */
export function poolRecordOf(e: IndexEntry): PoolRecord | undefined {
  if (!e.sha256 && !e.sha512) return undefined;
  return { size: e.size, ...(e.sha256 ? { sha256: e.sha256 } : {}), ...(e.sha512 ? { sha512: e.sha512 } : {}) };
}

function expectedOf(rec: PoolRecord): Expected {
  const digests: Expected['digests'] = [];
  if (rec.sha256) digests.push({ algo: 'sha256', hex: rec.sha256 });
  if (rec.sha512) digests.push({ algo: 'sha512', hex: rec.sha512 });
  return { size: rec.size, digests };
}

function isPoolRecord(v: unknown): v is PoolRecord {
  return typeof v === 'object' && v !== null && typeof (v as PoolRecord).size === 'number';
}

function poolScheme(remote: string, blobs: BlobStore, limits: IndexLimits): IndexScheme<IndexRef> {
  return {
    liveKey: stateKeys.aptLiveIndexes(remote),
    readingKey: stateKeys.aptReadingIndexes(remote),
    perSlot: PER_PATH,
    // Filename fields are relative to the root, so one index blob read under two roots is two ingestions.
    idOf: (r) => `${r.sha256}:${r.root}`,
    sameSlot: (a, b) => a.root === b.root && a.path === b.path && a.dir === b.dir,
    recordKey: (r, path) => {
      if (r.root !== '' && !path.startsWith(`${r.root}/`)) return undefined;
      return stateKeys.aptIndexRecord(r.sha256, r.root === '' ? path : path.slice(r.root.length + 1));
    },
    couldList: (r, path) => couldList(r.path, path),
    doneKey: (r) => stateKeys.aptIndexDone(r.sha256),
    async *entries(r): AsyncGenerator<IndexedPackage[]> {
      for await (const batch of poolEntryBatches(blobs, r, limits)) {
        const out: IndexedPackage[] = [];
        for (const e of batch) {
          const rec = poolRecordOf(e);
          if (rec) out.push({ path: joinRelPath(r.root, e.filename), key: stateKeys.aptIndexRecord(r.sha256, e.filename), value: rec });
        }
        yield out;
      }
    },
    decode: (v) => (isPoolRecord(v) && (v.sha256 || v.sha512) ? expectedOf(v) : undefined),
  };
}

const BINARY = /\.(?:deb|udeb|ddeb)$/;
const SOURCE = /\.(?:dsc|tar(?:\.[a-z0-9]+)?|diff\.gz)$/;

/**
 * Whether the index at `indexPath` (relative to its suite) can list pool `path`, by the conventions
 * every archive follows: Sources list no .deb, Packages no source files, and binary-<arch>/Packages
 * only `_<arch>.deb` or `_all.deb`. Unconventional names count as "can": a lookup then waits for the
 * ingestion, as before. Used so a lookup never waits for an unrelated (perhaps hostile, slow) ingestion.
 */
export function couldList(indexPath: string, path: string): boolean {
  const kind = indexKindOf(indexPath);
  if (kind === 'sources') return !BINARY.test(path);
  if (kind !== 'packages') return false;
  if (SOURCE.test(path)) return false;
  const fileArch = /_([a-z0-9-]+)\.(?:deb|udeb|ddeb)$/.exec(path)?.[1];
  const indexArch = /(?:^|\/)binary-([a-z0-9-]+)\//.exec(indexPath)?.[1];
  return fileArch === undefined || indexArch === undefined || fileArch === 'all' || fileArch === indexArch;
}

/** Pool-file digests of one apt remote, keyed by the Packages/Sources blob they come from. */
export class PoolIndex {
  readonly #index: DigestIndex<IndexRef>;

  constructor(remote: string, state: StateStore, blobs: BlobStore, log: Logger, limits: IndexLimits = DEFAULT_LIMITS) {
    this.#index = new DigestIndex(poolScheme(remote, blobs, limits), state, log);
  }

  /** Indexes the live (non-checkpoint) remote serves from, newest first. */
  liveIndexes(): Promise<IndexRef[]> {
    return this.#index.live();
  }

  /** Digests a pool path must have according to `indexes` (live ones by default). */
  lookup(path: string, indexes?: readonly IndexRef[]): Promise<Expected | undefined> {
    return this.#index.lookup(path, indexes);
  }

  /** Work that will list new indexes (e.g. fetching them first): lookups that miss wait for it too. */
  track(work: Promise<void>): void {
    this.#index.track(work);
  }

  /** Lists a live index about to be served as being read, so other nodes' lookups wait for it. */
  announce(ref: IndexRef): Promise<void> {
    return indexKindOf(ref.path) === 'other' ? Promise.resolve() : this.#index.announce(ref);
  }

  /** Withdraws an announcement whose index will not be read (its download failed). */
  withdraw(ref: IndexRef): Promise<void> {
    return indexKindOf(ref.path) === 'other' ? Promise.resolve() : this.#index.withdraw(ref);
  }

  /** Ingests a verified index blob (once per content) and, when live, lists it for lookups. */
  ingest(ref: IndexRef, live: boolean): Promise<void> {
    if (indexKindOf(ref.path) === 'other') return Promise.resolve();
    return this.#index.ingest(ref, live);
  }
}
