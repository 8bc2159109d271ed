import type { BlobStore } from '../blobs/blob-store.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import type { Reply } from '../serve/reply.ts';
import type { ServeRequest } from '../serve/remote-handler.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Signer } from '../trust/signer.ts';
import type { CheckpointManifest } from './manifest.ts';

/** What a repository type gets while it freezes a remote's metadata into a checkpoint. */
export interface SnapshotContext {
  content: ContentService;
  signer: Signer;
  log: Logger;
  /** Called for each stored file, for progress; throws once the run must stop (its lease was lost). */
  onFile: (path: string, bytes: number) => void;
  /** Aborts when the run must stop (its lease was lost, or the process is shutting down). */
  signal?: AbortSignal;
  /** `<base>/<remote>/@SNAPSHOTID@/` for apt's Snapshots: field. */
  snapshotsUrl: string;
  /** The newest published manifest of this remote, to reuse signatures over unchanged metadata. */
  previous?: CheckpointManifest;
}

/** The type's fields of a new manifest (added to the type-free header), and what it prefetched. */
export interface SnapshotResult {
  fields: Record<string, unknown>;
  /** Packages downloaded and verified now (packages: immediate). */
  packages?: number;
}

/** A live remote that can be checkpointed and can serve paths inside its checkpoints. */
export interface CheckpointSource {
  /** Throws RepointError CHECKPOINT_FAILED (or another code) when anything required fails: nothing is published then. */
  snapshot(ctx: SnapshotContext): Promise<SnapshotResult>;
  serveCheckpoint(m: CheckpointManifest, path: string, req: ServeRequest): Promise<Reply>;
}

export interface ManifestDeps {
  blobs: BlobStore;
  state: StateStore;
  /** The remote's upstream bases (yum resolves absolute xml:base URLs under them). */
  upstreams: readonly string[];
  /** The process does nothing else meanwhile (a CLI bulk command): indexes may be decoded on the calling thread. */
  syncDecode?: boolean;
}

/** Where a type keeps the package records of its index blobs, for gc (checkpoints/index-gc.ts). */
export interface IndexRecordKeys {
  /** Every record of one index blob starts with this. */
  recordPrefix(indexSha256: string): string;
  /** Ingestion markers (state/ingest-marker.ts): `<markerPrefix><index sha256>[:…]`. */
  markerPrefix: string;
  /** Index blobs a remote's live lookups read. */
  liveIndexes(remote: string, state: StateStore): Promise<string[]>;
  /** Index blobs a checkpoint's lookups read. */
  checkpointIndexes(m: CheckpointManifest): string[];
}

/** What GC and bundles may read from any manifest, without a live remote (CLI commands have none). */
export interface ManifestReader {
  /** The type's index records, when it keeps any. */
  readonly indexRecords?: IndexRecordKeys;
  /** The manifest's own metadata blobs (Release files, indexes, repomd, ...). */
  metadataBlobs(m: CheckpointManifest): string[];
  /**
   * Streams the sha256 of every package the manifest's indexes list. Index blobs in `seen` (and
   * index blobs gone from the store) are skipped; the ones read are added to it.
   */
  packageBlobs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncIterable<string>;
}
