import type { ManifestDeps } from '../checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';
import { stateKeys } from '../state/keys.ts';
import type { RepositoryType } from '../repository-type.ts';
import { adoptYum, yumMalformed, yumPackageRefs, yumStoredMetadata } from './bundle.ts';
import { yumClientSetup } from './client-setup.ts';
import { primaryOf, yumMetadataBlobs, yumRepos, yumSummary } from './manifest.ts';
import { primaryEntries } from './package-index.ts';
import { RepomdStore } from './repomd-store.ts';
import { YumRemote } from './yum-remote.ts';

/** Fedora/RHEL/Rocky repositories: repomd.xml(.asc) → primary → .rpm. */
export const yum: RepositoryType = {
  name: 'yum',
  createRemote({ remote, upstream, content, keyring, log, metadataDeadlineMs, limits }) {
    if (remote.type !== 'yum') throw new RepointError('INTERNAL', `remote ${remote.name} is not a yum remote`);
    return new YumRemote(remote, upstream, content, new RepomdStore(remote, upstream, content, keyring, log, metadataDeadlineMs, limits?.metadataMaxBytes), log, limits);
  },
  metadataBlobs: yumMetadataBlobs,
  summarize: yumSummary,
  clientSetup: yumClientSetup,
  malformed: yumMalformed,
  storedMetadataBlobs: yumStoredMetadata,
  packageRefs: yumPackageRefs,
  adopt: adoptYum,
  indexRecords: {
    recordPrefix: stateKeys.yumIndexRecords,
    markerPrefix: stateKeys.yumIndexDonePrefix,
    liveIndexes: async (remote, state) => ((await state.get<Array<{ sha256: string }>>(stateKeys.yumLivePrimaries(remote))) ?? []).map((r) => r.sha256),
    checkpointIndexes: (m) => yumRepos(m).flatMap((r) => primaryOf(r)?.sha256 ?? []),
  },
  async *packageBlobs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncGenerator<string> {
    for (const r of yumRepos(m)) {
      const primary = primaryOf(r);
      if (!primary || seen.has(primary.sha256) || !(await deps.blobs.stat(primary.sha256))) continue;
      seen.add(primary.sha256);
      for await (const { record } of primaryEntries(deps.blobs, deps.upstreams, primary)) if (record.algo === 'sha256') yield record.hex;
    }
  },
};
