/**
 * Every state key, in one place: docs/DESIGN.md's key table lists the same set. Keys are namespaced by
 * the StateStore (`repoint:` by default), so several deployments can share one Redis.
 */
export const stateKeys = {
  /** ReleaseRecord of one suite directory (apt), per kind (InRelease, or Release + Release.gpg). */
  aptRelease: (remote: string, kind: string, dir: string): string => `apt:release:${remote}:${kind}:${dir}`,
  /** Pool-file digests listed by one verified Packages/Sources blob; Filename relative to the archive root. */
  aptIndexRecord: (indexSha256: string, filename: string): string => `apt:idx:${indexSha256}:${filename}`,
  /** Every record of one index blob (gc deletes them together). */
  aptIndexRecords: (indexSha256: string): string => `apt:idx:${indexSha256}:`,
  /** Ingestion marker of that index blob (an IngestMarker, state/ingest-marker.ts). */
  aptIndexDone: (indexSha256: string): string => `apt:ingested:${indexSha256}`,
  aptIndexDonePrefix: 'apt:ingested:',
  /** The indexes live pool lookups read, newest first. */
  aptLiveIndexes: (remote: string): string => `apt:live-indexes:${remote}`,
  /**
   * Re-signed live Release files (resign: true) made from one verified Release text, by signer and
   * `Snapshots:` URL (its sha256, 16 hex digits): `{release, inRelease, releaseGpg}` blobs.
   */
  aptResigned: (textSha256: string, signer: string, snapshotsUrlHash: string): string => `apt:resigned:${textSha256}:${signer}:${snapshotsUrlHash}`,

  /** RepomdRecord of one repository directory (yum). */
  yumRepomd: (remote: string, dir: string): string => `yum:repomd:${remote}:${dir}`,
  /** RPM digests listed by one verified primary blob; path relative to the remote root. */
  yumIndexRecord: (primarySha256: string, path: string): string => `yum:idx:${primarySha256}:${path}`,
  yumIndexRecords: (primarySha256: string): string => `yum:idx:${primarySha256}:`,
  /** Ingestion marker of that primary blob read for repository `dir` (an IngestMarker). */
  yumIndexDone: (primarySha256: string, dir: string): string => `yum:idx-done:${primarySha256}:${dir}`,
  yumIndexDonePrefix: 'yum:idx-done:',
  /** The primaries live RPM lookups read, newest first. */
  yumLivePrimaries: (remote: string): string => `yum:live-primaries:${remote}`,

  /** sha256 of a blob verified by another strong digest (sha512-only metadata still hits the cache). */
  alias: (algo: string, hex: string): string => `alias:${algo}:${hex.toLowerCase()}`,
  /** A remote's published checkpoints, oldest first: one write publishes or retires. */
  catalogue: (remote: string): string => `cp:catalogue:${remote}`,
} as const;

/**
 * Catalogue keys are read through every cache: `repoint import` (another process) publishes by
 * writing one, and the serving node must answer with the new checkpoints from the next request on.
 */
export function isCatalogueKey(key: string): boolean {
  return key.startsWith('cp:catalogue:');
}

/** Lease names (state/lease.ts): one holder at a time across every process and node sharing the state. */
export const leaseNames = {
  checkpoint: (remote: string): string => `checkpoint:${remote}`,
  gc: 'gc',
} as const;
