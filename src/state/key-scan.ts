import type { KeyScanBackend } from './state-store.ts';

const PAGE = 1000;

/** Keyv's in-memory Map store: keys are `<namespace>::<key>`, values `{ value, expires }`. */
export function mapKeyScan(map: Map<string, unknown>, namespace: string): KeyScanBackend {
  const ns = `${namespace}::`;
  const live = (v: unknown): boolean => {
    const expires = typeof v === 'object' && v !== null && 'expires' in v ? v.expires : undefined;
    return typeof expires !== 'number' || expires > Date.now();
  };
  const matching = (prefix: string): string[] => [...map.entries()].filter(([k, v]) => k.startsWith(ns + prefix) && live(v)).map(([k]) => k);
  return {
    async *keys(prefix) {
      const all = matching(prefix).map((k) => k.slice(ns.length));
      for (let i = 0; i < all.length; i += PAGE) yield all.slice(i, i + PAGE);
    },
    async deletePrefix(prefix) {
      const all = matching(prefix);
      for (const k of all) map.delete(k);
      return all.length;
    },
  };
}

/** Minimal view of a node-redis client: just what prefix scans need. */
export interface RedisScanClient {
  scan(cursor: string, opts: { MATCH: string; COUNT: number }): Promise<{ cursor: string | number; keys: string[] }>;
  unlink(keys: string[]): Promise<number>;
}

/** `*`, `?`, `[`, `]` and `\` are glob syntax in SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * @keyv/redis keys are `<namespace>::<key>`. SCAN walks the whole keyspace in small steps (never
 * blocks the server as KEYS would); each page is deleted with UNLINK (freed in the background).
 */
export function redisKeyScan(client: RedisScanClient, namespace: string): KeyScanBackend {
  const ns = `${namespace}::`;
  async function* scan(prefix: string): AsyncGenerator<string[]> {
    let cursor = '0';
    do {
      const r = await client.scan(cursor, { MATCH: `${globEscape(ns + prefix)}*`, COUNT: PAGE });
      cursor = String(r.cursor);
      if (r.keys.length) yield r.keys;
    } while (cursor !== '0');
  }
  return {
    async *keys(prefix) {
      for await (const page of scan(prefix)) yield page.map((k) => k.slice(ns.length));
    },
    async deletePrefix(prefix) {
      let n = 0;
      for await (const page of scan(prefix)) n += await client.unlink(page);
      return n;
    },
  };
}
