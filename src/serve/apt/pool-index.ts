import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import type { Expected } from '../../fetch/digests.ts';
import { decompressor } from '../../fetch/decompress.ts';
import { parseStanzasFromChunks } from '../../formats/apt/deb822.ts';
import { indexEntries, type IndexEntry } from '../../formats/apt/packages-index.ts';
import { compressionOf, indexKindOf, joinRelPath } from '../../formats/apt/paths.ts';
import type { Logger } from '../../log.ts';
import type { StateEntry, StateStore } from '../../state/state-store.ts';
import type { BlobStore } from '../../blobs/blob-store.ts';

export interface PoolRecord {
  size: number;
  sha256?: string;
  sha512?: string;
}

const BATCH = 2000;

/**
 * Path -> digest records for pool files, built by streaming verified Packages/Sources indexes
 * into the state store. Survives restarts; a lookup is one key read.
 */
export class PoolIndex {
  #remote: string;
  #state: StateStore;
  #blobs: BlobStore;
  #log: Logger;
  #pending = new Map<string, Promise<void>>();

  constructor(remote: string, state: StateStore, blobs: BlobStore, log: Logger) {
    this.#remote = remote;
    this.#state = state;
    this.#blobs = blobs;
    this.#log = log;
  }

  #key(path: string): string {
    return `apt:pool:${this.#remote}:${path}`;
  }

  /** Digests a pool path must have, waiting for ingestions under way before answering "unknown". */
  async lookup(path: string): Promise<Expected | undefined> {
    let rec = await this.#state.get<PoolRecord>(this.#key(path));
    if (!rec && this.#pending.size > 0) {
      await Promise.allSettled(this.#pending.values());
      rec = await this.#state.get<PoolRecord>(this.#key(path));
    }
    if (!rec) return undefined;
    const digests: Expected['digests'] = [];
    if (rec.sha256) digests.push({ algo: 'sha256', hex: rec.sha256 });
    if (rec.sha512) digests.push({ algo: 'sha512', hex: rec.sha512 });
    return { size: rec.size, digests };
  }

  /** Ingests a verified index blob once (keyed by its content), in the background. */
  ingest(indexPath: string, blobSha256: string, archiveRoot: string): Promise<void> {
    const kind = indexKindOf(indexPath);
    if (kind === 'other') return Promise.resolve();
    const doneKey = `apt:ingested:${this.#remote}:${archiveRoot}:${blobSha256}`;
    const running = this.#pending.get(doneKey);
    if (running) return running;
    const p = (async () => {
      if (await this.#state.get<boolean>(doneKey)) return;
      const started = Date.now();
      const count = await this.#run(kind, indexPath, blobSha256, archiveRoot);
      await this.#state.set(doneKey, true);
      this.#log.info('indexed pool files', { index: indexPath, entries: count, ms: Date.now() - started });
    })().catch((err: Error) => this.#log.error('index ingestion failed', { index: indexPath, reason: err.message }))
      .finally(() => this.#pending.delete(doneKey));
    this.#pending.set(doneKey, p);
    return p;
  }

  async #run(kind: 'packages' | 'sources', indexPath: string, sha256: string, archiveRoot: string): Promise<number> {
    const text = new PassThrough({ highWaterMark: 1 << 20 });
    const piping = pipeline(this.#blobs.createReadStream(sha256), decompressor(compressionOf(indexPath)), text);
    let batch: StateEntry[] = [];
    let count = 0;
    const flush = async (): Promise<void> => {
      if (batch.length) await this.#state.setMany(batch);
      batch = [];
    };
    for await (const entry of indexEntries(kind, parseStanzasFromChunks(text))) {
      const rec = toRecord(entry);
      if (!rec) continue;
      batch.push({ key: this.#key(joinRelPath(archiveRoot, entry.filename)), value: rec });
      count++;
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await piping;
    return count;
  }
}

function toRecord(e: IndexEntry): PoolRecord | undefined {
  if (!e.sha256 && !e.sha512) return undefined; // weak-hash-only entries are not servable as verified
  return { size: e.size, ...(e.sha256 ? { sha256: e.sha256 } : {}), ...(e.sha512 ? { sha512: e.sha512 } : {}) };
}
