import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import type { ManifestDeps } from '../checkpoints/checkpoint-source.ts';
import { RepointError } from '../errors.ts';
import type { RepositoryType } from '../repository-type.ts';
import { AptRemote } from './apt-remote.ts';
import { adoptApt, aptPackageRefs, aptStoredMetadata } from './bundle.ts';
import { aptMetadataBlobs, aptSuites } from './manifest.ts';
import { poolEntries } from './pool-index.ts';
import { ReleaseStore } from './release-store.ts';

/** Debian/Ubuntu repositories: InRelease → Packages/Sources → .deb. */
export const apt: RepositoryType = {
  name: 'apt',
  createRemote({ remote, upstream, content, keyring, log }) {
    if (remote.type !== 'apt') throw new RepointError('INTERNAL', `remote ${remote.name} is not an apt remote`);
    return new AptRemote(remote, upstream, content, new ReleaseStore(remote, upstream, content, keyring, log), log);
  },
  metadataBlobs: aptMetadataBlobs,
  storedMetadataBlobs: aptStoredMetadata,
  packageRefs: aptPackageRefs,
  adopt: adoptApt,
  async *packageBlobs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncGenerator<string> {
    for (const ref of aptSuites(m).flatMap((s) => s.indexes)) {
      if (seen.has(ref.sha256) || !(await deps.blobs.stat(ref.sha256))) continue;
      seen.add(ref.sha256);
      for await (const e of poolEntries(deps.blobs, ref)) if (e.sha256) yield e.sha256;
    }
  },
};
