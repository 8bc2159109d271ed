import { LRUCache } from 'lru-cache';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { stateKeys } from '../state/keys.ts';
import type { StateStore } from '../state/state-store.ts';
import { parseManifest, type CatalogueEntry, type CheckpointManifest } from './manifest.ts';

const MAX_MANIFEST_BYTES = 64 * 2 ** 20;
/** Parsed manifests kept in memory, by the size of their JSON (a count would allow 256 × 64 MiB). */
const DEFAULT_CACHE_BYTES = 32 * 2 ** 20;

/** The list of a remote's checkpoints (one state key, so publishing is one atomic write). */
export class Catalogue {
  readonly #state: StateStore;
  readonly #blobs: BlobStore;
  readonly #manifests: LRUCache<string, { m: CheckpointManifest; bytes: number }>;

  constructor(state: StateStore, blobs: BlobStore, opts: { cacheBytes?: number } = {}) {
    this.#state = state;
    this.#blobs = blobs;
    this.#manifests = new LRUCache({ maxSize: Math.max(1, opts.cacheBytes ?? DEFAULT_CACHE_BYTES), sizeCalculation: (e) => Math.max(1, e.bytes) });
  }

  /** Oldest first. */
  async list(remote: string): Promise<CatalogueEntry[]> {
    return (await this.#state.get<CatalogueEntry[]>(stateKeys.catalogue(remote))) ?? [];
  }

  /** Publishes an entry and drops the oldest beyond `keep`; returns the dropped ones. */
  publish(remote: string, entry: CatalogueEntry, keep: number): Promise<CatalogueEntry[]> {
    return this.publishMany(remote, [entry], keep);
  }

  /** Publishes several entries with one write (an imported bundle's checkpoints appear together). */
  async publishMany(remote: string, entries: readonly CatalogueEntry[], keep: number): Promise<CatalogueEntry[]> {
    const list = [...(await this.list(remote)), ...entries].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const dropped = list.length > keep ? list.splice(0, list.length - keep) : [];
    await this.#state.set(stateKeys.catalogue(remote), list);
    return dropped;
  }

  async manifest(sha256: string): Promise<CheckpointManifest> {
    const hit = this.#manifests.get(sha256);
    if (hit) return hit.m;
    let raw: Buffer;
    try {
      raw = await this.#blobs.readAll(sha256, MAX_MANIFEST_BYTES);
    } catch (err) {
      if (isRepointError(err, 'NOT_FOUND')) throw new RepointError('CHECKPOINT_NOT_FOUND', `checkpoint manifest ${sha256} is missing from the blob store`);
      throw err;
    }
    const m = parseManifest(raw.toString('utf8'), sha256);
    // one larger than the whole cache is not kept (lru-cache would refuse it)
    if (raw.length <= this.#manifests.maxSize) this.#manifests.set(sha256, { m, bytes: raw.length });
    return m;
  }
}
