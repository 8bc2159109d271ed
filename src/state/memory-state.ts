import { Keyv } from 'keyv';
import { KeyvStateStore } from './keyv-state.ts';
import { mapKeyScan } from './key-scan.ts';
import type { LeaseBackend, StateStore } from './state-store.ts';

/** Leases held in this process only: enough for one process, and for fast tests. */
export function memoryLeases(now: () => number = Date.now): LeaseBackend {
  const held = new Map<string, { token: string; expires: number }>();
  const live = (name: string): { token: string; expires: number } | undefined => {
    const cur = held.get(name);
    return cur && cur.expires > now() ? cur : undefined;
  };
  return {
    async acquire(name, token, ttlMs) {
      if (live(name)) return false;
      held.set(name, { token, expires: now() + ttlMs });
      return true;
    },
    async renew(name, token, ttlMs) {
      const cur = live(name);
      if (cur?.token !== token) return false;
      cur.expires = now() + ttlMs;
      return true;
    },
    async release(name, token) {
      if (held.get(name)?.token === token) held.delete(name);
    },
    async holder(name) {
      const cur = live(name);
      return cur ? { token: cur.token, remainingMs: cur.expires - now() } : undefined;
    },
  };
}

/**
 * A StateStore in memory (Keyv's own Map store): the in-memory implementation of the seam, for fast
 * unit tests. It runs the same contract suite as sqlite and redis.
 */
export function openMemoryState(): StateStore {
  const map = new Map<string, unknown>();
  return new KeyvStateStore({ kind: 'memory', keyv: new Keyv<unknown>({ store: map, namespace: 'repoint' }), leases: memoryLeases(), keyScan: mapKeyScan(map, 'repoint') });
}
