import { readFile, unlink } from 'node:fs/promises';
import { silentLogger, type Logger } from '../log.ts';
import { errCode, writeFileAtomic } from './fs-durable.ts';

export interface TotalsSnapshot {
  count: number;
  bytes: number;
}

export interface BlobTotalsOptions {
  /** Delay before a change is persisted; changes inside the window share one write. */
  flushDelayMs?: number;
  logger?: Logger;
  /** Read the saved numbers and never write the file (read-only commands beside a running server). */
  readOnly?: boolean;
  /** The store has no blob (its fan-out directory is empty): without a saved file, 0 is exact. */
  storeIsEmpty?: boolean;
}

interface TotalsFile extends TotalsSnapshot {
  version: 1;
  /** false while a process has the store open: a crash leaves it false, which forces a recount. */
  clean: boolean;
}

/**
 * Running blob count/bytes, persisted in a small JSON file so start-up never walks the store.
 *
 * - Clean shutdown (close()) writes `clean: true`; the next open trusts the numbers as they are.
 * - Opening rewrites the file with `clean: false`. If the process dies, the file still says
 *   `clean: false` (its numbers may lag by the debounce window), so the next open serves at once
 *   with those numbers as an estimate and starts a background recount walk to correct them.
 * - A missing or unreadable file is treated the same way (estimate 0, background recount), unless the
 *   store holds no blob at all (a new store): then 0 is exact.
 * - Opened read-only (a command that only reads, beside a running server), the file is read and never
 *   written.
 * - get() waits for a running recount; serving blobs never does. A change made while the walk runs
 *   is added to the walk's result only if the walk had already passed that part of the tree (the
 *   store tells us, see RecountGate), so every change is counted exactly once.
 */
export class BlobTotals {
  readonly #file: string;
  readonly #flushDelayMs: number;
  readonly #logger: Logger;
  #count = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #writes: Promise<void> = Promise.resolve();
  #recount: Promise<void> | undefined;
  #delta: TotalsSnapshot | undefined;
  #recountFailed = false;
  #closed = false;
  readonly #readOnly: boolean;
  /** True when the saved numbers cannot be trusted (missing file, or the last run crashed). */
  readonly needsRecount: boolean;

  private constructor(file: string, opts: BlobTotalsOptions, saved: TotalsFile | undefined) {
    this.#file = file;
    // a new, empty store has nothing to walk (an import into it would otherwise race a recount of its own writes)
    this.needsRecount = saved ? !saved.clean : !opts.storeIsEmpty;
    this.#count = saved?.count ?? 0;
    this.#bytes = saved?.bytes ?? 0;
    this.#flushDelayMs = opts.flushDelayMs ?? 1000;
    this.#logger = opts.logger ?? silentLogger;
    this.#readOnly = opts.readOnly ?? false;
  }

  static async open(file: string, opts: BlobTotalsOptions = {}): Promise<BlobTotals> {
    const t = new BlobTotals(file, opts, await readTotalsFile(file));
    if (!t.#readOnly) await t.#persistOrForget(false);
    return t;
  }

  /**
   * `walked`: false when a running recount has not reached this blob's part of the tree yet, so
   * the walk will see the change itself and it must not be added to the walk's result twice.
   */
  add(bytes: number, walked = true): void {
    this.#change(1, bytes, walked);
  }

  remove(bytes: number, walked = true): void {
    this.#change(-1, -bytes, walked);
  }

  async get(): Promise<TotalsSnapshot> {
    if (this.#recount) await this.#recount;
    return { count: this.#count, bytes: this.#bytes };
  }

  /** Final write, marked clean. A running recount is awaited so its result is what gets saved. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#recount) await this.#recount;
    this.#closed = true;
    this.#clearTimer();
    await this.#persistOrForget(!this.#recountFailed);
  }

  /**
   * A full disk must not stop start-up or shutdown (issue 8, finding 11): when the file cannot be
   * written it is removed instead (unlink needs no space), so the next open recounts rather than trust
   * numbers this run no longer keeps up to date.
   */
  async #persistOrForget(clean: boolean): Promise<void> {
    try {
      await this.#persist(clean);
    } catch (err) {
      this.#logger.warn('blob totals: cannot write, removing the file so the next start recounts', { err: String(err) });
      await unlink(this.#file).catch(() => {});
    }
  }

  #change(count: number, bytes: number, walked: boolean): void {
    this.#count += count;
    this.#bytes += bytes;
    if (this.#delta && walked) {
      this.#delta.count += count;
      this.#delta.bytes += bytes;
    }
    if (!this.#timer && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#persist(false).catch((err: unknown) => this.#logger.warn('blob totals: write failed', { err: String(err) }));
      }, this.#flushDelayMs);
      this.#timer.unref();
    }
  }

  /** Runs `walk` in the background; get() and close() wait for it. */
  startRecount(walk: () => Promise<TotalsSnapshot>): void {
    if (this.#recount) return;
    const delta: TotalsSnapshot = { count: 0, bytes: 0 };
    this.#delta = delta;
    this.#recount = (async () => {
      try {
        const found = await walk();
        this.#count = found.count + delta.count;
        this.#bytes = found.bytes + delta.bytes;
        await this.#persist(false);
      } catch (err) {
        // Keep the estimate; a later open recounts again because the file stays unclean.
        this.#recountFailed = true;
        this.#logger.warn('blob totals: recount failed, keeping estimate', { err: String(err) });
      } finally {
        this.#delta = undefined;
        this.#recount = undefined;
      }
    })();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Writes are chained so two never race on the temp file; each writes the latest numbers. */
  #persist(clean: boolean): Promise<void> {
    if (this.#readOnly) return Promise.resolve();
    const next = this.#writes.then(() => {
      const body: TotalsFile = { version: 1, count: this.#count, bytes: this.#bytes, clean };
      return writeFileAtomic(this.#file, JSON.stringify(body) + '\n');
    });
    this.#writes = next.catch(() => {});
    return next;
  }
}

async function readTotalsFile(file: string): Promise<TotalsFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return undefined;
    const rec = v as Record<string, unknown>;
    const { count, bytes, clean } = rec;
    if (rec['version'] !== 1 || !isCount(count) || !isCount(bytes) || typeof clean !== 'boolean') return undefined;
    return { version: 1, count, bytes, clean };
  } catch {
    return undefined;
  }
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
