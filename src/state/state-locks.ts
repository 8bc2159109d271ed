/**
 * The backend-specific half of StateStore.tryLock. KeyvStateStore owns tokens and release
 * closures; a backend only needs an atomic "take if free or expired" and a compare-and-delete.
 */
export interface LockBackend {
  /** Takes `name` for `ttlMs` when it is free or its holder's lease has expired. */
  acquire(name: string, token: string, ttlMs: number): Promise<boolean>;
  /** Frees `name` only if `token` still holds it (an expired-and-retaken lock is left alone). */
  release(name: string, token: string): Promise<void>;
}

/** Minimal view of a node-redis client: just what the lock needs. */
export interface RedisLockClient {
  set(key: string, value: string, opts: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  eval(script: string, opts: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** SET NX PX to take, a compare-and-delete script to give back: no WATCH round trips. */
export function redisLocks(client: RedisLockClient, keyPrefix: string): LockBackend {
  return {
    async acquire(name, token, ttlMs) {
      const reply = await client.set(keyPrefix + name, token, {
        condition: 'NX',
        expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
      });
      return reply === 'OK';
    },
    async release(name, token) {
      await client.eval(RELEASE_SCRIPT, { keys: [keyPrefix + name], arguments: [token] });
    },
  };
}
