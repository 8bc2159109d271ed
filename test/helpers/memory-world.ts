// Test helper: the in-memory seams (blobs, state) wired as the runtime wires the real ones.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { withHotCache, type HotBlobStore } from '../../src/blobs/hot-cache.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { Config, RemoteConfig } from '../../src/config/types.ts';
import { silentLogger } from '../../src/log.ts';
import { ContentService } from '../../src/serve/content.ts';
import type { Reply } from '../../src/serve/reply.ts';
import { openMemoryState } from '../../src/state/memory-state.ts';
import type { StateStore } from '../../src/state/state-store.ts';

export interface MemoryWorld {
  store: MemoryBlobStore;
  blobs: HotBlobStore;
  state: StateStore;
  content: ContentService;
}

export function memoryWorld(): MemoryWorld {
  const store = new MemoryBlobStore();
  const blobs = withHotCache(store);
  const state = openMemoryState();
  return { store, blobs, state, content: new ContentService(blobs, state, silentLogger) };
}

/** A validated Config (the one schema) with these `remotes:` (and top-level keys), as a YAML file would give it. */
export function configOf(remotes: Record<string, unknown>, top: Record<string, unknown> = {}): Config {
  return configSchema({ file: join(tmpdir(), 'mirror.yaml') }).parse({ ...top, remotes });
}

/** One remote of a validated config. */
export function remoteOf(config: Config, name: string): RemoteConfig {
  const r = config.remotes.get(name);
  if (!r) throw new Error(`no remote ${name} in the test config`);
  return r;
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** The whole body a reply would send; rejects when a growing body fails verification. */
export async function bodyOf(reply: Reply): Promise<Buffer> {
  const b = reply.body;
  if (b.kind === 'bytes') return Buffer.from(b.data);
  if (b.kind === 'stream') return readAll(b.stream);
  if (b.kind === 'growing') {
    await b.ready;
    const [data] = await Promise.all([readAll(b.open(0, undefined)), b.done]);
    return data;
  }
  return readAll(b.open(0, undefined));
}

/** A copy of `data` with the byte at `at` (negative: from the end) changed: same size, wrong digest. */
export function corrupted(data: Uint8Array, at = 0): Buffer {
  const copy = Buffer.from(data);
  const i = at < 0 ? copy.length + at : at;
  copy.writeUInt8((copy.readUInt8(i) ^ 0xff) & 0xff, i);
  return copy;
}
