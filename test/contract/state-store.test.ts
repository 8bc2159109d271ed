import { freePort } from '../helpers/ports.ts';
import { randomUUID } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@keyv/redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isRepointError } from '../../src/errors.ts';
import { Keyv } from 'keyv';
import { KeyvStateStore } from '../../src/state/keyv-state.ts';
import { withLru } from '../../src/state/lru-state.ts';
import { SqliteKeyvStore } from '../../src/state/sqlite-keyv-store.ts';
import { openMemoryState } from '../../src/state/memory-state.ts';
import { openRedisState } from '../../src/state/open-redis-state.ts';
import { openSqliteState, openState } from '../../src/state/open-state.ts';
import { redisAvailable, startRedis, type RedisHandle } from '../helpers/redis.ts';
import { stateStoreContract, type StateStoreFixture } from './state-store.contract.ts';

async function sqliteFixture(lru: boolean): Promise<StateStoreFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-state-'));
  const path = join(dir, 'nested', 'state.sqlite');
  const open = () => (lru ? withLru(openSqliteState(path), { max: 1000, ttlMs: 2000 }) : openSqliteState(path));
  let current = open();
  return {
    store: current,
    async reopen() {
      await current.close();
      current = open();
      return current;
    },
    async cleanup() {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

stateStoreContract('memory', async () => {
  const store = openMemoryState();
  return { store, reopen: async () => store, cleanup: () => store.close() };
}, { persistent: false });
stateStoreContract('sqlite', () => sqliteFixture(false));
stateStoreContract('withLru(sqlite)', () => sqliteFixture(true));

const haveRedis = redisAvailable();
const redisRequired = process.env['REPOINT_E2E'] === 'required';
if (!haveRedis) {
  const why = 'redis state tests need REDIS_URL or redis-server on PATH';
  if (redisRequired) {
    describe('StateStore contract: redis', () => {
      it('has a redis to test against (REPOINT_E2E=required)', () => {
        expect.unreachable(`${why}; neither is available`);
      });
    });
  } else console.warn(`skipping redis state tests: ${why}`);
}

/** Removes one test namespace's keys, so runs sharing a REDIS_URL leave nothing behind. */
async function dropNamespace(url: string, namespace: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys = await client.keys(`${namespace}:*`);
    for (let i = 0; i < keys.length; i += 1000) await client.del(keys.slice(i, i + 1000));
  } finally {
    await client.close();
  }
}

describe.skipIf(!haveRedis)('redis state', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  stateStoreContract('redis', async () => {
    const namespace = `repoint-test-${randomUUID()}`;
    let current = await openRedisState(redis.url, { namespace });
    return {
      store: current,
      async reopen() {
        await current.close();
        current = await openRedisState(redis.url, { namespace });
        return current;
      },
      async cleanup() {
        await current.close();
        await dropNamespace(redis.url, namespace);
      },
    };
  });

  it('keeps namespaces apart', async () => {
    const nsA = `repoint-test-${randomUUID()}`;
    const a = await openRedisState(redis.url, { namespace: nsA });
    const b = await openRedisState(redis.url, { namespace: `repoint-test-${randomUUID()}` });
    await a.set('same-key', 'from a');
    expect(await a.get('same-key')).toBe('from a');
    expect(await b.get('same-key')).toBeUndefined();
    await a.close();
    await b.close();
    await dropNamespace(redis.url, nsA);
  });
});

describe.skipIf(!haveRedis || process.env['REDIS_URL'] !== undefined)('redis outage', () => {
  it('rejects calls while redis is down as STATE_UNAVAILABLE instead of hanging or reporting a miss', async () => {
    const redis = await startRedis();
    const store = await openRedisState(redis.url, { namespace: 'outage' });
    await store.set('k', 'v');
    await redis.stop();
    const err: unknown = await store.get('k').catch((e: unknown) => e);
    expect(isRepointError(err, 'STATE_UNAVAILABLE')).toBe(true);
    await expect(store.set('k', 'w')).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    await expect(store.leases.acquire('gc', 't', 1000)).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    await store.close().catch(() => {});
  });
});

describe('openState', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'repoint-open-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('"sqlite" puts the database under <dataDir>/state/', async () => {
    const store = await openState('sqlite', dataDir);
    expect(store.kind).toBe('sqlite');
    await store.set('x', 1);
    await access(join(dataDir, 'state', 'state.sqlite'));
    await store.close();
  });

  it('rejects an unknown spec as a config error', async () => {
    await expect(openState('postgres://x', dataDir)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('reports an unreachable redis as a config error naming the URL', async () => {
    const port = await freePort(); // nothing listens there once freePort returns
    const err: unknown = await openState(`redis://127.0.0.1:${port}`, dataDir).catch((e: unknown) => e);
    expect(isRepointError(err, 'CONFIG_INVALID')).toBe(true);
    expect(err instanceof Error ? err.message : '').toMatch(new RegExp(`^state: cannot connect to redis://127\\.0\\.0\\.1:${port}.*: .+`));
  });

  it('refuses use after close', async () => {
    const store = await openState('sqlite', dataDir);
    await store.set('x', 1);
    await store.close();
    await store.close();
    await expect(store.get('x')).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(store.leases.acquire('x', 't', 1000)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('KeyvStateStore backend errors', () => {
  /** Fails reads and writes of the key "bad"; everything else works. */
  class FlakyStore extends SqliteKeyvStore {
    override async get<Value>(key: string): Promise<Value | string | undefined> {
      if (key === 'bad') throw new Error('disk on fire');
      return super.get<Value>(key);
    }
    override async set(key: string, value: unknown, expires?: number): Promise<boolean> {
      if (key === 'bad') throw new Error('disk on fire');
      return super.set(key, value, expires);
    }
  }

  it('rejects the failing call only, even with calls in flight together', async () => {
    const adapter = new FlakyStore(':memory:');
    const store = new KeyvStateStore({ kind: 'flaky', keyv: new Keyv<unknown>({ store: adapter, namespace: 'ns' }), leases: adapter.leases, keyScan: adapter.keyScan });
    await store.set('good', 'fine');
    const [good, bad, good2] = await Promise.allSettled([store.get('good'), store.get('bad'), store.get('good')]);
    expect(good).toEqual({ status: 'fulfilled', value: 'fine' });
    expect(good2).toEqual({ status: 'fulfilled', value: 'fine' });
    expect(bad.status).toBe('rejected');
    expect(bad.status === 'rejected' && bad.reason).toMatchObject({ code: 'STATE_UNAVAILABLE', message: expect.stringContaining('disk on fire') });
    await expect(store.set('bad', 1)).rejects.toMatchObject({ code: 'STATE_UNAVAILABLE' });
    await store.close();
  });
});

describe('sqlite prefix deletes at scale', () => {
  it('let timers (a lease renewal) run between batches while 50,000 records go', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'repoint-state-'));
    const store = openSqliteState(join(dir, 'state.sqlite'));
    try {
      await store.setMany(Array.from({ length: 50_000 }, (_, i) => ({ key: `apt:idx:${'e'.repeat(64)}:pool/p${i}.deb`, value: { size: i } })));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      try {
        expect(await store.deletePrefix(`apt:idx:${'e'.repeat(64)}:`)).toBe(50_000);
      } finally {
        clearInterval(timer);
      }
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
