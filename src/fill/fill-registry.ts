import type { BlobInfo, BlobStore } from '../blobs/blob-store.ts';
import type { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ClusterFlight } from './cluster-flight.ts';
import { Fill, type FillSpec } from './fill.ts';

/** Single flight: at most one Fill per key in this process; followers join the running one. */
export class FillRegistry {
  #fills = new Map<string, Fill>();
  #blobs: BlobStore;
  #log: Logger;
  #onCommitted: (spec: FillSpec, blob: BlobInfo) => Promise<void>;
  #cluster: ClusterFlight | undefined;

  /** limits.maxFileSize, for specs that set none. */
  #maxFileSize: number | undefined;

  constructor(blobs: BlobStore, log: Logger, onCommitted: (spec: FillSpec, blob: BlobInfo) => Promise<void> = async () => {}, maxFileSize?: number) {
    this.#maxFileSize = maxFileSize;
    this.#blobs = blobs;
    this.#log = log;
    this.#onCommitted = onCommitted;
  }

  /** Coordinate fills with other nodes (a shared Redis state): one upstream download per cluster. */
  useCluster(cluster: ClusterFlight): void {
    this.#cluster = cluster;
  }

  /** The running fill with this key, for followers on other nodes (the internal endpoint). */
  get(key: string): Fill | undefined {
    return this.#fills.get(key);
  }

  get active(): number {
    return this.#fills.size;
  }

  /** Stops every download in flight (shutdown); their readers error, nothing is committed. */
  abortAll(reason: RepointError): void {
    for (const fill of this.#fills.values()) fill.abort(reason);
  }

  getOrStart(spec: FillSpec): { fill: Fill; joined: boolean } {
    const running = this.#fills.get(spec.key);
    if (running) return { fill: running, joined: true };
    const limited = spec.maxSize === undefined && this.#maxFileSize !== undefined ? { ...spec, maxSize: this.#maxFileSize } : spec;
    const clustered = this.#cluster?.wrap(limited);
    const fill = new Fill(clustered?.spec ?? limited, this.#blobs, this.#log);
    this.#fills.set(spec.key, fill);
    // the lease goes only after the commit: a node electing next finds the blob stored
    const release = (): void => void clustered?.ended().catch((err: Error) => this.#log.warn('releasing a fill lease failed', { key: spec.key, reason: err.message }));
    if (clustered) fill.done.then(release, release);
    fill.done.then(
      (blob) => void this.#onCommitted(spec, blob).catch((err: Error) => this.#log.error('post-commit hook failed', { key: spec.key, reason: err.message })),
      () => {},
    ).finally(() => {
      if (this.#fills.get(spec.key) === fill) this.#fills.delete(spec.key);
    });
    return { fill, joined: false };
  }
}
