import type { BlobStore } from '../blobs/blob-store.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Catalogue } from './catalogue.ts';
import type { ManifestReader } from './checkpoint-source.ts';

/** The remotes whose checkpoints pin blobs, and how to read each type's manifests. */
export interface PinSources {
  remotes: Iterable<{ name: string; type: string; upstreams: readonly string[] }>;
  readers: ReadonlyMap<string, ManifestReader>;
}

/**
 * Every blob a kept checkpoint needs: its manifest, metadata, and the packages its indexes list
 * (so a pinned build keeps installing after upstream deletes old versions). GC never removes these.
 * Each distinct index is read once, streaming.
 */
export async function checkpointPins(sources: PinSources, catalogue: Catalogue, state: StateStore, blobs: BlobStore): Promise<Set<string>> {
  const pins = new Set<string>();
  const seen = new Set<string>();
  for (const remote of sources.remotes) {
    for (const entry of await catalogue.list(remote.name)) {
      pins.add(entry.manifest);
      const m = await catalogue.manifest(entry.manifest);
      const reader = sources.readers.get(m.type);
      if (!reader) continue; // a type this build does not know: its manifest is pinned, nothing else can be read
      for (const sha of reader.metadataBlobs(m)) pins.add(sha);
      for await (const sha of reader.packageBlobs(m, { blobs, state, upstreams: remote.upstreams }, seen)) pins.add(sha);
    }
  }
  return pins;
}
