import KeyvRedis, { createClient } from '@keyv/redis';
import { Keyv } from 'keyv';
import { RepointError } from '../errors.ts';
import { KeyvStateStore } from './keyv-state.ts';
import { redisKeyScan } from './key-scan.ts';
import { DEFAULT_NAMESPACE, type OpenStateOptions } from './state-options.ts';
import { redisLeases } from './redis-leases.ts';
import type { StateStore } from './state-store.ts';

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
