import type { BlobStore } from '../blobs/blob-store.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import { parseManifest } from '../checkpoints/manifest.ts';
import { forEachWindow } from '../checkpoints/limit.ts';
import { RepointError } from '../errors.ts';
import type { Expected } from '../formats/digests.ts';
import type { StateStore } from '../state/state-store.ts';
import type { BundleCheckpoint, BundleManifest } from './bundle-manifest.ts';
import type { BundleSupport } from './bundle-support.ts';

export interface CompletenessInput {
  bundle: BundleManifest;
  reader: BundleSupport;
  /** Where the carried blobs are now (the store after an import; memory for `bundle verify`). */
  blobs: BlobStore;
  state: StateStore;
  upstreams: readonly string[];
  /** Whether a package is available (the store, by sha256 or alias; or the bundle's lists). */
  has: (expected: Expected) => Promise<boolean>;
  /** Whether a metadata blob is available. */
  hasBlob: (sha256: string) => Promise<boolean>;
}

const SHOW = 5;

/** A carried checkpoint manifest, parsed: its type fields are checked before anything reads them. */
export function checkedManifest(m: CheckpointManifest, sha256: string, bundle: BundleManifest, reader: BundleSupport): CheckpointManifest {
  if (m.type !== bundle.remote.type) throw new RepointError('BUNDLE_INVALID', `checkpoint manifest ${sha256} is ${m.type} ${m.ts}; the bundle carries ${bundle.remote.type} checkpoints`);
  const bad = reader.malformed?.(m);
  if (bad !== undefined) throw new RepointError('BUNDLE_INVALID', `checkpoint manifest ${sha256} (${m.type} ${m.ts}) is malformed: ${bad}`);
  return m;
}

/** Reads a carried checkpoint manifest and checks it is the one the bundle lists. */
export async function carriedManifest(blobs: BlobStore, bundle: BundleManifest, c: BundleCheckpoint, reader: BundleSupport): Promise<CheckpointManifest> {
  const m = parseManifest((await blobs.readAll(c.manifest)).toString('utf8'), c.manifest);
  if (m.ts !== c.ts) throw new RepointError('BUNDLE_INVALID', `checkpoint manifest ${c.manifest} is ${m.type} ${m.ts}; the bundle lists ${bundle.remote.type} ${c.ts}`);
  return checkedManifest(m, c.manifest, bundle, reader);
}

/**
 * Every blob the carried checkpoints need is available: their manifests, their stored metadata and
 * every package their indexes list (dnf reposync --newest-only leaves metadata naming RPMs it did not
 * download; this refuses that). Returns how many packages were checked.
 */
export async function checkComplete(input: CompletenessInput): Promise<number> {
  const missing: string[] = [];
  let count = 0;
  let packages = 0;
  const miss = (what: string): void => {
    count++;
    if (missing.length < SHOW) missing.push(what);
  };
  const seen = new Set<string>();
  for (const c of input.bundle.checkpoints) {
    const m = await carriedManifest(input.blobs, input.bundle, c, input.reader);
    for (const sha of input.reader.storedMetadataBlobs(m)) if (!(await input.hasBlob(sha))) miss(`${c.ts}: metadata blob ${sha}`);
    if (count > 0) continue; // packages are read from indexes, which must be there first
    for await (const batch of input.reader.packageRefs(m, { blobs: input.blobs, state: input.state, upstreams: input.upstreams }, seen)) {
      packages += batch.length;
      await forEachWindow(batch, 16, async (ref) => {
        if (!(await input.has(ref.expected))) miss(`${c.ts}: ${ref.path}`);
      });
    }
  }
  if (count > 0) {
    throw new RepointError('BUNDLE_INCOMPLETE', `the bundle is incomplete: ${count} file(s) its checkpoints need are neither in it nor here, e.g. ${missing.join('; ')}`);
  }
  return packages;
}
