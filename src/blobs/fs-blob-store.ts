import { randomUUID } from 'node:crypto';
import { createReadStream, type Dirent } from 'node:fs';
import { link, mkdir, open, opendir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { RepointError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { BlobInfo, BlobStore, BlobWriter, ByteRange } from './blob-store.ts';
import { blobPath, isSha256Hex } from './blob-paths.ts';
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
const FAN_OUT = /^[0-9a-f]{2}$/;

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

  filePath(sha256: string): string {
    return blobPath(this.dir, sha256);
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

  createReadStream(sha256: string, range?: ByteRange): Readable {
    const path = blobPath(this.dir, sha256);
    if (range && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
      throw new RepointError('BAD_RANGE', `invalid byte range ${range.start}-${range.end}`);
    }
    return createReadStream(path, { highWaterMark: READ_HIGH_WATER_MARK, start: range?.start, end: range?.end });
  }

  async readAll(sha256: string, maxBytes = 64 * 2 ** 20): Promise<Buffer> {
    const info = await this.stat(sha256);
    if (!info) throw new RepointError('NOT_FOUND', `blob ${sha256} is not in the store`);
    if (info.size > maxBytes) throw new RepointError('UPSTREAM_TOO_LARGE', `blob ${sha256} is larger than ${maxBytes} bytes`);
    return readFile(blobPath(this.dir, sha256));
  }

  async createWriter(): Promise<BlobWriter> {
    const tempPath = join(this.#tmpDir, `${Date.now()}-${process.pid}-${randomUUID()}.part`);
    // 'ax': append-only, and fail rather than share a file if the name ever collided
    const fh = await open(tempPath, 'ax');
    this.#active.add(tempPath);
    return new FsBlobWriter(fh, tempPath, (t, sha, size) => this.#place(t, sha, size), (t) => this.#active.delete(t));
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

/** Walks the fan-out tree with opendir, one directory handle per level: memory stays bounded. */
export async function* listBlobs(dir: string): AsyncIterable<BlobInfo> {
  const root = join(dir, 'sha256');
  for await (const ab of await opendir(root)) {
    if (ab.isDirectory() && FAN_OUT.test(ab.name)) yield* listPart(root, ab.name);
  }
}

/** Every blob under `<root>/<ab>/`. */
async function* listPart(root: string, ab: string): AsyncIterable<BlobInfo> {
  for await (const cd of await opendirIfExists(join(root, ab))) {
    if (!cd.isDirectory() || !FAN_OUT.test(cd.name)) continue;
    const leaf = join(root, ab, cd.name);
    for await (const f of await opendirIfExists(leaf)) {
      if (!f.isFile() || !isSha256Hex(f.name) || !f.name.startsWith(ab + cd.name)) continue;
      try {
        const st = await stat(join(leaf, f.name));
        yield { sha256: f.name, size: st.size, mtimeMs: st.mtimeMs };
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err; // deleted while we walked
      }
    }
  }
}

async function opendirIfExists(path: string): Promise<AsyncIterable<Dirent>> {
  try {
    return await opendir(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return emptyDir();
    throw err;
  }
}

async function* emptyDir(): AsyncIterable<Dirent> {}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw err;
  }
}
