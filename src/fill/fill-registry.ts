import type { BlobInfo, BlobStore } from '../blobs/blob-store.ts';
import type { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { Fill, type FillSpec } from './fill.ts';

/** Single flight: at most one Fill per key in this process; followers join the running one. */
export class FillRegistry {
  #fills = new Map<string, Fill>();
  #blobs: BlobStore;
  #log: Logger;
  #onCommitted: (spec: FillSpec, blob: BlobInfo) => Promise<void>;

  /** limits.maxFileSize, for specs that set none. */
  #maxFileSize: number | undefined;

  constructor(blobs: BlobStore, log: Logger, onCommitted: (spec: FillSpec, blob: BlobInfo) => Promise<void> = async () => {}, maxFileSize?: number) {
    this.#maxFileSize = maxFileSize;
    this.#blobs = blobs;
    this.#log = log;
    this.#onCommitted = onCommitted;
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
    const fill = new Fill(spec.maxSize === undefined && this.#maxFileSize !== undefined ? { ...spec, maxSize: this.#maxFileSize } : spec, this.#blobs, this.#log);
    this.#fills.set(spec.key, fill);
    fill.done.then(
      (blob) => void this.#onCommitted(spec, blob).catch((err: Error) => this.#log.error('post-commit hook failed', { key: spec.key, reason: err.message })),
      () => {},
    ).finally(() => {
      if (this.#fills.get(spec.key) === fill) this.#fills.delete(spec.key);
    });
    return { fill, joined: false };
  }
}
