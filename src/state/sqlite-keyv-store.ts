import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { keyvStorageCapability, type KeyvStorageAdapter, type KeyvStorageCapability, type KeyvStorageEntry } from 'keyv';
import type { KeyScanBackend, LeaseBackend } from './state-store.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

export interface SqliteKeyvStoreOptions {
  namespace?: string;
  /** How long a statement waits for another process's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Told when the state could only be opened in its full-disk fallback. */
  onDegraded?: (reason: string) => void;
}

const SCHEMA = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = NORMAL;
  CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER);
  CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL;
  CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, token TEXT NOT NULL, expires INTEGER NOT NULL);
`;

/** SQLITE_IOERR (10, e.g. the -shm cannot be allocated) or SQLITE_FULL (13), by primary result code. */
function diskFull(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'errcode' in err && typeof err.errcode === 'number' ? err.errcode & 0xff : undefined;
  return code === 10 || code === 13;
}

type Listener = (...args: unknown[]) => void;

const SEP = '::';
const PAGE = 500;
/** Expired rows are filtered on every read; they are deleted in bulk every this many writes. */
const PURGE_EVERY = 1000;
/** deletePrefix removes this many rows per statement, so writers of other keys wait little. */
const DELETE_BATCH = 5000;

/**
 * Keyv 6 storage adapter over node:sqlite. Keyv hands it already-serialised strings and an
 * absolute `expires` (ms since epoch); `capabilities.expires = true` tells Keyv to use it directly.
 * Also hosts the lease table, so leases live in the same file as the state they protect.
 */
export class SqliteKeyvStore extends EventEmitter implements KeyvStorageAdapter {
  namespace: string | undefined;
  readonly leases: LeaseBackend;
  readonly keyScan: KeyScanBackend;
  readonly #db: DatabaseSync;
  readonly #q: ReturnType<typeof prepare>;
  /** Checkpoints off the event loop (see WalCheckpointer); absent for :memory: and the full-disk fallback. */
  readonly checkpointer: WalCheckpointer | undefined;
  #writes = 0;

  constructor(path: string, opts: SqliteKeyvStoreOptions = {}) {
    super();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const open = (exclusive: boolean): DatabaseSync => {
      const db = new DatabaseSync(path, { timeout: opts.busyTimeoutMs ?? 5000 });
      try {
        if (exclusive) db.exec('PRAGMA locking_mode = EXCLUSIVE');
        db.exec(SCHEMA);
        return db;
      } catch (err) {
        db.close();
        throw err;
      }
    };
    try {
      this.#db = open(false);
      if (path !== ':memory:') {
        this.#db.exec('PRAGMA wal_autocheckpoint = 0');
        this.checkpointer = new WalCheckpointer(path, () => {
          if (this.#db.isOpen) this.#db.exec('PRAGMA wal_autocheckpoint = 1000'); // SQLite's default, on the loop again
        });
      }
    } catch (err) {
      if (path === ':memory:' || !diskFull(err)) throw err;
      // A full disk (issue 8, finding 11): the shared wal-index (-shm) cannot be allocated. Exclusive
      // locking keeps it in this process's memory instead: reads work, writes fail (STATE_UNAVAILABLE)
      // until space is freed, and other processes cannot open the state until this one closes it.
      this.#db = open(true);
      opts.onDegraded?.(`the disk holding ${path} is full: state opened read-mostly and exclusive (${(err as Error).message})`);
    }
    this.#q = prepare(this.#db);
    this.namespace = opts.namespace;
    // Each step is one statement, atomic across processes sharing the file.
    this.leases = {
      acquire: async (name, token, ttlMs) => this.#wrote(this.#q.leaseTake.run(name, token, Date.now() + ttlMs, Date.now()).changes) > 0,
      renew: async (name, token, ttlMs) => this.#wrote(this.#q.leaseRenew.run(Date.now() + ttlMs, name, token, Date.now()).changes) > 0,
      release: async (name, token) => {
        this.#wrote(this.#q.leaseGive.run(name, token).changes);
      },
      holder: async (name) => {
        const now = Date.now();
        const row = this.#q.leaseHolder.get(name, now);
        return row ? { token: text(row['token']), remainingMs: Number(row['expires']) - now } : undefined;
      },
    };
    // Range scans over the primary key: a prefix is [prefix, prefix with its last char + 1).
    this.keyScan = {
      keys: (prefix) => this.#keysUnder(prefix),
      deletePrefix: async (prefix) => {
        const [lo, hi] = this.#range(prefix);
        let n = 0;
        for (let changes = -1; changes !== 0; n += changes) {
          if (changes > 0) await setImmediate(); // statements are synchronous: let timers (lease renewals) and requests run
          changes = this.#wrote(this.#q.delRange.run(lo, hi, DELETE_BATCH).changes);
        }
        return n;
      },
    };
    try {
      this.#q.purge.run(Date.now());
    } catch (err) {
      if (!diskFull(err)) throw err; // expired rows are filtered on read anyway
    }
  }

  async *#keysUnder(prefix: string): AsyncGenerator<string[]> {
    const [lo, hi] = this.#range(prefix);
    const strip = this.namespace === undefined ? 0 : this.#prefix().length;
    for (let after = ''; ;) {
      const rows = this.#q.keysRange.all(after, lo, hi, Date.now(), PAGE).map((r) => text(r['key']));
      if (rows.length) yield rows.map((k) => k.slice(strip));
      if (rows.length < PAGE) return;
      after = rows.at(-1)!;
      await setImmediate(); // as in deletePrefix: a long scan must not starve timers
    }
  }

  #range(prefix: string): [string, string] {
    const lo = this.#k(prefix);
    return [lo, lo.slice(0, -1) + String.fromCharCode(lo.charCodeAt(lo.length - 1) + 1)];
  }

  // Narrow EventEmitter's `Function[]` to the callable type keyv's IEventEmitter declares.
  override listeners(eventName: string | symbol): Listener[] {
    return super.listeners(eventName) as Listener[];
  }

  override rawListeners(eventName: string | symbol): Listener[] {
    return super.rawListeners(eventName) as Listener[];
  }

  get capabilities(): KeyvStorageCapability {
    return keyvStorageCapability(this);
  }

  async get<Value>(key: string): Promise<Value | string | undefined> {
    const row = this.#q.get.get(this.#k(key), Date.now());
    return row ? text(row['value']) : undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | string | undefined>> {
    if (keys.length === 0) return [];
    const full = keys.map((k) => this.#k(k));
    const found = new Map<string, string>();
    for (const row of this.#q.getMany.all(JSON.stringify(full), Date.now())) found.set(text(row['key']), text(row['value']));
    return full.map((k) => found.get(k));
  }

  async has(key: string): Promise<boolean> {
    return this.#q.get.get(this.#k(key), Date.now()) !== undefined;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return (await this.getMany(keys)).map((v) => v !== undefined);
  }

  async set(key: string, value: unknown, expires?: number): Promise<boolean> {
    this.#put(key, value, expires);
    this.#afterWrites(1);
    return true;
  }

  /** One transaction: all entries land or none do, at the cost of one fsync-equivalent. */
  async setMany<Value>(entries: KeyvStorageEntry<Value>[]): Promise<boolean[]> {
    this.#tx(() => {
      for (const e of entries) this.#put(e.key, e.value, e.expires);
    });
    this.#afterWrites(entries.length);
    return entries.map(() => true);
  }

  async delete(key: string): Promise<boolean> {
    const row = this.#q.del.get(Date.now(), this.#k(key));
    this.#wrote(row === undefined ? 0 : 1);
    return row !== undefined && row['live'] === 1;
  }

  async deleteMany(keys: string[]): Promise<boolean[]> {
    const now = Date.now();
    this.#wrote(keys.length);
    return this.#tx(() => keys.map((k) => this.#q.del.get(now, this.#k(k))?.['live'] === 1));
  }

  async clear(): Promise<void> {
    if (this.namespace === undefined) this.#db.exec('DELETE FROM kv');
    else this.#q.clearNs.run(this.#prefix().length, this.#prefix());
  }

  /** Pages through by key, so no statement stays open across a yield. */
  async *iterator<Value>(): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const prefix = this.namespace === undefined ? '' : this.#prefix();
    let after = '';
    for (;;) {
      const rows = this.#q.page.all(after, prefix.length, prefix, Date.now(), PAGE);
      for (const row of rows) yield [text(row['key']).slice(prefix.length), text(row['value'])];
      const last = rows.at(-1);
      if (!last || rows.length < PAGE) return;
      after = text(last['key']);
    }
  }

  async disconnect(): Promise<void> {
    await this.checkpointer?.close();
    if (this.#db.isOpen) this.#db.close();
  }

  #put(key: string, value: unknown, expires: number | undefined): void {
    if (typeof value !== 'string') throw new TypeError('SqliteKeyvStore stores serialised strings; keep Keyv serialization on');
    if (expires !== undefined && expires <= Date.now()) this.#q.del.get(Date.now(), this.#k(key));
    else this.#q.put.run(this.#k(key), value, expires ?? null);
  }

  /** Counts rows changed outside #afterWrites, so the WAL is checkpointed whatever wrote it (leases, GC). */
  #wrote(changes: number | bigint): number {
    const n = Number(changes);
    if (n > 0) this.checkpointer?.wrote(n);
    return n;
  }

  #afterWrites(n: number): void {
    this.checkpointer?.wrote(n);
    this.#writes += n;
    if (this.#writes < PURGE_EVERY) return;
    this.#writes = 0;
    this.#q.purge.run(Date.now());
  }

  #tx<R>(fn: () => R): R {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.#db.exec('COMMIT');
      return r;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #prefix(): string {
    return `${this.namespace ?? ''}${SEP}`;
  }

  #k(key: string): string {
    return this.namespace === undefined ? key : this.#prefix() + key;
  }
}

function prepare(db: DatabaseSync): Record<
  'get' | 'getMany' | 'put' | 'del' | 'clearNs' | 'page' | 'keysRange' | 'delRange' | 'purge' | 'leaseTake' | 'leaseRenew' | 'leaseGive' | 'leaseHolder',
  StatementSync
> {
  const live = '(expires IS NULL OR expires > ?)';
  return {
    get: db.prepare(`SELECT value FROM kv WHERE key = ? AND ${live}`),
    getMany: db.prepare(`SELECT key, value FROM kv WHERE key IN (SELECT value FROM json_each(?)) AND ${live}`),
    put: db.prepare('INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires'),
    // RETURNING reports whether the row was still live, so deleting an expired key returns false
    del: db.prepare('DELETE FROM kv WHERE key = ?2 RETURNING (expires IS NULL OR expires > ?1) AS live'),
    clearNs: db.prepare('DELETE FROM kv WHERE substr(key, 1, ?) = ?'),
    page: db.prepare(`SELECT key, value FROM kv WHERE key > ? AND substr(key, 1, ?) = ? AND ${live} ORDER BY key LIMIT ?`),
    keysRange: db.prepare(`SELECT key FROM kv WHERE key > ? AND key >= ? AND key < ? AND ${live} ORDER BY key LIMIT ?`),
    delRange: db.prepare('DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE key >= ? AND key < ? LIMIT ?)'),
    purge: db.prepare('DELETE FROM kv WHERE expires IS NOT NULL AND expires <= ?'),
    leaseTake: db.prepare(
      'INSERT INTO locks (name, token, expires) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET token = excluded.token, expires = excluded.expires WHERE locks.expires <= ?',
    ),
    leaseRenew: db.prepare('UPDATE locks SET expires = ? WHERE name = ? AND token = ? AND expires > ?'),
    leaseGive: db.prepare('DELETE FROM locks WHERE name = ? AND token = ?'),
    leaseHolder: db.prepare('SELECT token, expires FROM locks WHERE name = ? AND expires > ?'),
  };
}

function text(v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`sqlite state: expected TEXT, got ${typeof v}`);
  return v;
}
