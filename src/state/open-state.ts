import { join } from 'node:path';
import { Keyv } from 'keyv';
import { RepointError } from '../errors.ts';
import { KeyvStateStore } from './keyv-state.ts';
import { SqliteKeyvStore } from './sqlite-keyv-store.ts';
import { DEFAULT_NAMESPACE, type OpenStateOptions } from './state-options.ts';
import type { StateStore } from './state-store.ts';

export type { OpenStateOptions } from './state-options.ts';

/** `spec`: "sqlite" (file under dataDir) or a redis:// / rediss:// URL. */
export async function openState(spec: string, dataDir: string, opts: OpenStateOptions = {}): Promise<StateStore> {
  if (spec === 'sqlite') return openSqliteState(join(dataDir, 'state', 'state.sqlite'), opts);
  // loaded only when configured: the redis client costs a single-node command ~150 ms of start-up
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) return (await import('./open-redis-state.ts')).openRedisState(spec, opts);
  throw new RepointError('CONFIG_INVALID', `state: expected "sqlite" or a redis:// or rediss:// URL, got ${JSON.stringify(spec)}`);
}

export function openSqliteState(path: string, opts: OpenStateOptions = {}): StateStore {
  const adapter = new SqliteKeyvStore(path, opts.onDegraded ? { onDegraded: opts.onDegraded } : {});
  const keyv = new Keyv<unknown>({ store: adapter, namespace: opts.namespace ?? DEFAULT_NAMESPACE });
  return new KeyvStateStore({ kind: 'sqlite', keyv, leases: adapter.leases, keyScan: adapter.keyScan, onBackgroundError: opts.onBackgroundError });
}

