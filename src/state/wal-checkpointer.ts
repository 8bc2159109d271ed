import { Worker } from 'node:worker_threads';

/** Rows written between two checkpoint requests (SQLite's own auto-checkpoint is 1000 pages, ~4 MB). */
export const CHECKPOINT_EVERY_ROWS = 2000;

/** What one PRAGMA wal_checkpoint(PASSIVE) reported. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

// Plain JS (an eval'd worker is CommonJS). PASSIVE never waits for and never blocks the writer.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { timeout: 0 });
const stmt = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try { parentPort.postMessage({ ok: true, result: stmt.get() }); } catch (e) { parentPort.postMessage({ ok: false, error: String(e) }); }
});`;

interface Reply { ok: boolean; result?: CheckpointResult; error?: string }

/**
 * Checkpoints a WAL-mode sqlite file from a worker thread. SQLite's auto-checkpoint runs inside the
 * COMMIT that crosses its threshold, on the event loop: copying ~4 MB into the database and fsyncing it
 * held the loop 30–40 ms on an idle disk and far more on a busy one during a 50 MB index ingest
 * (issue 8, finding 2). The owner turns auto-checkpoint off and calls `wrote()` after each write; every
 * CHECKPOINT_EVERY_ROWS rows a checkpoint is requested (one at a time), started lazily so stores that
 * write little never start a thread. A failure is retried at the next request; if the worker itself
 * fails, `onFailure` lets the owner fall back to SQLite's auto-checkpoint.
 */
export class WalCheckpointer {
  readonly #path: string;
  readonly #onFailure: (err: unknown) => void;
  #worker: Worker | undefined;
  #rows = 0;
  #running: Promise<CheckpointResult | undefined> | undefined;
  #closed = false;
  #done = 0;

  constructor(path: string, onFailure: (err: unknown) => void) {
    this.#path = path;
    this.#onFailure = onFailure;
  }

  /** Checkpoints completed so far. */
  get completed(): number {
    return this.#done;
  }

  wrote(rows: number): void {
    this.#rows += rows;
    if (this.#rows < CHECKPOINT_EVERY_ROWS || this.#running || this.#closed) return;
    this.#rows = 0;
    void this.checkpoint();
  }

  /** Runs a checkpoint now (or joins the running one); undefined when it failed or the checkpointer closed. */
  checkpoint(): Promise<CheckpointResult | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    this.#running ??= this.#run().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  #run(): Promise<CheckpointResult | undefined> {
    const worker = this.#start();
    return new Promise((resolve) => {
      const onMessage = (m: Reply): void => {
        worker.off('error', onError);
        if (m.ok && m.result) this.#done++;
        resolve(m.ok ? m.result : undefined);
      };
      const onError = (err: unknown): void => {
        worker.off('message', onMessage);
        this.#fail(err);
        resolve(undefined);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage('checkpoint');
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER, { eval: true, workerData: { path: this.#path } });
    worker.unref(); // never keeps the process alive
    this.#worker = worker;
    return worker;
  }

  #fail(err: unknown): void {
    this.#closed = true;
    this.#worker = undefined;
    this.#onFailure(err);
  }

  /** Stops the thread; a final checkpoint is SQLite's own, when the last connection closes. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref(); // keep the process up until the thread has closed its connection
    worker.postMessage('close');
    await exited;
  }
}
