/**
 * Small mutable pointers and records (metadata pointers, index maps, checkpoint catalogue).
 * Values are JSON-serialisable. Implementations: Keyv over node:sqlite (embedded) and @keyv/redis.
 */
export interface StateEntry {
  key: string;
  value: unknown;
  ttlMs?: number;
}

export interface StateStore {
  readonly kind: string;
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>>;
  set(key: string, value: unknown, ttlMs?: number): Promise<void>;
  /** Bulk write; sqlite does it in one transaction, redis in one pipeline. */
  setMany(entries: readonly StateEntry[]): Promise<void>;
  delete(key: string): Promise<boolean>;
  /**
   * Live keys starting with `prefix`, in pages, for maintenance (gc), never on a request path. Keys
   * written or deleted during the scan may or may not show. Redis walks its whole keyspace (SCAN).
   */
  keys(prefix: string): AsyncIterable<string[]>;
  /** Deletes every key starting with `prefix`, in batches (no long transaction); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Leases: mutual exclusion across processes and nodes sharing this state (see lease.ts for holding one). */
  readonly leases: LeaseBackend;
  close(): Promise<void>;
}

/**
 * The atomic steps of a lease, each one round trip (a Lua script on Redis, one conditional
 * statement on sqlite). A token names one holding; every step but acquire compares it, so a holder
 * whose lease lapsed and was taken over can neither extend nor free the new holder's lease.
 */
/** The backend side of keys()/deletePrefix(): keys are the store's own, without its namespace. */
export interface KeyScanBackend {
  keys(prefix: string): AsyncIterable<string[]>;
  deletePrefix(prefix: string): Promise<number>;
}

export interface LeaseBackend {
  /** Takes `name` for ttlMs when it is free or its holder's lease has lapsed; true when taken. */
  acquire(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Compare-and-extend: ttlMs from now, only while `token` still holds a live lease. */
  renew(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Compare-and-delete: frees `name` only if `token` still holds it. */
  release(name: string, token: string): Promise<void>;
  /** The live holder's token and how long its lease has left, or undefined when free. */
  holder(name: string): Promise<{ token: string; remainingMs: number } | undefined>;
}
