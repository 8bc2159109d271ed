import { RepointError } from '../errors.ts';

/** A stored file: its blob and every digest metadata listed (by-hash requests may use any). */
export interface ManifestFile {
  sha256: string;
  size: number;
  sha512?: string;
  /** Not stored up front: made on demand by decompressing this (compressed) sibling path. */
  from?: string;
}

/**
 * Immutable once written: stored as a JSON blob, and the catalogue points at it. The header is
 * type-free; each repository type adds its own fields (apt: `suites`, yum: `repos`) and owns their
 * definitions and validation.
 */
export interface ManifestHeader {
  version: 1;
  remote: string;
  type: string;
  ts: string;
  createdAt: string;
  /** Fingerprint of the key that re-signed it. */
  signer: string;
  /** Packages downloaded and verified at checkpoint time (packages: immediate). */
  packages?: number;
}

export type CheckpointManifest = ManifestHeader & { readonly [field: string]: unknown };

export interface CatalogueEntry {
  ts: string;
  manifest: string;
  createdAt: string;
  files: number;
  bytes: number;
}

/** Parses a manifest blob, checking the header: manifests also arrive from other nodes and bundles. */
export function parseManifest(text: string, sha256: string): CheckpointManifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new RepointError('METADATA_INVALID', `checkpoint manifest ${sha256} is not JSON`);
  }
  if (!isManifest(v)) throw new RepointError('METADATA_INVALID', `checkpoint manifest ${sha256} lacks its header (version 1, remote, type, ts)`);
  return v;
}

function isManifest(v: unknown): v is CheckpointManifest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return m['version'] === 1 && typeof m['remote'] === 'string' && typeof m['type'] === 'string' && typeof m['ts'] === 'string'
    && typeof m['createdAt'] === 'string' && typeof m['signer'] === 'string';
}
