import { createClient } from '@keyv/redis';
import type { BlobRecord, BlobRecords } from '../blob-records.ts';
import { RepointError } from '../../errors.ts';

// Each step is one atomic script: a blob is counted by exactly one node, and uncounted once.
const ADD = `local fresh = redis.call('HSETNX', KEYS[1], 'size', ARGV[1])
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or '0')
redis.call('HSET', KEYS[1], 'mtime', ARGV[2], 'at', math.max(at, tonumber(ARGV[3])))
if fresh == 1 then
  redis.call('HINCRBY', KEYS[2], 'count', 1)
  redis.call('HINCRBY', KEYS[2], 'bytes', ARGV[1])
end
return fresh`;
const TOUCH = `local at = redis.call('HGET', KEYS[1], 'at')
if at and tonumber(at) < tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'at', ARGV[1]) end
return 0`;
const REMOVE = `local size = redis.call('HGET', KEYS[1], 'size')
if not size then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HINCRBY', KEYS[2], 'count', -1)
redis.call('HINCRBY', KEYS[2], 'bytes', -tonumber(size))
return 1`;

type Client = ReturnType<typeof createClient>;

/**
 * Blob records in Redis (see BlobRecords): `<ns>:blob:<sha256>` is a hash {size, mtime, at} and
 * `<ns>:blob-totals` a hash {count, bytes}. Its own connection, so the blob store does not depend on
 * the StateStore's adapter.
 */
export class RedisBlobRecords implements BlobRecords {
  readonly #client: Client;
  readonly #ns: string;

  private constructor(client: Client, namespace: string) {
    this.#client = client;
    this.#ns = namespace;
  }

  static async open(url: string, namespace = 'repoint'): Promise<RedisBlobRecords> {
    let connected = false;
    const client: Client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5000, reconnectStrategy: (retries: number, cause: Error) => (connected ? Math.min(50 * 2 ** retries, 2000) : cause) },
    });
    client.on('error', () => {}); // failed calls reject on their own; reconnects are retried
    try {
      await client.connect();
    } catch (err) {
      throw new RepointError('CONFIG_INVALID', `state: cannot connect to Redis for blob records: ${(err as Error).message}`, undefined, { cause: err });
    }
    connected = true;
    return new RedisBlobRecords(client, namespace);
  }

  #key(sha256: string): string {
    return `${this.#ns}:blob:${sha256}`;
  }

  get #totalsKey(): string {
    return `${this.#ns}:blob-totals`;
  }

  async add(sha256: string, size: number, mtimeMs: number, nowMs: number): Promise<boolean> {
    const keys = [this.#key(sha256), this.#totalsKey];
    return Number(await this.#call(() => this.#client.eval(ADD, { keys, arguments: [String(size), String(Math.round(mtimeMs)), String(Math.round(nowMs))] }))) === 1;
  }

  async touch(sha256: string, nowMs: number): Promise<void> {
    await this.#call(() => this.#client.eval(TOUCH, { keys: [this.#key(sha256)], arguments: [String(Math.round(nowMs))] }));
  }

  async get(sha256: string): Promise<BlobRecord | undefined> {
    const [size, mtime, at] = await this.#call(() => this.#client.hmGet(this.#key(sha256), ['size', 'mtime', 'at']));
    if (size === null || size === undefined) return undefined;
    return { size: Number(size), mtimeMs: Number(mtime ?? 0), lastAccessMs: Number(at ?? 0) };
  }

  async remove(sha256: string): Promise<boolean> {
    return Number(await this.#call(() => this.#client.eval(REMOVE, { keys: [this.#key(sha256), this.#totalsKey], arguments: [] }))) === 1;
  }

  async totals(): Promise<{ count: number; bytes: number }> {
    const [count, bytes] = await this.#call(() => this.#client.hmGet(this.#totalsKey, ['count', 'bytes']));
    return { count: Number(count ?? 0), bytes: Number(bytes ?? 0) };
  }

  async ping(): Promise<void> {
    await this.#call(() => this.#client.ping());
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new RepointError('STATE_UNAVAILABLE', `state redis blob records: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
}
