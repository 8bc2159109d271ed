import { hostname } from 'node:os';
import { Progress, formatBytes } from '../cli/progress.ts';
import type { Config, RemoteConfig } from '../config/types.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { SingleFlight } from '../fetch/single-flight.ts';
import { nextUniqueCheckpointTime } from '../formats/checkpoint-time.ts';
import type { Logger } from '../log.ts';
import { AptRemote } from '../serve/apt/apt-remote.ts';
import type { ContentService } from '../serve/content.ts';
import type { RemoteHandler } from '../serve/remote-handler.ts';
import type { Signer } from '../trust/signer.ts';
import { prefetchAptPackages, snapshotAptSuite, type SnapshotContext } from './apt-snapshot.ts';
import type { Catalogue } from './catalogue.ts';
import type { CatalogueEntry, CheckpointManifest } from './manifest.ts';
import { prefetchYumPackages, snapshotYumRepos } from './yum-snapshot.ts';
import { YumRemote } from '../serve/yum/yum-remote.ts';

export interface CreateOptions {
  /** Base URL for Snapshots: when publicUrl is not configured (e.g. the API request's origin). */
  baseUrl?: string;
  /** Show progress on this terminal stream. */
  progress?: boolean;
}

const LOCK_TTL_MS = 6 * 3600_000;

/** Creates, lists and retires checkpoints. One run at a time per remote, in-process and across nodes. */
export class CheckpointService {
  #config: Config;
  #content: ContentService;
  #catalogue: Catalogue;
  #signer: Signer;
  #remotes: ReadonlyMap<string, RemoteHandler>;
  #log: Logger;
  #running = new SingleFlight<CatalogueEntry>();

  constructor(config: Config, content: ContentService, catalogue: Catalogue, signer: Signer, remotes: ReadonlyMap<string, RemoteHandler>, log: Logger) {
    this.#config = config;
    this.#content = content;
    this.#catalogue = catalogue;
    this.#signer = signer;
    this.#remotes = remotes;
    this.#log = log;
  }

  get catalogue(): Catalogue {
    return this.#catalogue;
  }

  #remote(name: string): RemoteConfig {
    const r = this.#config.remotes.get(name);
    if (!r) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${name}"; configured: ${[...this.#config.remotes.keys()].join(', ')}`);
    if (!r.checkpoints) throw new RepointError('CHECKPOINT_FAILED', `remotes.${name}.checkpoints is not configured; add it to take checkpoints of this remote`);
    return r;
  }

  /** A second request while one runs joins it. */
  create(name: string, opts: CreateOptions = {}): Promise<CatalogueEntry> {
    const remote = this.#remote(name);
    return this.#running.run(name, () => this.#create(remote, opts));
  }

  async #create(remote: RemoteConfig, opts: CreateOptions): Promise<CatalogueEntry> {
    const release = await this.#content.state.tryLock(`checkpoint:${remote.name}`, LOCK_TTL_MS);
    if (!release) throw new RepointError('CHECKPOINT_FAILED', `another node is creating a checkpoint of ${remote.name}`);
    const started = Date.now();
    const progress = opts.progress ? new Progress(`checkpoint ${remote.name}`) : undefined;
    let files = 0;
    let bytes = 0;
    try {
      const published = await this.#catalogue.list(remote.name);
      const newest = published.at(-1);
      const prevManifest = newest ? await this.#catalogue.manifest(newest.manifest).catch(() => undefined) : undefined;
      const previous = prevManifest?.suites;
      const base = this.#config.publicUrl ?? opts.baseUrl ?? this.#defaultBase();
      const ctx: SnapshotContext = {
        content: this.#content, signer: this.#signer, log: this.#log.child({ remote: remote.name }),
        snapshotsUrl: `${base}/${remote.name}/@SNAPSHOTID@/`,
        ...(previous ? { previous } : {}),
        onFile: (_path, n) => { files++; bytes += n; progress?.update(`${files} files, ${formatBytes(bytes)}`); },
      };
      const manifest: CheckpointManifest = { version: 1, remote: remote.name, type: remote.type, ts: '', createdAt: '', signer: this.#signer.fingerprint };
      const handler = this.#remotes.get(remote.name);
      if (remote.type === 'apt' && remote.checkpoints && handler instanceof AptRemote) {
        manifest.suites = [];
        for (const suite of remote.checkpoints.suites) manifest.suites.push(await snapshotAptSuite(handler, remote.checkpoints, suite, ctx));
        if (remote.checkpoints.packages === 'immediate') manifest.packages = await prefetchAptPackages(handler, manifest.suites, ctx);
      } else if (remote.type === 'yum' && remote.checkpoints && handler instanceof YumRemote) {
        manifest.repos = await snapshotYumRepos(handler, remote.checkpoints, ctx, prevManifest?.repos);
        if (remote.checkpoints.packages === 'immediate') manifest.packages = await prefetchYumPackages(handler, manifest.repos, ctx);
      } else {
        throw new RepointError('CHECKPOINT_FAILED', `remote ${remote.name} is not available (${remote.unavailable ?? 'no handler'})`);
      }
      // The timestamp is taken at publication, not at the start: a time that resolves to an earlier
      // checkpoint must never later resolve to this one (a pinned build would change under its feet).
      const now = new Date();
      manifest.ts = nextUniqueCheckpointTime((await this.#catalogue.list(remote.name)).map((e) => e.ts), now);
      manifest.createdAt = now.toISOString();
      const ts = manifest.ts;
      // The manifest blob is written last; the catalogue write that follows is what publishes it.
      const blob = await this.#content.storeBytes(Buffer.from(JSON.stringify(manifest)));
      const entry: CatalogueEntry = { ts, manifest: blob.sha256, createdAt: manifest.createdAt, files, bytes };
      const dropped = await this.#catalogue.publish(remote.name, entry, remote.checkpoints!.keep);
      progress?.done(`${remote.name}/${ts}: ${files} files, ${formatBytes(bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      this.#log.info('checkpoint published', { remote: remote.name, ts, files, bytes, ms: Date.now() - started, dropped: dropped.map((d) => d.ts) });
      return entry;
    } catch (err) {
      progress?.done(`failed: ${(err as Error).message}`);
      const e = isRepointError(err) ? err : new RepointError('CHECKPOINT_FAILED', (err as Error).message, {}, { cause: err });
      this.#log.error('checkpoint failed; nothing published, the previous checkpoint stays', { remote: remote.name, code: e.code, reason: e.message });
      throw e;
    } finally {
      await release();
    }
  }

  #defaultBase(): string {
    const { host, port } = this.#config.listen;
    const h = host === '0.0.0.0' || host === '::' ? hostname() : host;
    return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
  }
}
