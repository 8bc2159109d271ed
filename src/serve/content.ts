import type { Readable } from 'node:stream';
import type { BlobInfo } from '../blobs/blob-store.ts';
import type { HotBlob, HotBlobStore } from '../blobs/hot-cache.ts';
import { RepointError } from '../errors.ts';
import type { Digest, Expected } from '../formats/digests.ts';
import { isStrong, sha256Of } from '../formats/digests.ts';
import type { Fill, FillSpec } from '../fill/fill.ts';
import { FillRegistry } from '../fill/fill-registry.ts';
import type { Logger } from '../log.ts';
import { stateKeys } from '../state/keys.ts';
import type { StateStore } from '../state/state-store.ts';
import { discard, type Upstream } from '../upstream/upstream.ts';
import type { GrowingBody, Reply } from './reply.ts';

/** Non-sha256 digests map to the blob address, so a SHA512-only index still hits the cache. */
const aliasKey = (d: Digest): string => stateKeys.alias(d.algo, d.hex);

/**
 * Serves verified content: a cache hit is one lookup and one open; a miss joins or starts the
 * single upstream download. Unverifiable paths stream through and are never stored.
 */
export class ContentService {
  /** Small blobs are answered from memory (withHotCache); delete through it to keep that right. */
  readonly blobs: HotBlobStore;
  readonly state: StateStore;
  readonly fills: FillRegistry;
  #log: Logger;

  constructor(blobs: HotBlobStore, state: StateStore, log: Logger, opts: { maxFileSize?: number } = {}) {
    this.blobs = blobs;
    this.state = state;
    this.#log = log;
    this.fills = new FillRegistry(blobs, log, (spec, blob) => this.#recordAliases(spec.expected.digests, blob.sha256), opts.maxFileSize);
  }

  /** Weak digests alone do not make content verified: such paths are treated as uncovered. */
  static hasStrong(expected: Expected): boolean {
    return expected.digests.some(isStrong);
  }

  async findBlob(expected: Expected): Promise<BlobInfo | undefined> {
    return (await this.#findHot(expected))?.info;
  }

  async #findHot(expected: Expected): Promise<HotBlob | undefined> {
    const sha = sha256Of(expected)
      ?? (await this.#firstAlias(expected.digests));
    if (!sha) return undefined;
    const hot = await this.blobs.lookup(sha);
    if (hot && expected.size !== undefined && hot.info.size !== expected.size) return undefined;
    return hot;
  }

  /** A cached blob by address: small ones come from memory. */
  async hit(sha256: string): Promise<HotBlob | undefined> {
    return this.blobs.lookup(sha256);
  }

  hotReply(hot: HotBlob, meta: Omit<Reply, 'body'>): Reply {
    if (!hot.data) return this.blobReply(hot.info, meta);
    return { ...meta, body: { kind: 'bytes', data: hot.data, lastModified: new Date(hot.info.mtimeMs), etag: `"${hot.info.sha256}"`, sha256: hot.info.sha256 } };
  }

  async #firstAlias(digests: readonly Digest[]): Promise<string | undefined> {
    for (const d of digests) {
      if (!isStrong(d)) continue;
      const sha = await this.state.get<string>(aliasKey(d));
      if (sha) return sha;
    }
    return undefined;
  }

  async #recordAliases(digests: readonly Digest[], sha256: string): Promise<void> {
    const others = digests.filter((d) => d.algo !== 'sha256' && isStrong(d));
    if (others.length) await this.state.setMany(others.map((d) => ({ key: aliasKey(d), value: sha256 })));
  }

  blobReply(info: BlobInfo, meta: Omit<Reply, 'body'>): Reply {
    const { sha256, size } = info;
    const open = (start: number, end: number | undefined): Readable =>
      start === 0 && end === undefined ? this.blobs.open(sha256) : this.blobs.open(sha256, { start, end: end ?? size - 1 });
    return { ...meta, body: { kind: 'blob', sha256, size, mtimeMs: info.mtimeMs, open } };
  }

  /** A hit, or a (shared) fill whose bytes stream as they arrive. */
  async serve(spec: FillSpec, meta: Omit<Reply, 'body'>): Promise<Reply> {
    const hit = await this.#findHot(spec.expected);
    if (hit) return this.hotReply(hit, meta);
    const { fill } = this.fills.getOrStart(spec);
    return { ...meta, body: growingBody(fill) };
  }

  /** The verified blob itself, downloading it if needed (metadata that the proxy must read). */
  async ensure(spec: FillSpec): Promise<BlobInfo> {
    const found = await this.findBlob(spec.expected);
    if (found) return found;
    const blob = await this.fills.getOrStart(spec).fill.done;
    // the registry records aliases after every commit too, but the caller may look this blob up next
    await this.#recordAliases(spec.expected.digests, blob.sha256);
    return blob;
  }

  /** Streams a path no verified metadata covers, uncached. */
  async passthrough(upstream: Upstream, path: string, meta: Omit<Reply, 'body'>): Promise<Reply> {
    const res = await upstream.fetch({ path });
    if (res.status !== 200) {
      discard(res.body);
      throw new RepointError('UPSTREAM_NOT_FOUND', `upstream has no ${path}`, { status: res.status });
    }
    this.#log.debug('pass-through (not covered by verified metadata)', { path });
    const len = res.headers['content-length'];
    return {
      ...meta,
      headers: { ...meta.headers, 'x-repoint-verified': 'no' },
      body: {
        kind: 'stream', stream: res.body,
        ...(len !== undefined ? { size: Number(len) } : {}),
        ...(res.headers['last-modified'] ? { lastModified: res.headers['last-modified'] } : {}),
        ...(res.headers.etag ? { etag: res.headers.etag } : {}),
      },
    };
  }

  /** Stores small verified metadata bytes (InRelease, repomd) already held in memory. */
  async storeBytes(data: Uint8Array, mtime?: Date): Promise<BlobInfo> {
    const w = await this.blobs.createWriter();
    try {
      await w.write(data);
      return await w.commit(mtime ? { mtime } : {});
    } catch (err) {
      await w.abort();
      throw err;
    }
  }
}

/** What http/ sees of a fill: no Fill, no path, only what it needs to plan and stream a response. */
export function growingBody(fill: Fill): GrowingBody {
  return {
    kind: 'growing',
    ready: fill.ready,
    get size() { return fill.size; },
    get etag() { const sha = fill.expectedSha256; return sha ? `"${sha}"` : undefined; },
    get lastModified() { return fill.lastModified; },
    done: fill.done,
    open: (start, end) => fill.reader(start, end),
  };
}
