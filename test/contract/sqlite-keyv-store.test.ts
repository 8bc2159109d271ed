import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteKeyvStore } from '../../src/state/sqlite-keyv-store.ts';

describe('SqliteKeyvStore as a Keyv 6 adapter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-sqlite-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is used by Keyv directly (v6 absolute-expiry contract), not bridged', async () => {
    const adapter = new SqliteKeyvStore(join(dir, 'a', 'b', 's.sqlite'));
    const keyv = new Keyv<unknown>({ store: adapter, namespace: 'ns' });
    expect(keyv.store).toBe(adapter);
    expect(adapter.capabilities.expires).toBe(true);
    expect(adapter.namespace).toBe('ns');
    await keyv.disconnect();
  });

  it('clear() and iterator() stay inside the namespace, across many pages', async () => {
    const path = join(dir, 's.sqlite');
    const a = new SqliteKeyvStore(path);
    const b = new SqliteKeyvStore(path);
    const ka = new Keyv<unknown>({ store: a, namespace: 'one' });
    const kb = new Keyv<unknown>({ store: b, namespace: 'two' });
    await ka.setMany(Array.from({ length: 1234 }, (_, i) => ({ key: `k${i}`, value: i })));
    await kb.set('k1', 'other namespace');
    const seen = new Map<string, unknown>();
    for await (const [k, v] of ka.iterator()) seen.set(k, v);
    expect(seen.size).toBe(1234);
    expect(seen.get('k1233')).toBe(1233);
    await ka.clear();
    expect(await ka.get('k1')).toBeUndefined();
    expect(await kb.get('k1')).toBe('other namespace');
    await ka.disconnect();
    await kb.disconnect();
  });

  it('has/hasMany/deleteMany honour expiry', async () => {
    const adapter = new SqliteKeyvStore(':memory:', { namespace: 'n' });
    const past = Date.now() - 1;
    await adapter.set('live', '"x"');
    await adapter.set('dead', '"y"', Date.now() + 50);
    await new Promise((r) => setTimeout(r, 100));
    expect(await adapter.has('live')).toBe(true);
    expect(await adapter.hasMany(['live', 'dead', 'none'])).toEqual([true, false, false]);
    await adapter.set('already', '"z"', past);
    expect(await adapter.get('already')).toBeUndefined();
    expect(await adapter.deleteMany(['live', 'dead', 'none'])).toEqual([true, false, false]);
    await adapter.disconnect();
  });
});
