import { LRUCache } from 'lru-cache';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import type { StateStore } from '../state/state-store.ts';
import type { CatalogueEntry, CheckpointManifest } from './manifest.ts';

/** The list of a remote's checkpoints (one state key, so publishing is one atomic write). */
export class Catalogue {
  #state: StateStore;
  #blobs: BlobStore;
  #manifests = new LRUCache<string, CheckpointManifest>({ max: 256 });

  constructor(state: StateStore, blobs: BlobStore) {
    this.#state = state;
    this.#blobs = blobs;
  }

  #key(remote: string): string {
    return `cp:catalogue:${remote}`;
  }

  /** Oldest first. */
  async list(remote: string): Promise<CatalogueEntry[]> {
    return (await this.#state.get<CatalogueEntry[]>(this.#key(remote))) ?? [];
  }

  /** Publishes an entry and drops the oldest beyond `keep`; returns the dropped ones. */
  async publish(remote: string, entry: CatalogueEntry, keep: number): Promise<CatalogueEntry[]> {
    const list = [...(await this.list(remote)), entry].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const dropped = list.length > keep ? list.splice(0, list.length - keep) : [];
    await this.#state.set(this.#key(remote), list);
    return dropped;
  }

  async manifest(sha256: string): Promise<CheckpointManifest> {
    const hit = this.#manifests.get(sha256);
    if (hit) return hit;
    let text: string;
    try {
      text = (await this.#blobs.readAll(sha256)).toString('utf8');
    } catch {
      throw new RepointError('CHECKPOINT_NOT_FOUND', `checkpoint manifest ${sha256} is missing from the blob store`);
    }
    const m = JSON.parse(text) as CheckpointManifest;
    this.#manifests.set(sha256, m);
    return m;
  }
}
