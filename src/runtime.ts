import { readFile } from 'node:fs/promises';
import type { BlobStore } from './blobs/blob-store.ts';
import { openBlobStore } from './blobs/open-blob-store.ts';
import type { S3BlobStore } from './blobs/s3/s3-blob-store.ts';
import { withHotCache } from './blobs/hot-cache.ts';
import { Catalogue } from './checkpoints/catalogue.ts';
import { CheckpointService } from './checkpoints/checkpoint-service.ts';
import { OfflineLive } from './checkpoints/offline-live.ts';
import { CheckpointRouter } from './checkpoints/router.ts';
import { prepareDataDir } from './config/data-dir.ts';
import { internalBaseUrl, publicBaseUrl } from './config/public-url.ts';
import type { Config, RemoteConfig } from './config/types.ts';
import { RepointError } from './errors.ts';
import { ClusterFlight } from './fill/cluster-flight.ts';
import { PeerAuth } from './fill/peer-auth.ts';
import type { Logger } from './log.ts';
import { Ops } from './ops/ops.ts';
import { repositoryTypes } from './registry.ts';
import type { TypedRemote } from './repository-type.ts';
import { ContentService } from './serve/content.ts';
import type { RemoteHandler } from './serve/remote-handler.ts';
import { isReadThroughKey, stateKeys } from './state/keys.ts';
import { withLru } from './state/lru-state.ts';
import { openState } from './state/open-state.ts';
import type { StateStore } from './state/state-store.ts';
import { loadKeyring, type Keyring } from './trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from './trust/signer.ts';
import { OfflineUpstream } from './upstream/offline-upstream.ts';
import type { Upstream } from './upstream/upstream.ts';
import { UpstreamClients } from './upstream/upstream-clients.ts';

/** Everything a running proxy (or a CLI command) needs, wired from the config. Closed by close(). */
export interface Runtime {
  config: Config;
  log: Logger;
  content: ContentService;
  remotes: Map<string, RemoteHandler>;
  /** The live remotes by name (the enabled ones), for the /-/setup pages. */
  live: ReadonlyMap<string, TypedRemote>;
  signer: Signer;
  checkpoints: CheckpointService;
  /**
   * The end of a shutdown's grace: aborts every download in flight and drops upstream connections, so
   * close() does not wait for them. Readers of those downloads error (their clients get a reset).
   */
  abort(): void;
  /** The base URL clients reach this node at: publicUrl, else the listen address (never a request header). */
  publicUrl(): string;
  /** Called once the server has bound its port (listen port 0 picks one). */
  listening(port: number): void;
  /** Each available remote's upstream (an OfflineUpstream for offline remotes): export completes on-demand checkpoints through it. */
  upstreams: ReadonlyMap<string, Upstream>;
  /** Signs and checks node-to-node requests (/-/internal/), keyed from the shared signing key. */
  peerAuth: PeerAuth;
  /** This process's operational figures (metrics, the status page). */
  ops: Ops;
  /** The object store under content.blobs when blobs.type is s3: readiness checks and presigned redirects. */
  objectStore?: S3BlobStore;
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

export interface OpenStoresOptions {
  /** Commands that only read: nothing under dataDir is created or rewritten (see FsBlobStore readOnly). */
  readOnly?: boolean;
}

/**
 * The blob store and the state. Opening them never removes anything: another process (a serving node
 * while a CLI command runs) may be writing. Abandoned temp files are swept by sweepTempFiles.
 */
export async function openStores(config: Config, log: Logger, opts: OpenStoresOptions = {}): Promise<{ blobs: BlobStore; state: StateStore; s3?: S3BlobStore }> {
  await prepareDataDir(config.dataDir, { create: !opts.readOnly });
  const { store: blobs, s3 } = await openBlobStore({ blobs: config.blobs, dataDir: config.dataDir, stateBackend: config.state.backend, tempMaxAgeMs: config.cache.tempMaxAgeMs, maxSizeBytes: config.cache.maxSizeBytes, gcGraceMs: config.cache.gcGraceMs, readOnly: opts.readOnly, log });
  const state = withLru(await openState(config.state.backend, config.dataDir, { onDegraded: (reason) => log.warn('state: full-disk fallback', { reason }) }), { max: 50_000, ttlMs: 2000, staleWindowMs: config.state.staleWindowMs,
    // read through: an import in another process publishes by writing the catalogue; other nodes
    // list the indexes they are reading
    readThrough: isReadThroughKey });
  return { blobs, state, ...(s3 ? { s3 } : {}) };
}

export async function createRuntime(config: Config, log: Logger, opts: OpenStoresOptions = {}): Promise<Runtime> {
  const stores = await openStores(config, log, opts);
  const { state } = stores;
  const blobs = withHotCache(stores.blobs);
  const content = new ContentService(blobs, state, log, { maxFileSize: config.limits.maxFileSize });
  const clients = new UpstreamClients(config.upstream);
  const remotes = new Map<string, RemoteHandler>();
  const ops = new Ops();
  const live = new Map<string, TypedRemote>();
  const upstreams = new Map<string, Upstream>();
  const catalogue = new Catalogue(state, blobs);
  const signer = await loadOrCreateSigner(config.signing.keyPath, { log: (msg) => log.info(msg, { key: config.signing.keyPath }) });
  const peerAuth = PeerAuth.fromSigningKey(await readFile(config.signing.keyPath));
  // Nodes sharing a Redis fetch each file once per cluster (fill/cluster-flight.ts).
  const cluster = /^rediss?:/.test(config.state.backend) ? new ClusterFlight({
    leases: state.leases, blobs, auth: peerAuth, log,
    timing: { ttlMs: config.state.leaseTtlMs, renewEveryMs: config.state.leaseRenewMs },
    peerTimeoutMs: 2 * config.upstream.bodyTimeoutMs,
  }) : undefined;
  if (cluster) content.fills.useCluster(cluster);
  let boundPort: number | undefined;
  const publicUrl = (): string => publicBaseUrl(config, boundPort);
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
    const upstream = offline ? new OfflineUpstream(remote.name) : ops.instrument(remote.name, await clients.forRemote(remote, rlog));
    const typed = type.createRemote({ remote, upstream, content, keyring, signer, publicUrl, log: rlog, metadataDeadlineMs: config.upstream.metadataDeadlineMs, limits: config.limits });
    const served = offline ? new OfflineLive(typed, catalogue) : typed;
    upstreams.set(remote.name, upstream);
    live.set(remote.name, served);
    remotes.set(remote.name, new CheckpointRouter(served, catalogue));
  }
  const checkpoints = new CheckpointService(config, content, catalogue, signer, live, log, publicUrl);
  checkpoints.onCreated((remote, seconds) => ops.checkpointDone(remote, seconds));
  let aborted = false;
  return {
    config, log, content, remotes, live, signer, checkpoints, publicUrl, upstreams, peerAuth, ops,
    ...(stores.s3 ? { objectStore: stores.s3 } : {}),
    listening: (port) => {
      boundPort = port;
      // `repoint import` runs as another process and cannot see the bound port (listen :0, PORT): it reads this
      if (config.publicUrl === undefined) {
        state.set(stateKeys.servedBase, publicBaseUrl(config, port)).catch((err: Error) => log.warn('recording the served address failed', { reason: err.message }));
      }
      cluster?.enable(internalBaseUrl(config, port));
    },
    abort: () => {
      if (aborted) return;
      aborted = true;
      content.fills.abortAll(new RepointError('SHUTTING_DOWN', 'repoint is shutting down; try again in a moment'));
      clients.destroy().catch((err: Error) => log.warn('closing upstream connections failed', { reason: err.message }));
    },
    close: async () => {
      // close() waits for requests in flight; after abort() there are none worth waiting for
      await (aborted ? clients.destroy() : clients.close());
      await cluster?.close();
      await state.close();
      await blobs.close();
    },
  };
}
