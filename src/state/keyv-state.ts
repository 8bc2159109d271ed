import { AsyncLocalStorage } from 'node:async_hooks';
import type { Keyv } from 'keyv';
import { RepointError, isRepointError } from '../errors.ts';
import type { KeyScanBackend, LeaseBackend, StateEntry, StateStore } from './state-store.ts';

export interface KeyvStateStoreOptions {
  /** 'sqlite', 'redis', … (reported by StateStore.kind). */
  kind: string;
  /** Keyv with its storage adapter and namespace already set. */
  keyv: Keyv<unknown>;
  leases: LeaseBackend;
  /** Prefix scans and deletes (Keyv has no prefix operations of its own). */
  keyScan: KeyScanBackend;
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
 * caused it and rethrown there, even with many calls in flight. A backend that fails (Redis down,
 * a sqlite I/O error) is STATE_UNAVAILABLE: the edge answers 503 with Retry-After, not 500.
 */
export class KeyvStateStore implements StateStore {
  readonly kind: string;
  readonly #keyv: Keyv<unknown>;
  readonly leases: LeaseBackend;
  readonly #keyScan: KeyScanBackend;
  readonly #calls = new AsyncLocalStorage<CallContext>();
  #closed = false;

  constructor(opts: KeyvStateStoreOptions) {
    this.kind = opts.kind;
    this.#keyv = opts.keyv;
    this.leases = this.#guardLeases(opts.leases);
    this.#keyScan = opts.keyScan;
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
    if (!ok) throw new RepointError('STATE_UNAVAILABLE', `state ${this.kind} set failed for ${key}`);
  }

  async setMany(entries: readonly StateEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => ({ key: e.key, value: e.value, ttl: e.ttlMs }));
    const results = await this.#call('setMany', () => this.#keyv.setMany(rows));
    if (results.some((r) => !r)) throw new RepointError('STATE_UNAVAILABLE', `state ${this.kind} setMany failed (${results.filter((r) => !r).length} of ${entries.length})`);
  }

  delete(key: string): Promise<boolean> {
    return this.#call('delete', () => this.#keyv.delete(key));
  }

  async *keys(prefix: string): AsyncGenerator<string[]> {
    this.#assertOpen();
    const it = this.#keyScan.keys(prefix)[Symbol.asyncIterator]();
    for (;;) {
      let step: IteratorResult<string[]>;
      try {
        step = await it.next();
      } catch (err) {
        throw unavailable(this.kind, 'keys', err);
      }
      if (step.done) return;
      yield step.value;
      this.#assertOpen();
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.#assertOpen();
    try {
      return await this.#keyScan.deletePrefix(prefix);
    } catch (err) {
      throw unavailable(this.kind, 'deletePrefix', err);
    }
  }

  /** The backend's lease steps, refused after close and with backend failures as STATE_UNAVAILABLE. */
  #guardLeases(inner: LeaseBackend): LeaseBackend {
    const guard = async <R>(op: string, fn: () => Promise<R>): Promise<R> => {
      this.#assertOpen();
      try {
        return await fn();
      } catch (err) {
        if (isRepointError(err)) throw err;
        throw unavailable(this.kind, `lease ${op}`, err);
      }
    };
    return {
      acquire: (name, token, ttlMs) => guard('acquire', () => inner.acquire(name, token, ttlMs)),
      renew: (name, token, ttlMs) => guard('renew', () => inner.renew(name, token, ttlMs)),
      release: (name, token) => guard('release', () => inner.release(name, token)),
      holder: (name) => guard('holder', () => inner.holder(name)),
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
    if (ctx.error !== undefined) throw unavailable(this.kind, op, ctx.error);
    return result;
  }
}

function unavailable(kind: string, op: string, err: unknown): RepointError {
  const reason = err instanceof Error ? err.message || err.constructor.name : JSON.stringify(err);
  return new RepointError('STATE_UNAVAILABLE', `state ${kind} ${op} failed: ${reason}`, { op }, { cause: err });
}
