import type { BlobStore } from '../blobs/blob-store.ts';
import type { Config } from '../config/types.ts';
import { silentLogger } from '../log.ts';
import { PoolIndex } from '../apt/pool-index.ts';
import { PackageIndex } from '../yum/package-index.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Catalogue } from './catalogue.ts';
import { manifestBlobs } from './manifest.ts';

/**
 * Every blob a kept checkpoint needs: its manifest, metadata, and the packages its indexes list
 * (so a pinned build keeps installing after upstream deletes old versions). GC never removes these.
 * Each distinct index is read once, streaming.
 */
export async function checkpointPins(config: Config, catalogue: Catalogue, state: StateStore, blobs: BlobStore): Promise<Set<string>> {
  const pins = new Set<string>();
  const readIndexes = new Set<string>();
  const pool = new PoolIndex('gc', state, blobs, silentLogger);
  for (const remote of config.remotes.keys()) {
    for (const entry of await catalogue.list(remote)) {
      pins.add(entry.manifest);
      const m = await catalogue.manifest(entry.manifest);
      for (const sha of manifestBlobs(m)) pins.add(sha);
      for (const ref of (m.suites ?? []).flatMap((s) => s.indexes)) {
        if (readIndexes.has(ref.sha256) || !(await blobs.stat(ref.sha256))) continue;
        readIndexes.add(ref.sha256);
        for await (const e of pool.entries(ref)) if (e.sha256) pins.add(e.sha256);
      }
      for (const r of m.repos ?? []) {
        if (!r.primary || readIndexes.has(r.primary.sha256) || !(await blobs.stat(r.primary.sha256))) continue;
        readIndexes.add(r.primary.sha256);
        const rpms = new PackageIndex(remote, config.remotes.get(remote)?.upstreams ?? [], state, blobs, silentLogger);
        for await (const { record } of rpms.entries(r.dir, r.primary.location, r.primary.sha256)) if (record.algo === 'sha256') pins.add(record.hex);
      }
    }
  }
  return pins;
}
