/**
 * What object storage does not keep, kept in the shared state beside it: a record per blob (size,
 * upstream mtime, last access) and running totals. A blob is counted once, by whichever node records
 * it first, so totals stay exact however many nodes commit the same content.
 */
export interface BlobRecord {
  size: number;
  mtimeMs: number;
  lastAccessMs: number;
}

export interface BlobRecords {
  /** Records a committed blob (counted only the first time) and its access now; true when it was new. */
  add(sha256: string, size: number, mtimeMs: number, nowMs: number): Promise<boolean>;
  /** Moves the last access of a recorded blob forward; no-op for an unknown one. */
  touch(sha256: string, nowMs: number): Promise<void>;
  get(sha256: string): Promise<BlobRecord | undefined>;
  /** Forgets a blob and uncounts it; false when it was not recorded. */
  remove(sha256: string): Promise<boolean>;
  totals(): Promise<{ count: number; bytes: number }>;
  /** Round trip to the backend, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** In-process records: for tests and a single process; the same semantics as the Redis ones. */
export class MemoryBlobRecords implements BlobRecords {
  readonly #records = new Map<string, BlobRecord>();
  readonly #totals = { count: 0, bytes: 0 };

  async add(sha256: string, size: number, mtimeMs: number, nowMs: number): Promise<boolean> {
    const cur = this.#records.get(sha256);
    this.#records.set(sha256, { size: cur?.size ?? size, mtimeMs, lastAccessMs: Math.max(nowMs, cur?.lastAccessMs ?? 0) });
    if (cur) return false;
    this.#totals.count++;
    this.#totals.bytes += size;
    return true;
  }

  async touch(sha256: string, nowMs: number): Promise<void> {
    const cur = this.#records.get(sha256);
    if (cur) cur.lastAccessMs = Math.max(cur.lastAccessMs, nowMs);
  }

  async get(sha256: string): Promise<BlobRecord | undefined> {
    const cur = this.#records.get(sha256);
    return cur ? { ...cur } : undefined;
  }

  async remove(sha256: string): Promise<boolean> {
    const cur = this.#records.get(sha256);
    if (!cur) return false;
    this.#records.delete(sha256);
    this.#totals.count--;
    this.#totals.bytes -= cur.size;
    return true;
  }

  async totals(): Promise<{ count: number; bytes: number }> {
    return { ...this.#totals };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
