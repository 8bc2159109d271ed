import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import type { BlobStore } from './blobs/blob-store.ts';
import { FsBlobStore } from './blobs/fs-blob-store.ts';
import { withHotCache } from './blobs/hot-cache.ts';
import { Catalogue } from './checkpoints/catalogue.ts';
import type { CheckpointSource } from './checkpoints/checkpoint-source.ts';
import { CheckpointService } from './checkpoints/checkpoint-service.ts';
import { OfflineLive } from './checkpoints/offline-live.ts';
import { CheckpointRouter } from './checkpoints/router.ts';
import type { Config, RemoteConfig } from './config/types.ts';
import { RepointError } from './errors.ts';
import type { Logger } from './log.ts';
import { repositoryTypes } from './registry.ts';
import { ContentService } from './serve/content.ts';
import type { RemoteHandler } from './serve/remote-handler.ts';
import { isCatalogueKey } from './state/keys.ts';
import { withLru } from './state/lru-state.ts';
import { openState } from './state/open-state.ts';
import type { StateStore } from './state/state-store.ts';
import { loadKeyring, type Keyring } from './trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from './trust/signer.ts';
import { createUpstreamAgent, HttpUpstream } from './upstream/http-upstream.ts';
import { OfflineUpstream } from './upstream/offline-upstream.ts';
import type { Upstream } from './upstream/upstream.ts';

/** Everything a running proxy (or a CLI command) needs, wired from the config. Closed by close(). */
export interface Runtime {
  config: Config;
  log: Logger;
  content: ContentService;
  remotes: Map<string, RemoteHandler>;
  signer: Signer;
  checkpoints: CheckpointService;
  /** Each available remote's upstream (an OfflineUpstream for offline remotes): export completes on-demand checkpoints through it. */
  upstreams: ReadonlyMap<string, Upstream>;
  close(): Promise<void>;
}

export interface OpenStoresOptions {
  /**
   * Delete leftover temp files (crash recovery) — default true. Commands that run beside a serving
   * node (export, import) pass false: the server's downloads in progress live there.
   */
  removeTempFiles?: boolean;
}

function unavailableRemote(remote: RemoteConfig): RemoteHandler {
  return {
    name: remote.name,
    type: remote.type,
    handle: async () => { throw new RepointError('REMOTE_UNAVAILABLE', `remote ${remote.name} is disabled: ${remote.unavailable ?? ''}`); },
  };
}

function lazyKeyring(remote: RemoteConfig): () => Promise<Keyring> {
  let p: Promise<Keyring> | undefined;
  return () => (p ??= loadKeyring(remote.keyrings));
}

export async function openStores(config: Config, log: Logger, opts: OpenStoresOptions = {}): Promise<{ blobs: BlobStore; state: StateStore }> {
  const blobs = await FsBlobStore.open(join(config.dataDir, 'blobs'), { logger: log });
  if (opts.removeTempFiles ?? true) {
    const removed = await blobs.removeTempFiles();
    if (removed > 0) log.warn('removed partial downloads left by an earlier crash', { count: removed });
  }
  // The catalogue is read through: an import in another process publishes by writing it.
  const state = withLru(await openState(config.state, config.dataDir), { max: 50_000, ttlMs: 2000, readThrough: isCatalogueKey });
  return { blobs, state };
}

export async function createRuntime(config: Config, log: Logger, opts: OpenStoresOptions = {}): Promise<Runtime> {
  const stores = await openStores(config, log, opts);
  const { state } = stores;
  const blobs = withHotCache(stores.blobs);
  const content = new ContentService(blobs, state, log);
  const agent: Dispatcher = createUpstreamAgent(config.upstream);
  const remotes = new Map<string, RemoteHandler>();
  const sources = new Map<string, CheckpointSource>();
  const upstreams = new Map<string, Upstream>();
  const catalogue = new Catalogue(state, blobs);
  const signer = await loadOrCreateSigner(config.signing.keyPath, { log: (msg) => log.info(msg, { key: config.signing.keyPath }) });
  for (const remote of config.remotes.values()) {
    const rlog = log.child({ remote: remote.name });
    if (remote.unavailable) {
      rlog.error('remote disabled', { reason: remote.unavailable });
      remotes.set(remote.name, unavailableRemote(remote));
      continue;
    }
    const keyring = lazyKeyring(remote);
    // Parse keyrings at start-up so a bad file fails fast, naming the key.
    if (remote.keyrings.length) await keyring();
    const type = repositoryTypes.get(remote.type);
    if (!type) throw new RepointError('CONFIG_INVALID', `remotes.${remote.name}.type: this build has no "${remote.type}" repository type`);
    // An offline remote (no upstream) serves imported checkpoints only, its live paths from the newest.
    const offline = remote.upstreams.length === 0;
    const upstream = offline ? new OfflineUpstream(remote.name) : new HttpUpstream(remote.upstreams, agent, config.upstream.retries, rlog);
    const typed = type.createRemote({ remote, upstream, content, keyring, log: rlog });
    const live = offline ? new OfflineLive(typed, catalogue) : typed;
    upstreams.set(remote.name, upstream);
    sources.set(remote.name, live);
    remotes.set(remote.name, new CheckpointRouter(live, catalogue));
  }
  const checkpoints = new CheckpointService(config, content, catalogue, signer, sources, log);
  return {
    config, log, content, remotes, signer, checkpoints, upstreams,
    close: async () => {
      await agent.close();
      await state.close();
      await blobs.close();
    },
  };
}
