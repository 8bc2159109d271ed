import { Worker } from 'node:worker_threads';
import { RepointError } from '../errors.ts';

// CommonJS source run with eval (as wal-checkpointer.ts): no TypeScript loader needed in the thread.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { statSync } = require('node:fs');
parentPort.on('message', ({ id, paths }) => {
  const sizes = new Float64Array(paths.length);
  try {
    for (let i = 0; i < paths.length; i++) {
      const s = statSync(paths[i], { throwIfNoEntry: false });
      sizes[i] = s === undefined ? -1 : s.size;
    }
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message), code: err && err.code });
    return;
  }
  parentPort.postMessage({ id, sizes }, [sizes.buffer]);
});
`;

interface Reply {
  id: number;
  sizes?: Float64Array;
  error?: string;
  code?: string;
}

interface Waiting {
  resolve: (sizes: Array<number | undefined>) => void;
  reject: (err: unknown) => void;
}

/**
 * File sizes looked up on a thread of their own, a list at a time: an export stats every package it
 * lists (63,440 for a Debian suite, ~0.5 s of system calls), and on this thread they run while the
 * main thread goes on parsing the indexes. One list is one message each way, so unlike the libuv
 * pool there is no round trip per file. The thread starts at first use and never keeps the process
 * alive while idle.
 */
export class StatWorker {
  #worker: Worker | undefined;
  #closed = false;
  #next = 0;
  readonly #waiting = new Map<number, Waiting>();

  /** The size of each file (undefined when missing); a failure other than "missing" rejects. */
  sizes(paths: readonly string[]): Promise<Array<number | undefined>> {
    if (this.#closed) return Promise.reject(new RepointError('INTERNAL', 'the blob store was closed'));
    if (paths.length === 0) return Promise.resolve([]);
    const worker = this.#start();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) worker.ref();
      worker.postMessage({ id, paths });
    });
  }

  /** Stops the thread; what waits fails, and so does any look-up from now on (no new thread). */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) {
      worker.ref(); // an unref'd thread's exit would not keep the process up until close() (and what follows it) ran
      await worker.terminate();
    }
    this.#failAll(new RepointError('INTERNAL', 'the blob store was closed'));
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER, { eval: true });
    worker.unref();
    worker.on('message', (r: Reply) => this.#settle(r));
    worker.on('error', (err) => this.#lost(worker, err));
    worker.on('exit', (code) => this.#lost(worker, new RepointError('INTERNAL', `the stat thread exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }

  #settle(r: Reply): void {
    const w = this.#waiting.get(r.id);
    this.#waiting.delete(r.id);
    if (this.#waiting.size === 0) this.#worker?.unref();
    if (!w) return;
    if (r.sizes) w.resolve(Array.from(r.sizes, (s) => (s < 0 ? undefined : s)));
    else w.reject(new RepointError('STORAGE_FAILED', `stat failed: ${r.error ?? 'unknown error'}`, r.code ? { code: r.code } : {}));
  }

  /** The thread died (a crash, not close()): what waited fails, and the next call starts a new thread. */
  #lost(worker: Worker, err: unknown): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#failAll(err);
  }

  #failAll(err: unknown): void {
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}
