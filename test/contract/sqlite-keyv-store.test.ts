import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteKeyvStore } from '../../src/state/sqlite-keyv-store.ts';
import { CHECKPOINT_EVERY_ROWS } from '../../src/state/wal-checkpointer.ts';

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

  it('finding 2: commits leave WAL checkpoints to a worker thread (no 4 MB copy and fsync on the event loop)', async () => {
    const path = join(dir, 's.sqlite');
    const adapter = new SqliteKeyvStore(path);
    const value = JSON.stringify('x'.repeat(1000));
    const rows = 3 * CHECKPOINT_EVERY_ROWS;
    for (let i = 0; i < rows; i += 500) await adapter.setMany(Array.from({ length: 500 }, (_, j) => ({ key: `k${i + j}`, value })));
    // requested by the writes themselves (every CHECKPOINT_EVERY_ROWS rows)
    for (let i = 0; i < 250 && adapter.checkpointer!.completed === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(adapter.checkpointer!.completed).toBeGreaterThan(0);
    await adapter.checkpointer!.checkpoint(); // joins a running one, if any
    const last = await adapter.checkpointer!.checkpoint();
    expect(last).toBeDefined(); // a fresh one: every frame is backfilled
    expect(last!.checkpointed).toBe(last!.log);
    await adapter.disconnect();
    const again = new SqliteKeyvStore(path);
    expect(await again.get(`k${rows - 1}`)).toBe(value);
    await again.disconnect();
  });

  it('finding 2: deletions (GC of index records) count towards the next checkpoint too', async () => {
    const adapter = new SqliteKeyvStore(join(dir, 's.sqlite'));
    const rows = Array.from({ length: 1000 }, (_, i) => ({ key: `idx:${i}`, value: '"v"' }));
    await adapter.setMany(rows); // below CHECKPOINT_EVERY_ROWS: no checkpoint yet
    expect(adapter.checkpointer!.completed).toBe(0);
    expect(await adapter.keyScan.deletePrefix('idx:')).toBe(1000); // crosses it
    for (let i = 0; i < 250 && adapter.checkpointer!.completed === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(adapter.checkpointer!.completed).toBeGreaterThan(0);
    await adapter.disconnect();
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
