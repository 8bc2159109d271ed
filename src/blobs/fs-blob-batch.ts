import { createHash, type Hash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { RepointError } from '../errors.ts';
import type { BlobBatch, BlobBatchEntry, BulkBlobAccess } from './blob-store.ts';
import { assertSha256Hex } from './blob-paths.ts';
import { errCode } from './fs-durable.ts';
import { asyncOps, syncFileSystem, syncOps, type FileOps } from './fs-bulk-ops.ts';
import type { StatWorker } from './stat-worker.ts';

/** What the store lends a batch. */
export interface FsStoreHooks {
  /** A new owner-named temp path (removable by the sweep once this process is gone). */
  tempPath(): string;
  /** Runs the link under the store's recount gate and counts a fresh blob. */
  counted(sha256: string, size: number, link: () => Promise<boolean>): Promise<unknown>;
  /** Temp files in use (the sweep skips them); removed when done. */
  active: Set<string>;
}

interface FsBatchHooks extends FsStoreHooks {
  ops: FileOps;
  /** The store directory (the filesystem the barrier flushes). */
  dir: string;
  blobPath(sha256: string): string;
}

/** FsBlobStore.bulk: `store()` asserts the store is writable and lends what a batch needs. */
export function fsBulkAccess(dir: string, sync: boolean, stats: StatWorker, store: () => FsStoreHooks): BulkBlobAccess {
  const ops = sync ? syncOps : asyncOps;
  const root = join(dir, 'sha256');
  const path = (sha256: string): string => {
    assertSha256Hex(sha256);
    return `${root}/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`; // blobPath, without join's normalising per blob
  };
  const missing = (sha256: string) => (err: unknown): never => {
    if (errCode(err) === 'ENOENT') throw new RepointError('NOT_FOUND', `blob ${sha256} is not in the store`);
    throw err;
  };
  return {
    size: (sha256) => ops.size(path(sha256)),
    sizes: async (sha256s) => stats.sizes(sha256s.map(path)), // async: a bad name rejects (BAD_PATH)
    readSmall: (sha256, max, size) => ops.readSmall(path(sha256), size !== undefined && size <= max ? size : max, size !== undefined).catch(missing(sha256)),
    readInto: (sha256, target) => ops.readInto(path(sha256), target).catch(missing(sha256)),
    // synchronous in a CLI command too: one thread creating files beats several contending for the same directories and journal
    createBatch: () => new FsBlobBatch({ ...store(), ops, dir, blobPath: path }),
  };
}

interface Pending {
  temp: string;
  sha256: string;
  size: number;
}

/** Blobs up to this size are gathered in memory and written in the background; larger ones stream to their temp file. */
const SMALL = 1 << 20;
/** File jobs in flight: file creation waits on the journal, so overlapping them hides that latency. */
const IN_FLIGHT = 16;

/**
 * Blobs written in bulk (an import): each is hashed, written to its own temp file, and waits.
 * flush() makes every waiting temp file durable with one barrier, then links each under its sha256.
 * So, as with a single writer, a blob is visible only complete, verified and durable; what a batch
 * saves is one fsync (a journal commit) and a directory fsync per blob, and the wait for each file
 * call (small blobs are written IN_FLIGHT at a time, memory bounded by IN_FLIGHT * SMALL). close()
 * adds the barrier that makes the links themselves durable: call it before anything that points at
 * the blobs is published.
 */
export class FsBlobBatch implements BlobBatch {
  readonly #h: FsBatchHooks;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  readonly #jobs = new Set<Promise<void>>();
  #failure: unknown;
  /** Directories whose entries changed since the last barrier (fsynced one by one where syncfs is missing). */
  #touched = new Set<string>();
  /**
   * Fan-out directories (by their 4 hex digits) that exist: a bit each, read once (256 directory
   * listings), so a blob whose directory is missing needs no stat to be known absent and its link no
   * directory check. Another process may add directories meanwhile: link() then finds the blob (EEXIST).
   */
  #leaves: Promise<Uint8Array> | undefined;

  constructor(hooks: FsBatchHooks) {
    this.#h = hooks;
  }

  get pending(): { count: number; bytes: number } {
    return { count: this.#pending.length, bytes: this.#pendingBytes };
  }

  async contains(sha256: string): Promise<boolean> {
    const path = this.#h.blobPath(sha256);
    if (!isSet(await this.#leafBits(), fanOut(sha256))) return false;
    return (await this.#h.ops.size(path)) !== undefined;
  }

  #leafBits(): Promise<Uint8Array> {
    this.#leaves ??= (async () => {
      const bits = new Uint8Array(65536 / 8);
      const root = join(this.#h.dir, 'sha256');
      for (let ab = 0; ab < 256; ab++) {
        const hex = ab.toString(16).padStart(2, '0');
        for (const cd of await this.#h.ops.list(`${root}/${hex}`)) if (/^[0-9a-f]{2}$/.test(cd)) setBit(bits, fanOut(hex + cd));
      }
      return bits;
    })();
    return this.#leaves;
  }

  async add(expectSha256: string, size: number, opts: { callerVerifies?: boolean } = {}): Promise<BlobBatchEntry> {
    this.#h.blobPath(expectSha256); // validates the name before any file exists
    if (this.#failure !== undefined) throw this.#failure;
    const temp = this.#h.tempPath();
    const { ops } = this.#h;
    const small = size <= SMALL;
    const fd = small ? undefined : await ops.create(temp);
    this.#h.active.add(temp);
    const hash: Hash | undefined = opts.callerVerifies ? undefined : createHash('sha256');
    const chunks: Uint8Array[] = [];
    let got = 0;
    let state: 'open' | 'done' = 'open';
    const discard = async (): Promise<void> => {
      if (state === 'done') return;
      state = 'done';
      if (fd !== undefined) {
        await ops.close(fd).catch(() => {});
        await ops.unlink(temp).catch(() => {});
      }
      this.#h.active.delete(temp);
    };
    const waiting = (): void => {
      this.#pending.push({ temp, sha256: expectSha256, size: got });
      this.#pendingBytes += got;
    };
    return {
      write: async (chunk) => {
        if (state !== 'open') throw new RepointError('INTERNAL', 'blob batch entry is closed');
        hash?.update(chunk);
        got += chunk.byteLength;
        if (fd !== undefined) await ops.write(fd, chunk);
        else if (got > SMALL) throw new RepointError('INTERNAL', `blob ${expectSha256} is larger than the ${size} bytes announced`);
        else chunks.push(chunk);
      },
      finish: async () => {
        if (state !== 'open') throw new RepointError('INTERNAL', 'blob batch entry is closed');
        const actual = hash ? hash.digest('hex') : expectSha256;
        if (actual !== expectSha256 || got !== size) {
          await discard();
          const what = actual !== expectSha256 ? `sha256 mismatch: expected ${expectSha256}, got ${actual}` : `size mismatch: ${expectSha256} announced ${size} bytes, got ${got}`;
          throw new RepointError('UPSTREAM_DIGEST_MISMATCH', what, { expected: expectSha256, actual, size: got });
        }
        state = 'done';
        if (fd !== undefined) {
          await ops.close(fd);
          waiting();
          return;
        }
        await this.#run(async () => {
          const out = await ops.create(temp);
          try {
            for (const c of chunks) await ops.write(out, c);
          } finally {
            await ops.close(out);
          }
          waiting();
        }, async () => {
          await ops.unlink(temp).catch(() => {});
          this.#h.active.delete(temp);
        });
      },
      abort: discard,
    };
  }

  /** Waiting blobs become durable (one barrier), then visible under their sha256. */
  async flush(): Promise<void> {
    await this.#settle();
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      await this.#barrier(batch.map((p) => p.temp));
      for (const p of batch) await this.#run(() => this.#place(p), async () => {});
      await this.#settle();
    } catch (err) {
      await this.#settle().catch(() => {});
      await this.#remove(batch);
      throw err;
    }
  }

  /**
   * One barrier for `files` and for the links made since the last one (a later barrier covers them),
   * so what the batch remembers is bounded by one batch.
   */
  async #barrier(files: readonly string[]): Promise<void> {
    const dirs = this.#touched;
    this.#touched = new Set();
    await syncFileSystem(this.#h.dir, [...files, ...dirs], this.#h.ops);
  }

  async #place(p: Pending): Promise<void> {
    const target = this.#h.blobPath(p.sha256);
    await this.#h.counted(p.sha256, p.size, () => this.#linkInto(p.temp, target, p.sha256));
    this.#touched.add(dirname(target));
    this.#h.active.delete(p.temp);
  }

  /** Runs a file job in the background, at most IN_FLIGHT at once; the first failure is thrown by the next call. */
  async #run(job: () => Promise<void>, undo: () => Promise<void>): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const p: Promise<void> = job().catch(async (err: unknown) => {
      this.#failure ??= err;
      await undo();
    }).finally(() => this.#jobs.delete(p));
    this.#jobs.add(p);
    if (this.#jobs.size >= IN_FLIGHT) await Promise.race(this.#jobs);
  }

  async #settle(): Promise<void> {
    while (this.#jobs.size > 0) await Promise.all(this.#jobs);
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** flush(), then a barrier that makes every link (and new directory) durable. */
  async close(): Promise<void> {
    await this.flush();
    if (this.#touched.size > 0) await this.#barrier([]);
  }

  /** Discards what is waiting; flushed blobs stay (entries being written are aborted by their writer). */
  async abort(): Promise<void> {
    await this.#settle().catch(() => {});
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#remove(batch);
  }

  async #remove(batch: readonly Pending[]): Promise<void> {
    for (const p of batch) {
      await this.#h.ops.unlink(p.temp).catch((err: unknown) => {
        if (errCode(err) !== 'ENOENT') throw err;
      });
      this.#h.active.delete(p.temp);
    }
  }

  /**
   * link() never replaces: a concurrent writer of the same content wins and is counted once. The
   * fan-out directory is checked once per batch (a bit per directory), and made when missing.
   */
  async #linkInto(temp: string, target: string, sha256: string): Promise<boolean> {
    const { ops } = this.#h;
    const leaf = dirname(target);
    const bits = await this.#leafBits();
    const fan = fanOut(sha256);
    const made = async (): Promise<void> => {
      if (await ops.mkdirp(leaf)) this.#touched.add(dirname(leaf)).add(dirname(dirname(leaf)));
      setBit(bits, fan);
    };
    if (!isSet(bits, fan)) await made();
    let fresh = true;
    try {
      await ops.link(temp, target).catch(async (err: unknown) => {
        if (errCode(err) !== 'ENOENT') throw err;
        await made(); // removed since it was listed (by another process sharing the store)
        await ops.link(temp, target);
      });
    } catch (err) {
      const code = errCode(err);
      if (code === 'EEXIST') fresh = false;
      else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
        fresh = (await ops.size(target)) === undefined;
        await ops.rename(temp, target);
        return fresh;
      } else throw err;
    }
    await ops.unlink(temp);
    return fresh;
  }
}

/** A blob's fan-out directory as a number: its first four hex digits. */
function fanOut(sha256: string): number {
  return Number.parseInt(sha256.slice(0, 4), 16);
}

function isSet(bits: Uint8Array, i: number): boolean {
  return (bits[i >> 3]! & (1 << (i & 7))) !== 0;
}

function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3]! |= 1 << (i & 7);
}
