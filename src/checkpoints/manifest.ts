import type { IndexRef } from '../apt/pool-index.ts';

/** A stored file: its blob and every digest metadata listed (by-hash requests may use any). */
export interface ManifestFile {
  sha256: string;
  size: number;
  sha512?: string;
  /** Not stored up front: made on demand by decompressing this (compressed) sibling path. */
  from?: string;
}

export interface AptSuiteSnapshot {
  /** Suite directory below the remote root, e.g. "dists/bookworm". */
  dir: string;
  /** The verified upstream InRelease/Release blob it was made from. */
  upstream: string;
  /** Re-signed Release text, InRelease (clearsigned) and Release.gpg (armored detached). */
  release: string;
  inRelease: string;
  releaseGpg: string;
  /** Files kept (listed in the re-signed Release), by path relative to dir. */
  files: Record<string, ManifestFile>;
  /** Packages/Sources blobs that pool files are verified against. */
  indexes: IndexRef[];
}

export interface YumRepoSnapshot {
  /** Repository directory (parent of repodata/) below the remote root. */
  dir: string;
  /** repomd.xml exactly as upstream published it, and the mirror's signature over it. */
  repomd: string;
  repomdAsc: string;
  /** Metadata files, by location relative to dir. */
  files: Record<string, ManifestFile & { algo?: string; hex?: string }>;
  /** The primary metadata blob (and its location, for its compression) packages are verified against. */
  primary?: { sha256: string; location: string };
}

/** Immutable once written: stored as a JSON blob; the catalogue points at it. */
export interface CheckpointManifest {
  version: 1;
  remote: string;
  type: 'apt' | 'yum';
  ts: string;
  createdAt: string;
  /** Fingerprint of the key that re-signed it. */
  signer: string;
  suites?: AptSuiteSnapshot[];
  repos?: YumRepoSnapshot[];
  /** Packages downloaded and verified at checkpoint time (packages: immediate). */
  packages?: number;
}

export interface CatalogueEntry {
  ts: string;
  manifest: string;
  createdAt: string;
  files: number;
  bytes: number;
}

/** Every blob a manifest keeps alive (for GC pins). */
export function manifestBlobs(m: CheckpointManifest): string[] {
  const out: string[] = [];
  for (const s of m.suites ?? []) {
    out.push(s.upstream, s.release, s.inRelease, s.releaseGpg, ...Object.values(s.files).map((f) => f.sha256));
  }
  for (const r of m.repos ?? []) out.push(r.repomd, r.repomdAsc, ...Object.values(r.files).map((f) => f.sha256));
  return out;
}
