import type { CheckpointManifest, ManifestFile } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';

/** A verified Packages/Sources blob and the directory its Filename fields are relative to. */
export interface IndexRef {
  sha256: string;
  root: string;
  /** The Release path it was listed under, which tells its compression and kind. */
  path: string;
  /** The suite directory whose Release listed it (live indexes). */
  dir?: string;
  /** The uncompressed size the Release declares (its entry without the compression suffix): decompression stops there. */
  openSize?: number;
}

/** The ref with the uncompressed size its Release declares, when it declares one. */
export function withOpenSize(ref: IndexRef, openSize: number | undefined): IndexRef {
  return openSize === undefined ? ref : { ...ref, openSize };
}

/** A file upstream's Release lists that the checkpoint left out, and why (fetch or verification failure). */
export interface LeftOutFile {
  /** Relative to the suite directory, e.g. `main/Contents-amd64.gz`. */
  path: string;
  reason: string;
}

/** One suite of an apt checkpoint: the `suites` field of its manifest. */
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
  /**
   * Auxiliary indexes (Contents, Translation, DEP-11, ...) of the selected kinds that could not be
   * fetched or verified: not in the re-signed Release. Absent in manifests written before it existed.
   */
  leftOut?: LeftOutFile[];
}

/** The apt fields of a manifest; a manifest of another type, or without suites, is refused. */
export function aptSuites(m: CheckpointManifest): AptSuiteSnapshot[] {
  const suites = m['suites'];
  if (m.type !== 'apt' || !Array.isArray(suites)) throw new RepointError('METADATA_INVALID', `checkpoint ${m.remote}/${m.ts} is not an apt checkpoint`);
  return suites as AptSuiteSnapshot[];
}

/** Every metadata blob an apt manifest names. */
export function aptMetadataBlobs(m: CheckpointManifest): string[] {
  return aptSuites(m).flatMap((s) => [s.upstream, s.release, s.inRelease, s.releaseGpg, ...Object.values(s.files).map((f) => f.sha256)]);
}

/** What the checkpoint API shows of an apt manifest: per suite, the files kept and the ones left out with why. */
export function aptSummary(m: CheckpointManifest): Record<string, unknown> {
  return {
    suites: aptSuites(m).map((s) => ({ dir: s.dir, files: Object.keys(s.files).sort(), leftOut: s.leftOut ?? [] })),
  };
}
