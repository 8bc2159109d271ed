import type { LeaseBackend } from './state-store.ts';

/** Minimal view of a node-redis client: just what leases need. */
export interface RedisLeaseClient {
  set(key: string, value: string, opts: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  eval(script: string, opts: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

// Scripts run atomically on the server: compare the token and act in one step, no WATCH round trips.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
const HOLDER = `local v = redis.call('GET', KEYS[1]) if v then return {v, redis.call('PTTL', KEYS[1])} else return false end`;

const ms = (ttlMs: number): number => Math.max(1, Math.ceil(ttlMs));

/** SET NX PX to take; Lua compare-and-extend, compare-and-delete; the key's own expiry is the lease. */
export function redisLeases(client: RedisLeaseClient, keyPrefix: string): LeaseBackend {
  return {
    async acquire(name, token, ttlMs) {
      const reply = await client.set(keyPrefix + name, token, { condition: 'NX', expiration: { type: 'PX', value: ms(ttlMs) } });
      return reply === 'OK';
    },
    async renew(name, token, ttlMs) {
      return Number(await client.eval(RENEW, { keys: [keyPrefix + name], arguments: [token, String(ms(ttlMs))] })) === 1;
    },
    async release(name, token) {
      await client.eval(RELEASE, { keys: [keyPrefix + name], arguments: [token] });
    },
    async holder(name) {
      const reply = await client.eval(HOLDER, { keys: [keyPrefix + name], arguments: [] });
      if (!Array.isArray(reply)) return undefined;
      const [token, pttl] = reply as unknown[];
      return typeof token === 'string' ? { token, remainingMs: Math.max(0, Number(pttl)) } : undefined;
    },
  };
}
