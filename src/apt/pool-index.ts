import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import type { BlobStore } from '../blobs/blob-store.ts';
import type { Expected } from '../formats/digests.ts';
import { decompressor } from '../streams/decompress.ts';
import { parseStanzasFromChunks } from './formats/deb822.ts';
import { indexEntries, type IndexEntry } from './formats/packages-index.ts';
import { compressionOf, indexKindOf } from './formats/paths.ts';
import type { Logger } from '../log.ts';
import type { StateEntry, StateStore } from '../state/state-store.ts';

export interface PoolRecord {
  size: number;
  sha256?: string;
  sha512?: string;
}

/** A verified Packages/Sources blob and the directory its Filename fields are relative to. */
export interface IndexRef {
  sha256: string;
  root: string;
  /** The Release path it was listed under, which tells its compression and kind. */
  path: string;
  /** The suite directory whose Release listed it (live indexes). */
  dir?: string;
}

const BATCH = 2000;
/** Generations kept per index path (clients may still hold an older Release), and an overall guard. */
const PER_PATH = 3;
const LIVE_MAX = 4096;

/**
 * Pool-file digests, recorded per index blob (`apt:idx:<index sha256>:<Filename>`). The records
 * are immutable like the index they come from, so checkpoints that share an index share them,
 * and a checkpoint verifies pool files against exactly its own indexes.
 */
export class PoolIndex {
  #remote: string;
  #state: StateStore;
  #blobs: BlobStore;
  #log: Logger;
  #pending = new Map<string, Promise<void>>();
  /** Live indexes already ingested and listed by this process: index hits skip all bookkeeping. */
  #registered = new Set<string>();
  #workSeq = 0;

  constructor(remote: string, state: StateStore, blobs: BlobStore, log: Logger) {
    this.#remote = remote;
    this.#state = state;
    this.#blobs = blobs;
    this.#log = log;
  }

  get #liveKey(): string {
    return `apt:live-indexes:${this.#remote}`;
  }

  /** Indexes the live (non-checkpoint) remote serves from, newest first. */
  async liveIndexes(): Promise<IndexRef[]> {
    return (await this.#state.get<IndexRef[]>(this.#liveKey)) ?? [];
  }

  /** Digests a pool path must have according to `indexes` (live ones by default). */
  async lookup(path: string, indexes?: readonly IndexRef[]): Promise<Expected | undefined> {
    const hit = await this.#lookupOnce(path, indexes ?? (await this.liveIndexes()));
    if (hit || indexes || this.#pending.size === 0) return hit;
    await Promise.allSettled(this.#pending.values()); // an index is being read: its entries may be the answer
    return this.#lookupOnce(path, await this.liveIndexes());
  }

  async #lookupOnce(path: string, indexes: readonly IndexRef[]): Promise<Expected | undefined> {
    const keys: string[] = [];
    for (const ix of indexes) {
      if (ix.root === '' || path.startsWith(`${ix.root}/`)) keys.push(`apt:idx:${ix.sha256}:${ix.root === '' ? path : path.slice(ix.root.length + 1)}`);
    }
    if (keys.length === 0) return undefined;
    const rec = (await this.#state.getMany<PoolRecord>(keys)).find((r) => r !== undefined);
    if (!rec) return undefined;
    const digests: Expected['digests'] = [];
    if (rec.sha256) digests.push({ algo: 'sha256', hex: rec.sha256 });
    if (rec.sha512) digests.push({ algo: 'sha512', hex: rec.sha512 });
    return { size: rec.size, digests };
  }

  /** Work that will list new indexes (e.g. fetching them first): lookups that miss wait for it too. */
  track(work: Promise<void>): void {
    const key = `work:${++this.#workSeq}`;
    this.#pending.set(key, work.catch(() => {}).finally(() => this.#pending.delete(key)));
  }

  /** Ingests a verified index blob (once per content) and, when live, lists it for lookups. */
  ingest(ref: IndexRef, live: boolean): Promise<void> {
    const kind = indexKindOf(ref.path);
    if (kind === 'other') return Promise.resolve();
    const key = `${live ? 'live' : 'cp'}:${ref.sha256}:${ref.root}`;
    if (this.#registered.has(key)) return Promise.resolve();
    let p = this.#pending.get(key);
    if (!p) {
      // Tracked until the live list is written too, so lookup() never sees "nothing pending" in between.
      p = this.#ingestOnce(ref)
        .then(() => (live ? this.#addLive(ref) : undefined))
        .then(() => { this.#registered.add(key); })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    return p;
  }

  async #ingestOnce(ref: IndexRef): Promise<void> {
    const doneKey = `apt:ingested:${ref.sha256}`;
    if (await this.#state.get<boolean>(doneKey)) return;
    const started = Date.now();
    const count = await this.#run(ref);
    await this.#state.set(doneKey, true);
    this.#log.info('indexed pool files', { index: ref.path, entries: count, ms: Date.now() - started });
  }

  async #addLive(ref: IndexRef): Promise<void> {
    const list = await this.liveIndexes();
    if (list[0]?.sha256 === ref.sha256 && list[0].root === ref.root) return;
    // Newer generations of the same index replace older ones; other suites' indexes are never pushed out.
    let siblings = 1;
    const next = [ref, ...list.filter((r) => {
      if (r.sha256 === ref.sha256 && r.root === ref.root) return false;
      if (r.root === ref.root && r.path === ref.path && r.dir === ref.dir) return ++siblings <= PER_PATH;
      return true;
    })].slice(0, LIVE_MAX);
    await this.#state.set(this.#liveKey, next);
  }

  /** Streams the pool entries of a verified index blob (for prefetching a checkpoint's packages). */
  async *entries(ref: IndexRef): AsyncGenerator<IndexEntry> {
    const kind = indexKindOf(ref.path);
    if (kind === 'other') return;
    const text = new PassThrough({ highWaterMark: 1 << 20 });
    const piping = pipeline(this.#blobs.open(ref.sha256), decompressor(compressionOf(ref.path)), text);
    piping.catch(() => {}); // surfaced below
    try {
      yield* indexEntries(kind, parseStanzasFromChunks(text));
    } finally {
      text.destroy();
    }
    await piping;
  }

  async #run(ref: IndexRef): Promise<number> {
    let batch: StateEntry[] = [];
    let count = 0;
    for await (const entry of this.entries(ref)) {
      const rec = toRecord(entry);
      if (!rec) continue;
      batch.push({ key: `apt:idx:${ref.sha256}:${entry.filename}`, value: rec });
      count++;
      if (batch.length >= BATCH) {
        await this.#state.setMany(batch);
        batch = [];
      }
    }
    if (batch.length) await this.#state.setMany(batch);
    return count;
  }
}

function toRecord(e: IndexEntry): PoolRecord | undefined {
  if (!e.sha256 && !e.sha512) return undefined; // weak-hash-only entries are not servable as verified
  return { size: e.size, ...(e.sha256 ? { sha256: e.sha256 } : {}), ...(e.sha512 ? { sha512: e.sha512 } : {}) };
}
