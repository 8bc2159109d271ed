import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, opendir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { RepointError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { DEFAULT_READ_ALL_MAX, type BlobInfo, type BlobStore, type BlobWriter, type ByteRange } from './blob-store.ts';
import { assertByteRange, blobPath } from './blob-paths.ts';
import { listBlobs, listPart } from './fs-blob-list.ts';
import { BlobTotals, type TotalsSnapshot } from './blob-totals.ts';
import { errCode, fsyncDir } from './fs-durable.ts';
import { FsBlobWriter } from './fs-blob-writer.ts';
import { RecountGate } from './recount-gate.ts';

export interface FsBlobStoreOptions {
  /** Debounce for persisting totals.json (default 1000 ms). */
  totalsFlushMs?: number;
  logger?: Logger;
}

const READ_HIGH_WATER_MARK = 256 * 1024;

/**
 * Content-addressed blobs on a local filesystem:
 *   <dir>/sha256/<ab>/<cd>/<hex>   committed, immutable
 *   <dir>/tmp/<unique>.part        being written (same filesystem, so link/rename is atomic)
 *   <dir>/totals.json              running count/bytes (see BlobTotals)
 */
export class FsBlobStore implements BlobStore {
  readonly dir: string;
  readonly #tmpDir: string;
  readonly #active = new Set<string>();
  readonly #totals: BlobTotals;
  /** Set while a background recount walks the tree. */
  #gate: RecountGate | undefined;

  private constructor(dir: string, totals: BlobTotals) {
    this.dir = dir;
    this.#tmpDir = join(dir, 'tmp');
    this.#totals = totals;
  }

  static async open(dir: string, opts: FsBlobStoreOptions = {}): Promise<FsBlobStore> {
    await mkdir(join(dir, 'sha256'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const totals = await BlobTotals.open(join(dir, 'totals.json'), {
      flushDelayMs: opts.totalsFlushMs,
      logger: opts.logger ?? silentLogger,
    });
    const store = new FsBlobStore(dir, totals);
    if (totals.needsRecount) store.#startRecount();
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
    const tempPath = join(this.#tmpDir, `${Date.now()}-${process.pid}-${randomUUID()}.part`);
    // 'ax': append-only, and fail rather than share a file if the name ever collided
    const fh = await open(tempPath, 'ax');
    this.#active.add(tempPath);
    return new FsBlobWriter(fh, tempPath, {
      place: (t, sha, size) => this.#place(t, sha, size),
      onDone: (t) => this.#active.delete(t),
      committedPath: (sha) => blobPath(this.dir, sha),
    });
  }

  async delete(sha256: string): Promise<boolean> {
    const path = blobPath(this.dir, sha256);
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

  /** Deletes leftover temp files; files of writers still open in this instance are kept. */
  async removeTempFiles(): Promise<number> {
    let removed = 0;
    for await (const f of await opendir(this.#tmpDir)) {
      const path = join(this.#tmpDir, f.name);
      if (this.#active.has(path)) continue;
      try {
        await unlink(path);
        removed++;
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err;
      }
    }
    return removed;
  }

  totals(): Promise<{ count: number; bytes: number }> {
    return this.#totals.get();
  }

  /** Persists totals marked clean, so the next open trusts them without a walk. */
  async close(): Promise<void> {
    await this.#totals.close();
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
    await this.#change(sha256, () => this.#linkInto(tempPath, target), (fresh, walked) => {
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

  /**
   * link() never replaces an existing name, so two downloads of the same content race safely and
   * exactly one of them counts it. Filesystems without hard links fall back to rename.
   */
  async #linkInto(tempPath: string, target: string): Promise<boolean> {
    let fresh: boolean;
    try {
      await link(tempPath, target);
      fresh = true;
    } catch (err) {
      const code = errCode(err);
      if (code === 'EEXIST') fresh = false;
      else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
        fresh = !(await exists(target));
        await rename(tempPath, target);
        return fresh;
      } else throw err;
    }
    await unlink(tempPath);
    return fresh;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw err;
  }
}
