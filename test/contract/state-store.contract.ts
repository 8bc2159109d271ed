import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../../src/state/state-store.ts';

export interface StateStoreFixture {
  store: StateStore;
  /** Close the current store and open a new one over the same data. */
  reopen(): Promise<StateStore>;
  cleanup(): Promise<void>;
}

/** The behaviour every StateStore must have; each implementation's test file calls this. */
export function stateStoreContract(name: string, makeStore: () => Promise<StateStoreFixture>, opts: { persistent: boolean } = { persistent: true }): void {
  describe(`StateStore contract: ${name}`, () => {
    let fx: StateStoreFixture;
    let store: StateStore;
    beforeEach(async () => {
      fx = await makeStore();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    it('round-trips JSON values and overwrites', async () => {
      const record = { sha256: 'ab'.repeat(32), size: 1234, tags: ['a', 'b'], nested: { ok: true, none: null } };
      await store.set('rec', record);
      await store.set('str', 'plain string');
      await store.set('num', 42);
      await store.set('list', [1, 'two', { three: 3 }]);
      expect(await store.get('rec')).toEqual(record);
      expect(await store.get('str')).toBe('plain string');
      expect(await store.get('num')).toBe(42);
      expect(await store.get('list')).toEqual([1, 'two', { three: 3 }]);
      await store.set('rec', { replaced: 1 });
      expect(await store.get('rec')).toEqual({ replaced: 1 });
    });

    it('returns undefined for missing keys and deletes', async () => {
      expect(await store.get('nope')).toBeUndefined();
      await store.set('k', { v: 1 });
      expect(await store.delete('k')).toBe(true);
      expect(await store.get('k')).toBeUndefined();
      expect(await store.delete('k')).toBe(false);
    });

    it('keeps getMany in key order with holes for missing keys', async () => {
      await store.set('a', 'A');
      await store.set('c', { C: true });
      expect(await store.getMany(['a', 'b', 'c', 'b', 'a'])).toEqual(['A', undefined, { C: true }, undefined, 'A']);
      expect(await store.getMany([])).toEqual([]);
      expect(await store.getMany(['x', 'y'])).toEqual([undefined, undefined]);
    });

    it('writes 10,000 entries with setMany', async () => {
      const entries = Array.from({ length: 10_000 }, (_, i) => ({ key: `bulk/${i}`, value: { i, path: `pool/main/p${i}.deb` } }));
      await store.setMany(entries);
      for (const i of [0, 1, 4321, 9999]) expect(await store.get(`bulk/${i}`)).toEqual({ i, path: `pool/main/p${i}.deb` });
      const keys = Array.from({ length: 200 }, (_, j) => `bulk/${(j * 7919) % 10_000}`);
      const got = await store.getMany<{ i: number }>(keys);
      expect(got.map((v) => v?.i)).toEqual(keys.map((k) => Number(k.slice(5))));
      await store.setMany([]);
    });

    it('expires entries after their ttl', async () => {
      await store.set('short', 'gone soon', 150);
      await store.set('long', 'stays', 60_000);
      await store.setMany([
        { key: 'many-short', value: 1, ttlMs: 150 },
        { key: 'many-forever', value: 2 },
      ]);
      expect(await store.get('short')).toBe('gone soon');
      expect(await store.getMany(['many-short', 'many-forever'])).toEqual([1, 2]);
      await sleep(400);
      expect(await store.get('short')).toBeUndefined();
      expect(await store.get('long')).toBe('stays');
      expect(await store.getMany(['many-short', 'many-forever'])).toEqual([undefined, 2]);
    });

    it('tryLock is exclusive until released', async () => {
      const release = await store.tryLock('checkpoint:debian', 10_000);
      expect(release).toBeTypeOf('function');
      expect(await store.tryLock('checkpoint:debian', 10_000)).toBeUndefined();
      const other = await store.tryLock('checkpoint:fedora', 10_000);
      expect(other).toBeTypeOf('function');
      await release?.();
      const again = await store.tryLock('checkpoint:debian', 10_000);
      expect(again).toBeTypeOf('function');
      await again?.();
      await other?.();
    });

    it('tryLock frees an expired lock, and a stale holder cannot release the new one', async () => {
      const stale = await store.tryLock('gc', 100);
      expect(stale).toBeTypeOf('function');
      expect(await store.tryLock('gc', 100)).toBeUndefined();
      await sleep(250);
      const fresh = await store.tryLock('gc', 10_000);
      expect(fresh).toBeTypeOf('function');
      await stale?.();
      expect(await store.tryLock('gc', 10_000)).toBeUndefined();
      await fresh?.();
      expect(await store.tryLock('gc', 10_000)).toBeTypeOf('function');
    });

    // an in-memory store has nothing to re-open
    if (opts.persistent) it('keeps values across a re-open', async () => {
      await store.set('pointer', { inrelease: 'cd'.repeat(32) });
      await store.setMany([{ key: 'm1', value: [1] }, { key: 'm2', value: [2] }]);
      store = await fx.reopen();
      expect(await store.get('pointer')).toEqual({ inrelease: 'cd'.repeat(32) });
      expect(await store.getMany(['m1', 'm2', 'm3'])).toEqual([[1], [2], undefined]);
    });
  });
}
