import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import type { ManifestDeps } from '../checkpoints/checkpoint-source.ts';
import { RepointError } from '../errors.ts';
import { stateKeys } from '../state/keys.ts';
import type { RepositoryType } from '../repository-type.ts';
import { AptRemote } from './apt-remote.ts';
import { adoptApt, aptMalformed, aptPackageRefs, aptStoredMetadata } from './bundle.ts';
import { aptClientSetup } from './client-setup.ts';
import { LiveResigner } from './live-resign.ts';
import { aptMetadataBlobs, aptSuites, aptSummary } from './manifest.ts';
import { poolEntries } from './pool-index.ts';
import { ReleaseStore } from './release-store.ts';

/** Debian/Ubuntu repositories: InRelease → Packages/Sources → .deb. */
export const apt: RepositoryType = {
  name: 'apt',
  createRemote({ remote, upstream, content, keyring, signer, publicUrl, log, metadataDeadlineMs, limits }) {
    if (remote.type !== 'apt') throw new RepointError('INTERNAL', `remote ${remote.name} is not an apt remote`);
    const releases = new ReleaseStore(remote, upstream, content, keyring, log, metadataDeadlineMs, limits?.metadataMaxBytes);
    const resigner = remote.resign
      ? new LiveResigner({ content, signer, log, snapshotsUrl: () => `${publicUrl()}/${remote.name}/@SNAPSHOTID@/`, parsed: (sha) => releases.parsed(sha) })
      : undefined;
    return new AptRemote(remote, upstream, content, releases, log, resigner, limits);
  },
  metadataBlobs: aptMetadataBlobs,
  summarize: aptSummary,
  clientSetup: aptClientSetup,
  malformed: aptMalformed,
  storedMetadataBlobs: aptStoredMetadata,
  packageRefs: aptPackageRefs,
  adopt: adoptApt,
  indexRecords: {
    recordPrefix: stateKeys.aptIndexRecords,
    markerPrefix: stateKeys.aptIndexDonePrefix,
    liveIndexes: async (remote, state) => ((await state.get<Array<{ sha256: string }>>(stateKeys.aptLiveIndexes(remote))) ?? []).map((r) => r.sha256),
    checkpointIndexes: (m) => aptSuites(m).flatMap((s) => s.indexes.map((r) => r.sha256)),
  },
  async *packageBlobs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncGenerator<string> {
    for (const ref of aptSuites(m).flatMap((s) => s.indexes)) {
      if (seen.has(ref.sha256) || !(await deps.blobs.stat(ref.sha256))) continue;
      seen.add(ref.sha256);
      for await (const e of poolEntries(deps.blobs, ref)) if (e.sha256) yield e.sha256;
    }
  },
};
