import { LRUCache } from 'lru-cache';
import { isRepointError } from '../errors.ts';
import type { LeaseBackend, StateEntry, StateStore } from './state-store.ts';

export interface LruOptions {
  max: number;
  /** Bounds how long another node's write can go unseen here; keep it to a few seconds. */
  ttlMs: number;
  /**
   * While the backend is unavailable (STATE_UNAVAILABLE), an entry read or written within this long
   * is still answered from the cache, so hot paths keep serving through a state outage. 0 (default):
   * never answer past ttlMs.
   */
  staleWindowMs?: number;
  /**
   * Keys always read from the store (another process's write shows at once); their cached copy only
   * answers during an outage, within the stale window.
   */
  readThrough?: (key: string) => boolean;
}

/** Cached "not there", so a hot miss costs no round trip either. */
const MISS: unique symbol = Symbol('miss');
/** `fresh` until then it is answered without a round trip; until `stale`, only when the backend is down. */
interface Cached {
  v: unknown;
  fresh: number;
  stale: number;
}

/**
 * Read-through LRU in front of a StateStore. Values come back by reference: callers must treat
 * them as immutable (they are pointers and records, replaced with set(), never edited in place).
 * Staleness is bounded by `ttlMs`: another node's write, and the expiry of an entry this instance
 * did not write itself, can go unseen here for up to that long; and by `staleWindowMs` while the
 * backend cannot be reached (bounded by the same `max` entries).
 */
export function withLru(store: StateStore, opts: LruOptions): StateStore {
  return new LruStateStore(store, opts);
}

class LruStateStore implements StateStore {
  readonly kind: string;
  /** Leases are never cached: every step is a round trip to the backend. */
  readonly leases: LeaseBackend;
  readonly #inner: StateStore;
  readonly #cache: LRUCache<string, Cached>;
  readonly #ttlMs: number;
  readonly #staleMs: number;
  readonly #readThrough: (key: string) => boolean;
  /** Bumped by every write; a read that overlapped a write does not fill the cache. */
  #writes = 0;

  constructor(inner: StateStore, opts: LruOptions) {
    this.kind = inner.kind;
    this.leases = inner.leases;
    this.#inner = inner;
    this.#ttlMs = opts.ttlMs;
    this.#staleMs = Math.max(opts.ttlMs, opts.staleWindowMs ?? 0);
    this.#readThrough = opts.readThrough ?? (() => false);
    // lru-cache's own ttl drops an entry once even a stale answer is no longer allowed
    this.#cache = new LRUCache<string, Cached>({ max: opts.max, ttl: this.#staleMs, ttlAutopurge: false });
  }

  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.#cache.get(key);
    if (hit !== undefined && Date.now() < hit.fresh) return value<T>(hit);
    const epoch = this.#writes;
    let v: T | undefined;
    try {
      v = await this.#inner.get<T>(key);
    } catch (err) {
      return this.#staleOr(err, hit, (h) => value<T>(h));
    }
    if (epoch === this.#writes) this.#fill(key, v);
    return v;
  }

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    const out = new Array<T | undefined>(keys.length);
    const missing: Array<{ i: number; key: string; hit: Cached | undefined }> = [];
    const now = Date.now();
    keys.forEach((key, i) => {
      const hit = this.#cache.get(key);
      if (hit === undefined || now >= hit.fresh) missing.push({ i, key, hit });
      else out[i] = value<T>(hit);
    });
    if (missing.length === 0) return out;
    const epoch = this.#writes;
    let fetched: Array<T | undefined>;
    try {
      fetched = await this.#inner.getMany<T>(missing.map((m) => m.key));
    } catch (err) {
      // all or nothing: an answer with holes the backend might have filled would be a wrong answer
      if (missing.some((m) => m.hit === undefined)) throw err;
      for (const m of missing) out[m.i] = this.#staleOr(err, m.hit, (h) => value<T>(h));
      return out;
    }
    const fill = epoch === this.#writes;
    missing.forEach(({ i, key }, j) => {
      out[i] = fetched[j];
      if (fill) this.#fill(key, fetched[j]);
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
    this.#fill(key, undefined);
    return existed;
  }

  keys(prefix: string): AsyncIterable<string[]> {
    return this.#inner.keys(prefix);
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.#writes++;
    const doomed: string[] = []; // collected first: deleting while iterating the cache is not safe
    for (const k of this.#cache.keys()) if (k.startsWith(prefix)) doomed.push(k);
    for (const k of doomed) this.#cache.delete(k);
    const n = await this.#inner.deletePrefix(prefix);
    this.#writes++;
    return n;
  }

  async close(): Promise<void> {
    this.#cache.clear();
    await this.#inner.close();
  }

  /** A value with its own ttl must not outlive it in the cache, not even stale (ttl <= 0 means none, as in Keyv). */
  #remember(key: string, value: unknown, ttlMs: number | undefined): void {
    const own = ttlMs !== undefined && ttlMs > 0 ? ttlMs : Infinity;
    this.#put(key, value, Math.min(this.#ttlMs, own), Math.min(this.#staleMs, own));
  }

  #fill(key: string, v: unknown): void {
    this.#put(key, v === undefined ? MISS : v, this.#ttlMs, this.#staleMs);
  }

  #put(key: string, v: unknown, freshMs: number, staleMs: number): void {
    const now = Date.now();
    this.#cache.set(key, { v, fresh: this.#readThrough(key) ? 0 : now + freshMs, stale: now + staleMs }, { ttl: staleMs });
  }

  /** The cached answer when the backend is down and the entry is within the stale window; else the error. */
  #staleOr<R>(err: unknown, hit: Cached | undefined, answer: (h: Cached) => R): R {
    if (hit && isRepointError(err, 'STATE_UNAVAILABLE') && Date.now() < hit.stale) return answer(hit);
    throw err;
  }
}

function value<T>(c: Cached): T | undefined {
  return c.v === MISS ? undefined : (c.v as T);
}
