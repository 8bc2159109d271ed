import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RepointError } from '../errors.ts';
import { isCatalogueKey, stateKeys } from './keys.ts';
import { withLru } from './lru-state.ts';
import { memoryLeases } from './memory-state.ts';
import type { StateEntry, StateStore } from './state-store.ts';

/** In-memory StateStore that counts backend reads and can hold a read back. */
class CountingStore implements StateStore {
  readonly kind = 'memory';
  readonly data = new Map<string, unknown>();
  gets = 0;
  manyKeys: string[][] = [];
  gate: Promise<void> | undefined;
  /** Set to make every read fail as a backend outage does. */
  down = false;
  /** Set to make reads fail with this error (not an outage). */
  fail: RepointError | undefined;

  async get<T>(key: string): Promise<T | undefined> {
    if (this.fail) throw this.fail;
    if (this.down) throw new RepointError('STATE_UNAVAILABLE', 'state memory get failed: connection refused');
    this.gets++;
    const v = this.data.get(key) as T | undefined;
    if (this.gate) await this.gate;
    return v;
  }
  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (this.down) throw new RepointError('STATE_UNAVAILABLE', 'state memory getMany failed: connection refused');
    this.manyKeys.push([...keys]);
    return keys.map((k) => this.data.get(k) as T | undefined);
  }
  async set(key: string, value: unknown): Promise<void> {
    this.data.set(key, value);
  }
  async setMany(entries: readonly StateEntry[]): Promise<void> {
    for (const e of entries) this.data.set(e.key, e.value);
  }
  async *keys(prefix: string): AsyncGenerator<string[]> {
    yield [...this.data.keys()].filter((k) => k.startsWith(prefix));
  }
  async deletePrefix(prefix: string): Promise<number> {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix));
    for (const k of keys) this.data.delete(k);
    return keys.length;
  }
  async delete(key: string): Promise<boolean> {
    return this.data.delete(key);
  }
  readonly leases = memoryLeases();
  async close(): Promise<void> {}
}

describe('withLru', () => {
  it('reads catalogue keys through: an import by another process shows from the next read on', async () => {
    const inner = new CountingStore();
    const server = withLru(inner, { max: 100, ttlMs: 60_000, readThrough: isCatalogueKey });
    const importer = withLru(inner, { max: 100, ttlMs: 60_000, readThrough: isCatalogueKey });
    const key = stateKeys.catalogue('lab');
    expect(await server.get(key)).toBeUndefined();
    expect(await server.getMany([key, 'other'])).toEqual([undefined, undefined]);
    await importer.set(key, [{ ts: '20240101T000000Z' }]);
    expect(await server.get(key)).toEqual([{ ts: '20240101T000000Z' }]);
    expect(await server.getMany([key])).toEqual([[{ ts: '20240101T000000Z' }]]);
    // other keys keep their cache
    await importer.set('other', 1);
    expect(await server.get('other')).toBeUndefined();
  });

  it('serves repeated hits and misses from the cache', async () => {
    const inner = new CountingStore();
    inner.data.set('a', { v: 1 });
    const store = withLru(inner, { max: 100, ttlMs: 10_000 });
    for (let i = 0; i < 3; i++) expect(await store.get('a')).toEqual({ v: 1 });
    for (let i = 0; i < 3; i++) expect(await store.get('missing')).toBeUndefined();
    expect(inner.gets).toBe(2);
  });

  it('set and delete update the cache', async () => {
    const inner = new CountingStore();
    const store = withLru(inner, { max: 100, ttlMs: 10_000 });
    await store.set('k', 'one');
    expect(await store.get('k')).toBe('one');
    await store.delete('k');
    expect(await store.get('k')).toBeUndefined();
    expect(inner.gets).toBe(0);
  });

  it('sees writes made behind its back once its ttl has passed', async () => {
    const inner = new CountingStore();
    const store = withLru(inner, { max: 100, ttlMs: 100 });
    await store.set('k', 'mine');
    inner.data.set('k', 'another node');
    expect(await store.get('k')).toBe('mine');
    await sleep(200);
    expect(await store.get('k')).toBe('another node');
  });

  it('does not cache a read that overlapped a write', async () => {
    const inner = new CountingStore();
    inner.data.set('k', 'old');
    const store = withLru(inner, { max: 100, ttlMs: 10_000 });
    let open = (): void => {};
    inner.gate = new Promise<void>((r) => (open = r));
    const slowRead = store.get('k');
    await sleep(5);
    await store.set('k', 'new');
    open();
    expect(await slowRead).toBe('old');
    inner.gate = undefined;
    expect(await store.get('k')).toBe('new');
  });

  it('getMany asks the backend only for keys it does not hold', async () => {
    const inner = new CountingStore();
    inner.data.set('b', 'B');
    const store = withLru(inner, { max: 100, ttlMs: 10_000 });
    await store.set('a', 'A');
    expect(await store.getMany(['a', 'b', 'c'])).toEqual(['A', 'B', undefined]);
    expect(await store.getMany(['c', 'b', 'a'])).toEqual([undefined, 'B', 'A']);
    expect(inner.manyKeys).toEqual([['b', 'c']]);
  });

  describe('finding 12: a state outage within staleWindow', () => {
    it('answers what was read or written within the window, and fails what was not', async () => {
      const inner = new CountingStore();
      inner.data.set('read', { v: 'r' });
      const store = withLru(inner, { max: 100, ttlMs: 50, staleWindowMs: 400 });
      expect(await store.get('read')).toEqual({ v: 'r' });
      expect(await store.get('absent')).toBeUndefined();
      await store.set('written', 'w');
      inner.down = true;
      await sleep(100); // past the fresh ttl: every read now tries the backend first
      expect(await store.get('read')).toEqual({ v: 'r' });
      expect(await store.get('absent')).toBeUndefined();
      expect(await store.get('written')).toBe('w');
      expect(await store.getMany(['read', 'written'])).toEqual([{ v: 'r' }, 'w']);
      await expect(store.get('never-seen')).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
      // all or nothing: a hole the backend might have filled is not answered as a miss
      await expect(store.getMany(['read', 'never-seen'])).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
      await sleep(400); // past the stale window
      await expect(store.get('read')).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    });

    it('goes back to the backend as soon as it answers again', async () => {
      const inner = new CountingStore();
      inner.data.set('k', 'old');
      const store = withLru(inner, { max: 100, ttlMs: 20, staleWindowMs: 10_000 });
      expect(await store.get('k')).toBe('old');
      inner.down = true;
      await sleep(40);
      expect(await store.get('k')).toBe('old');
      inner.down = false;
      inner.data.set('k', 'new');
      expect(await store.get('k')).toBe('new');
    });

    it('never answers an entry past its own ttl, and only for backend outages', async () => {
      const inner = new CountingStore();
      const store = withLru(inner, { max: 100, ttlMs: 20, staleWindowMs: 10_000 });
      await store.set('short', 'v', 60);
      await store.set('other', 'v');
      inner.down = true;
      await sleep(100);
      await expect(store.get('short')).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
      inner.down = false;
      inner.fail = new RepointError('INTERNAL', 'a bug, not an outage');
      await expect(store.get('other')).rejects.toMatchObject({ code: 'INTERNAL' });
    });

    it('is bounded by the cache size', async () => {
      const inner = new CountingStore();
      const store = withLru(inner, { max: 2, ttlMs: 10, staleWindowMs: 10_000 });
      for (const k of ['a', 'b', 'c']) await store.set(k, k);
      inner.down = true;
      await sleep(30);
      expect(await store.get('c')).toBe('c');
      await expect(store.get('a')).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    });
  });
});
