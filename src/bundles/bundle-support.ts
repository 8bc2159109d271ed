import type { ManifestDeps } from '../checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import type { Expected } from '../formats/digests.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import type { Signer } from '../trust/signer.ts';

/** A package a checkpoint's indexes list: its path below the remote and what it must be. */
export interface PackageRef {
  path: string;
  expected: Expected;
}

/** What a repository type gets to make an imported checkpoint the importing node's own. */
export interface AdoptContext {
  content: ContentService;
  /** The importing node's key: inside clients trust only it. */
  signer: Signer;
  log: Logger;
  /** The importing remote (its name may differ from the exporter's). */
  remote: string;
  /** `<this node's base>/<remote>/@SNAPSHOTID@/` for apt's Snapshots: field. */
  snapshotsUrl: string;
  /** The importing remote's upstream bases (none for an offline remote). */
  upstreams: readonly string[];
}

/**
 * What a repository type provides for bundles (src/bundles): which blobs a checkpoint consists of,
 * and how an importing node re-signs one. Type-specific code stays in the type's folder.
 */
export interface BundleSupport {
  /**
   * What is wrong with a carried checkpoint manifest (its header already checked): the first type
   * field the methods below read that is missing or of another shape, or undefined when none is.
   */
  malformed?(m: CheckpointManifest): string | undefined;
  /**
   * The metadata blobs stored when the checkpoint was made (Release files, indexes, repomd, data
   * files). Files a checkpoint derives on demand (apt's uncompressed Packages) are not listed.
   */
  storedMetadataBlobs(m: CheckpointManifest): string[];
  /**
   * Streams every package the manifest's indexes list, with its path and expected digests, in index
   * order, a batch (non-empty) per chunk of index text: an async step per package cost more than
   * the parse at Debian scale. Index blobs in `seen`, and index blobs missing from deps.blobs, are
   * skipped; those read are added.
   */
  packageRefs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncIterable<PackageRef[]>;
  /**
   * Re-signs an imported checkpoint's metadata with ctx.signer (indexes and packages unchanged),
   * prepares its package lookups, and returns the type fields of the importing node's manifest.
   */
  adopt(m: CheckpointManifest, ctx: AdoptContext): Promise<Record<string, unknown>>;
}
