import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leaseHolder, withLease } from '../../src/state/lease.ts';
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

    it('keys(prefix) lists exactly the live keys under a prefix, in pages', async () => {
      const idx = Array.from({ length: 2500 }, (_, i) => ({ key: `apt:idx:${'a'.repeat(64)}:pool/p${i}.deb`, value: { size: i } }));
      await store.setMany([...idx, { key: 'apt:idx:b:pool/x.deb', value: 1 }, { key: 'apt:idx', value: 2 }, { key: 'apt:idy:z', value: 3 }, { key: 'z*[x]:1', value: 4 }, { key: 'zz:1', value: 5 }]);
      await store.set(`apt:idx:${'a'.repeat(64)}:gone`, 1, 30);
      await sleep(80); // the ttl key has expired: it is not listed
      const listed: string[] = [];
      let pages = 0;
      for await (const page of store.keys(`apt:idx:${'a'.repeat(64)}:`)) {
        listed.push(...page);
        pages++;
      }
      expect(listed.sort()).toEqual(idx.map((e) => e.key).sort());
      expect(pages).toBeGreaterThan(1);
      const all: string[] = [];
      for await (const page of store.keys('apt:idx:')) all.push(...page);
      expect(all.length).toBe(2501);
      const glob: string[] = [];
      for await (const page of store.keys('z*[x]:')) glob.push(...page); // glob characters are literal
      expect(glob).toEqual(['z*[x]:1']);
    });

    it('deletePrefix removes exactly the keys under a prefix and counts them', async () => {
      const idx = Array.from({ length: 12_000 }, (_, i) => ({ key: `yum:idx:${'c'.repeat(64)}:Packages/p${i}.rpm`, value: { size: i } }));
      await store.setMany([...idx, { key: `yum:idx:${'d'.repeat(64)}:Packages/keep.rpm`, value: 1 }, { key: 'yum:idx-done:x', value: true }]);
      expect(await store.get(idx[7]!.key)).toEqual({ size: 7 }); // cached by a caching store
      expect(await store.deletePrefix(`yum:idx:${'c'.repeat(64)}:`)).toBe(12_000);
      expect(await store.get(idx[7]!.key)).toBeUndefined();
      expect(await store.getMany([idx[0]!.key, idx[11_999]!.key])).toEqual([undefined, undefined]);
      expect(await store.get(`yum:idx:${'d'.repeat(64)}:Packages/keep.rpm`)).toBe(1);
      expect(await store.get('yum:idx-done:x')).toBe(true);
      expect(await store.deletePrefix('nothing:')).toBe(0);
    });

    it('a lease is exclusive until released, and only its token releases it', async () => {
      const { leases } = store;
      expect(await leases.acquire('checkpoint:debian', 'a', 10_000)).toBe(true);
      expect(await leases.acquire('checkpoint:debian', 'b', 10_000)).toBe(false);
      expect(await leases.acquire('checkpoint:fedora', 'b', 10_000)).toBe(true);
      await leases.release('checkpoint:debian', 'b'); // not b's: nothing happens
      expect(await leases.holder('checkpoint:debian')).toMatchObject({ token: 'a' });
      await leases.release('checkpoint:debian', 'a');
      expect(await leases.holder('checkpoint:debian')).toBeUndefined();
      expect(await leases.acquire('checkpoint:debian', 'c', 10_000)).toBe(true);
      await leases.release('checkpoint:debian', 'c');
      await leases.release('checkpoint:fedora', 'b');
    });

    it('holder() names the token and the time left', async () => {
      const { leases } = store;
      expect(await leases.holder('gc')).toBeUndefined();
      await leases.acquire('gc', 'tok with spaces', 5000);
      const h = await leases.holder('gc');
      expect(h?.token).toBe('tok with spaces');
      expect(h?.remainingMs).toBeGreaterThan(0);
      expect(h?.remainingMs).toBeLessThanOrEqual(5000);
      await leases.release('gc', 'tok with spaces');
    });

    it('renew extends only the holder\'s live lease (compare-and-extend)', async () => {
      const { leases } = store;
      expect(await leases.acquire('gc', 'a', 300)).toBe(true);
      expect(await leases.renew('gc', 'b', 10_000)).toBe(false); // not the holder
      await sleep(150);
      expect(await leases.renew('gc', 'a', 10_000)).toBe(true);
      await sleep(300); // past the first term: only the renewal keeps it
      expect(await leases.acquire('gc', 'b', 10_000)).toBe(false);
      expect((await leases.holder('gc'))?.token).toBe('a');
      expect((await leases.holder('gc'))?.remainingMs).toBeGreaterThan(9000);
      await leases.release('gc', 'a');
    });

    it('a lapsed lease is taken over; its old holder can neither renew nor release the new one', async () => {
      const { leases } = store;
      expect(await leases.acquire('gc', 'dead', 100)).toBe(true);
      expect(await leases.acquire('gc', 'next', 100)).toBe(false);
      await sleep(250);
      expect(await leases.holder('gc')).toBeUndefined();
      expect(await leases.renew('gc', 'dead', 10_000)).toBe(false); // lapsed: no resurrection
      expect(await leases.acquire('gc', 'next', 10_000)).toBe(true);
      expect(await leases.renew('gc', 'dead', 10_000)).toBe(false);
      await leases.release('gc', 'dead');
      expect((await leases.holder('gc'))?.token).toBe('next');
      await leases.release('gc', 'next');
      expect(await leases.acquire('gc', 'third', 10_000)).toBe(true);
      await leases.release('gc', 'third');
    });

    it('withLease renews while the work runs and aborts the work when the lease is taken away', async () => {
      const timing = { ttlMs: 200, renewEveryMs: 50 };
      const run = await withLease(store.leases, 'checkpoint:long', { ...timing, owner: 'pid 1 on test' }, async (lease) => {
        await sleep(600); // three terms: renewals keep it
        expect(lease.signal.aborted).toBe(false);
        expect(await leaseHolder(store.leases, 'checkpoint:long')).toMatchObject({ owner: 'pid 1 on test' });
        const other = await withLease(store.leases, 'checkpoint:long', timing, async () => 'ran');
        expect(other).toEqual({ held: false, owner: 'pid 1 on test' });
        // someone deletes it behind our back (an operator, a state restore): the next renewal notices
        await store.leases.release('checkpoint:long', lease.token);
        await store.leases.acquire('checkpoint:long', 'intruder', 10_000);
        await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
        expect((lease.signal.reason as { code?: string }).code).toBe('LEASE_LOST');
        await expect(lease.confirm()).rejects.toMatchObject({ code: 'LEASE_LOST' });
        return 'done';
      });
      expect(run).toEqual({ held: true, value: 'done' });
      expect((await store.leases.holder('checkpoint:long'))?.token).toBe('intruder'); // release left it alone
      await store.leases.release('checkpoint:long', 'intruder');
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
