import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisHandle } from './redis.ts';
import { startRgw, type RgwHandle } from './rgw.ts';

export interface S3Servers {
  readonly rgw: RgwHandle;
  readonly redis: RedisHandle;
}

/**
 * One Ceph RGW and one own redis-server for the enclosing describe block (blob records live in Redis),
 * started before its tests and stopped after them. Read the fields inside tests, not at collection.
 */
export function useS3Servers(): S3Servers {
  let rgw: RgwHandle | undefined;
  let redis: RedisHandle | undefined;
  beforeAll(async () => {
    [rgw, redis] = await Promise.all([startRgw(), startRedis({ own: true })]);
  });
  afterAll(async () => {
    await Promise.all([rgw?.stop(), redis?.stop()]);
  });
  const started = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not started yet (read it inside a test)`);
    return v;
  };
  return {
    get rgw() { return started(rgw, 'rgw'); },
    get redis() { return started(redis, 'redis-server'); },
  };
}
