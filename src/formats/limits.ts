/**
 * Size limits on what an upstream sends (config `limits:`). Signed metadata can still be hostile: a key
 * holder (or a compromised archive) can sign a decompression bomb, an endless line or a huge Release.
 */
export interface InputLimits {
  /** InRelease, Release, repomd.xml: read whole and signature-checked, so small (real ones are < 1 MiB). */
  metadataMaxBytes: number;
  /** A decompressed Packages/Sources/primary: the declared uncompressed size, never more than this. */
  indexMaxBytes: number;
  /** The longest line of a Packages/Sources index, and the longest text or tag of a primary.xml. */
  indexLineMax: number;
  /** Any file stored from upstream (packages, indexes): larger declared or actual sizes are refused. */
  maxFileSize: number;
}

export const DEFAULT_LIMITS: InputLimits = {
  metadataMaxBytes: 4 * 2 ** 20,
  indexMaxBytes: 2 ** 30,
  indexLineMax: 2 ** 20,
  maxFileSize: 8 * 2 ** 30,
};

/** What a decompressed index may grow to: its declared uncompressed size (if any), capped by the limit. */
export function indexCap(declared: number | undefined, limits: Pick<InputLimits, 'indexMaxBytes'>): number {
  return declared === undefined ? limits.indexMaxBytes : Math.min(declared, limits.indexMaxBytes);
}
