/**
 * Every state key, in one place: docs/DESIGN.md's key table lists the same set. Keys are namespaced by
 * the StateStore (`repoint:` by default), so several deployments can share one Redis.
 */
export const stateKeys = {
  /** The base URL a serving node without publicUrl listens at (its bound port): what `repoint import`, another process, puts in Snapshots:. */
  servedBase: 'node:served-base',
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
  /** Live indexes some node is reading now (`ReadingEntry[]`): other nodes' lookups wait for them. */
  aptReadingIndexes: (remote: string): string => `apt:reading-indexes:${remote}`,
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
  /** Live primaries some node is reading now (`ReadingEntry[]`). */
  yumReadingPrimaries: (remote: string): string => `yum:reading-primaries:${remote}`,

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

/**
 * Keys every read must take from the backend, never from the in-process cache: the catalogue (above),
 * and the lists of indexes other nodes are reading now, which change within the cache's freshness.
 */
export function isReadThroughKey(key: string): boolean {
  return isCatalogueKey(key) || key.startsWith('apt:reading-indexes:') || key.startsWith('yum:reading-primaries:');
}

/** Lease names (state/lease.ts): one holder at a time across every process and node sharing the state. */
export const leaseNames = {
  checkpoint: (remote: string): string => `checkpoint:${remote}`,
  gc: 'gc',
  /** One upstream download per fill key (fill/fill-key.ts) across the cluster; held by the leading node. */
  fill: (fillKey: string): string => `fill:${fillKey}`,
} as const;
