import { join } from 'node:path';
import type { BlobStore } from './blobs/blob-store.ts';
import { FsBlobStore } from './blobs/fs-blob-store.ts';
import { withHotCache } from './blobs/hot-cache.ts';
import type { Config, RemoteConfig } from './config/types.ts';
import { RepointError } from './errors.ts';
import type { Logger } from './log.ts';
import { AptRemote } from './apt/apt-remote.ts';
import { ReleaseStore } from './apt/release-store.ts';
import { ContentService } from './serve/content.ts';
import type { RemoteHandler } from './serve/remote-handler.ts';
import { RepomdStore } from './yum/repomd-store.ts';
import { YumRemote } from './yum/yum-remote.ts';
import { withLru } from './state/lru-state.ts';
import { openState } from './state/open-state.ts';
import type { StateStore } from './state/state-store.ts';
import { loadKeyring, type Keyring } from './trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from './trust/signer.ts';
import { Catalogue } from './checkpoints/catalogue.ts';
import { CheckpointService } from './checkpoints/checkpoint-service.ts';
import { CheckpointRouter } from './checkpoints/router.ts';
import { serveAptCheckpoint } from './apt/checkpoint-view.ts';
import { serveYumCheckpoint } from './yum/checkpoint-view.ts';
import { createUpstreamAgent, HttpUpstream } from './upstream/http-upstream.ts';
import type { Dispatcher } from 'undici';

/** Everything a running proxy (or a CLI command) needs, wired from the config. Closed by close(). */
export interface Runtime {
  config: Config;
  log: Logger;
  content: ContentService;
  remotes: Map<string, RemoteHandler>;
  signer: Signer;
  checkpoints: CheckpointService;
  close(): Promise<void>;
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

export async function openStores(config: Config, log: Logger): Promise<{ blobs: BlobStore; state: StateStore }> {
  const blobs = await FsBlobStore.open(join(config.dataDir, 'blobs'), { logger: log });
  const removed = await blobs.removeTempFiles();
  if (removed > 0) log.warn('removed partial downloads left by an earlier crash', { count: removed });
  const state = withLru(await openState(config.state, config.dataDir), { max: 50_000, ttlMs: 2000 });
  return { blobs, state };
}

export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  const stores = await openStores(config, log);
  const { state } = stores;
  const blobs = withHotCache(stores.blobs);
  const content = new ContentService(blobs, state, log);
  const agent: Dispatcher = createUpstreamAgent(config.upstream);
  const remotes = new Map<string, RemoteHandler>();
  const live = new Map<string, RemoteHandler>();
  const catalogue = new Catalogue(state, blobs);
  const signer = await loadOrCreateSigner(config.signing.keyPath, { log: (msg) => log.info(msg, { key: config.signing.keyPath }) });
  for (const remote of config.remotes.values()) {
    const rlog = log.child({ remote: remote.name });
    const upstream = new HttpUpstream(remote.upstreams, agent, config.upstream.retries, rlog);
    if (remote.unavailable) {
      rlog.error('remote disabled', { reason: remote.unavailable });
      remotes.set(remote.name, unavailableRemote(remote));
      continue;
    }
    const keyring = lazyKeyring(remote);
    // Parse keyrings at start-up so a bad file fails fast, naming the key.
    if (remote.keyrings.length) await keyring();
    if (remote.type === 'apt') {
      const apt = new AptRemote(remote, upstream, content, new ReleaseStore(remote, upstream, content, keyring, rlog), rlog);
      live.set(remote.name, apt);
      remotes.set(remote.name, new CheckpointRouter(apt, catalogue, (m, path) => serveAptCheckpoint(apt, content, m, path)));
    } else if (remote.type === 'yum') {
      const yum = new YumRemote(remote, upstream, content, new RepomdStore(remote, upstream, content, keyring, rlog), rlog);
      live.set(remote.name, yum);
      remotes.set(remote.name, new CheckpointRouter(yum, catalogue, (m, path) => serveYumCheckpoint(yum, content, m, path)));
    }
  }
  const checkpoints = new CheckpointService(config, content, catalogue, signer, live, log);
  return {
    config, log, content, remotes, signer, checkpoints,
    close: async () => {
      await agent.close();
      await state.close();
      await blobs.close();
    },
  };
}
