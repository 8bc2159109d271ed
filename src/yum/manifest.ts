import type { CheckpointManifest, ManifestFile } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';

/** A primary metadata blob, the repository it describes, and its location (which tells its compression). */
export interface PrimaryRef {
  sha256: string;
  dir: string;
  location: string;
  /** repomd's open-size: decompression stops there (not stored in manifests; limits.indexMaxBytes caps those). */
  openSize?: number;
}

/** One repository of a yum checkpoint: the `repos` field of its manifest. */
export interface YumRepoSnapshot {
  /** Repository directory (parent of repodata/) below the remote root. */
  dir: string;
  /** repomd.xml exactly as upstream published it, and the mirror's signature over it. */
  repomd: string;
  repomdAsc: string;
  /** Metadata files, by location relative to dir. */
  files: Record<string, ManifestFile>;
  /** The primary metadata blob packages are verified against. */
  primary?: { sha256: string; location: string };
}

/** The yum fields of a manifest; a manifest of another type is refused. */
export function yumRepos(m: CheckpointManifest): YumRepoSnapshot[] {
  const repos = m['repos'];
  if (m.type !== 'yum' || !Array.isArray(repos)) throw new RepointError('METADATA_INVALID', `checkpoint ${m.remote}/${m.ts} is not a yum checkpoint`);
  return repos as YumRepoSnapshot[];
}

/** Every metadata blob a yum manifest names. */
export function yumMetadataBlobs(m: CheckpointManifest): string[] {
  return yumRepos(m).flatMap((r) => [r.repomd, r.repomdAsc, ...Object.values(r.files).map((f) => f.sha256)]);
}

/** The primary a checkpointed repository verifies its RPMs against. */
export function primaryOf(r: YumRepoSnapshot): PrimaryRef | undefined {
  return r.primary ? { sha256: r.primary.sha256, dir: r.dir, location: r.primary.location } : undefined;
}

/** What the checkpoint API shows of a yum manifest: each repository and its metadata files. */
export function yumSummary(m: CheckpointManifest): Record<string, unknown> {
  return { repos: yumRepos(m).map((r) => ({ dir: r.dir, files: Object.keys(r.files).sort() })) };
}
