import type { BundleSupport } from './bundles/bundle-support.ts';
import type { CheckpointSource, ManifestReader } from './checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from './checkpoints/manifest.ts';
import type { RemoteConfig, RemoteType } from './config/types.ts';
import type { InputLimits } from './formats/limits.ts';
import type { Logger } from './log.ts';
import type { ContentService } from './serve/content.ts';
import type { RemoteHandler } from './serve/remote-handler.ts';
import type { Keyring } from './trust/keyring.ts';
import type { Signer } from './trust/signer.ts';
import type { Upstream } from './upstream/upstream.ts';

/** What the composition root hands a repository type to build one remote. */
export interface RemoteDeps {
  remote: RemoteConfig;
  upstream: Upstream;
  content: ContentService;
  /** Parsed once, on first use. */
  keyring: () => Promise<Keyring>;
  /** The mirror key (apt `resign: true` re-signs live metadata with it). */
  signer: Signer;
  /** The base URL clients reach this mirror at (config/public-url.ts). */
  publicUrl: () => string;
  log: Logger;
  /** upstream.metadataDeadline: the total time one revalidation of signed metadata may take. */
  metadataDeadlineMs?: number;
  /** limits: (hostile-input caps); defaults when absent. */
  limits?: InputLimits;
}

/** A live remote of some type: serves its paths, and makes and serves its checkpoints. */
export type TypedRemote = RemoteHandler & CheckpointSource;

/**
 * One repository type (apt, yum; zypper later): everything that knows the type's formats lives in its
 * folder, which exports one object implementing this. The runtime, checkpoint service and GC only see
 * this interface; adding a type is one folder and one line in registry.ts. Bundles (export/import
 * across an air gap) use its BundleSupport side.
 */
export interface RepositoryType extends ManifestReader, BundleSupport {
  readonly name: RemoteType;
  createRemote(deps: RemoteDeps): TypedRemote;
  /** The type's part of `GET /-/api/remotes/<r>/checkpoints/<TS>` (the header is added by the caller). */
  summarize(m: CheckpointManifest): Record<string, unknown>;
  /** `GET /-/setup/<type>`: copy-paste client configuration (text/plain) for the remotes of this type. */
  clientSetup(ctx: ClientSetupContext): Promise<string>;
}

/** What a type's setup page is written from. */
export interface ClientSetupContext {
  /** config/public-url.ts: publicUrl, else the listen address; never a request header. */
  baseUrl: string;
  /** This type's remotes, enabled or not, in config order. */
  remotes: readonly RemoteConfig[];
  /** The live remote of an enabled one. */
  live(name: string): TypedRemote | undefined;
  /** The newest checkpoint's timestamp, for examples. */
  newestCheckpoint(remote: string): Promise<string | undefined>;
}
