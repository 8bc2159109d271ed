import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Keyv } from 'keyv';
import { RepointError } from '../errors.ts';
import type { StateEntry, StateStore } from './state-store.ts';
import type { LockBackend } from './state-locks.ts';

export interface KeyvStateStoreOptions {
  /** 'sqlite', 'redis', … (reported by StateStore.kind). */
  kind: string;
  /** Keyv with its storage adapter and namespace already set. */
  keyv: Keyv<unknown>;
  locks: LockBackend;
  /** Backend errors raised outside any call (e.g. a redis reconnect failing in the background). */
  onBackgroundError?: (err: unknown) => void;
}

interface CallContext {
  error?: unknown;
}

/**
 * StateStore over Keyv. Keyv catches adapter errors and turns them into 'error' events plus an
 * `undefined`/`false` result, which would make a dead backend look like a cache miss. Each call
 * runs in its own AsyncLocalStorage context, so the error event is pinned to the call that
 * caused it and rethrown there, even with many calls in flight.
 */
export class KeyvStateStore implements StateStore {
  readonly kind: string;
  readonly #keyv: Keyv<unknown>;
  readonly #locks: LockBackend;
  readonly #calls = new AsyncLocalStorage<CallContext>();
  #closed = false;

  constructor(opts: KeyvStateStoreOptions) {
    this.kind = opts.kind;
    this.#keyv = opts.keyv;
    this.#locks = opts.locks;
    const background = opts.onBackgroundError ?? (() => {});
    // A listener must exist: keyv throws from emit('error') when nobody listens.
    this.#keyv.on('error', (err: unknown) => {
      const ctx = this.#calls.getStore();
      if (ctx) ctx.error ??= err;
      else background(err);
    });
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.#call('get', () => this.#keyv.get<T>(key));
  }

  getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#call('getMany', () => this.#keyv.getMany<T>([...keys]));
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    const ok = await this.#call('set', () => this.#keyv.set(key, value, ttlMs));
    if (!ok) throw new RepointError('INTERNAL', `state set failed for ${key}`);
  }

  async setMany(entries: readonly StateEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => ({ key: e.key, value: e.value, ttl: e.ttlMs }));
    const results = await this.#call('setMany', () => this.#keyv.setMany(rows));
    if (results.some((r) => !r)) throw new RepointError('INTERNAL', `state setMany failed (${results.filter((r) => !r).length} of ${entries.length})`);
  }

  delete(key: string): Promise<boolean> {
    return this.#call('delete', () => this.#keyv.delete(key));
  }

  async tryLock(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
    this.#assertOpen();
    const token = randomUUID();
    if (!(await this.#locks.acquire(name, token, ttlMs))) return undefined;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.#locks.release(name, token);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#call('close', () => this.#keyv.disconnect());
    this.#closed = true;
  }

  /** Some adapters (redis) would silently reconnect if used after close. */
  #assertOpen(): void {
    if (this.#closed) throw new RepointError('INTERNAL', `state ${this.kind} store used after close()`);
  }

  async #call<R>(op: string, fn: () => Promise<R>): Promise<R> {
    this.#assertOpen();
    const ctx: CallContext = {};
    const result = await this.#calls.run(ctx, fn);
    if (ctx.error !== undefined) {
      const reason = ctx.error instanceof Error ? ctx.error.message : JSON.stringify(ctx.error);
      throw new RepointError('INTERNAL', `state ${this.kind} ${op} failed: ${reason}`, { op }, { cause: ctx.error });
    }
    return result;
  }
}
