import type { BundleSupport } from './bundles/bundle-support.ts';
import type { CheckpointSource, ManifestReader } from './checkpoints/checkpoint-source.ts';
import type { RemoteConfig, RemoteType } from './config/types.ts';
import type { Logger } from './log.ts';
import type { ContentService } from './serve/content.ts';
import type { RemoteHandler } from './serve/remote-handler.ts';
import type { Keyring } from './trust/keyring.ts';
import type { Upstream } from './upstream/upstream.ts';

/** What the composition root hands a repository type to build one remote. */
export interface RemoteDeps {
  remote: RemoteConfig;
  upstream: Upstream;
  content: ContentService;
  /** Parsed once, on first use. */
  keyring: () => Promise<Keyring>;
  log: Logger;
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
}
