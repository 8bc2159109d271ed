import { createReadStream } from 'node:fs';
import { mkdir, open, opendir, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { RepointError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { DEFAULT_READ_ALL_MAX, type BlobInfo, type BlobStore, type BlobWriter, type BulkBlobAccess, type ByteRange } from './blob-store.ts';
import { assertByteRange, blobPath } from './blob-paths.ts';
import { isEmptyDir, listBlobs, listPart } from './fs-blob-list.ts';
import { BlobTotals, type TotalsSnapshot } from './blob-totals.ts';
import { errCode, fsyncDir, linkInto } from './fs-durable.ts';
import { FsBlobWriter } from './fs-blob-writer.ts';
import { storageError } from './storage-error.ts';
import { fsBulkAccess } from './fs-blob-batch.ts';
import { RecountGate } from './recount-gate.ts';
import { StatWorker } from './stat-worker.ts';
import { currentProcess, newInstanceId, ownerVerdict, parseTempName, systemProbe, tempName, type ProcessProbe } from './temp-owner.ts';

export interface FsBlobStoreOptions {
  /** Debounce for persisting totals.json (default 1000 ms). */
  totalsFlushMs?: number;
  logger?: Logger;
  /**
   * Open for reading only (`checkpoint list`, `gc --dry-run`): nothing is created, totals.json is not
   * rewritten, no temp file is removed, and writes are refused.
   */
  readOnly?: boolean;
  /** A temp file untouched this long is removed even when its owner cannot be checked (default 24 h). */
  tempMaxAgeMs?: number;
  /** How other processes are looked at (tests replace it). */
  probe?: ProcessProbe;
}

const DEFAULT_TEMP_MAX_AGE_MS = 24 * 3600_000;

/**
 * Store instances open in this process, by instance id: a temp file of this process whose instance
 * is not here was left by an instance that closed (or a test's simulated crash). It is a fact about
 * this process, like its pid, so it lives with the process, not with one store.
 */
const openInstances = new Set<string>();

const READ_HIGH_WATER_MARK = 256 * 1024;

/**
 * Content-addressed blobs on a local filesystem:
 *   <dir>/sha256/<ab>/<cd>/<hex>   committed, immutable
 *   <dir>/tmp/<owner>.part         being written (same filesystem, so link/rename is atomic); the name
 *                                  says which process wrote it (temp-owner.ts), so only abandoned ones
 *                                  are removed, never another live process's download
 *   <dir>/totals.json              running count/bytes (see BlobTotals)
 */
export class FsBlobStore implements BlobStore {
  readonly dir: string;
  readonly #tmpDir: string;
  readonly #active = new Set<string>();
  readonly #totals: BlobTotals;
  readonly #readOnly: boolean;
  readonly #tempMaxAgeMs: number;
  readonly #probe: ProcessProbe;
  readonly #self = currentProcess();
  readonly #instance = newInstanceId();
  /** Bulk size look-ups (an export's listing), on a thread started at first use. */
  readonly #stats = new StatWorker();
  /** Set while a background recount walks the tree. */
  #gate: RecountGate | undefined;

  private constructor(dir: string, totals: BlobTotals, opts: FsBlobStoreOptions) {
    this.dir = dir;
    this.#tmpDir = join(dir, 'tmp');
    this.#totals = totals;
    this.#readOnly = opts.readOnly ?? false;
    this.#tempMaxAgeMs = opts.tempMaxAgeMs ?? DEFAULT_TEMP_MAX_AGE_MS;
    this.#probe = opts.probe ?? systemProbe;
    if (!this.#readOnly) openInstances.add(this.#instance);
  }

  static async open(dir: string, opts: FsBlobStoreOptions = {}): Promise<FsBlobStore> {
    if (!opts.readOnly) {
      await mkdir(join(dir, 'sha256'), { recursive: true });
      await mkdir(join(dir, 'tmp'), { recursive: true });
    }
    const totals = await BlobTotals.open(join(dir, 'totals.json'), {
      storeIsEmpty: await isEmptyDir(join(dir, 'sha256')),
      flushDelayMs: opts.totalsFlushMs,
      logger: opts.logger ?? silentLogger,
      ...(opts.readOnly ? { readOnly: true } : {}),
    });
    const store = new FsBlobStore(dir, totals, opts);
    if (totals.needsRecount && !opts.readOnly) store.#startRecount();
    return store;
  }

  async stat(sha256: string): Promise<BlobInfo | undefined> {
    const path = blobPath(this.dir, sha256);
    try {
      const st = await stat(path);
      return { sha256, size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      if (errCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  open(sha256: string, range?: ByteRange): Readable {
    const path = blobPath(this.dir, sha256);
    assertByteRange(range);
    return createReadStream(path, { highWaterMark: READ_HIGH_WATER_MARK, start: range?.start, end: range?.end });
  }

  async readAll(sha256: string, maxBytes = DEFAULT_READ_ALL_MAX): Promise<Buffer> {
    const path = blobPath(this.dir, sha256);
    let fh;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if (errCode(err) === 'ENOENT') throw new RepointError('NOT_FOUND', `blob ${sha256} is not in the store`);
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) throw new RepointError('INTERNAL', `blob ${sha256} has ${size} bytes, more than the ${maxBytes} allowed here`);
      // Blobs never change, so the size is exact: positional reads of it, without readFile's extra
      // fstat and end-of-file read (bundles read tens of thousands of small blobs).
      const buf = Buffer.allocUnsafe(size);
      let off = 0;
      while (off < size) {
        const { bytesRead } = await fh.read(buf, off, size - off, off);
        if (bytesRead === 0) throw new RepointError('INTERNAL', `blob ${sha256} ended after ${off} of ${size} bytes`);
        off += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  /** max(atime, mtime): mtime may be upstream's (older) Last-Modified, atime is set at commit. */
  async lastAccess(sha256: string): Promise<number | undefined> {
    try {
      const st = await stat(blobPath(this.dir, sha256));
      return Math.max(st.atimeMs, st.mtimeMs);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async createWriter(): Promise<BlobWriter> {
    this.#assertWritable();
    const tempPath = join(this.#tmpDir, tempName({ ...this.#self, instance: this.#instance }));
    // 'ax': append-only, and fail rather than share a file if the name ever collided
    const fh = await open(tempPath, 'ax').catch((err: unknown) => Promise.reject(storageError(err, 'creating a temp file')));
    this.#active.add(tempPath);
    return new FsBlobWriter(fh, tempPath, {
      place: (t, sha, size) => this.#place(t, sha, size),
      onDone: (t) => this.#active.delete(t),
      committedPath: (sha) => blobPath(this.dir, sha),
    });
  }

  /** Bulk access for export and import (fs-blob-batch.ts). */
  bulk(opts: { sync: boolean }): BulkBlobAccess {
    return fsBulkAccess(this.dir, opts.sync, this.#stats, () => {
      this.#assertWritable();
      return {
        active: this.#active,
        tempPath: () => join(this.#tmpDir, tempName({ ...this.#self, instance: this.#instance })),
        counted: (sha256, size, link) => this.#change(sha256, link, (fresh, walked) => void (fresh && this.#totals.add(size, walked))),
      };
    });
  }

  async delete(sha256: string): Promise<boolean> {
    const path = blobPath(this.dir, sha256);
    this.#assertWritable();
    const removed = await this.#change(sha256, async () => {
      try {
        const st = await stat(path);
        await unlink(path);
        return st.size;
      } catch (err) {
        if (errCode(err) === 'ENOENT') return undefined;
        throw err;
      }
    }, (size, walked) => {
      if (size !== undefined) this.#totals.remove(size, walked);
    });
    return removed !== undefined;
  }

  list(): AsyncIterable<BlobInfo> {
    return listBlobs(this.dir);
  }

  /**
   * Deletes temp files proven abandoned: their writer process is gone (checkable on this host), or they
   * were not written to for tempMaxAge. Another live process's downloads (a serving node while a CLI
   * command runs, another node on a shared volume) are left alone. Cheap: one readdir, a stat and a
   * /proc read per temp file; run at start-up and periodically.
   */
  async removeTempFiles(): Promise<number> {
    if (this.#readOnly) return 0;
    let removed = 0;
    const now = Date.now();
    for await (const f of await opendir(this.#tmpDir)) {
      const path = join(this.#tmpDir, f.name);
      if (this.#active.has(path)) continue;
      try {
        if (!(await this.#abandoned(f.name, path, now))) continue;
        await unlink(path);
        removed++;
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err; // committed or removed meanwhile
      }
    }
    return removed;
  }

  async #abandoned(name: string, path: string, now: number): Promise<boolean> {
    const owner = parseTempName(name);
    if (owner && ownerVerdict(owner, this.#self, openInstances, this.#probe) === 'gone') return true;
    return now - (await stat(path)).mtimeMs >= this.#tempMaxAgeMs;
  }

  totals(): Promise<{ count: number; bytes: number }> {
    return this.#totals.get();
  }

  /** Persists totals marked clean, so the next open trusts them without a walk. */
  async close(): Promise<void> {
    openInstances.delete(this.#instance);
    await this.#stats.close();
    await this.#totals.close();
  }

  #assertWritable(): void {
    if (this.#readOnly) throw new RepointError('INTERNAL', `blob store ${this.dir} was opened read-only`);
  }

  async #place(tempPath: string, sha256: string, size: number): Promise<BlobInfo> {
    const target = blobPath(this.dir, sha256);
    const leaf = dirname(target);
    const created = await mkdir(leaf, { recursive: true });
    if (created !== undefined) {
      // new fan-out directories must be durable too, or the blob's entry can vanish with them
      await fsyncDir(dirname(leaf));
      await fsyncDir(dirname(dirname(leaf)));
    }
    await this.#change(sha256, () => linkInto(tempPath, target), (fresh, walked) => {
      if (fresh) this.#totals.add(size, walked);
    });
    await fsyncDir(leaf);
    const st = await stat(target);
    return { sha256, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** Runs a file change and counts it (`apply`, synchronously) under the recount gate. */
  async #change<T>(sha256: string, change: () => Promise<T>, apply: (result: T, walked: boolean) => void): Promise<T> {
    const leave = this.#gate ? await this.#gate.enter(sha256.slice(0, 2)) : () => true;
    let result: T;
    try {
      result = await change();
    } catch (err) {
      leave();
      throw err;
    }
    apply(result, leave());
    return result;
  }

  #startRecount(): void {
    const gate = new RecountGate();
    this.#gate = gate;
    const root = join(this.dir, 'sha256');
    this.#totals.startRecount(async () => {
      const sum: TotalsSnapshot = { count: 0, bytes: 0 };
      try {
        for (let i = 0; i < 256; i++) {
          const ab = i.toString(16).padStart(2, '0');
          await gate.walk(ab, async () => {
            for await (const b of listPart(root, ab)) {
              sum.count++;
              sum.bytes += b.size;
            }
          });
        }
        return sum;
      } finally {
        gate.finish();
        this.#gate = undefined;
      }
    });
  }

}
