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
