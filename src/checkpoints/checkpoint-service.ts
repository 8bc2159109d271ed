import { hostname as hostnameOf } from 'node:os';
import type { Config, RemoteConfig } from '../config/types.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { SingleFlight } from '../fill/single-flight.ts';
import { nextUniqueCheckpointTime } from '../formats/checkpoint-time.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { leaseNames } from '../state/keys.ts';
import { waitUntilFree, withLease, type Lease } from '../state/lease.ts';
import type { Signer } from '../trust/signer.ts';
import type { Catalogue } from './catalogue.ts';
import type { CheckpointSource, SnapshotContext } from './checkpoint-source.ts';
import type { CatalogueEntry, CheckpointManifest } from './manifest.ts';

export interface CreateOptions {
  /** Called as files are stored (a CLI shows it on the terminal). */
  onProgress?: (p: { files: number; bytes: number }) => void;
}

/**
 * Creates and retires checkpoints. One run at a time per remote: in-process a second request joins the
 * running one; across processes and nodes a renewed lease admits one, and the others get
 * CHECKPOINT_RUNNING (HTTP 409, CLI exit 75). A holder that dies stops renewing, and its lease lapses
 * within state.leaseTtl.
 */
export class CheckpointService {
  readonly #config: Config;
  readonly #content: ContentService;
  readonly #catalogue: Catalogue;
  readonly #signer: Signer;
  readonly #sources: ReadonlyMap<string, CheckpointSource>;
  readonly #log: Logger;
  readonly #publicUrl: () => string;
  readonly #running = new SingleFlight<CatalogueEntry>();
  readonly #listeners: Array<(remote: string, seconds: number) => void> = [];

  /** `publicUrl`: the base URL for `Snapshots:` (config/public-url.ts; never a request's Host). */
  constructor(config: Config, content: ContentService, catalogue: Catalogue, signer: Signer, sources: ReadonlyMap<string, CheckpointSource>, log: Logger, publicUrl: () => string) {
    this.#config = config;
    this.#publicUrl = publicUrl;
    this.#content = content;
    this.#catalogue = catalogue;
    this.#signer = signer;
    this.#sources = sources;
    this.#log = log;
  }

  get catalogue(): Catalogue {
    return this.#catalogue;
  }

  #remote(name: string): { remote: RemoteConfig; source: CheckpointSource; keep: number } {
    const remote = this.#config.remotes.get(name);
    if (!remote) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${name}"; configured: ${[...this.#config.remotes.keys()].join(', ')}`);
    if (!remote.checkpoints) throw new RepointError('CHECKPOINT_FAILED', `remotes.${name}.checkpoints is not configured; add it to take checkpoints of this remote`);
    const source = this.#sources.get(name);
    if (!source) throw new RepointError('CHECKPOINT_FAILED', `remote ${name} is not available (${remote.unavailable ?? 'no handler'})`);
    return { remote, source, keep: remote.checkpoints.keep };
  }

  /** Called after each checkpoint this process published, with how long it took (metrics). */
  onCreated(listener: (remote: string, seconds: number) => void): void {
    this.#listeners.push(listener);
  }

  /** A second request while one runs joins it. */
  create(name: string, opts: CreateOptions = {}): Promise<CatalogueEntry> {
    const target = this.#remote(name);
    return this.#running.run(name, async () => {
      const started = performance.now();
      const entry = await this.#create(target.remote, target.source, target.keep, opts);
      for (const l of this.#listeners) l(name, (performance.now() - started) / 1000);
      return entry;
    });
  }

  async #create(remote: RemoteConfig, source: CheckpointSource, keep: number, opts: CreateOptions): Promise<CatalogueEntry> {
    const { leaseTtlMs: ttlMs, leaseRenewMs: renewEveryMs } = this.#config.state;
    const run = await withLease(this.#content.state.leases, leaseNames.checkpoint(remote.name),
      { ttlMs, renewEveryMs, owner: processOwner(), log: this.#log }, (lease) => this.#createHeld(remote, source, keep, opts, lease));
    if (!run.held) {
      throw new RepointError('CHECKPOINT_RUNNING', `a checkpoint of ${remote.name} is already running${run.owner ? ` (${run.owner})` : ''}; try again when it has finished`);
    }
    return run.value;
  }

  /**
   * A collection running now could delete blobs this run stores before it publishes them: wait for it
   * (our own lease is held, so a collection starting now refuses to run; see collectGarbage).
   */
  #waitForGc(remote: string, signal: AbortSignal): Promise<void> {
    return waitUntilFree(this.#content.state.leases, leaseNames.gc, signal, (gc) => this.#log.info('waiting for gc to finish before the checkpoint', { remote, gc }));
  }

  async #createHeld(remote: RemoteConfig, source: CheckpointSource, keep: number, opts: CreateOptions, lease: Lease): Promise<CatalogueEntry> {
    await this.#waitForGc(remote.name, lease.signal);
    const started = Date.now();
    let files = 0;
    let bytes = 0;
    try {
      const newest = (await this.#catalogue.list(remote.name)).at(-1);
      const previous = newest ? await this.#catalogue.manifest(newest.manifest).catch(() => undefined) : undefined;
      const base = this.#publicUrl();
      const ctx: SnapshotContext = {
        content: this.#content, signer: this.#signer, log: this.#log.child({ remote: remote.name }),
        snapshotsUrl: `${base}/${remote.name}/@SNAPSHOTID@/`,
        ...(previous ? { previous } : {}),
        signal: lease.signal,
        onFile: (_path, n) => {
          // a lost lease stops the run at the next file: another holder may be running by now
          lease.signal.throwIfAborted();
          files++; bytes += n; opts.onProgress?.({ files, bytes });
        },
      };
      const result = await untilAborted(source.snapshot(ctx), lease.signal);
      // The timestamp is taken at publication, not at the start: a time that resolves to an earlier
      // checkpoint must never later resolve to this one (a pinned build would change under its feet).
      const now = new Date();
      const ts = nextUniqueCheckpointTime((await this.#catalogue.list(remote.name)).map((e) => e.ts), now);
      const manifest: CheckpointManifest = {
        version: 1, remote: remote.name, type: remote.type, ts, createdAt: now.toISOString(), signer: this.#signer.fingerprint,
        ...result.fields,
        ...(result.packages !== undefined ? { packages: result.packages } : {}),
      };
      // The manifest blob is written last; the catalogue write that follows is what publishes it.
      const blob = await this.#content.storeBytes(Buffer.from(JSON.stringify(manifest)));
      const entry: CatalogueEntry = { ts, manifest: blob.sha256, createdAt: manifest.createdAt, files, bytes };
      // Publishing is the irreversible step: only with the lease confirmed a full term ahead.
      await lease.confirm();
      const dropped = await this.#catalogue.publish(remote.name, entry, keep);
      this.#log.info('checkpoint published', { remote: remote.name, ts, files, bytes, ms: Date.now() - started, dropped: dropped.map((d) => d.ts) });
      return entry;
    } catch (err) {
      const e = isRepointError(err) ? err : new RepointError('CHECKPOINT_FAILED', (err as Error).message, {}, { cause: err });
      this.#log.error('checkpoint failed; nothing published, the previous checkpoint stays', { remote: remote.name, code: e.code, reason: e.message });
      throw e;
    }
  }
}

/** Names this process in a lease, for "already running (pid 123 on host-a)". */
function processOwner(): string {
  return `pid ${process.pid} on ${hostnameOf()}`;
}

/** `work`, or the signal's reason as soon as it aborts (the work is left to notice the signal itself). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

