import type { Config, RemoteConfig } from '../config/types.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { SingleFlight } from '../fill/single-flight.ts';
import { nextUniqueCheckpointTime } from '../formats/checkpoint-time.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { lockNames } from '../state/keys.ts';
import type { Signer } from '../trust/signer.ts';
import type { Catalogue } from './catalogue.ts';
import type { CheckpointSource, SnapshotContext } from './checkpoint-source.ts';
import type { CatalogueEntry, CheckpointManifest } from './manifest.ts';

export interface CreateOptions {
  /** Called as files are stored (a CLI shows it on the terminal). */
  onProgress?: (p: { files: number; bytes: number }) => void;
}

const LOCK_TTL_MS = 6 * 3600_000;

/** Creates and retires checkpoints. One run at a time per remote, in-process and across nodes. */
export class CheckpointService {
  readonly #config: Config;
  readonly #content: ContentService;
  readonly #catalogue: Catalogue;
  readonly #signer: Signer;
  readonly #sources: ReadonlyMap<string, CheckpointSource>;
  readonly #log: Logger;
  readonly #publicUrl: () => string;
  readonly #running = new SingleFlight<CatalogueEntry>();

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

  /** A second request while one runs joins it. */
  create(name: string, opts: CreateOptions = {}): Promise<CatalogueEntry> {
    const target = this.#remote(name);
    return this.#running.run(name, () => this.#create(target.remote, target.source, target.keep, opts));
  }

  async #create(remote: RemoteConfig, source: CheckpointSource, keep: number, opts: CreateOptions): Promise<CatalogueEntry> {
    const release = await this.#content.state.tryLock(lockNames.checkpoint(remote.name), LOCK_TTL_MS);
    if (!release) throw new RepointError('CHECKPOINT_FAILED', `another node is creating a checkpoint of ${remote.name}`);
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
        onFile: (_path, n) => { files++; bytes += n; opts.onProgress?.({ files, bytes }); },
      };
      const result = await source.snapshot(ctx);
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
      const dropped = await this.#catalogue.publish(remote.name, entry, keep);
      this.#log.info('checkpoint published', { remote: remote.name, ts, files, bytes, ms: Date.now() - started, dropped: dropped.map((d) => d.ts) });
      return entry;
    } catch (err) {
      const e = isRepointError(err) ? err : new RepointError('CHECKPOINT_FAILED', (err as Error).message, {}, { cause: err });
      this.#log.error('checkpoint failed; nothing published, the previous checkpoint stays', { remote: remote.name, code: e.code, reason: e.message });
      throw e;
    } finally {
      await release();
    }
  }
}
