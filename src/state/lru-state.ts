import { LRUCache } from 'lru-cache';
import type { StateEntry, StateStore } from './state-store.ts';

export interface LruOptions {
  max: number;
  /** Bounds how long another node's write can go unseen here; keep it to a few seconds. */
  ttlMs: number;
  /** Keys never cached: always read from the store, so another process's write shows at once. */
  readThrough?: (key: string) => boolean;
}

/** Cached "not there", so a hot miss costs no round trip either. */
const MISS: unique symbol = Symbol('miss');
type Cached = { v: unknown } | typeof MISS;

/**
 * Read-through LRU in front of a StateStore. Values come back by reference: callers must treat
 * them as immutable (they are pointers and records, replaced with set(), never edited in place).
 * Staleness is bounded by `ttlMs`: another node's write, and the expiry of an entry this instance
 * did not write itself, can go unseen here for up to that long.
 */
export function withLru(store: StateStore, opts: LruOptions): StateStore {
  return new LruStateStore(store, opts);
}

class LruStateStore implements StateStore {
  readonly kind: string;
  readonly #inner: StateStore;
  readonly #cache: LRUCache<string, Cached>;
  readonly #ttlMs: number;
  readonly #readThrough: (key: string) => boolean;
  /** Bumped by every write; a read that overlapped a write does not fill the cache. */
  #writes = 0;

  constructor(inner: StateStore, opts: LruOptions) {
    this.kind = inner.kind;
    this.#inner = inner;
    this.#ttlMs = opts.ttlMs;
    this.#readThrough = opts.readThrough ?? (() => false);
    this.#cache = new LRUCache<string, Cached>({ max: opts.max, ttl: opts.ttlMs, ttlAutopurge: false });
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (this.#readThrough(key)) return this.#inner.get<T>(key);
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit === MISS ? undefined : (hit.v as T);
    const epoch = this.#writes;
    const v = await this.#inner.get<T>(key);
    if (epoch === this.#writes) this.#fill(key, v);
    return v;
  }

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    const out = new Array<T | undefined>(keys.length);
    const missing: Array<{ i: number; key: string }> = [];
    keys.forEach((key, i) => {
      const hit = this.#readThrough(key) ? undefined : this.#cache.get(key);
      if (hit === undefined) missing.push({ i, key });
      else out[i] = hit === MISS ? undefined : (hit.v as T);
    });
    if (missing.length === 0) return out;
    const epoch = this.#writes;
    const fetched = await this.#inner.getMany<T>(missing.map((m) => m.key));
    const fill = epoch === this.#writes;
    missing.forEach(({ i, key }, j) => {
      out[i] = fetched[j];
      if (fill && !this.#readThrough(key)) this.#fill(key, fetched[j]);
    });
    return out;
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.#writes++;
    this.#cache.delete(key);
    await this.#inner.set(key, value, ttlMs);
    this.#writes++;
    this.#remember(key, value, ttlMs);
  }

  async setMany(entries: readonly StateEntry[]): Promise<void> {
    this.#writes++;
    for (const e of entries) this.#cache.delete(e.key);
    await this.#inner.setMany(entries);
    this.#writes++;
    // Bulk loads are not pulled into the cache, except entries with a ttl: caching those now
    // records their expiry, which a later read-through fill could not know.
    for (const e of entries) if (e.ttlMs !== undefined && e.ttlMs > 0) this.#remember(e.key, e.value, e.ttlMs);
  }

  async delete(key: string): Promise<boolean> {
    this.#writes++;
    this.#cache.delete(key);
    const existed = await this.#inner.delete(key);
    this.#writes++;
    if (!this.#readThrough(key)) this.#cache.set(key, MISS);
    return existed;
  }

  tryLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    return this.#inner.tryLock(name, ttlMs);
  }

  async close(): Promise<void> {
    this.#cache.clear();
    await this.#inner.close();
  }

  /** A value with its own ttl must not outlive it in the cache (ttl <= 0 means none, as in Keyv). */
  #remember(key: string, value: unknown, ttlMs: number | undefined): void {
    if (this.#readThrough(key)) return;
    const ttl = ttlMs !== undefined && ttlMs > 0 ? Math.min(this.#ttlMs, ttlMs) : this.#ttlMs;
    this.#cache.set(key, { v: value }, { ttl });
  }

  #fill(key: string, v: unknown): void {
    this.#cache.set(key, v === undefined ? MISS : { v });
  }
}
