import { Keyv } from 'keyv';
import { KeyvStateStore } from './keyv-state.ts';
import type { LockBackend } from './state-locks.ts';
import type { StateStore } from './state-store.ts';

/** Locks held in this process only: enough for one process, and for fast tests. */
function memoryLocks(): LockBackend {
  const held = new Map<string, { token: string; expires: number }>();
  return {
    async acquire(name, token, ttlMs) {
      const cur = held.get(name);
      if (cur && cur.expires > Date.now()) return false;
      held.set(name, { token, expires: Date.now() + ttlMs });
      return true;
    },
    async release(name, token) {
      if (held.get(name)?.token === token) held.delete(name);
    },
  };
}

/**
 * A StateStore in memory (Keyv's own Map store): the in-memory implementation of the seam, for fast
 * unit tests. It runs the same contract suite as sqlite and redis.
 */
export function openMemoryState(): StateStore {
  return new KeyvStateStore({ kind: 'memory', keyv: new Keyv<unknown>({ namespace: 'repoint' }), locks: memoryLocks() });
}
