import { join } from 'node:path';
import KeyvRedis, { createClient } from '@keyv/redis';
import { Keyv } from 'keyv';
import { RepointError } from '../errors.ts';
import { KeyvStateStore } from './keyv-state.ts';
import { SqliteKeyvStore } from './sqlite-keyv-store.ts';
import { redisLeases } from './redis-leases.ts';
import { redisKeyScan } from './key-scan.ts';
import type { StateStore } from './state-store.ts';

export interface OpenStateOptions {
  /** Key namespace; lets several deployments (or test runs) share one redis. Default 'repoint'. */
  namespace?: string;
  /** Errors a backend reports between calls (redis reconnects). Default: ignored. */
  onBackgroundError?: (err: unknown) => void;
  /** Redis connect timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** sqlite: told when the state could only be opened in its full-disk fallback (read-mostly, exclusive). */
  onDegraded?: (reason: string) => void;
}

const DEFAULT_NAMESPACE = 'repoint';

/** `spec`: "sqlite" (file under dataDir) or a redis:// / rediss:// URL. */
export async function openState(spec: string, dataDir: string, opts: OpenStateOptions = {}): Promise<StateStore> {
  if (spec === 'sqlite') return openSqliteState(join(dataDir, 'state', 'state.sqlite'), opts);
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) return openRedisState(spec, opts);
  throw new RepointError('CONFIG_INVALID', `state: expected "sqlite" or a redis:// or rediss:// URL, got ${JSON.stringify(spec)}`);
}

export function openSqliteState(path: string, opts: OpenStateOptions = {}): StateStore {
  const adapter = new SqliteKeyvStore(path, opts.onDegraded ? { onDegraded: opts.onDegraded } : {});
  const keyv = new Keyv<unknown>({ store: adapter, namespace: opts.namespace ?? DEFAULT_NAMESPACE });
  return new KeyvStateStore({ kind: 'sqlite', keyv, leases: adapter.leases, keyScan: adapter.keyScan, onBackgroundError: opts.onBackgroundError });
}

export async function openRedisState(url: string, opts: OpenStateOptions = {}): Promise<StateStore> {
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  let connected = false;
  const client = createClient({
    url,
    // While reconnecting, fail calls at once rather than queue them: a request must not hang on redis.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: opts.connectTimeoutMs ?? 5000,
      // Fail fast at start-up (a config error); once up, ride out outages with capped backoff.
      reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(50 * 2 ** retries, 2000) : cause),
    },
  });
  // node-redis emits 'error' on every failed attempt; without a listener that would crash the process.
  client.on('error', (err: unknown) => {
    if (connected) opts.onBackgroundError?.(err);
  });
  try {
    await client.connect();
  } catch (err) {
    const reason = err instanceof Error ? err.message || err.constructor.name : String(err);
    throw new RepointError('CONFIG_INVALID', `state: cannot connect to ${redactUrl(url)}: ${reason}`, undefined, { cause: err });
  }
  connected = true;
  const adapter = new KeyvRedis<string>(client, { namespace, throwOnErrors: true });
  const keyv = new Keyv<unknown>({ store: adapter, namespace });
  return new KeyvStateStore({
    kind: 'redis',
    keyv,
    leases: redisLeases(client, `${namespace}:lock:`),
    keyScan: redisKeyScan(client, namespace),
    onBackgroundError: opts.onBackgroundError,
  });
}

/** Keeps credentials out of error messages and logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis URL';
  }
}
