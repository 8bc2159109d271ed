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
   * Best-effort mutual exclusion across nodes (SET NX PX semantics). Returns a release
   * function, or undefined when someone else holds the lock.
   */
  tryLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  close(): Promise<void>;
}
